"""The chat rules of orgs/policy.py (F-CHAT-1, -3, -5, -6): who sees, answers, joins, starts, manages and
deletes which channel, over roles × strictly segregated departments/clients, and the queryset filter
`visible_channels` agreeing with `can_view_channel` everywhere."""

import pytest
from django.utils import timezone

from chat import services
from chat.models import Channel, ChannelKind
from orgs import policy
from orgs.models import Role
from tests.chat.core_helpers import book, channel_of, extra_employee, make_client, member, reload, switch

ROLES = ("admin", "deptadmin", "gp", "physio")


@pytest.fixture
def world(alpha, beta):
    """A gp-department client with a channel with gp; a physio-department client with physio; a department
    channel (strict departments needed to book one, then switched back); a public channel."""
    rosa = make_client(alpha, "Rosa")
    book(alpha, rosa, "gp")
    piet = make_client(alpha, "Piet", department="physio")
    book(alpha, piet, "physio")
    switch(alpha, strict_departments=True)
    dept_client = make_client(alpha, "Dept")
    book(alpha, dept_client, practitioner_key=None, department="gp")
    switch(alpha, strict_departments=False, public_chat_widget=True)
    visitor_channel, _token = services.public_conversation_start(
        organization=alpha, name="Vera", email="", text="Question", language="en")
    channels = {
        "rosa": channel_of(alpha, rosa, "gp"),
        "piet": channel_of(alpha, piet, "physio"),
        "dept": channel_of(alpha, dept_client, None),
        "public": reload(visitor_channel),
    }
    return alpha, beta, channels


def test_the_department_channel_belongs_to_the_department(world):
    alpha, _beta, channels = world
    dept = channels["dept"]
    assert dept.practitioner_id is None and dept.department_id == alpha.departments_by_name["gp"].pk


# --- can_view_channel -----------------------------------------------------------------------------

EXPECTED_VIEW = {
    # (strict_departments, strict_clients): {role: channels seen}. Website visitors' chats ("public") are the
    # admins' (org and department), never the practitioners'.
    (False, False): {"admin": {"rosa", "piet", "dept", "public"}, "deptadmin": {"rosa", "dept", "public"},
                     "gp": {"rosa", "dept"}, "physio": {"piet"}},
    (True, False): {"admin": {"rosa", "piet", "dept", "public"}, "deptadmin": {"rosa", "dept", "public"},
                    "gp": {"rosa", "dept"}, "physio": {"piet"}},
    # Strict clients: a practitioner sees only their own clients' records, so not the department's client.
    (False, True): {"admin": {"rosa", "piet", "dept", "public"}, "deptadmin": {"rosa", "dept", "public"},
                    "gp": {"rosa"}, "physio": {"piet"}},
}


@pytest.mark.parametrize("strictness", list(EXPECTED_VIEW))
def test_who_sees_which_channel_and_the_queryset_filter_agrees(world, strictness):
    alpha, _beta, channels = world
    switch(alpha, strict_departments=strictness[0], strict_clients=strictness[1])
    for role in ROLES:
        me = member(alpha, role)
        seen = {name for name, channel in channels.items() if policy.can_view_channel(me, reload(channel))}
        assert seen == EXPECTED_VIEW[strictness][role], (role, seen)
        listed = set(policy.visible_channels(me, Channel.objects.with_scopes_disabled()).values_list("pk", flat=True))
        assert listed == {channels[name].pk for name in seen}, role


def test_other_organisations_and_inactive_employees_see_nothing(world):
    alpha, beta, channels = world
    beta_admin = member(beta, "admin")
    for channel in channels.values():
        assert not policy.can_view_channel(beta_admin, reload(channel))
    assert not policy.visible_channels(beta_admin, Channel.objects.with_scopes_disabled()).exists()
    gp = member(alpha, "gp")
    gp.is_active = False
    assert not policy.can_view_channel(gp, channels["rosa"])
    assert not policy.visible_channels(gp, Channel.objects.with_scopes_disabled()).exists()


def test_a_colleague_who_joined_sees_and_answers_the_channel(world):
    alpha, _beta, channels = world
    physio = member(alpha, "physio")
    rosa = channels["rosa"]
    assert policy.can_join_channel(physio, rosa) and not policy.can_view_channel(physio, rosa)
    services.channel_join(member=physio, channel=rosa)
    assert policy.can_view_channel(physio, rosa) and policy.can_post_in_channel(physio, rosa)
    assert rosa.pk in set(policy.visible_channels(physio, Channel.objects.with_scopes_disabled())
                          .values_list("pk", flat=True))
    assert not policy.can_join_channel(physio, rosa)  # joined already


def test_joining_needs_a_practitioner_who_may_see_the_client_and_is_not_in_it_yet(world):
    alpha, _beta, channels = world
    rosa, public = channels["rosa"], channels["public"]
    assert not policy.can_join_channel(member(alpha, "gp"), rosa)  # the channel's own practitioner
    assert not policy.can_join_channel(member(alpha, "deptadmin"), rosa)  # not a practitioner
    assert not policy.can_join_channel(member(alpha, "admin"), rosa)
    assert not policy.can_join_channel(member(alpha, "physio"), public)  # public channels are not joined
    switch(alpha, strict_departments=True)  # the physio no longer sees a gp-department client
    assert not policy.can_join_channel(member(alpha, "physio"), rosa)
    switch(alpha, strict_departments=False, strict_clients=True)
    assert not policy.can_join_channel(member(alpha, "physio"), rosa)


@pytest.mark.parametrize("strictness", list(EXPECTED_VIEW))
def test_the_joinable_filter_agrees_with_can_join_channel(world, strictness):
    """policy.joinable_channels (the list icons' "join", one query per list) means can_join_channel."""
    alpha, beta, channels = world
    switch(alpha, strict_departments=strictness[0], strict_clients=strictness[1])
    gp = member(alpha, "gp")
    if policy.can_join_channel(gp, reload(channels["piet"])):
        services.channel_join(member=gp, channel=reload(channels["piet"]))  # joined: no longer joinable
    people = [member(alpha, role) for role in ROLES] + [member(beta, "physio")]
    support = member(alpha, "physio")
    support.is_remote_support = True
    inactive = member(alpha, "physio")
    inactive.is_active = False
    for me in people + [support, inactive]:
        may = {channel.pk for channel in channels.values() if policy.can_join_channel(me, reload(channel))}
        listed = set(policy.joinable_channels(me, Channel.objects.with_scopes_disabled()).values_list("pk", flat=True))
        assert listed == may, (me, strictness)


def test_remote_support_reads_but_does_not_answer_or_join(world):
    alpha, _beta, channels = world
    gp = member(alpha, "gp")
    gp.is_remote_support = True
    assert policy.can_view_channel(gp, channels["rosa"])
    assert not policy.can_post_in_channel(gp, channels["rosa"])
    assert not policy.can_delete_chat_history(gp, channels["rosa"])
    physio = member(alpha, "physio")
    physio.is_remote_support = True
    assert not policy.can_join_channel(physio, channels["rosa"])


# --- creating channels ----------------------------------------------------------------------------

def test_who_may_start_a_channel_for_whom(world):
    alpha, beta, _channels = world
    rosa = make_client(alpha, "Other")  # gp department
    gp, physio = alpha.people["gp"], alpha.people["physio"]
    assert policy.can_create_channel(member(alpha, "gp"), rosa, gp)  # for themselves
    assert not policy.can_create_channel(member(alpha, "gp"), rosa, physio)  # not for a colleague
    assert policy.can_create_channel(member(alpha, "deptadmin"), rosa, gp)  # gp is in the client's department
    assert not policy.can_create_channel(member(alpha, "deptadmin"), rosa, physio)
    assert policy.can_create_channel(member(alpha, "admin"), rosa, physio)
    assert not policy.can_create_channel(member(beta, "admin"), rosa, beta.people["gp"])
    assert not policy.can_create_channel(member(alpha, "admin"), rosa, beta.people["gp"])
    switch(alpha, strict_departments=True)  # the physio cannot see a gp-department client
    assert not policy.can_create_channel(member(alpha, "physio"), rosa, physio)


def test_a_department_admin_of_another_department_starts_nothing_here(world):
    alpha, _beta, _channels = world
    other_admin = extra_employee(alpha, "physioadmin", role=Role.DEPARTMENT_ADMIN, department="physio")
    rosa = make_client(alpha, "Other")
    assert not policy.can_create_channel(other_admin, rosa, alpha.people["gp"])


# --- access, history, public chat ------------------------------------------------------------------

def test_chat_access_is_managed_by_admins_of_the_department(world):
    alpha, beta, channels = world
    rosa = channels["rosa"]
    assert policy.can_manage_chat_access(member(alpha, "admin"), rosa)
    assert policy.can_manage_chat_access(member(alpha, "deptadmin"), rosa)
    assert not policy.can_manage_chat_access(member(alpha, "deptadmin"), channels["piet"])  # physio's client
    assert not policy.can_manage_chat_access(member(alpha, "gp"), rosa)
    assert not policy.can_manage_chat_access(member(alpha, "physio"), rosa)
    assert not policy.can_manage_chat_access(member(beta, "admin"), rosa)
    assert not policy.can_manage_chat_access(member(alpha, "admin"), channels["public"])
    other_admin = extra_employee(alpha, "physioadmin", role=Role.DEPARTMENT_ADMIN, department="physio")
    assert policy.can_manage_chat_access(other_admin, channels["piet"])
    assert not policy.can_manage_chat_access(other_admin, rosa)


def test_deleting_a_history_is_for_whoever_answers_in_the_channel(world):
    alpha, _beta, channels = world
    rosa = channels["rosa"]
    assert {role for role in ROLES if policy.can_delete_chat_history(member(alpha, role), rosa)} == {
        "admin", "deptadmin", "gp"}


def test_nobody_answers_a_revoked_client_but_the_history_may_still_be_deleted(world):
    """A revoked client reads nothing new, so no employee writes there (the page, the socket and the service
    all ask can_post_in_channel); deleting the history stays with whoever answers in the channel."""
    alpha, _beta, channels = world
    rosa = channels["rosa"]
    services.chat_access_set(member=member(alpha, "admin"), channel=rosa, allowed=False)
    rosa = reload(rosa)
    readers = {role for role in ROLES if policy.can_view_channel(member(alpha, role), rosa)}
    assert readers == {"admin", "deptadmin", "gp"}
    assert {role for role in ROLES if policy.can_post_in_channel(member(alpha, role), rosa)} == set()
    assert {role for role in ROLES if policy.can_delete_chat_history(member(alpha, role), rosa)} == {
        "admin", "deptadmin", "gp"}
    # A channel closed after a consult still takes staff messages (the client reads them when it opens again).
    Channel.objects.with_scopes_disabled().filter(pk=channels["piet"].pk).update(closed_at=timezone.now())
    assert policy.can_post_in_channel(member(alpha, "physio"), reload(channels["piet"]))
    assert policy.can_post_in_channel(member(alpha, "admin"), channels["public"])


@pytest.mark.parametrize("strict_departments, answering", [
    (False, {"admin", "deptadmin"}),
    (True, {"admin", "deptadmin"}),
])
def test_who_answers_the_public_chat(world, strict_departments, answering):
    """Org and department admins only (the manual): visitors' chats no longer swell every practitioner's unread
    badge."""
    alpha, _beta, channels = world
    switch(alpha, strict_departments=strict_departments)
    assert {role for role in ROLES if policy.can_answer_public_chat(member(alpha, role))} == answering
    assert {role for role in ROLES if policy.can_view_channel(member(alpha, role), channels["public"])} == answering
    assert channels["public"].kind == ChannelKind.PUBLIC

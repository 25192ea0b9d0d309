"""The chat's reads (chat/selectors.py): scoped look-ups (a foreign or hidden id is a 404), the inbox with
unread counts in a constant number of queries, the unread total, list icons, the client's side."""

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from chat import selectors, services
from chat.models import Channel, ReadMarker
from orgs.models import Organization
from tests.chat.core_helpers import book, channel_of, make_client, member, reload


@pytest.fixture
def rosa_channel(alpha):
    rosa = make_client(alpha)
    book(alpha, rosa)
    return rosa, channel_of(alpha, rosa)


# --- look-ups -------------------------------------------------------------------------------------

def test_channel_for_is_scoped_and_policy_filtered(alpha, beta, rosa_channel):
    _rosa, channel = rosa_channel
    assert selectors.channel_for(member(alpha, "gp"), channel.pk) == channel
    assert selectors.channel_for(member(alpha, "admin"), str(channel.pk)) == channel
    for who, channel_id in ((member(alpha, "physio"), channel.pk), (member(beta, "admin"), channel.pk),
                            (member(alpha, "gp"), channel.pk + 1000), (member(alpha, "gp"), "x1"),
                            (member(alpha, "gp"), None)):
        with pytest.raises(Http404):
            selectors.channel_for(who, channel_id)


def test_joinable_channels_are_a_colleagues_channels_the_member_may_join_but_not_read_yet(alpha, beta, rosa_channel):
    rosa, channel = rosa_channel
    physio, gp = member(alpha, "physio"), member(alpha, "gp")
    assert selectors.joinable_channels(physio, rosa) == [channel]
    assert selectors.joinable_channel_for(physio, str(channel.pk)) == channel
    # The channel's own practitioner and non-practitioners join nothing; the gp reads it already.
    for who in (gp, member(alpha, "deptadmin"), member(alpha, "admin")):
        assert selectors.joinable_channels(who, rosa) == []
    assert selectors.joinable_channel_for(gp, channel.pk) == channel  # readable: "join" then says why
    # Another organisation's member, a foreign or a bad id: 404.
    for who, channel_id in ((member(beta, "admin"), channel.pk), (member(beta, "gp"), channel.pk),
                            (physio, channel.pk + 1000), (physio, "x1"), (physio, None)):
        with pytest.raises(Http404):
            selectors.joinable_channel_for(who, channel_id)
    services.channel_join(member=physio, channel=channel)
    assert selectors.joinable_channels(physio, rosa) == []  # joined: now one of their own channels


def test_a_practitioner_who_may_not_see_the_client_finds_nothing_to_join(alpha, rosa_channel):
    rosa, channel = rosa_channel
    Organization.objects.filter(pk=alpha.pk).update(strict_departments=True)
    physio = member(alpha, "physio")
    assert selectors.joinable_channels(physio, rosa) == []
    with pytest.raises(Http404):
        selectors.joinable_channel_for(physio, channel.pk)


def test_channel_for_client_session_opens_only_the_sessions_clients(alpha, beta, rosa_channel):
    rosa, channel = rosa_channel
    assert selectors.channel_for_client_session(alpha, [rosa.pk], channel.pk) == channel
    other = make_client(alpha, "Other")
    for organization, client_ids, channel_id in ((alpha, [other.pk], channel.pk), (alpha, [], channel.pk),
                                                 (beta, [rosa.pk], channel.pk), (alpha, [rosa.pk], "nope")):
        with pytest.raises(Http404):
            selectors.channel_for_client_session(organization, client_ids, channel_id)
    # A revoked channel still opens (its history up to the revocation stays readable).
    services.chat_access_set(member=member(alpha, "admin"), channel=channel, allowed=False)
    assert selectors.channel_for_client_session(alpha, [rosa.pk], channel.pk) == channel


# --- the inbox ------------------------------------------------------------------------------------

def _clients_with_channels(org, count, first=0):
    clients = []
    for i in range(first, first + count):
        client = make_client(org, f"Client{i}")
        book(org, client, minutes=60 + 30 * i)
        clients.append(client)
    return clients


def test_unread_counts_follow_the_read_marker(alpha):
    rosa, piet = _clients_with_channels(alpha, 2)
    admin, gp = member(alpha, "admin"), member(alpha, "gp")
    rosa_channel, piet_channel = channel_of(alpha, rosa), channel_of(alpha, piet)
    for text in ("one", "two"):
        services.message_post(channel=rosa_channel, text=text, client=rosa)
    services.message_post(channel=piet_channel, text="hello", client=piet)
    services.message_post(channel=piet_channel, text="staff lines are never unread", member=gp)
    listed = selectors.channels_for_member(admin)
    assert [(c.pk, c.unread) for c in listed] == [(piet_channel.pk, 1), (rosa_channel.pk, 2)]  # newest first
    assert selectors.unread_total(admin) == 3
    assert selectors.unread_total(gp) == 2  # gp's own post marked piet's channel read for gp
    ReadMarker.objects.with_scopes_disabled().filter(channel=rosa_channel, member=gp).delete()
    services.channel_mark_read(channel=rosa_channel, member=admin)
    later = timezone.now() + timedelta(seconds=1)
    Channel.objects.with_scopes_disabled().filter(pk=rosa_channel.pk).update(last_message_at=later)
    assert [(c.pk, c.unread) for c in selectors.channels_for_member(admin)] == [
        (rosa_channel.pk, 0), (piet_channel.pk, 1)]
    assert selectors.unread_total(admin) == 1
    assert selectors.channels_for_member(member(alpha, "physio")) == []
    assert selectors.unread_total(member(alpha, "physio")) == 0


def test_the_inbox_takes_the_same_queries_for_1_and_20_channels(alpha, django_assert_max_num_queries):
    clients = _clients_with_channels(alpha, 1)
    admin = member(alpha, "admin")
    for client in clients:
        services.message_post(channel=channel_of(alpha, client), text="hi", client=client)
    member(alpha, "admin")  # policy caches (departments) are per member object: warm them like a request would
    with django_assert_max_num_queries(3) as one:
        assert [c.unread for c in selectors.channels_for_member(admin)] == [1]
    with django_assert_max_num_queries(2):
        assert selectors.unread_total(admin) == 1
    clients += _clients_with_channels(alpha, 19, first=1)
    for client in clients[1:]:
        services.message_post(channel=channel_of(alpha, client), text="hi", client=client)
        services.message_post(channel=channel_of(alpha, client), text="again", client=client)
    with django_assert_max_num_queries(len(one.captured_queries)):
        listed = selectors.channels_for_member(admin)
    assert len(listed) == 20 and sum(c.unread for c in listed) == 39
    with django_assert_max_num_queries(2):
        assert selectors.unread_total(admin) == 39
    gp = member(alpha, "gp")
    with django_assert_max_num_queries(len(one.captured_queries) + 1):  # + the practitioner's departments
        assert len(selectors.channels_for_member(gp)) == 20


def test_client_channels_and_list_icons(alpha, rosa_channel, django_assert_max_num_queries):
    rosa, channel = rosa_channel
    book(alpha, rosa, "physio", minutes=180)
    physio_channel = channel_of(alpha, rosa, "physio")
    piet = make_client(alpha, "Piet")
    physio, admin = member(alpha, "physio"), member(alpha, "admin")
    assert [c.pk for c in selectors.client_channels(physio, rosa)] == [physio_channel.pk]
    assert {c.pk for c in selectors.client_channels(admin, rosa)} == {channel.pk, physio_channel.pk}
    with django_assert_max_num_queries(1):
        states = selectors.chat_icon_states(admin, [rosa.pk, piet.pk])
    assert {c.pk for c in states[rosa.pk]} == {channel.pk, physio_channel.pk} and states[piet.pk] == []
    assert [c.pk for c in selectors.chat_icon_states(physio, [rosa.pk])[rosa.pk]] == [physio_channel.pk]
    assert selectors.chat_icon_states(physio, []) == {}


# --- the client's side ----------------------------------------------------------------------------

def revoke_before(org, channel, message):
    """Revoke the client's access as if just before `message` (nobody may post after a revocation, but a message
    can still land there: a consult's room chat kept when the consult ends)."""
    services.chat_access_set(member=member(org, "admin"), channel=channel, allowed=False)
    Channel.objects.with_scopes_disabled().filter(pk=channel.pk).update(
        access_revoked_at=message.created_at - timedelta(microseconds=1))


def test_the_clients_unread_stops_at_a_revocation(alpha, rosa_channel):
    rosa, channel = rosa_channel
    gp = member(alpha, "gp")
    services.message_post(channel=channel, text="one", member=gp)
    services.message_post(channel=channel, text="two", member=gp)
    services.message_post(channel=channel, text="mine", client=rosa)  # the client read up to here
    services.message_post(channel=channel, text="three", member=gp)
    assert [c.unread for c in selectors.channels_for_client(rosa)] == [1]
    later = services.message_post(channel=channel, text="after revocation", member=gp)
    revoke_before(alpha, channel, later)
    assert [c.unread for c in selectors.channels_for_client(rosa)] == [1]
    assert selectors.channels_for_client(make_client(alpha, "Other")) == []


def test_messages_for_pages_and_hides_what_a_revoked_client_may_not_read(alpha, rosa_channel):
    rosa, channel = rosa_channel
    gp = member(alpha, "gp")
    first = services.message_post(channel=channel, text="one", member=gp)
    services.message_post(channel=channel, text="two", client=rosa)
    history = selectors.messages_for(channel, viewer=gp)
    assert [(m["text"], m["author"], m["mine"]) for m in history] == [("one", "staff", True), ("two", "client", False)]
    assert [m["mine"] for m in selectors.messages_for(channel, for_client=True)] == [False, True]
    assert [m["text"] for m in selectors.messages_for(channel, viewer=gp, after_id=first.pk)] == ["two"]
    assert [m["text"] for m in selectors.messages_for(channel, viewer=gp, limit=1)] == ["two"]  # the newest
    later = services.message_post(channel=channel, text="three", member=gp)
    revoke_before(alpha, channel, later)
    assert [m["text"] for m in selectors.messages_for(reload(channel), for_client=True)] == ["one", "two"]
    assert [m["text"] for m in selectors.messages_for(reload(channel), viewer=gp)] == ["one", "two", "three"]

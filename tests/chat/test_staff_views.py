"""Chat in the staff portal (F-CHAT-1, 2, 3, 5, 6): the messages page, a channel's page, its updates and the
unread count, the chat icons of the client and appointment lists, and the client record's chat section.

Every page asks the policy: another organisation's channel or one of a segregated colleague is a 404, icons and
lists never show what the member may not read, and the list pages cost the same number of queries for 1 row
as for 10.
"""

import itertools
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from chat import services
from chat.models import Author, Channel, ChannelKind, ChannelMember, Message
from chat.sealing import open_text
from consult import selectors as consult_selectors
from consult import services as consult_services
from orgs.models import AuditEvent
from orgs.scoping import scopes_disabled
from tests.conftest import signed_in_client

pytestmark = pytest.mark.django_db


# --- helpers --------------------------------------------------------------------------------------------

def new_client(org, last_name="Verhoeven", department="gp", **fields):
    with scopes_disabled():
        return consult_services.client_create(
            member=org.people["admin"], initials="R.", last_name=last_name, email=f"{last_name.lower()}@example.com",
            department=org.departments_by_name[department] if department else None, language="en", **fields)


_slots = itertools.count()


def appointment(org, client, who="gp", minutes=None):
    """An appointment tomorrow or later, each in its own half hour (a practitioner has one at a time)."""
    minutes = 24 * 60 + 30 * next(_slots) if minutes is None else minutes
    with scopes_disabled():
        return consult_services.appointment_create(member=org.people["admin"], client=client,
                                                   practitioner=org.people[who],
                                                   starts_at=timezone.now() + timedelta(minutes=minutes))


def channel_with(org, client, who="gp"):
    """The (practitioner, client) channel, as booking an appointment makes it."""
    with scopes_disabled():
        return services.channel_ensure_for_appointment(appointment=appointment(org, client, who))


def client_says(channel, text):
    with scopes_disabled():
        channel.refresh_from_db()
        return services.message_post(channel=channel, text=text, client=channel.client)


def staff_says(org, channel, text, who="gp"):
    with scopes_disabled():
        return services.message_post(channel=channel, text=text, member=org.people[who])


def texts(channel):
    with scopes_disabled():
        return [open_text(m) for m in Message.objects.filter(channel=channel).order_by("created_at", "pk")]


def browser(org, who):
    return signed_in_client(org.people[who].user, org)


def audit_rows(action, **filters):
    return list(AuditEvent.objects.with_scopes_disabled().filter(action=action, **filters))


def staff_urls(channel):
    base = f"/portal/messages/{channel.pk}/"
    return [base, base + "updates/", base + "delete-history/"]


def post_urls(channel):
    base = f"/portal/messages/{channel.pk}/"
    return [base, base + "join/", base + "access/", base + "delete-history/"]


# --- the messages page ------------------------------------------------------------------------------------

def test_messages_page_lists_channels_newest_first_with_unread_counts_and_no_text(alpha):
    rosa, piet, anna = new_client(alpha, "Verhoeven"), new_client(alpha, "Jansen"), new_client(alpha, "Smit")
    quiet = channel_with(alpha, anna)
    older = channel_with(alpha, rosa)
    newer = channel_with(alpha, piet)
    client_says(older, "First question")
    client_says(older, "Second question")
    staff_says(alpha, older, "An answer from the GP")  # staff messages never count as unread
    client_says(newer, "Secret symptom")

    page = browser(alpha, "gp").get("/portal/messages/")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    listed = page.context["client_channels"]
    assert [c.pk for c in listed] == [newer.pk, older.pk, quiet.pk]  # newest message first, silent last
    assert [c.unread for c in listed] == [1, 0, 0]  # the GP's own answer marked the older channel read
    html = page.content.decode()
    assert "Jansen" in html and "Verhoeven" in html and "Gp Alpha" in html
    assert "Secret symptom" not in html  # the list shows who and when, never what


def test_unread_only_filter_and_counts_per_member(alpha):
    rosa, piet = new_client(alpha, "Verhoeven"), new_client(alpha, "Jansen")
    read = channel_with(alpha, rosa)
    unread = channel_with(alpha, piet)
    client_says(read, "Hello")
    client_says(unread, "Hello")
    client_says(unread, "Are you there?")
    gp = browser(alpha, "gp")
    assert gp.get(f"/portal/messages/{read.pk}/").status_code == 200  # opening marks it read

    page = gp.get("/portal/messages/?show=unread")
    assert [(c.pk, c.unread) for c in page.context["client_channels"]] == [(unread.pk, 2)]
    assert page.context["unread_only"] is True
    # Unread is per employee: the department admin has read nothing yet.
    admin_page = browser(alpha, "deptadmin").get("/portal/messages/?show=unread")
    assert {(c.pk, c.unread) for c in admin_page.context["client_channels"]} == {(unread.pk, 2), (read.pk, 1)}


def test_top_bar_and_menu_show_the_unread_total_and_the_count_url_follows_reading(alpha):
    rosa = new_client(alpha)
    channel = channel_with(alpha, rosa)
    client_says(channel, "One")
    client_says(channel, "Two")
    gp = browser(alpha, "gp")
    html = gp.get("/portal/").content.decode()
    assert html.count('data-chat-unread-count>2</span>') == 2  # the top bar and the left menu
    assert 'data-count-url="/portal/messages/unread/"' in html and 'data-socket-path="/ws/chat/inbox/"' in html
    assert "chat/unread-badge.js" in html
    assert json.loads(gp.get("/portal/messages/unread/").content) == {"total": 2}

    gp.get(f"/portal/messages/{channel.pk}/")
    assert json.loads(gp.get("/portal/messages/unread/").content) == {"total": 0}
    html = gp.get("/portal/").content.decode()
    assert 'data-chat-unread-count>0</span>' in html and "data-chat-unread data-count=\"0\"" in html
    # Someone else's count is their own: the physiotherapist cannot read this channel, so nothing is unread.
    assert json.loads(browser(alpha, "physio").get("/portal/messages/unread/").content) == {"total": 0}


def test_top_bar_count_costs_at_most_two_queries(alpha, django_assert_max_num_queries):
    from django.template import Context, Template
    from django.test import RequestFactory

    rosa = new_client(alpha)
    client_says(channel_with(alpha, rosa), "Hello")
    member = alpha.people["gp"]
    member.organization  # noqa: B018 — loaded as the middleware has it
    from orgs.policy import member_department_ids

    member_department_ids(member)  # cached per request by the policy
    request = RequestFactory().get("/portal/")
    request.membership = member
    template = Template("{% load chat_staff %}{% chat_unread_total as n %}{{ n }}")
    with scopes_disabled(), django_assert_max_num_queries(2):
        assert template.render(Context({"request": request})) == "1"


def test_public_section_only_with_the_widget_on_and_for_the_admins_who_answer(alpha):
    alpha.public_chat_widget = True
    alpha.save()
    with scopes_disabled():
        public = Channel.objects.create(organization=alpha, kind=ChannelKind.PUBLIC, visitor_name="Visiting Vera",
                                        visitor_email="vera@example.com")
        services.message_post(channel=public, text="Do you take new patients?", visitor=True)
    alpha.public_chat_widget = False
    alpha.save()
    admin = browser(alpha, "admin")
    page = admin.get("/portal/messages/")
    assert page.context["public_section"] is False and "Visiting Vera" not in page.content.decode()
    assert admin.get("/portal/messages/public/").status_code == 404

    alpha.public_chat_widget = True
    alpha.save()
    page = admin.get("/portal/messages/")
    assert [(c.pk, c.unread) for c in page.context["public_channels"]] == [(public.pk, 1)]
    assert "Visiting Vera" in page.content.decode() and "Website visitors" in page.content.decode()
    assert [c.pk for c in admin.get("/portal/messages/public/").context["public_channels"]] == [public.pk]
    assert public.pk not in [c.pk for c in page.context["client_channels"]]
    # Department admins answer visitors too; practitioners do not (nor count them as unread).
    deptadmin = browser(alpha, "deptadmin").get("/portal/messages/")
    assert deptadmin.context["public_section"] is True
    assert [c.pk for c in deptadmin.context["public_channels"]] == [public.pk]
    physio = browser(alpha, "physio")
    assert physio.get("/portal/messages/").context["public_section"] is False
    assert physio.get(f"/portal/messages/{public.pk}/").status_code == 404
    assert physio.get("/portal/messages/public/").status_code == 404
    assert json.loads(physio.get("/portal/messages/unread/").content) == {"total": 0}


# --- one channel ------------------------------------------------------------------------------------------

def test_channel_page_shows_history_marks_read_and_writes_a_chat_view_audit_row(alpha):
    rosa = new_client(alpha)
    channel = channel_with(alpha, rosa)
    client_says(channel, "<script>alert(1)</script> see www.example.com")
    staff_says(alpha, channel, "Noted.", who="deptadmin")
    gp = browser(alpha, "gp")
    page = gp.get(f"/portal/messages/{channel.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert f'data-updates-url="/portal/messages/{channel.pk}/updates/"' in html
    assert f'data-ws-path="/ws/chat/{channel.pk}/"' in html and 'name="text"' in html
    assert "Not for emergencies" not in html  # the emergency notice is the client's
    assert [m["text"] for m in page.context["history"]] == [
        "<script>alert(1)</script> see www.example.com", "Noted."]
    rows = audit_rows("chat.view", target_id=str(channel.pk))
    assert len(rows) == 1 and rows[0].actor == alpha.people["gp"].user and rows[0].subject_label == rosa.display_name
    assert json.loads(gp.get("/portal/messages/unread/").content) == {"total": 0}


def test_updates_return_messages_after_an_id_as_json_and_mark_read(alpha):
    rosa = new_client(alpha)
    channel = channel_with(alpha, rosa)
    first = client_says(channel, "One")
    client_says(channel, "Two")
    gp = browser(alpha, "gp")
    data = json.loads(gp.get(f"/portal/messages/{channel.pk}/updates/?after={first.pk}").content)
    assert [m["text"] for m in data["messages"]] == ["Two"] and data["open"] is True
    assert data["messages"][0]["author"] == "client" and data["messages"][0]["mine"] is False
    assert json.loads(gp.get("/portal/messages/unread/").content) == {"total": 0}
    assert gp.get(f"/portal/messages/{channel.pk}/updates/?after=junk").status_code == 200


def test_staff_write_without_javascript_and_with_fetch(alpha):
    rosa = new_client(alpha)
    channel = channel_with(alpha, rosa)
    gp = browser(alpha, "gp")
    response = gp.post(f"/portal/messages/{channel.pk}/", {"text": "  Results are fine.  "})
    assert response.status_code == 302 and response["Location"] == f"/portal/messages/{channel.pk}/"
    response = gp.post(f"/portal/messages/{channel.pk}/", {"text": "And one more."}, HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    message = json.loads(response.content)["message"]
    assert message["text"] == "And one more." and message["mine"] is True and message["author"] == "staff"
    assert texts(channel) == ["Results are fine.", "And one more."]
    # Empty and too long texts are refused with a reason, nothing is written.
    for text in ("   ", "x" * 4001):
        response = gp.post(f"/portal/messages/{channel.pk}/", {"text": text}, HTTP_ACCEPT="application/json")
        assert response.status_code == 400 and json.loads(response.content)["error"]
    assert len(texts(channel)) == 2
    assert gp.put(f"/portal/messages/{channel.pk}/").status_code == 405


def test_revoked_channel_is_read_only_for_staff_and_says_why(alpha):
    rosa = new_client(alpha)
    channel = channel_with(alpha, rosa)
    with scopes_disabled():
        services.chat_access_set(member=alpha.people["deptadmin"], channel=channel, allowed=False)
    gp = browser(alpha, "gp")
    page = gp.get(f"/portal/messages/{channel.pk}/")
    html = page.content.decode()
    assert page.context["can_post"] is False and 'name="text"' not in html
    assert "access has been revoked" in html
    response = gp.post(f"/portal/messages/{channel.pk}/", {"text": "Hello?"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 403 and "revoked" in json.loads(response.content)["error"]
    gp.post(f"/portal/messages/{channel.pk}/", {"text": "Hello?"})
    assert texts(channel) == []
    assert json.loads(gp.get(f"/portal/messages/{channel.pk}/updates/").content)["open"] is False


def test_closed_channel_still_takes_staff_messages_and_says_the_client_reads_them_later(alpha):
    rosa = new_client(alpha)
    channel = channel_with(alpha, rosa)
    with scopes_disabled():
        Channel.objects.filter(pk=channel.pk).update(closed_at=timezone.now())
    gp = browser(alpha, "gp")
    page = gp.get(f"/portal/messages/{channel.pk}/")
    assert page.context["can_post"] is True and "closed for the client" in page.content.decode()
    gp.post(f"/portal/messages/{channel.pk}/", {"text": "Your results came in."})
    assert texts(channel) == ["Your results came in."]


def test_remote_support_reads_without_writing_or_clearing_the_employees_unread(alpha, superuser):
    from tests.orgs.test_remote_support import support_client

    alpha.allow_remote_support = True
    alpha.save()
    rosa = new_client(alpha)
    channel = channel_with(alpha, rosa)
    client_says(channel, "Unread for the GP")
    support = support_client(alpha, alpha.people["gp"], superuser)
    page = support.get(f"/portal/messages/{channel.pk}/")
    assert page.status_code == 200 and page.context["can_post"] is False
    assert "remote support" in page.context["closed_reason"] and 'name="text"' not in page.content.decode()
    data = json.loads(support.get(f"/portal/messages/{channel.pk}/updates/").content)
    assert [m["text"] for m in data["messages"]] == ["Unread for the GP"] and data["open"] is False
    support.post(f"/portal/messages/{channel.pk}/", {"text": "Written by support"})
    assert texts(channel) == ["Unread for the GP"]
    # The employee still has the message unread; the reading is audited as remote support's.
    assert json.loads(browser(alpha, "gp").get("/portal/messages/unread/").content) == {"total": 1}
    assert audit_rows("chat.view", target_id=str(channel.pk))


# --- segregation and foreign ids ------------------------------------------------------------------------

def test_other_organisation_channel_ids_are_404_everywhere(alpha, beta):
    theirs = channel_with(beta, new_client(beta))
    client_says(theirs, "Beta's patient")
    admin = browser(alpha, "admin")
    for url in staff_urls(theirs):
        assert admin.get(url).status_code == 404, url
    for url in post_urls(theirs):
        assert admin.post(url, {"text": "x", "allowed": "0"}).status_code == 404, url
    assert texts(theirs) == ["Beta's patient"]
    with scopes_disabled():
        theirs.refresh_from_db()
    assert theirs.client_access is True
    assert theirs.pk not in [c.pk for c in admin.get("/portal/messages/").context["client_channels"]]
    assert admin.post(f"/portal/clients/{theirs.client_id}/chat/new/",
                      {"practitioner": alpha.people["gp"].pk}).status_code == 404


def test_a_colleague_of_another_department_sees_no_channel_until_joining(alpha):
    """Not strictly segregated: the physiotherapist sees the client, not the GP department's chat, and may join."""
    rosa = new_client(alpha)
    channel = channel_with(alpha, rosa)
    client_says(channel, "For the GP")
    physio = browser(alpha, "physio")
    for url in staff_urls(channel):
        assert physio.get(url).status_code == 404, url
    for url in (f"/portal/messages/{channel.pk}/", f"/portal/messages/{channel.pk}/access/",
                f"/portal/messages/{channel.pk}/delete-history/"):
        assert physio.post(url, {"text": "x", "allowed": "0"}).status_code == 404, url
    assert physio.get("/portal/messages/").context["client_channels"] == []
    assert "For the GP" not in physio.get(f"/portal/clients/{rosa.pk}/").content.decode()

    record = physio.get(f"/portal/clients/{rosa.pk}/").content.decode()
    assert f'action="/portal/messages/{channel.pk}/join/"' in record
    assert f'href="/portal/messages/{channel.pk}/"' not in record  # no "Open" before joining
    response = physio.post(f"/portal/messages/{channel.pk}/join/", {"next": f"/portal/clients/{rosa.pk}/#chat"})
    # Joined: straight to the conversation (the client record's "next" is only for when joining fails).
    assert response.status_code == 302 and response["Location"] == f"/portal/messages/{channel.pk}/"
    with scopes_disabled():
        assert ChannelMember.objects.filter(channel=channel, member=alpha.people["physio"]).exists()
    assert audit_rows("chat.channel_join", target_id=str(channel.pk))
    assert physio.get(f"/portal/messages/{channel.pk}/").status_code == 200
    assert [c.pk for c in physio.get("/portal/messages/").context["client_channels"]] == [channel.pk]
    # Joined: no "Join" button any more, and joining again changes nothing.
    record = physio.get(f"/portal/clients/{rosa.pk}/").content.decode()
    assert f'action="/portal/messages/{channel.pk}/join/"' not in record


def test_strict_departments_hide_other_departments_channels_everywhere(alpha):
    alpha.strict_departments = True
    alpha.save()
    rosa = new_client(alpha)
    channel = channel_with(alpha, rosa)
    client_says(channel, "GP only")
    physio = browser(alpha, "physio")
    for url in staff_urls(channel):
        assert physio.get(url).status_code == 404, url
    for url in post_urls(channel):
        assert physio.post(url, {"text": "x", "allowed": "0"}).status_code == 404, url
    assert physio.get("/portal/messages/").context["client_channels"] == []
    assert json.loads(physio.get("/portal/messages/unread/").content) == {"total": 0}
    assert physio.get(f"/portal/clients/{rosa.pk}/").status_code == 404
    create = physio.post(f"/portal/clients/{rosa.pk}/chat/new/", {"practitioner": alpha.people["physio"].pk})
    assert create.status_code == 404
    # The department's colleagues do see it.
    listed = browser(alpha, "deptadmin").get("/portal/messages/").context["client_channels"]
    assert [c.pk for c in listed] == [channel.pk]
    assert texts(channel) == ["GP only"]


def test_strict_clients_keep_a_practitioners_channels_to_their_own_clients(alpha):
    alpha.strict_clients = True
    alpha.save()
    with scopes_disabled():
        alpha.people["physio"].departments.add(alpha.departments_by_name["gp"])
    rosa, piet = new_client(alpha, "Verhoeven"), new_client(alpha, "Jansen")
    mine = channel_with(alpha, rosa, "gp")
    theirs = channel_with(alpha, piet, "physio")
    gp = browser(alpha, "gp")
    assert [c.pk for c in gp.get("/portal/messages/").context["client_channels"]] == [mine.pk]
    for url in staff_urls(theirs):
        assert gp.get(url).status_code == 404, url
    html = gp.get("/portal/appointments/").content.decode()
    assert f'/portal/messages/{mine.pk}/' in html and f'/portal/messages/{theirs.pk}/' not in html


# --- icons in lists ---------------------------------------------------------------------------------------

def test_client_list_icons_dark_light_and_a_menu_for_several_channels(alpha):
    rosa, piet, anna = new_client(alpha, "Verhoeven"), new_client(alpha, "Jansen"), new_client(alpha, "Smit")
    one = channel_with(alpha, rosa)
    gp_piet, physio_piet = channel_with(alpha, piet, "gp"), channel_with(alpha, piet, "physio")
    with scopes_disabled():
        services.chat_access_set(member=alpha.people["admin"], channel=one, allowed=False)
    html = browser(alpha, "admin").get("/portal/clients/").content.decode()
    # Rosa: one channel, access revoked → light, linking to the channel.
    assert f'class="chat-icon is-none" href="/portal/messages/{one.pk}/"' in html
    # Piet: two channels → a menu with both; dark because the client can use them.
    assert '<details class="chat-icon-menu">' in html and 'class="chat-icon is-open"' in html
    assert f'href="/portal/messages/{gp_piet.pk}/"' in html and f'href="/portal/messages/{physio_piet.pk}/"' in html
    # Anna: no channel → light, to the client record's chat section to create one.
    assert f'class="chat-icon is-none" href="/portal/clients/{anna.pk}/#chat"' in html


def test_icons_follow_what_the_member_may_read(alpha):
    rosa = new_client(alpha)
    channel = channel_with(alpha, rosa)
    html = browser(alpha, "physio").get("/portal/clients/").content.decode()
    # The physiotherapist may not read the GP's channel, only join it (a menu: join, or create one's own).
    assert f'href="/portal/messages/{channel.pk}/"' not in html
    assert f'action="/portal/messages/{channel.pk}/join/"' in html
    assert f'class="chat-icon is-open" href="/portal/messages/{channel.pk}/"' in (
        browser(alpha, "gp").get("/portal/clients/").content.decode())


def test_appointment_list_and_today_have_icons(alpha):
    rosa = new_client(alpha)
    channel = channel_with(alpha, rosa)  # with an appointment tomorrow
    with scopes_disabled():
        consult_services.appointment_create(member=alpha.people["admin"], client=rosa,
                                            practitioner=alpha.people["gp"],
                                            starts_at=timezone.now() + timedelta(minutes=5))
    gp = browser(alpha, "gp")
    assert f'href="/portal/messages/{channel.pk}/"' in gp.get("/portal/appointments/").content.decode()
    today = gp.get("/portal/today/").content.decode()
    zone = consult_selectors.zone_of(alpha)
    if timezone.localdate(timezone.now() + timedelta(minutes=5), zone) == timezone.localdate(timezone=zone):
        assert f'href="/portal/messages/{channel.pk}/"' in today


@pytest.mark.parametrize("url", ["/portal/messages/", "/portal/clients/", "/portal/appointments/"])
def test_list_pages_cost_the_same_queries_for_one_row_as_for_ten(alpha, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        gp = browser(alpha, "gp")
        gp.get(url)  # warm the session and caches
        with CaptureQueriesContext(connection) as queries:
            assert gp.get(url).status_code == 200
        return len(queries)

    first = new_client(alpha, "Client0")
    client_says(channel_with(alpha, first), "Hello")
    one = count()
    for n in range(1, 10):
        client = new_client(alpha, f"Client{n}")
        channel = channel_with(alpha, client)
        client_says(channel, "Hello")
        if n % 3 == 0:
            channel_with(alpha, client, "physio")  # several channels: a menu
    assert count() == one


# --- the client record: creating, granting, revoking, deleting ---------------------------------------------

def test_practitioner_creates_a_channel_with_themselves_once(alpha):
    rosa = new_client(alpha)
    gp = browser(alpha, "gp")
    record = gp.get(f"/portal/clients/{rosa.pk}/").content.decode()
    assert 'id="chat"' in record and "This client has no chat channel yet." in record
    assert "Create chat channel with Gp Alpha" in record and "disabled" not in record.split('id="chat"')[1]
    response = gp.post(f"/portal/clients/{rosa.pk}/chat/new/", {"practitioner": alpha.people["gp"].pk})
    with scopes_disabled():
        channel = Channel.objects.get(client=rosa)
    assert response.status_code == 302 and response["Location"] == f"/portal/messages/{channel.pk}/"
    assert channel.practitioner == alpha.people["gp"] and channel.created_by == alpha.people["gp"]
    assert audit_rows("chat.channel_create", target_id=str(channel.pk))

    record = gp.get(f"/portal/clients/{rosa.pk}/").content.decode()
    section = record.split('id="chat"')[1]
    assert "Create chat channel with Gp Alpha" in section and " disabled" in section
    assert "You already have a chat channel with this client" in section
    assert f'href="/portal/messages/{channel.pk}/"' in section  # "Open"
    response = gp.post(f"/portal/clients/{rosa.pk}/chat/new/", {"practitioner": alpha.people["gp"].pk})
    assert response.status_code == 302 and response["Location"] == f"/portal/clients/{rosa.pk}/#chat"
    with scopes_disabled():
        assert Channel.objects.filter(client=rosa).count() == 1


def test_practitioner_cannot_create_a_channel_for_a_colleague(alpha):
    rosa = new_client(alpha)
    gp = browser(alpha, "gp")
    gp.post(f"/portal/clients/{rosa.pk}/chat/new/", {"practitioner": alpha.people["physio"].pk})
    with scopes_disabled():
        assert not Channel.objects.filter(client=rosa).exists()


def test_department_admin_chooses_a_practitioner_of_the_clients_department(alpha):
    rosa = new_client(alpha)  # General practice
    deptadmin = browser(alpha, "deptadmin")
    section = deptadmin.get(f"/portal/clients/{rosa.pk}/").content.decode().split('id="chat"')[1]
    assert 'name="practitioner"' in section and "Gp Alpha" in section and "Physio Alpha" not in section
    deptadmin.post(f"/portal/clients/{rosa.pk}/chat/new/", {"practitioner": alpha.people["physio"].pk})
    with scopes_disabled():
        assert not Channel.objects.filter(client=rosa).exists()
    deptadmin.post(f"/portal/clients/{rosa.pk}/chat/new/", {"practitioner": alpha.people["gp"].pk})
    with scopes_disabled():
        assert list(Channel.objects.filter(client=rosa).values_list("practitioner", flat=True)) == [
            alpha.people["gp"].pk]
    section = deptadmin.get(f"/portal/clients/{rosa.pk}/").content.decode().split('id="chat"')[1]
    assert "has a channel" in section
    # The organisation admin may open one for anyone.
    browser(alpha, "admin").post(f"/portal/clients/{rosa.pk}/chat/new/", {"practitioner": alpha.people["physio"].pk})
    with scopes_disabled():
        assert Channel.objects.filter(client=rosa).count() == 2


def test_create_channel_is_post_only(alpha):
    rosa = new_client(alpha)
    assert browser(alpha, "gp").get(f"/portal/clients/{rosa.pk}/chat/new/").status_code == 405


def test_department_admin_revokes_and_grants_access_a_practitioner_cannot(alpha):
    rosa = new_client(alpha)
    channel = channel_with(alpha, rosa)
    gp = browser(alpha, "gp")
    page = gp.get(f"/portal/messages/{channel.pk}/").content.decode()
    assert f'action="/portal/messages/{channel.pk}/access/"' not in page
    gp.post(f"/portal/messages/{channel.pk}/access/", {"allowed": "0"})
    with scopes_disabled():
        channel.refresh_from_db()
    assert channel.client_access is True

    deptadmin = browser(alpha, "deptadmin")
    record = deptadmin.get(f"/portal/clients/{rosa.pk}/").content.decode()
    assert f'action="/portal/messages/{channel.pk}/access/"' in record and "Revoke access" in record
    assert deptadmin.get(f"/portal/messages/{channel.pk}/access/").status_code == 405
    response = deptadmin.post(f"/portal/messages/{channel.pk}/access/",
                              {"allowed": "0", "next": f"/portal/clients/{rosa.pk}/#chat"})
    assert response.status_code == 302 and response["Location"] == f"/portal/clients/{rosa.pk}/#chat"
    with scopes_disabled():
        channel.refresh_from_db()
    assert channel.client_access is False and channel.access_revoked_at is not None
    assert audit_rows("chat.access_revoke", target_id=str(channel.pk))
    assert "Grant access" in deptadmin.get(f"/portal/clients/{rosa.pk}/").content.decode()

    response = deptadmin.post(f"/portal/messages/{channel.pk}/access/", {"allowed": "1", "next": "https://evil.example/"})
    assert response["Location"] == f"/portal/messages/{channel.pk}/"  # never off the site
    with scopes_disabled():
        channel.refresh_from_db()
    assert channel.client_access is True and audit_rows("chat.access_grant", target_id=str(channel.pk))


def test_delete_history_asks_first_then_deletes_and_audits(alpha):
    rosa = new_client(alpha)
    channel = channel_with(alpha, rosa)
    client_says(channel, "Private")
    staff_says(alpha, channel, "Answer")
    gp = browser(alpha, "gp")
    confirm = gp.get(f"/portal/messages/{channel.pk}/delete-history/?next=javascript:alert(1)")
    html = confirm.content.decode()
    assert confirm.status_code == 200 and "cannot be undone" in html
    assert 'href="javascript:' not in html and 'value="javascript:' not in html
    assert texts(channel) == ["Private", "Answer"]
    response = gp.post(f"/portal/messages/{channel.pk}/delete-history/")
    assert response.status_code == 302 and response["Location"] == f"/portal/messages/{channel.pk}/"
    assert texts(channel) == []
    rows = audit_rows("chat.history_delete", target_id=str(channel.pk))
    assert len(rows) == 1 and rows[0].actor == alpha.people["gp"].user


def test_message_author_kinds_on_the_page(alpha):
    """The staff page tells client and staff messages apart (the panel's classes)."""
    rosa = new_client(alpha)
    channel = channel_with(alpha, rosa)
    client_says(channel, "From the client")
    staff_says(alpha, channel, "From the GP")
    html = browser(alpha, "gp").get(f"/portal/messages/{channel.pk}/").content.decode()
    assert f"chat-from-{Author.CLIENT}" in html and "is-mine" in html


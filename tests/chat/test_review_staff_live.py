"""Live review of the staff chat (#9): what the staff portal says and where it leads."""

import pytest

from tests.chat.core_helpers import book, channel_of, make_client
from tests.conftest import signed_in_client

pytestmark = pytest.mark.django_db


def staff(org, key, language=None):
    browser = signed_in_client(org.people[key].user, org)
    if language:
        browser.cookies["django_language"] = language
    return browser


# --- translation contexts ---------------------------------------------------------------------------------

def test_the_client_access_status_open_is_not_the_verb(alpha, monkeypatch):
    """Dutch showed "Openen" (the button's verb) as the state of the client's access: the state has its own
    context. (The verb's translation is put in the catalogue here, whatever the compiled files hold.)"""
    from django.utils.translation import trans_real

    monkeypatch.setitem(trans_real.translation("nl")._catalog._catalogs[0], "Open", "Openen")
    rosa = make_client(alpha)
    book(alpha, rosa)
    channel = channel_of(alpha, rosa)
    html = staff(alpha, "gp", "nl").get(f"/portal/messages/{channel.pk}/").content.decode()
    facts = html.split('class="facts card chat-facts">')[1].split("</dl>")[0]
    status = facts.rsplit("<dd>", 1)[1].split("</dd>")[0]
    assert status and status != "Openen"


# --- joining ------------------------------------------------------------------------------------------------

def test_joining_leads_to_the_channel_and_a_refused_join_back_to_the_record(alpha):
    """A practitioner of another department joins from the client record: the page that follows is the
    conversation just joined. When joining is refused (already in it), "next" brings them back."""
    rosa = make_client(alpha)
    book(alpha, rosa)
    channel = channel_of(alpha, rosa)
    physio = staff(alpha, "physio")
    record = f"/portal/clients/{rosa.pk}/#chat"
    joined = physio.post(f"/portal/messages/{channel.pk}/join/", {"next": record})
    assert joined.status_code == 302 and joined["Location"] == f"/portal/messages/{channel.pk}/"
    again = physio.post(f"/portal/messages/{channel.pk}/join/", {"next": record})
    assert again.status_code == 302 and again["Location"] == record


# --- list icons: a colleague's channel to join ---------------------------------------------------------------

def test_a_clients_only_channel_being_a_colleagues_offers_join_and_create_in_the_list(alpha):
    """The physiotherapist (another department) sees Rosa, whose only channel is the GP's: the list's icon offers
    "Join Gp Alpha's chat" and "Create chat channel with <me>" instead of "No chat channel yet: create one"."""
    rosa = make_client(alpha)
    book(alpha, rosa)
    channel = channel_of(alpha, rosa)
    physio = staff(alpha, "physio")
    html = physio.get("/portal/clients/").content.decode()
    row = html.split(f'href="/portal/clients/{rosa.pk}/"')[0].rsplit("<tr>", 1)[1]
    assert "No chat channel yet: create one" not in row
    assert f'action="/portal/messages/{channel.pk}/join/"' in row and "Join Gp Alpha's chat" in row
    assert f'action="/portal/clients/{rosa.pk}/chat/new/"' in row
    assert f'name="practitioner" value="{alpha.people["physio"].pk}"' in row
    assert "Create chat channel with Physio Alpha" in row
    assert f'href="/portal/messages/{channel.pk}/"' not in row  # nothing to read before joining
    # The menu's join goes to the conversation.
    joined = physio.post(f"/portal/messages/{channel.pk}/join/", {"next": "/portal/clients/"})
    assert joined["Location"] == f"/portal/messages/{channel.pk}/"
    row = physio.get("/portal/clients/").content.decode().split(f'href="/portal/clients/{rosa.pk}/"')[0]
    assert f'class="chat-icon is-open" href="/portal/messages/{channel.pk}/"' in row.rsplit("<tr>", 1)[1]


def test_nobody_but_a_practitioner_who_may_join_gets_the_join_menu(alpha):
    rosa = make_client(alpha)
    book(alpha, rosa)
    channel = channel_of(alpha, rosa)
    for key in ("gp", "deptadmin", "admin"):  # they read it already (or may not join: admins)
        html = staff(alpha, key).get("/portal/clients/").content.decode()
        assert f"/portal/messages/{channel.pk}/join/" not in html, key
    alpha.strict_departments = True
    alpha.save()
    assert f"/portal/messages/{channel.pk}/" not in staff(alpha, "physio").get("/portal/clients/").content.decode()


def test_join_menus_cost_no_query_per_row(alpha):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        physio = staff(alpha, "physio")
        physio.get("/portal/clients/")
        with CaptureQueriesContext(connection) as queries:
            html = physio.get("/portal/clients/").content.decode()
        return len(queries), html.count("/join/")

    rosa = make_client(alpha, "Client0")
    book(alpha, rosa)
    one, menus = count()
    assert menus == 1
    for n in range(1, 6):
        client = make_client(alpha, f"Client{n}")
        book(alpha, client, minutes=60 + 30 * n)
    queries, menus = count()
    assert menus == 6 and queries == one

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

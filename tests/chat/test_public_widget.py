"""The public chat widget (F-CHAT-6): a website visitor starts a conversation, staff answer it from the portal,
the visitor follows it with their own token only; spam is refused (rate limits, honeypot, lengths)."""

import re

import pytest
from django.core.cache import cache

from chat import selectors, services, widget_access
from chat.access import POSTS_PER_CONVERSATION
from chat.models import Author, Channel, ChannelKind, Message
from chat.sealing import open_text
from chat.views_widget import STARTS_PER_ADDRESS
from orgs.scoping import organization_scope, scopes_disabled
from tests.conftest import host_client, signed_in_client

pytestmark = pytest.mark.django_db

XSS_NAME = '<script>alert("name")</script>'
XSS_TEXT = '"><img src=x onerror=alert(1)> <svg onload=alert(2)>'


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()  # the rate limits count in the cache
    yield
    cache.clear()


@pytest.fixture
def chat_on(alpha):
    alpha.public_chat_widget = True
    alpha.save(update_fields=["public_chat_widget"])
    return alpha


def start_url(organization):
    return widget_access.chat_widget_path(organization)


def start_data(organization, **fields):
    return {"token": widget_access.form_token(organization), "name": "Vera Visitor", "email": "vera@example.com",
            "text": "Do you take new patients?", "leave_empty": "", **fields}


def public_channels(organization):
    with scopes_disabled():
        return list(Channel.objects.filter(organization=organization, kind=ChannelKind.PUBLIC))


def message_count():
    with scopes_disabled():
        return Message.objects.count()


def start(client, organization, **fields):
    """Start a conversation; returns (channel, the conversation's path with the visitor's token)."""
    response = client.post(start_url(organization), start_data(organization, **fields))
    assert response.status_code == 302, response.content.decode()[:2000]
    channels = public_channels(organization)
    channel = max(channels, key=lambda c: c.pk)
    return channel, response["Location"]


def token_of(path):
    return re.search(r"/c/([^/]+)/", path).group(1)


def frame_directive(response):
    return re.search(r"frame-ancestors ([^;]+)", response["Content-Security-Policy"]).group(1).strip()


# --- off, keys ------------------------------------------------------------------------------------

def test_switched_off_the_widget_says_chat_is_not_available_and_takes_nothing(alpha):
    client = host_client(alpha)
    response = client.get(start_url(alpha))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Chat is not available" in page and 'name="text"' not in page
    assert "Not for emergencies" in page
    response = client.post(start_url(alpha), start_data(alpha))
    assert "Chat is not available" in response.content.decode()
    assert public_channels(alpha) == [] and message_count() == 0


def test_a_conversation_ends_when_the_widget_is_switched_off(chat_on):
    client = host_client(chat_on)
    _channel, path = start(client, chat_on)
    chat_on.public_chat_widget = False
    chat_on.save(update_fields=["public_chat_widget"])
    page = client.get(path).content.decode()
    assert "Chat is not available" in page and 'name="text"' not in page
    client.post(path, {"text": "Still there?"})
    assert message_count() == 1
    assert client.get(path + "updates/").status_code == 404


def test_a_wrong_key_or_another_organisations_host_is_a_404(chat_on, beta):
    beta.public_chat_widget = True
    beta.save(update_fields=["public_chat_widget"])
    assert host_client(chat_on).get("/widgets/chat/not-the-key/").status_code == 404
    assert host_client(beta).get(start_url(chat_on)).status_code == 404  # alpha's key on beta's host
    assert host_client(beta).get(start_url(beta)).status_code == 200


# --- the start ------------------------------------------------------------------------------------

def test_the_start_page_asks_name_email_and_message_with_the_emergency_notice(chat_on):
    page = host_client(chat_on).get(start_url(chat_on)).content.decode()
    for name in ("name", "email", "text"):
        assert re.search(rf'<label for="id_{name}">', page), name
        assert re.search(rf'name="{name}"[^>]*required', page), name
    assert "Not for emergencies" in page
    assert 'aria-hidden="true"><label for="id_leave_empty">' in page  # the honeypot is hidden from people


def test_starting_creates_a_public_channel_staff_see_and_keeps_only_the_tokens_hash(chat_on):
    client = host_client(chat_on)
    channel, path = start(client, chat_on)
    token = token_of(path)
    assert channel.kind == ChannelKind.PUBLIC and channel.client_id is None
    assert (channel.visitor_name, channel.visitor_email) == ("Vera Visitor", "vera@example.com")
    assert channel.visitor_token_hash == widget_access.visitor_token_hash(token) != token
    assert len(token) >= 40
    with scopes_disabled():
        message = Message.objects.get(channel=channel)
    assert message.author == Author.VISITOR and open_text(message) == "Do you take new patients?"
    assert b"new patients" not in bytes(message.sealed_text)
    with organization_scope(chat_on):
        assert channel.pk in [c.pk for c in selectors.channels_for_member(chat_on.people["admin"])]
        assert channel.pk in [c.pk for c in selectors.channels_for_member(chat_on.people["deptadmin"])]
    page = client.get(path).content.decode()
    assert "Do you take new patients?" in page and "Not for emergencies" in page


def test_name_and_email_are_required_and_lengths_limited(chat_on):
    client = host_client(chat_on)
    for fields in ({"email": ""}, {"name": ""}, {"text": ""}, {"email": "not-an-address"},
                   {"text": "x" * 4001}, {"name": "n" * 121}):
        response = client.post(start_url(chat_on), start_data(chat_on, **fields))
        assert response.status_code == 400, fields
    assert public_channels(chat_on) == [] and message_count() == 0


def test_a_stale_or_forged_form_token_is_refused_and_keeps_the_text(chat_on):
    response = host_client(chat_on).post(start_url(chat_on), start_data(chat_on, token="forged"))
    assert response.status_code == 400
    assert "Do you take new patients?" in response.content.decode()
    assert public_channels(chat_on) == []


def test_the_honeypot_writes_nothing(chat_on):
    response = host_client(chat_on).post(start_url(chat_on), start_data(chat_on, leave_empty="http://spam.example"))
    assert response.status_code == 400
    assert public_channels(chat_on) == [] and message_count() == 0


# --- following the conversation -------------------------------------------------------------------

def test_a_staff_reply_reaches_the_visitors_updates(chat_on):
    client = host_client(chat_on)
    channel, path = start(client, chat_on)
    first = client.get(path + "updates/").json()["messages"]
    assert [(m["author"], m["mine"]) for m in first] == [("visitor", True)]
    with organization_scope(chat_on):
        services.message_post(channel=channel, text="Yes, we do.", member=chat_on.people["admin"])
    payload = client.get(f"{path}updates/?after={first[-1]['id']}").json()
    assert [(m["text"], m["author"], m["mine"]) for m in payload["messages"]] == [("Yes, we do.", "staff", False)]
    assert payload["open"] is True
    assert "Yes, we do." in client.get(path).content.decode()


def test_the_visitor_answers_without_javascript_and_with_json(chat_on):
    client = host_client(chat_on)
    channel, path = start(client, chat_on)
    response = client.post(path, {"text": "And on Saturdays?"})
    assert response.status_code == 302 and response["Location"] == path
    response = client.post(path, {"text": "Thanks"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    assert response.json()["message"]["text"] == "Thanks" and response.json()["message"]["mine"] is True
    response = client.post(path, {"text": "   "}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and response.json()["error"]
    with scopes_disabled():
        assert [open_text(m) for m in Message.objects.filter(channel=channel)] == [
            "Do you take new patients?", "And on Saturdays?", "Thanks"]


def test_another_visitors_token_gets_nothing(chat_on, beta):
    client = host_client(chat_on)
    channel, path = start(client, chat_on)
    _other, other_path = start(host_client(chat_on), chat_on, name="Otto Other", text="Mine")
    key = widget_access.chat_widget_key(chat_on)
    for wrong in ("x" * 43, token_of(path)[:-1] + ("A" if token_of(path)[-1] != "A" else "B"), "", "a:b:c"):
        if not wrong:
            continue
        wrong_path = f"/widgets/chat/{key}/c/{wrong}/"
        assert client.get(wrong_path).status_code == 404
        assert client.get(wrong_path + "updates/").status_code == 404
        assert client.post(wrong_path, {"text": "hi"}).status_code == 404
    # each visitor sees only their own conversation
    assert "Mine" not in client.get(path).content.decode()
    assert "Do you take new patients?" not in host_client(chat_on).get(other_path).content.decode()
    # the same token on another organisation's host opens nothing
    beta.public_chat_widget = True
    beta.save(update_fields=["public_chat_widget"])
    beta_path = f"/widgets/chat/{widget_access.chat_widget_key(beta)}/c/{token_of(path)}/"
    assert host_client(beta).get(beta_path).status_code == 404
    with organization_scope(chat_on):
        assert widget_access.channel_for_visitor(beta, token_of(path)) is None
        assert widget_access.channel_for_visitor(chat_on, token_of(path)).pk == channel.pk


def test_the_emailed_link_opens_the_conversation_and_forgeries_do_not(chat_on):
    client = host_client(chat_on)
    channel, _path = start(client, chat_on)
    url = widget_access.public_conversation_url(channel)
    assert url.startswith(chat_on.base_url + "/widgets/chat/")
    return_path = url[len(chat_on.base_url):].split("?")[0]
    response = client.get(return_path)
    assert response.status_code == 200 and "Do you take new patients?" in response.content.decode()
    page = response.content.decode()
    assert f'data-visitor-token="{token_of(return_path)}"' in page  # the socket's hello takes the pass too
    assert "data-chat-widget-token" not in page  # but the frame remembers only a token of its own
    assert client.get(return_path + "updates/").status_code == 200
    passed = token_of(return_path)
    assert client.get(return_path.replace(passed, passed[:-2] + "xx")).status_code == 404
    with scopes_disabled():  # a new token (a new conversation start) makes earlier passes worthless
        Channel.objects.filter(pk=channel.pk).update(visitor_token_hash=widget_access.visitor_token_hash("other"))
    assert client.get(return_path).status_code == 404


# --- spam -----------------------------------------------------------------------------------------

def test_too_many_new_conversations_from_one_address_get_a_429_and_write_nothing(chat_on):
    """20 an hour from one address: a hospital's or office's wifi is many people behind one address (5 blocked
    them)."""
    assert STARTS_PER_ADDRESS == 20
    client = host_client(chat_on)
    for number in range(STARTS_PER_ADDRESS):
        start(client, chat_on, text=f"Question {number}")
    before = message_count()
    response = client.post(start_url(chat_on), start_data(chat_on))
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "Please try again after" in page and "minutes" in page
    assert len(public_channels(chat_on)) == STARTS_PER_ADDRESS and message_count() == before
    # another address is not affected
    other = host_client(chat_on)
    other.defaults["REMOTE_ADDR"] = "192.0.2.7"
    assert other.post(start_url(chat_on), start_data(chat_on)).status_code == 302


def test_too_many_new_conversations_at_one_organisation_get_a_429_that_says_to_call(chat_on, monkeypatch):
    """All addresses together: 200 an hour at one organisation (here 3, to keep the test short), then a plain
    "too many conversations right now" with when to try again and the practice's phone."""
    from chat import views_widget

    assert views_widget.STARTS_PER_ORGANIZATION == 200
    monkeypatch.setattr(views_widget, "STARTS_PER_ORGANIZATION", 3)
    chat_on.contact_phone = "020 123 4567"
    chat_on.save(update_fields=["contact_phone"])

    def visitor(number):
        client = host_client(chat_on)
        client.defaults["REMOTE_ADDR"] = f"192.0.2.{number}"
        return client

    for number in range(3):
        start(visitor(number), chat_on, text=f"Question {number}")
    before = message_count()
    response = visitor(50).post(start_url(chat_on), start_data(chat_on))
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "We are receiving too many conversations right now." in page and "Please try again after" in page
    assert "call us at 020 123 4567" in page
    assert len(public_channels(chat_on)) == 3 and message_count() == before


def test_too_many_messages_in_a_minute_get_a_429_and_write_nothing(chat_on):
    client = host_client(chat_on)
    channel, path = start(client, chat_on)
    for number in range(POSTS_PER_CONVERSATION):
        assert client.post(path, {"text": f"line {number}"}).status_code == 302
    before = message_count()
    response = client.post(path, {"text": "one too many"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Please try again after" in response.json()["error"]
    response = client.post(path, {"text": "one too many"})
    assert response.status_code == 429 and "Please try again after" in response.content.decode()
    assert message_count() == before


# --- safety of what is shown ------------------------------------------------------------------------

def test_markup_in_name_and_text_renders_as_text(chat_on):
    client = host_client(chat_on)
    channel, path = start(client, chat_on, name=XSS_NAME, text=XSS_TEXT)
    with organization_scope(chat_on):
        services.message_post(channel=channel, text='<script>alert("staff")</script>', member=chat_on.people["admin"])
    page = client.get(path).content.decode()
    assert "<img src=x" not in page and "<svg onload" not in page and '<script>alert(' not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    # the refused form repeats what was typed, escaped
    response = client.post(start_url(chat_on), start_data(chat_on, name=XSS_NAME, email="", text=XSS_TEXT))
    page = response.content.decode()
    assert response.status_code == 400 and "<script>alert(" not in page and "<img src=x" not in page


def test_the_frame_may_be_embedded_only_by_the_allowed_origins(chat_on):
    client = host_client(chat_on)
    _channel, path = start(client, chat_on)
    for url in (start_url(chat_on), path, path + "updates/"):
        response = client.get(url)
        assert frame_directive(response) == "*", url
        assert "X-Frame-Options" not in response
    chat_on.widget_allowed_origins = "https://www.alpha-practice.example"
    chat_on.save(update_fields=["widget_allowed_origins"])
    for url in (start_url(chat_on), path):
        response = client.get(url)
        assert frame_directive(response) == "'self' https://www.alpha-practice.example"
        assert "script-src 'self' 'nonce-" in response["Content-Security-Policy"]
    assert client.get(path)["Referrer-Policy"] == "no-referrer"  # the address is the visitor's key


def test_the_widget_key_survives_a_secret_key_rotation(chat_on, settings):
    old_key = widget_access.chat_widget_key(chat_on)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-only-0123456789abcdef"
    assert widget_access.chat_widget_key(chat_on) != old_key
    assert widget_access.widget_key_is_valid(chat_on, old_key)
    assert host_client(chat_on).get(f"/widgets/chat/{old_key}/").status_code == 200


# --- the organisation admin copies the embed code ---------------------------------------------------

def test_org_admins_copy_the_chat_widgets_embed_code_from_the_widgets_menu(alpha, beta):
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    menu = admin.get("/admin/").content.decode()
    assert "Chat widget" in menu and "/admin/widgets/chat/" in menu
    page = admin.get("/admin/widgets/chat/").content.decode()
    assert "The chat widget is off" in page
    key = widget_access.chat_widget_key(alpha)
    assert re.search(rf'&lt;iframe src=&quot;http://alpha\.[^&]+/widgets/chat/{key}/&quot; data-openconsult-widget',
                     page), page
    assert "/static/widgets/embed.js" in page
    assert widget_access.chat_widget_key(beta) not in page
    alpha.public_chat_widget = True
    alpha.save(update_fields=["public_chat_widget"])
    assert "The chat widget is on" in admin.get("/admin/widgets/chat/").content.decode()


def test_employees_who_are_not_org_admins_do_not_get_the_embed_page(alpha):
    for who in ("deptadmin", "gp"):
        client = signed_in_client(alpha.people[who].user, alpha)
        assert client.get("/admin/widgets/chat/").status_code in (302, 403, 404), who
        assert "/admin/widgets/chat/" not in client.get("/admin/").content.decode()


def test_the_site_builder_places_the_chat_window_in_a_widgets_section(chat_on):
    from tests.cms.test_blocks import publish_sections

    publish_sections(chat_on, [{"type": "widgets", "value": {"walk_in": None, "booking": None, "chat": True,
                                                             "title": "Ask us"}}])
    html = host_client(chat_on).get("/en/").content.decode()
    key = widget_access.chat_widget_key(chat_on)
    assert re.search(rf'<iframe src="http://alpha\.[^"]+/widgets/chat/{key}/\?lang=en" data-openconsult-widget', html)
    assert "<h2>Ask us</h2>" in html and "/static/widgets/embed.js" in html
    assert "<script>" not in html  # no inline code on cached site pages
    publish_sections(chat_on, [{"type": "widgets", "value": {"walk_in": None, "booking": None, "chat": False,
                                                             "title": "Ask us"}}])
    assert f"/widgets/chat/{key}/" not in host_client(chat_on).get("/en/").content.decode()

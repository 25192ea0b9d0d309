"""Message text is plain text everywhere (F-CHAT-7): XSS payloads render as text in server-rendered history
(`chat_text`, the panel include) and travel as plain strings in the JSON (`message_json`); only http(s):// and
www. addresses become anchors, with rel="noopener noreferrer nofollow".
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape

from chat import services
from chat.models import Author, Message
from chat.serialise import message_json
from chat.templatetags.chat_text import chat_text
from consult import services as consult_services
from orgs.scoping import scopes_disabled

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "javascript:alert(1)",
    "<a href=\"javascript:alert(1)\">click</a>",
    "<iframe src=//evil.example></iframe>",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_render_as_text(payload):
    # No web address in them: the whole text comes back escaped, no tag and no anchor of any kind.
    html = str(chat_text(payload))
    assert html == escape(payload) and "<" not in html and ">" not in html


def test_only_web_addresses_become_anchors_and_their_attributes_stay_escaped():
    html = str(chat_text('See https://example.org/a?b=1&c=2, www.example.nl/x. and mail me@example.com, '
                         'or example.com or ftp://example.com or javascript:alert(1)//www.evil.example'))
    assert ('<a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer nofollow" target="_blank">'
            'https://example.org/a?b=1&amp;c=2</a>,') in html
    assert ('<a href="https://www.example.nl/x" rel="noopener noreferrer nofollow" target="_blank">'
            'www.example.nl/x</a>.') in html
    assert html.count("<a ") == 3  # the two above and www.evil.example (as https://, never javascript:)
    assert 'href="https://www.evil.example"' in html
    assert "javascript:alert(1)//" in html and 'href="javascript' not in html
    assert "me@example.com" in html and "mailto" not in html and 'href="http://example.com' not in html
    # An address cannot carry markup out of its attribute.
    html = str(chat_text('https://example.org/"onmouseover="alert(1) www.example.org/<script>'))
    assert "onmouseover=\"alert" not in html and "<script" not in html
    assert str(chat_text(None)) == "" and str(chat_text("line 1\nline 2")) == "line 1\nline 2"


@pytest.mark.django_db
def test_history_and_json_carry_payloads_as_text(alpha):
    with scopes_disabled():
        client = consult_services.client_create(
            member=alpha.people["admin"], initials="R.", last_name='<b>Verhoeven</b>"><script>x()</script>',
            email="rosa@example.test", language="en", department=alpha.departments_by_name["gp"])
        appointment = consult_services.appointment_create(
            member=alpha.people["admin"], client=client, practitioner=alpha.people["gp"],
            starts_at=timezone.now() + timedelta(days=1))
        channel = services.channel_ensure_for_appointment(appointment=appointment)
        payload = " ".join(PAYLOADS) + " https://example.org/ok"
        services.message_post(channel=channel, text=payload, client=client)
        services.message_post(channel=channel, text="Answer", member=alpha.people["gp"])
        stored = list(Message.objects.filter(channel=channel).select_related("organization").order_by("pk"))

    for_client = [message_json(m, viewer=Author.CLIENT) for m in stored]
    for_gp = [message_json(m, viewer=alpha.people["gp"]) for m in stored]
    for_other = [message_json(m, viewer=alpha.people["physio"]) for m in stored]
    assert for_client[0]["text"] == payload and for_client[0]["sender"] == client.display_name
    assert [m["mine"] for m in for_client] == [True, False]
    assert [m["mine"] for m in for_gp] == [False, True]
    assert [m["mine"] for m in for_other] == [False, False]
    assert [m["mine"] for m in (message_json(m, viewer=Author.VISITOR) for m in stored)] == [False, False]
    assert for_client[0]["at"].endswith(("+01:00", "+02:00"))  # the organisation's time zone (Amsterdam)

    html = render_to_string("chat/_panel.html", {
        "channel": SimpleNamespace(pk=channel.pk), "history": for_client, "ws_path": f"/ws/chat/{channel.pk}/",
        "updates_url": "/u/", "post_url": "/p/", "can_post": True, "closed_reason": "", "me": "client",
        "csp_nonce": "n0nce"})
    history = html.split("data-chat-messages>", 1)[1].split("</ol>", 1)[0]
    for tag in ("<script", "<img", "<svg", "<iframe", "<b>", 'href="javascript'):
        assert tag not in history
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in history and "&lt;img src=x onerror=alert(1)&gt;" in history
    assert '<a href="https://example.org/ok" rel="noopener noreferrer nofollow" target="_blank">' in history
    assert history.count("<a ") == 1
    assert "&lt;b&gt;Verhoeven" not in history  # the client's own message shows "You", the name nowhere
    assert f'data-after-id="{stored[-1].pk}"' in html
    assert 'aria-live="polite"' in html and "Not for emergencies." in html
    assert '<script type="module" src="/static/chat/chat.js" nonce="n0nce"></script>' in html
    assert 'id="chat-form"' in html and 'id="chat-end"' in html

    staff_view = render_to_string("chat/_panel.html", {
        "channel": SimpleNamespace(pk=channel.pk), "history": for_gp, "can_post": False,
        "closed_reason": "<i>revoked</i>", "me": "staff"})
    assert "&lt;b&gt;Verhoeven&lt;/b&gt;&quot;&gt;&lt;script&gt;x()&lt;/script&gt;" in staff_view  # the sender
    assert "<textarea" not in staff_view and "&lt;i&gt;revoked&lt;/i&gt;" in staff_view
    assert "Not for emergencies." not in staff_view

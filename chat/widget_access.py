"""How a website visitor reaches their own public conversation (F-CHAT-6) without an account or a cookie.

The chat widget lives in a frame on another site, where third-party cookies are blocked. So the visitor's
browser keeps a random token instead: in the conversation's address (a capability URL) and in the frame's own
localStorage, so coming back to the site reopens the conversation. The database keeps only the token's SHA-256
(Channel.visitor_token_hash): a copy of the database opens no conversation.

An email cannot carry that token (it is not stored anywhere), so "you have a reply" emails carry a signed
return pass instead, bound to the channel and to its current token hash and valid for RETURN_DAYS.

Both are "visitor credentials": `channel_for_visitor` accepts either. The widget pages, the updates URL and
the chat socket's {"type": "hello", "token": …} all go through it.
"""

import hashlib
import hmac
import uuid

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import salted_hmac

from orgs.scoping import organization_scope

from .models import Channel, ChannelKind

WIDGET_KEY_SALT = "openconsult.chat.widget.key"
RETURN_SALT = "openconsult.chat.widget.return"
FORM_SALT = "openconsult.chat.widget.form"
RETURN_DAYS = 30
FORM_MAX_AGE_SECONDS = 2 * 60 * 60  # like widgets/tokens.py: long enough to type slowly, no lasting pass
MAX_CREDENTIAL_LENGTH = 400  # a token is 43 characters, a return pass about 120: anything longer is no credential


# --- the widget's public key ---------------------------------------------------------------------
# One chat widget per organisation (Organization.public_chat_widget): its key is derived from the organisation,
# not stored, so switching the widget on needs no set-up. Keys made with an older SECRET_KEY (still listed in
# SECRET_KEY_FALLBACKS) keep working, so embedded frames survive a key rotation.

def _widget_key(organization, secret):
    return salted_hmac(WIDGET_KEY_SALT, f"chat-widget:{organization.pk}", secret=secret,
                       algorithm="sha256").hexdigest()[:24]


def chat_widget_key(organization):
    return _widget_key(organization, settings.SECRET_KEY)


def widget_key_is_valid(organization, key):
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(hmac.compare_digest(_widget_key(organization, secret), key or "") for secret in secrets)


def chat_widget_path(organization):
    return reverse("chat_widget:start", kwargs={"key": chat_widget_key(organization)})


def _on_organization_host(organization, path, request=None):
    """`path` on the organisation's host: as this request reached it when it is on that host (a test server or a
    proxy's port may differ from the public address), else the organisation's public address."""
    if path.startswith(("http://", "https://")):
        return path
    if request is not None and getattr(getattr(request, "organization", None), "pk", None) == organization.pk:
        return request.build_absolute_uri(path)
    return organization.base_url + path


def chat_widget_url(organization, request=None):
    """The widget's address on the organisation's own host, for iframes on any site."""
    return _on_organization_host(organization, chat_widget_path(organization), request)


def chat_widget_embed_urls(organization, request=None):
    """The frame's address and the sizing script's (widgets/embed.js, shared with the walk-in and booking
    widgets), both on the organisation's host."""
    from django.templatetags.static import static

    return {"page": chat_widget_url(organization, request),
            "script": _on_organization_host(organization, static("widgets/embed.js"), request)}


# --- the start form's token (no CSRF cookie in a cross-site frame; see widgets/tokens.py) ---------

def form_token(organization):
    return signing.TimestampSigner(salt=FORM_SALT).sign(chat_widget_key(organization))


def form_token_is_valid(organization, token):
    try:
        value = signing.TimestampSigner(salt=FORM_SALT).unsign(token or "", max_age=FORM_MAX_AGE_SECONDS)
    except signing.BadSignature:  # also SignatureExpired
        return False
    return hmac.compare_digest(value, chat_widget_key(organization))


# --- visitor credentials -------------------------------------------------------------------------

def visitor_token_hash(token):
    """What Channel.visitor_token_hash holds for a visitor token (chat.services.public_conversation_start)."""
    return hashlib.sha256(token.encode()).hexdigest()


def return_pass(channel):
    return signing.dumps({"c": str(channel.public_id), "h": channel.visitor_token_hash[:16]}, salt=RETURN_SALT,
                         compress=False)


def channel_for_visitor(organization, credential):
    """The public channel of `organization` this visitor token or return pass opens, or None.

    None for anything else: another organisation's conversation, a client channel, a forged or expired pass,
    a pass made before the token changed."""
    if not credential or len(credential) > MAX_CREDENTIAL_LENGTH or organization is None:
        return None
    with organization_scope(organization):
        channels = Channel.objects.filter(organization_id=organization.pk, kind=ChannelKind.PUBLIC)
        if ":" not in credential:  # a token (URL-safe base64 has no colon); a signed pass always has one
            return channels.filter(visitor_token_hash=visitor_token_hash(credential)).first()
        try:
            value = signing.loads(credential, salt=RETURN_SALT, max_age=RETURN_DAYS * 24 * 60 * 60)
        except signing.BadSignature:
            return None
        if not isinstance(value, dict):
            return None
        channel = channels.filter(public_id=value.get("c")).first() if _is_uuid(value.get("c")) else None
        if channel is None or not hmac.compare_digest(channel.visitor_token_hash[:16], str(value.get("h", ""))):
            return None
        return channel


def _is_uuid(value):
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def conversation_path(channel, credential):
    return reverse("chat_widget:conversation", kwargs={
        "key": chat_widget_key(channel.organization), "credential": credential,
    })


def public_conversation_url(channel, token=None):
    """The address where the visitor reads and answers their conversation, on the organisation's host.

    With the visitor's token (right after the start) it is their own capability URL; without it (an email sent
    later by a task) it carries a return pass valid for RETURN_DAYS."""
    url = channel.organization.base_url + conversation_path(channel, token or return_pass(channel))
    return url + (f"?lang={channel.visitor_language}" if channel.visitor_language in dict(settings.LANGUAGES)
                  else "")

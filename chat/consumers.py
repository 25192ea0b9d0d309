"""The chat's WebSockets: one conversation (/ws/chat/<channel id>/) and a staff member's inbox (/ws/chat/inbox/).

Who may listen is decided from the host's organisation and the browser's session, as the pages decide it, with
the pages' own helpers (auth, portal/patient_session.py, chat.views_link.link_chat, chat/widget_access.py) and
the policy; the id in the URL is only checked, never trusted. One conversation's socket speaks for:
  staff       a member of the host's organisation who may see the channel (orgs.policy.can_view_channel);
  client      a patient-portal session whose clients include the channel's client, access not revoked;
  link        a waiting-room link session of the appointment's client (not a guest), "chat in the waiting
              room" on, access not revoked;
  visitor     a website visitor of a public channel, whose first message is {"type": "hello", "token": …}
              (the widget frame has no cookies; the token or return pass of chat/widget_access.py).
Anything else closes with 4403 (accepted first, so the browser sees the code and stops reconnecting).

Group events carry ids only. For each event the socket re-reads the session (a sign-out, an expired portal
session or a replaced link counts at once) and re-checks access, then loads the message and serialises it for
its viewer ("mine"). A client whose access was revoked is told why ({"type": "access", "open": false}) and the
socket closes.

Protocol (JSON objects with a "type"):
  browser → server: send {text}, read, hello {token} (visitors only)
  server → browser: message {message}, access {open, reason, empty}, error {message}
  ("access" comes whenever access, retention or the history changed; empty: the history was deleted)
The inbox socket (staff only) says {"type": "changed"} on any chat change in the organisation; the page then
asks its count URL, so nothing of another channel or organisation crosses it.
"""

import asyncio
from dataclasses import dataclass
from importlib import import_module
from types import SimpleNamespace

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import auth
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext as _

from consult.consumers.room import TokenBucket
from consult.consumers.waiting import FORBIDDEN, RejectingConsumer, organization_of
from consult.views import SESSION_PARTICIPANT
from orgs import policy
from orgs import selectors as org_selectors
from orgs.middleware import SESSION_ORG_KEY, session_binding
from orgs.remote_support import mark_member
from orgs.scoping import organization_scope
from portal import patient_session

from . import selectors, services
from .models import Author, Channel, ChannelKind, Message
from .serialise import message_json
from .widget_access import channel_for_visitor

HELLO_SECONDS = 10  # a visitor's socket that has not said who it is by then closes


@dataclass
class Viewer:
    """Who one socket speaks for, as established (again) from its session."""

    kind: str  # "staff", "client" (patient portal), "link" (waiting-room link) or "visitor"
    channel: Channel
    language: str
    member: object = None  # staff
    appointment: object = None  # link: messages are sent "from the waiting room" of this appointment

    @property
    def reader(self):
        """Whom "mine" is about (chat/serialise.py)."""
        if self.kind == "staff":
            return self.member
        return Author.VISITOR if self.kind == "visitor" else Author.CLIENT


def browser_request(scope, organization):
    """A stand-in for an HTTP request of this socket's browser: its session as stored now (not as it was when
    the socket opened), the host's organisation and the signed-in user, for the helpers the pages use."""
    key = getattr(scope.get("session"), "session_key", None)
    if not key:
        return None
    request = SimpleNamespace(session=import_module(settings.SESSION_ENGINE).SessionStore(key),
                              organization=organization, META={}, user=None)
    request.user = auth.get_user(request)
    return request


def staff_member(request, organization):
    """The member this staff session acts as on the host (the waiting room's sockets' rule), or None."""
    if not request.user.is_authenticated or request.session.get(SESSION_ORG_KEY) != session_binding(organization):
        return None
    member = mark_member(org_selectors.membership_for(request.user, organization), request.session)
    if member is None or not policy.can_use_portal(member) or policy.must_set_up_two_factor(member):
        return None
    return member


def posts_limited(viewer):
    """Count one post of a client, link or visitor socket in the same limit as the HTTP post view of that kind
    (the per-socket token bucket alone would let a script open new sockets); True when over it."""
    if viewer.kind == "visitor":
        from .access import visitor_post_limited

        return bool(visitor_post_limited(viewer.channel))
    from .access import client_post_limited

    return client_post_limited(viewer.channel)


def _default_language(organization, *preferred):
    return next((language for language in preferred if language), organization.default_language)


class ChatConsumer(RejectingConsumer):
    async def connect(self):
        self.viewer = None
        self.group = None
        self.language = None
        self.visitor_credential = None
        self.hello_timer = None
        self.channel_id = self.scope["url_route"]["kwargs"]["channel_id"]
        self.messages_bucket = TokenBucket(rate=5, burst=20)
        self.send_bucket = TokenBucket(rate=1, burst=5)  # a person types; a script floods
        viewer, hello = await database_sync_to_async(self._connect_check)()
        if viewer is not None:
            return await self._admit(viewer)
        if not hello:
            return await self.reject(FORBIDDEN)
        # A public channel of this host: the visitor's frame says who it is in its first message.
        await self.accept()
        self.hello_timer = asyncio.get_running_loop().call_later(
            HELLO_SECONDS, lambda: asyncio.ensure_future(self.close(code=FORBIDDEN)))

    def _connect_check(self):
        """(viewer or None, whether a visitor's hello may still identify this socket)."""
        viewer = self._viewer()
        if viewer is not None:
            return viewer, False
        organization = organization_of(self.scope)
        hello = organization is not None and organization.public_chat_widget and Channel.objects.with_scopes_disabled(
        ).filter(pk=self.channel_id, organization_id=organization.pk, kind=ChannelKind.PUBLIC).exists()
        return None, hello

    async def _admit(self, viewer):
        self.viewer = viewer
        self.language = viewer.language
        self.group = services.channel_group(viewer.channel.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        if self.hello_timer is None:
            await self.accept()
        else:
            self.hello_timer.cancel()

    # --- who is this socket (asked again for every event) --------------------------------------------

    def _viewer(self, *, touch=False):
        """The Viewer this socket may be now, or None. `touch`: the patient did something (sent, read), which
        keeps their portal session from ending as idle, like a page request does."""
        organization = organization_of(self.scope)
        if organization is None:
            return None
        with organization_scope(organization):
            if self.visitor_credential:  # a visitor's socket is the visitor's, whatever else the browser holds
                return self._visitor(organization)
            request = browser_request(self.scope, organization)
            if request is None:
                return None
            if request.user.is_authenticated:
                return self._staff(request, organization)  # a staff browser is never also a patient's
            return self._client(request, organization, touch=touch) or self._link(request, organization)

    def _staff(self, request, organization):
        member = staff_member(request, organization)
        if member is None:
            return None
        try:
            channel = selectors.channel_for(member, self.channel_id)
        except Http404:
            return None
        return Viewer("staff", channel, _default_language(organization, request.user.language), member=member)

    def _client(self, request, organization, *, touch):
        patient = patient_session.current(request, touch=touch)
        if patient is None:
            return None
        if touch:
            request.session.save()
        try:
            channel = selectors.channel_for_client_session(organization, patient.client_ids, self.channel_id)
        except Http404:
            return None
        if not channel.client_access:
            return None
        return Viewer("client", channel, _default_language(organization, channel.client.language))

    def _link(self, request, organization):
        from .access import link_chat

        if not request.session.get(SESSION_PARTICIPANT):
            return None
        found = link_chat(request)
        if found is None:
            return None
        participant, channel = found
        if channel.pk != self.channel_id or not channel.client_access:
            return None
        return Viewer("link", channel, _default_language(organization, channel.client.language),
                      appointment=participant.appointment)

    def _visitor(self, organization):
        if not organization.public_chat_widget:
            return None
        channel = channel_for_visitor(organization, self.visitor_credential)
        if channel is None or channel.pk != self.channel_id:
            return None
        channel.organization = organization
        return Viewer("visitor", channel, _default_language(organization, channel.visitor_language))

    def _lost_reason(self):
        """Why a socket that was let in may no longer listen (told before it closes)."""
        channel = Channel.objects.with_scopes_disabled().select_related("organization").filter(
            pk=self.channel_id).first()
        if channel is not None and self.viewer.kind in ("client", "link") and not channel.client_access:
            from .access import client_side_state

            return client_side_state(channel)[1]
        if self.viewer.kind == "link" and self._link_chat_over():
            return _("Chatting through this appointment link has ended. Reload the page to see how to continue in "
                     "the patient portal.")
        return _("This conversation is no longer available here. Reload the page.")

    def _link_chat_over(self):
        """Whether this link session's chat ended by time (policy.LINK_CHAT_AFTER_WINDOW), not otherwise."""
        from .access import link_chat_over, link_participant

        organization = organization_of(self.scope)
        if organization is None:
            return False
        with organization_scope(organization):
            request = browser_request(self.scope, organization)
            participant = link_participant(request) if request is not None else None
            return participant is not None and link_chat_over(request, participant)

    # --- from the browser -------------------------------------------------------------------------

    async def receive_json(self, content, **kwargs):
        if not self.messages_bucket.take():
            return
        await self.handle_in_language(content, **kwargs)

    async def on_hello(self, content):
        credential = content.get("token")
        if self.viewer is not None or self.hello_timer is None or not isinstance(credential, str):
            return
        self.visitor_credential = credential
        viewer = await database_sync_to_async(self._viewer)()
        if viewer is None or viewer.kind != "visitor":
            self.hello_timer.cancel()
            return await self.close(code=FORBIDDEN)
        await self._admit(viewer)

    async def on_send(self, content):
        text = content.get("text")
        if self.viewer is None or not isinstance(text, str):
            return
        if not self.send_bucket.take():
            raise ValidationError(_("You are sending messages too quickly; wait a moment."))
        if await database_sync_to_async(self._post)(text) is None:
            await self._leave()

    def _post(self, text):
        """Post as this socket's viewer (services.message_post validates and decides); None: access is gone."""
        viewer = self._viewer(touch=True)
        if viewer is None:
            return None
        self.viewer = viewer
        if viewer.kind == "staff":
            from .access import write_refusal

            refusal = write_refusal(viewer.member, viewer.channel)  # the staff page's rule (revoked: nobody writes)
            if refusal:
                raise ValidationError(refusal)
        elif posts_limited(viewer):
            raise ValidationError(_("You sent many messages in a short time. Please try again in a minute."))
        author = {"member": viewer.member} if viewer.kind == "staff" else (
            {"visitor": True} if viewer.kind == "visitor" else {"client": viewer.channel.client})
        return services.message_post(channel=viewer.channel, text=text, appointment=viewer.appointment, **author)

    async def on_read(self, content):
        if self.viewer is not None and not await database_sync_to_async(self._mark_read)():
            await self._leave()

    def _mark_read(self):
        viewer = self._viewer(touch=True)
        if viewer is None:
            return False
        self.viewer = viewer
        if viewer.kind == "staff":
            services.channel_mark_read(channel=viewer.channel, member=viewer.member)
        else:
            services.channel_mark_read_by_client(channel=viewer.channel)
        return True

    # --- from the group ---------------------------------------------------------------------------

    async def chat_message(self, event):
        found = await database_sync_to_async(self._message_for_viewer)(event.get("message_id"))
        if found is None:
            return await self._leave()
        if found is not False:
            await self.send_json({"type": "message", "message": found})

    def _message_for_viewer(self, message_id):
        """The message as JSON for this viewer; False when there is nothing to show; None: access is gone."""
        viewer = self._viewer()
        if viewer is None:
            return None
        self.viewer = viewer
        message = Message.objects.with_scopes_disabled().select_related("organization").filter(
            pk=message_id, channel_id=viewer.channel.pk, organization_id=viewer.channel.organization_id).first()
        if message is None:
            return False  # deleted with the history meanwhile
        return message_json(message, viewer=viewer.reader)

    async def chat_access(self, event):
        state = await database_sync_to_async(self._access_state)()
        if state is None:
            return await self._leave()
        await self.send_json({"type": "access", **state})

    def _access_state(self):
        """{"open", "reason"}: whether this viewer may write now (the same words as their page), or None."""
        viewer = self._viewer()
        if viewer is None:
            return None
        self.viewer = viewer
        with translation.override(self.language):
            if viewer.kind == "staff":
                from .access import write_refusal

                refusal = write_refusal(viewer.member, viewer.channel)
                allowed, reason = refusal is None, refusal or ""
            elif viewer.kind == "visitor":
                allowed, reason = services.client_may_post(viewer.channel)
            else:
                from .access import client_side_state

                allowed, reason = client_side_state(viewer.channel)
        # A deleted history (by staff, or retention when a consult ended) also comes as this event: the page then
        # empties its list.
        empty = not Message.objects.with_scopes_disabled().filter(channel_id=viewer.channel.pk).exists()
        return {"open": allowed, "reason": reason, "empty": empty}

    async def _leave(self):
        """Access is gone: say why, stop listening, close."""
        with translation.override(self.language):
            reason = await database_sync_to_async(self._lost_reason)()
        await self.send_json({"type": "access", "open": False, "reason": reason})
        await self.channel_layer.group_discard(self.group, self.channel_name)
        self.viewer, self.group = None, None
        await self.close(code=FORBIDDEN)

    async def disconnect(self, code):
        if self.hello_timer is not None:
            self.hello_timer.cancel()
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None


class ChatInboxConsumer(RejectingConsumer):
    """A staff member's portal pages: told when any conversation of the organisation changed (unread badges).
    Like a conversation's socket it re-reads the session for every event: a sign-out, an expired session or an
    ended membership closes it (4403) instead of hearing on."""

    async def connect(self):
        self.group = await database_sync_to_async(self._group)()
        if self.group is None:
            return await self.reject(FORBIDDEN)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    def _group(self):
        organization = organization_of(self.scope)
        if organization is None:
            return None
        request = browser_request(self.scope, organization)
        if request is None or staff_member(request, organization) is None:
            return None
        return services.organization_group(organization.pk)

    async def chat_changed(self, event):
        if self.group is None:
            return
        if await database_sync_to_async(self._group)() != self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None
            return await self.close(code=FORBIDDEN)
        await self.send_json({"type": "changed"})

    async def disconnect(self, code):
        if getattr(self, "group", None) is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

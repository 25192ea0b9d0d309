"""The consultation room's WebSocket: WebRTC signalling between the peers (a mesh of up to four), chat,
shared-file notices, mute states, captions, and the end of the consult.

Who may join is decided from the host's organisation and the session only: staff by their membership
and the policy (`/ws/room/<appointment id>/`, the id is checked, never trusted), patients by the
participant in their session (`/ws/room/`). Peers are addressed by stable ids ("m12", "p34"); the
server relays a signal only to a peer of the same consult, never to a channel the browser names.

Protocol (JSON objects with a "type"):
  browser → server: hello {session}, signal {to, data}, chat {text}, media {audio, video, screen},
                    caption {text, final}, heartbeat, bye
  (ending is a form POST by staff, so it works even while this socket is down)
  server → browser: welcome {you, peers, chat, files, started_at}, peer-joined {peer}, peer-left {id, final},
                    signal {from, data}, chat {message}, file {file}, media {from, …}, caption {from, …},
                    ended, error {message}
"""

import time

from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from orgs import policy, selectors
from orgs.middleware import SESSION_ORG_KEY, session_binding
from orgs.remote_support import mark_member
from orgs.scoping import organization_scope

from .. import room
from ..models import Consult, PeerRole
from ..views import SESSION_PARTICIPANT, SESSION_TOKEN, entry_allowed
from .waiting import FORBIDDEN, UNAUTHENTICATED, RejectingConsumer, organization_of

REPLACED = 4409  # the same person opened the room in another tab; this one stands down
ENDED = 4410
FULL = 4429
MAX_PEERS = 4  # a mesh: every browser sends its video to every other one
MAX_SIGNAL_CHARS = 64_000
MAX_CAPTION_CHARS = 500


class TokenBucket:
    """At most `rate` messages a second on average, `burst` at once: a socket cannot flood the room."""

    def __init__(self, rate, burst):
        self.rate, self.burst, self.tokens, self.at = rate, burst, burst, time.monotonic()

    def take(self):
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class RoomConsumer(RejectingConsumer):
    async def connect(self):
        self.consult = None
        self.me = None
        self.joined = False
        self.language = None
        self.peers = {}  # peer id → channel name, kept from the group's join/leave messages
        identity = await self._identify()
        if identity is None:
            return await self.reject(UNAUTHENTICATED)
        if identity is False:
            return await self.reject(FORBIDDEN)
        self.consult, self.me = identity
        self.group = room.room_group(self.consult.pk)  # joined only after a successful hello: before, it hears nothing
        self.messages_bucket = TokenBucket(rate=30, burst=60)  # signalling is bursty (ICE candidates)
        self.chat_bucket = TokenBucket(rate=2, burst=10)
        await self.accept()

    @database_sync_to_async
    def _identify(self):
        """(consult, my peer description), None without a session, False when this socket may not join."""
        organization = organization_of(self.scope)
        session = self.scope.get("session")
        if session is None:
            return None
        if organization is None:
            return False
        appointment_id = self.scope["url_route"]["kwargs"].get("appointment_id")
        if appointment_id is None:
            participant = room.participant_by_session(organization, session.get(SESSION_PARTICIPANT),
                                                      session.get(SESSION_TOKEN))
            if participant is None:
                return None if not session.get(SESSION_PARTICIPANT) else False
            if not entry_allowed(session, participant, organization):
                return False
            consult = room.consult_for_participant(participant)
            if consult is None:
                return False
            role = PeerRole.CLIENT if participant.role == "client" else PeerRole.GUEST
            person = participant.person
            self.language = (person.language if person else "") or organization.default_language
            with translation.override(self.language):
                name = person.display_name if person else _("Guest")
            return consult, {"id": room.participant_peer_id(participant), "role": role, "name": name,
                             "participant": participant, "membership": None}
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return None
        if session.get(SESSION_ORG_KEY) != session_binding(organization):
            return False
        member = mark_member(selectors.membership_for(user, organization), session)
        if member is None or not policy.can_use_portal(member) or policy.must_set_up_two_factor(member):
            return False
        consult = room.consult_for_staff(member, appointment_id)
        if consult is None:
            return False
        self.language = getattr(user, "language", "") or organization.default_language
        return consult, {"id": room.staff_peer_id(member), "role": PeerRole.STAFF,
                         "name": user.get_full_name() or user.email, "participant": None, "membership": member}

    # --- from the browser ---------------------------------------------------------------------

    async def on_hello(self, content):
        if self.joined:
            return  # one hello per socket: a second would resend history and confuse the others
        self.me["session"] = str(content.get("session", ""))[:64]
        # Into the group before the database says we are here: no one who joins meanwhile is missed.
        await self.channel_layer.group_add(self.group, self.channel_name)
        try:
            joined = await self._join()
        except ValidationError as error:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.me.pop("session", None)
            await self.send_json({"type": "error", "message": " ".join(error.messages)})
            return await self.close(code=FULL)
        if joined is None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.me.pop("session", None)
            return await self.close(code=ENDED)
        self.joined = True
        welcome, previous = joined
        if previous:
            await self.channel_layer.send(previous, {"type": "room.replaced"})
        self.peers = {peer["id"]: peer.pop("channel") for peer in welcome["peers"]}
        await self.send_json({"type": "welcome", **welcome})
        await self.channel_layer.group_send(self.group, {
            "type": "room.joined", "peer": self._public(self.me), "channel": self.channel_name})

    @database_sync_to_async
    def _join(self):
        with transaction.atomic(), organization_scope(self.consult.organization):
            # The consult's row lock makes "is there room for one more?" and taking the place one step.
            self.consult = Consult.objects.select_for_update().select_related("organization").get(pk=self.consult.pk)
            if not self.consult.is_open:
                return None
            others = [p for p in room.peers_in(self.consult) if p.peer_id != self.me["id"]]
            if len(others) >= MAX_PEERS:
                raise ValidationError(_("This consult is full: at most %(count)s people can take part.")
                                      % {"count": MAX_PEERS})
            _presence, previous = room.presence_enter(
                consult=self.consult, peer_id=self.me["id"], role=self.me["role"], display_name=self.me["name"],
                channel_name=self.channel_name, membership=self.me["membership"],
                participant=self.me["participant"], browser_session=self.me["session"])
            return {
                "you": self._public(self.me),
                "peers": [{"id": p.peer_id, "name": p.display_name, "role": p.role, "session": p.browser_session,
                           "channel": p.channel_name} for p in others],
                "chat": [_message(m) for m in room.chat_history(self.consult)],
                "files": [room.file_summary(f) for f in room.shared_files(self.consult)],
                "started_at": self.consult.started_at.isoformat(),
            }, previous

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            return
        if content["type"] != "hello" and not self.joined:
            return  # nothing counts before the browser said hello
        if not self.messages_bucket.take():
            return
        await self.handle_in_language(content, **kwargs)

    async def on_signal(self, content):
        to = content.get("to")
        target = self.peers.get(to) if isinstance(to, str) else None
        data = content.get("data")
        if target is None or not isinstance(data, dict) or len(str(data)) > MAX_SIGNAL_CHARS:
            return
        await self.channel_layer.send(target, {"type": "room.signal", "from": self.me["id"], "data": data})

    async def on_chat(self, content):
        text = content.get("text")
        if not isinstance(text, str):
            return
        if not self.chat_bucket.take():
            raise ValidationError(_("You are sending messages too quickly; wait a moment."))
        message = await database_sync_to_async(room.chat_post)(
            consult=self.consult, peer_id=self.me["id"], sender_name=self.me["name"], text=text)
        await self.channel_layer.group_send(self.group, {"type": "room.chat", "message": _message(message)})

    async def on_media(self, content):
        state = {key: bool(content.get(key)) for key in ("audio", "video", "screen")}
        await self.channel_layer.group_send(self.group, {"type": "room.media", "from": self.me["id"], **state})

    async def on_caption(self, content):
        text = str(content.get("text", ""))[:MAX_CAPTION_CHARS].strip()
        if text:
            await self.channel_layer.group_send(self.group, {
                "type": "room.caption", "from": self.me["id"], "name": self.me["name"], "text": text,
                "final": bool(content.get("final"))})

    async def on_heartbeat(self, content):
        await database_sync_to_async(room.presence_seen)(
            consult=self.consult, peer_id=self.me["id"], channel_name=self.channel_name)

    async def on_bye(self, content):
        """The page is being closed on purpose: the others drop this peer at once."""
        await self._leave(final=True)
        self.joined = False
        await self.close()

    async def disconnect(self, code):
        if self.consult is None:
            return
        await self._leave(final=False)
        await self.channel_layer.group_discard(self.group, self.channel_name)
        self.joined = False

    async def _leave(self, *, final):
        if self.me is None or "session" not in self.me:
            return
        left = await database_sync_to_async(room.presence_leave)(
            consult=self.consult, peer_id=self.me["id"], channel_name=self.channel_name)
        if left:
            await self.channel_layer.group_send(self.group, {
                "type": "room.left", "id": self.me["id"], "final": final, "channel": self.channel_name})

    # --- from the group -------------------------------------------------------------------------

    async def room_joined(self, event):
        if event["channel"] == self.channel_name or not self.joined:
            return
        self.peers[event["peer"]["id"]] = event["channel"]
        await self.send_json({"type": "peer-joined", "peer": event["peer"]})

    async def room_left(self, event):
        if event["channel"] == self.channel_name or self.peers.get(event["id"]) != event["channel"]:
            return  # a stale socket of someone who is already back on a new one
        self.peers.pop(event["id"], None)
        await self.send_json({"type": "peer-left", "id": event["id"], "final": event["final"]})

    async def room_signal(self, event):
        await self.send_json({"type": "signal", "from": event["from"], "data": event["data"]})

    async def room_chat(self, event):
        await self.send_json({"type": "chat", "message": event["message"]})

    async def room_file(self, event):
        await self.send_json({"type": "file", "file": event["file"]})

    async def room_media(self, event):
        if event["from"] != (self.me or {}).get("id"):
            await self.send_json({"type": "media", **{k: v for k, v in event.items() if k != "type"}})

    async def room_caption(self, event):
        if event["from"] != (self.me or {}).get("id"):
            await self.send_json({"type": "caption", **{k: v for k, v in event.items() if k != "type"}})

    async def room_ended(self, event):
        await self.send_json({"type": "ended"})
        await self.close(code=ENDED)

    async def room_replaced(self, event):
        self.me.pop("session", None)  # this socket no longer speaks for the peer: leaving changes nothing
        await self.send_json({"type": "replaced"})
        await self.close(code=REPLACED)

    @staticmethod
    def _public(me):
        return {"id": me["id"], "name": me["name"], "role": me["role"], "session": me.get("session", "")}


def _message(message):
    return {"id": message.pk, "from": message.peer_id, "name": message.sender_name, "text": message.text,
            "at": message.created_at.isoformat()}

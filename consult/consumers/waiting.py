"""WebSockets of the waiting room: the patient's (presence, being called in) and the staff's (live list).

Each consumer decides who may join from the host's organisation and the session, never from anything
in the URL; a socket without a session closes with 4401, one that may not join with 4403.
"""

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from orgs import policy, selectors
from orgs.middleware import SESSION_ORG_KEY, session_binding
from orgs.remote_support import mark_member
from orgs.scoping import organization_scope

from .. import waiting
from ..links import Window
from ..models import AppointmentParticipant, AppointmentStatus
from ..views import SESSION_PARTICIPANT, SESSION_TOKEN, entry_allowed

UNAUTHENTICATED, FORBIDDEN = 4401, 4403


def organization_of(scope):
    headers = dict(scope.get("headers") or [])
    host = headers.get(b"host", b"").decode("latin-1").rsplit(":", 1)[0].lower()
    return selectors.organization_for_host(host)


class RejectingConsumer(AsyncJsonWebsocketConsumer):
    async def reject(self, code):
        await self.accept()
        await self.close(code=code)

    async def dispatch(self, message):
        # Channels' dispatch first hops to the database thread to close stale connections, for every
        # message; our handlers that use the database do so through database_sync_to_async, which does
        # that itself. Skipping the hop keeps group events ("changed") from queueing behind a burst.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None:
            return  # a binary frame: nothing we speak; ignored (raising would kill the socket unrecorded)
        await super().receive(text_data=text_data, **kwargs)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            return  # malformed: ignored, the socket stays up
        handler = getattr(self, f"on_{content['type']}", None)
        if handler is not None:
            await handler(content)

    async def handle_in_language(self, content, **kwargs):
        """Handle a browser message in the socket's language (`self.language`): a service's ValidationError goes
        back to the browser as {"type": "error", "message": …} instead of closing the socket."""
        with translation.override(getattr(self, "language", None)):
            try:
                await RejectingConsumer.receive_json(self, content, **kwargs)
            except ValidationError as error:
                await self.send_json({"type": "error", "message": " ".join(error.messages)})

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None


class PatientWaitingConsumer(RejectingConsumer):
    async def connect(self):
        self.entry = None
        # One trip to the database thread for the whole handshake: a burst of patients arriving at once
        # queues on that one thread per worker (bench/waiting_room.py).
        entered = await self._enter(self.scope.get("session"))
        if entered in (UNAUTHENTICATED, FORBIDDEN):
            return await self.reject(entered)
        self.entry, greeting = entered
        self.groups_joined = [waiting.appointment_group(self.entry.appointment_id),
                              waiting.announcements_group(self.entry.organization_id)]
        try:
            for group in self.groups_joined:
                await self.channel_layer.group_add(group, self.channel_name)
            await self.accept()
            for message in greeting:
                await self.send_json(message)
        except Exception:
            # The browser went away during the handshake (a closed tab): Channels then never calls
            # disconnect(), so the entry would stay "connected" until the presence timeout.
            await self.disconnect(None)
            raise

    @database_sync_to_async
    def _enter(self, session):
        """(entry, the first messages for the page), or the close code."""
        from .. import room

        if session is None or not session.get(SESSION_PARTICIPANT):
            return UNAUTHENTICATED
        organization = organization_of(self.scope)
        if organization is None:
            return FORBIDDEN
        # The same session → participant lookup as the room's pages and socket (one place checks the token).
        participant = room.participant_by_session(organization, session.get(SESSION_PARTICIPANT),
                                                  session.get(SESSION_TOKEN))
        if participant is None:
            return FORBIDDEN
        with organization_scope(organization):
            appointment = participant.appointment
            if appointment.status != AppointmentStatus.SCHEDULED or appointment.anonymised_at:
                return FORBIDDEN
            if Window(appointment, organization).state(timezone.now()) != Window.OPEN:
                return FORBIDDEN
            if not entry_allowed(session, participant, organization):
                return FORBIDDEN  # the disclaimer accepted and the consult paid first (F-ORG-6, F-APPT-6)
            entry = waiting.waiting_enter(participant=participant)
            entry.appointment = appointment
            greeting = [
                {"type": "status", "state": "called" if entry.status == "called" else waiting.arrival_state(entry)},
                {"type": "announcements", "items": waiting.active_announcements(appointment)},
            ]
            if room.consult_for_participant(participant) is not None:
                greeting.append({"type": "called", "room_url": room.patient_room_url()})
            return entry, greeting

    @database_sync_to_async
    def _may_enter_room(self):
        from .. import room

        participant = AppointmentParticipant.objects.with_scopes_disabled().filter(pk=self.entry.participant_id).first()
        return participant is not None and room.consult_for_participant(participant) is not None

    async def _call_in_when_open(self):
        """The consult is open (called in, force start, quick consult): go to the room."""
        if await self._may_enter_room():
            from ..room import patient_room_url

            await self.send_json({"type": "called", "room_url": patient_room_url()})

    async def on_heartbeat(self, content):
        await database_sync_to_async(waiting.waiting_seen)(entry=self.entry)

    async def waiting_called(self, event):
        await self._call_in_when_open()

    async def announcements_changed(self, event):
        # The organisation's group says "changed"; each patient gets only what applies to their appointment.
        items = await database_sync_to_async(waiting.active_announcements)(self.entry.appointment)
        await self.send_json({"type": "announcements", "items": items})

    async def disconnect(self, code):
        if self.entry is not None:
            for group in self.groups_joined:
                await self.channel_layer.group_discard(group, self.channel_name)
            await database_sync_to_async(waiting.waiting_disconnected)(entry=self.entry)


class StaffWaitingConsumer(RejectingConsumer):
    """A practitioner (or admin) watching their waiting room; told when to refresh the list."""

    async def connect(self):
        self.groups_joined = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return await self.reject(UNAUTHENTICATED)
        groups = await self._groups(user)
        if groups is None:
            return await self.reject(FORBIDDEN)
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = groups
        await self.accept()

    @database_sync_to_async
    def _groups(self, user):
        organization = organization_of(self.scope)
        session = self.scope.get("session")
        if organization is None or session is None or session.get(SESSION_ORG_KEY) != session_binding(organization):
            return None
        member = mark_member(selectors.membership_for(user, organization), session)
        if not policy.can_use_portal(member) or policy.must_set_up_two_factor(member):
            return None
        groups = [waiting.practitioner_group(member.pk)] if member.pk else []
        with organization_scope(organization):
            from orgs.models import Department

            departments = policy.visible_departments(member, Department.objects.all()) if member.role == "org_admin" \
                else Department.objects.filter(pk__in=policy.member_department_ids(member))
            groups += [waiting.department_group(pk) for pk in departments.values_list("pk", flat=True)]
        return groups

    async def waiting_changed(self, event):
        await self.send_json({"type": "changed"})

    async def disconnect(self, code):
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

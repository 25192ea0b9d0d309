"""The consultation room (F-ROOM): opening and ending consults, who is in the room, chat and shared files.

Opening a consult is what lets the client in (calling them in, a force start, a quick consult).
Presence lives in the database like the waiting room's, so a consult survives a server restart: the
browsers reconnect and find the same consult, the same peers, the chat so far and the shared files.
Side effects (group messages, deleting files) run after the transaction commits.
"""

from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from orgs import policy
from orgs.scoping import organization_scope, scopes_disabled
from orgs.services import audit_record

from . import waiting
from .models import (
    AppointmentParticipant,
    AppointmentStatus,
    Consult,
    ConsultMessage,
    ConsultPresence,
    ConsultStatus,
    ParticipantRole,
    PeerRole,
    SharedFile,
    WaitingEntry,
    WaitingStatus,
)

CHAT_MAX_CHARS = 4000
# A consult nobody has been in for this long is ended by the cleanup job (a crash, a forgotten tab).
ABANDONED_AFTER = timedelta(hours=2)


def room_group(consult_id):
    return f"room.{consult_id}"


def staff_peer_id(membership):
    return f"m{membership.pk}"


def participant_peer_id(participant):
    return f"p{participant.pk}"


def patient_room_url():
    return reverse("consult:room")


def _send_on_commit(group, message):
    layer = get_channel_layer()
    transaction.on_commit(lambda: async_to_sync(layer.group_send)(group, message))


# --- reading --------------------------------------------------------------------------------------

def open_consult_for(appointment):
    return Consult.objects.with_scopes_disabled().filter(
        appointment_id=appointment.pk, status=ConsultStatus.OPEN).first()


def latest_consult_for(appointment):
    return Consult.objects.with_scopes_disabled().filter(appointment_id=appointment.pk).order_by("-started_at").first()


def _present(consult):
    """Who is in the room now: connected, and heard from recently (a server that died leaves rows behind
    that say "connected" until their browsers come back)."""
    return ConsultPresence.objects.with_scopes_disabled().filter(
        consult=consult, connected=True, last_seen_at__gte=timezone.now() - waiting.PRESENCE_TIMEOUT)


def client_present(consult):
    return _present(consult).filter(role=PeerRole.CLIENT).exists()


def may_enter(consult, participant):
    """Clients enter an open consult; extra participants only while the client is in the room (F-APPT-4)."""
    if consult is None or not consult.is_open:
        return False
    return participant.role == ParticipantRole.CLIENT or client_present(consult)


def peers_in(consult):
    return list(_present(consult))


def chat_history(consult):
    return list(ConsultMessage.objects.with_scopes_disabled().filter(consult=consult))


def shared_files(consult):
    return list(SharedFile.objects.with_scopes_disabled().filter(consult=consult))


def shared_file_for(consult, file_id):
    return SharedFile.objects.with_scopes_disabled().filter(consult=consult, pk=file_id).first()


def consult_for_staff(member, appointment_id):
    """The open consult of an appointment `member` may hold, else None (a foreign id is simply not found)."""
    with organization_scope(member.organization):
        consult = Consult.objects.select_related("appointment").filter(
            appointment_id=appointment_id, status=ConsultStatus.OPEN).first()
    if consult is None or not policy.can_hold_consult(member, consult.appointment):
        return None
    return consult


def consult_for_participant(participant):
    consult = open_consult_for(participant.appointment)
    return consult if may_enter(consult, participant) else None


# --- opening and ending --------------------------------------------------------------------------

def consult_start(*, member, appointment, force=False, request=None):
    """Open the consult of `appointment` (or return the one already open).

    `force`: a start without the client waiting, allowed by the organisation's force-start switch and
    for quick consults (F-WAIT-3, F-APPT-7)."""
    organization = member.organization
    if not policy.can_hold_consult(member, appointment):
        raise PermissionDenied
    if appointment.status != AppointmentStatus.SCHEDULED or appointment.anonymised_at:
        raise ValidationError(_("This appointment is no longer scheduled."))
    if force and not (organization.force_start or appointment.kind == "quick"):
        raise ValidationError(_("Your organisation does not allow starting a consult before the client arrives."))
    existing = open_consult_for(appointment)
    if existing is not None:
        return existing
    try:
        with transaction.atomic(), organization_scope(organization):
            consult = Consult.objects.create(organization=organization, appointment=appointment, started_by=member)
            audit_record(organization=organization, actor=member.user, action="consult.start", target=appointment,
                         request=request)
            # Everyone waiting for this appointment may now come in (extras once the client is there).
            _send_on_commit(waiting.appointment_group(appointment.pk), {"type": "waiting.called"})
            for group in waiting.staff_groups_for(appointment):
                _send_on_commit(group, {"type": "waiting.changed"})
    except IntegrityError:  # two colleagues started it at the same moment: one consult, both in it
        return open_consult_for(appointment)
    return consult


def consult_end(*, member, consult, request=None):
    """End the consult: everyone leaves, shared files are deleted, chat removed when the organisation says so."""
    organization = member.organization
    if not policy.can_hold_consult(member, consult.appointment):
        raise PermissionDenied
    with transaction.atomic(), organization_scope(organization):
        updated = Consult.objects.filter(pk=consult.pk, status=ConsultStatus.OPEN).update(
            status=ConsultStatus.ENDED, ended_at=timezone.now(), ended_by=member)
        if not updated:
            return consult
        _close(consult)
        audit_record(organization=organization, actor=member.user, action="consult.end",
                     target=consult.appointment, request=request)
    consult.refresh_from_db()
    return consult


def _close(consult):
    """What ending means, for a practitioner's "end" and for the cleanup job alike."""
    appointment = consult.appointment
    ConsultPresence.objects.with_scopes_disabled().filter(consult=consult, connected=True).update(
        connected=False, left_at=timezone.now())
    if appointment.status == AppointmentStatus.SCHEDULED:
        type(appointment).objects.with_scopes_disabled().filter(pk=appointment.pk).update(
            status=AppointmentStatus.COMPLETED)
    WaitingEntry.objects.with_scopes_disabled().filter(appointment=appointment).update(status=WaitingStatus.LEFT)
    # The chat's retention (F-CHAT-5): the room's chat moves into the client's channel, or is deleted with it.
    from chat.services import consult_ended

    kept_in = consult_ended(consult=consult)
    # Once copied into the channel, the channel is the one place the lines are kept (its "delete history" then
    # deletes everything); with "delete after the consult" they go too. Only a consult without a client (no
    # channel to keep them in) keeps its room lines.
    if kept_in is not None or consult.organization.delete_chat_after_consult:
        ConsultMessage.objects.with_scopes_disabled().filter(consult=consult).delete()
    files = list(SharedFile.objects.with_scopes_disabled().filter(consult=consult))
    SharedFile.objects.with_scopes_disabled().filter(pk__in=[f.pk for f in files]).delete()
    transaction.on_commit(lambda: _delete_stored([f.file.name for f in files]))
    _send_on_commit(room_group(consult.pk), {"type": "room.ended"})
    for group in waiting.staff_groups_for(appointment):
        _send_on_commit(group, {"type": "waiting.changed"})


def _delete_stored(names):
    from .private_storage import storages_private

    storage = storages_private()
    for name in names:
        storage.delete(name)


def consults_cleanup(*, now=None):
    """The cleanup job: end consults nobody has been in for a while, and delete every shared file that
    outlived its consult (a crash between ending and deleting), including files with no row at all.
    Returns (consults ended, files deleted)."""
    from .private_storage import storages_private

    now = now or timezone.now()
    ended = 0
    with scopes_disabled():
        for consult in Consult.objects.filter(status=ConsultStatus.OPEN).select_related(
                "appointment", "organization"):
            last = max([p.last_seen_at for p in consult.presences.all()] + [consult.started_at])
            if consult.presences.filter(connected=True, last_seen_at__gte=now - ABANDONED_AFTER).exists():
                continue
            if last > now - ABANDONED_AFTER:
                continue
            with transaction.atomic():
                if Consult.objects.filter(pk=consult.pk, status=ConsultStatus.OPEN).update(
                        status=ConsultStatus.ENDED, ended_at=last):
                    _close(consult)
                    ended += 1
        known = set(SharedFile.objects.values_list("file", flat=True))
    storage = storages_private()
    deleted = 0
    for path in _stored_consult_files(storage):
        if path in known:
            continue
        if storage.get_modified_time(path) > now - timedelta(minutes=10):
            continue  # an upload may be between saving the file and its row
        storage.delete(path)
        deleted += 1
    return ended, deleted


def _stored_consult_files(storage, root="consults"):
    if not storage.exists(root):
        return
    directories, files = storage.listdir(root)
    for name in files:
        yield f"{root}/{name}"
    for directory in directories:
        yield from _stored_consult_files(storage, f"{root}/{directory}")


# --- in the room ---------------------------------------------------------------------------------

def presence_enter(*, consult, peer_id, role, display_name, channel_name, membership=None, participant=None,
                   browser_session=""):
    """Someone's socket joined the room. Returns the channel that spoke for them before (another tab, or a
    socket that dropped) so the caller can tell it to stand down."""
    now = timezone.now()
    with transaction.atomic(), organization_scope(consult.organization):
        presence, created = ConsultPresence.objects.select_for_update().get_or_create(
            consult=consult, peer_id=peer_id,
            defaults={"organization": consult.organization, "role": role, "display_name": display_name,
                      "channel_name": channel_name, "membership": membership, "participant": participant,
                      "browser_session": browser_session, "joined_at": now, "last_seen_at": now},
        )
        previous = None
        if not created:
            previous = presence.channel_name if presence.connected and presence.channel_name != channel_name else None
            presence.channel_name = channel_name
            presence.connected = True
            presence.last_seen_at = now
            presence.left_at = None
            presence.display_name = display_name
            presence.browser_session = browser_session
            presence.save(update_fields=["channel_name", "connected", "last_seen_at", "left_at", "display_name",
                                         "browser_session"])
        if role == PeerRole.CLIENT:
            # Extra participants waiting for the client may come in now.
            _send_on_commit(waiting.appointment_group(consult.appointment_id), {"type": "waiting.called"})
    return presence, previous


def presence_leave(*, consult, peer_id, channel_name):
    """A socket closed. Only the socket that currently speaks for the peer can make them leave."""
    return bool(ConsultPresence.objects.with_scopes_disabled().filter(
        consult=consult, peer_id=peer_id, channel_name=channel_name, connected=True,
    ).update(connected=False, left_at=timezone.now()))


def presence_seen(*, consult, peer_id, channel_name):
    ConsultPresence.objects.with_scopes_disabled().filter(
        consult=consult, peer_id=peer_id, channel_name=channel_name).update(last_seen_at=timezone.now())


def chat_post(*, consult, peer_id, sender_name, text):
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("Type a message first."))
    if len(text) > CHAT_MAX_CHARS:
        raise ValidationError(_("A message can be at most %(count)s characters.") % {"count": CHAT_MAX_CHARS})
    with transaction.atomic(), organization_scope(consult.organization):
        # The lock orders this after a concurrent end: a message never outlives a chat deleted at the end.
        if not Consult.objects.select_for_update().filter(pk=consult.pk, status=ConsultStatus.OPEN).exists():
            raise ValidationError(_("This consult has ended."))
        return ConsultMessage.objects.create(organization=consult.organization, consult=consult, peer_id=peer_id,
                                             sender_name=sender_name, text=text)


def file_share(*, consult, peer_id, sender_name, upload):
    """Store a shared file privately for this consult and tell the room (F-ROOM-4)."""
    if not consult.organization.file_sharing:
        raise PermissionDenied
    limit = settings.ROOM_FILE_MAX_BYTES
    if upload is None:
        raise ValidationError(_("Choose a file to share."))
    if upload.size > limit:
        raise ValidationError(_("This file is too large to share; the limit is %(size)s.") % {
            "size": filesizeformat(limit)})
    name = (upload.name or "file").replace("/", "_").replace("\\", "_")[-200:]
    with transaction.atomic(), organization_scope(consult.organization):
        if not Consult.objects.select_for_update().filter(pk=consult.pk, status=ConsultStatus.OPEN).exists():
            raise ValidationError(_("This consult has ended."))
        shared = SharedFile(organization=consult.organization, consult=consult, peer_id=peer_id,
                            sender_name=sender_name, name=name, size=upload.size)
        shared.file.save(name, upload, save=False)
        try:
            shared.save()
        except Exception:
            shared.file.delete(save=False)
            raise
        _send_on_commit(room_group(consult.pk), {"type": "room.file", "file": file_summary(shared)})
    return shared


def file_summary(shared):
    return {"id": shared.pk, "name": shared.name, "size": shared.size, "from": shared.peer_id,
            "sender": shared.sender_name}


def participant_add(*, member, consult, first_name, last_name, email, request=None):
    """Add an extra participant during the consult (F-ROOM-7): an external person with their own link,
    emailed to them when an address is given. Returns (participant, link)."""
    from .emails import deliver
    from .models import EmailKind
    from .services import _add_participant, client_create, participant_link

    if not policy.can_hold_consult(member, consult.appointment):
        raise PermissionDenied
    if not consult.is_open:
        raise ValidationError(_("This consult has ended."))
    with transaction.atomic():
        person = client_create(member=member, is_external=True, request=request, first_name=first_name,
                               initials=(first_name[:1] + ".") if first_name else "", last_name=last_name,
                               email=email, department=consult.appointment.department,
                               language=getattr(request, "LANGUAGE_CODE", None) or member.organization.default_language)
        with organization_scope(member.organization):
            participant = _add_participant(consult.appointment, person, ParticipantRole.GUEST)
        audit_record(organization=member.organization, actor=member.user, action="consult.participant_add",
                     target=consult.appointment, request=request)
        if email and not member.organization.do_not_send_emails:
            transaction.on_commit(lambda: deliver(appointment=consult.appointment, participant=participant,
                                                  kind=EmailKind.INVITATION))
    return participant, participant_link(participant)


def participant_by_session(organization, participant_id, token_hash):
    """The appointment participant a patient's session speaks for, or None."""
    if not participant_id:
        return None
    with organization_scope(organization):
        participant = AppointmentParticipant.objects.select_related(
            "appointment__organization", "appointment__practitioner__user", "appointment__department", "person",
        ).filter(pk=participant_id).first()
    if participant is None or participant.token_hash != token_hash:
        return None
    return participant

"""Writes of the continuous chat (F-CHAT): channels, messages, reading, access, retention, notifications.

Every function checks the policy (orgs/policy.py) and validates before it writes, runs in one transaction,
and tells live sockets after the commit. Events on the channel layer never carry message text: consumers
re-read the message and re-check who may see it.

Posting, deleting a history, ending a consult and revoking access all lock the channel row first, so they
happen one after another: a message racing with a deletion or revocation is either deleted with it or
refused, never left behind.
"""

import logging
import secrets

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from orgs import policy
from orgs.scoping import organization_scope
from orgs.services import audit_record

from .models import Author, Channel, ChannelKind, ChannelMember, Message, ReadMarker
from .sealing import open_text, seal_text
from .widget_access import visitor_token_hash

logger = logging.getLogger(__name__)

MESSAGE_MAX_CHARS = 4000
VISITOR_NAME_MAX_CHARS = 120


# --- live events (after the commit, without text) ----------------------------------------------------

def channel_group(channel_id):
    return f"chat-channel-{channel_id}"


def organization_group(organization_id):
    return f"chat-org-{organization_id}"


def _send_on_commit(group, event):
    layer = get_channel_layer()
    if layer is not None:
        transaction.on_commit(lambda: async_to_sync(layer.group_send)(group, event))


def _changed_on_commit(channel):
    """Unread counts and lists of the organisation's staff may have changed."""
    _send_on_commit(organization_group(channel.organization_id), {"type": "chat.changed", "channel_id": channel.pk})


def _access_on_commit(channel):
    """Open client sockets re-check their access (and close when it is gone)."""
    _send_on_commit(channel_group(channel.pk), {"type": "chat.access", "channel_id": channel.pk})


def _locked(channel):
    """The channel row, locked until the transaction ends, as stored now."""
    return (Channel.objects.with_scopes_disabled().select_for_update(of=("self",))
            .select_related("organization", "client__organization", "practitioner__user", "department")
            .get(pk=channel.pk))


# --- what a client or visitor may do ----------------------------------------------------------------

def client_may_post(channel):
    """(allowed, reason): may the channel's client (or a public channel's visitor) write now? The reason is
    what the client is told when not."""
    if channel.kind == ChannelKind.PUBLIC:
        if not channel.organization.public_chat_widget:
            return False, _("This chat is no longer available. Please contact us another way.")
        if channel.closed_at is not None:
            return False, _("This conversation has been closed. Please start a new one if you have a question.")
        return True, ""
    if not channel.client_access:
        # The same words live (the socket's access event) and on reload (the page): plainly who stopped it, and
        # how to reach them instead.
        phone = channel.organization.contact_phone
        if phone:
            return False, _("Your practice has stopped chat for you. Call them at %(phone)s if you have a "
                            "question.") % {"phone": phone}
        return False, _("Your practice has stopped chat for you. Call them if you have a question.")
    if channel.closed_at is not None:
        return False, _("This chat closed when your consult ended. It opens again with your next appointment; "
                        "until then, please contact the practice another way if you have a question.")
    return True, ""


# --- channels ---------------------------------------------------------------------------------------

def _channel_for_pair(appointment):
    channels = Channel.objects.with_scopes_disabled().filter(
        organization_id=appointment.organization_id, kind=ChannelKind.CLIENT, client_id=appointment.client_id)
    if appointment.practitioner_id:
        return channels.filter(practitioner_id=appointment.practitioner_id)
    return channels.filter(practitioner__isnull=True, department_id=appointment.department_id)


def channel_ensure_for_appointment(*, appointment):
    """The channel of the appointment's client with its practitioner (or, for an appointment with a department,
    with that department); made when missing, opened again when retention had closed it. None without a client.

    Called where appointments are made (consult.services.book), inside their transaction."""
    if appointment.client_id is None or (appointment.practitioner_id is None and appointment.department_id is None):
        return None
    client = appointment.client
    with transaction.atomic():
        channel = _channel_for_pair(appointment).select_for_update().first()
        if channel is None:
            try:
                with transaction.atomic():  # a savepoint: a concurrent booking may make the same channel
                    channel = Channel.objects.with_scopes_disabled().create(
                        organization_id=appointment.organization_id, kind=ChannelKind.CLIENT, client=client,
                        practitioner_id=appointment.practitioner_id,
                        department_id=appointment.department_id or client.department_id,
                    )
            except IntegrityError:
                channel = _channel_for_pair(appointment).select_for_update().get()
            # No event: an empty channel changes nobody's unread count (lists show it when next loaded).
        elif channel.closed_at is not None:
            channel.closed_at = None
            channel.save(update_fields=["closed_at"])
            _access_on_commit(channel)
            _changed_on_commit(channel)
    return channel


def channel_create(*, member, client, practitioner, request=None):
    """A channel made by hand ("create chat channel with …"). ValidationError when not allowed or when the
    pair has one already."""
    if not policy.can_create_channel(member, client, practitioner):
        raise ValidationError(_("You cannot start a chat between this client and this practitioner."))
    organization = member.organization
    try:
        with transaction.atomic(), organization_scope(organization):
            channel = Channel.objects.create(
                organization=organization, kind=ChannelKind.CLIENT, client=client, practitioner=practitioner,
                department_id=client.department_id, created_by=member)
            audit_record(organization=organization, actor=member.user, action="chat.channel_create",
                         target=channel, subject=client.display_name, request=request)
            _changed_on_commit(channel)
    except IntegrityError:
        raise ValidationError(_("%(client)s and %(practitioner)s already have a chat.") % {
            "client": client.display_name, "practitioner": practitioner})
    return channel


def channel_join(*, member, channel, request=None):
    if not policy.can_join_channel(member, channel):
        raise PermissionDenied
    try:
        with transaction.atomic(), organization_scope(member.organization):
            ChannelMember.objects.create(organization=member.organization, channel=channel, member=member)
            audit_record(organization=member.organization, actor=member.user, action="chat.channel_join",
                         target=channel, subject=channel.client.display_name, request=request)
            _changed_on_commit(channel)
    except IntegrityError:
        pass  # joined twice at once (two tabs): joined once
    return channel


# --- messages ---------------------------------------------------------------------------------------

def clean_text(text):
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("Type a message first."))
    if len(text) > MESSAGE_MAX_CHARS:
        raise ValidationError(_("A message can be at most %(count)s characters.") % {"count": MESSAGE_MAX_CHARS})
    return text


def _staff_name(member):
    return member.user.get_full_name() or member.user.email


def _mark_read(channel, member, read_at):
    ReadMarker.objects.with_scopes_disabled().update_or_create(
        channel_id=channel.pk, member_id=member.pk,
        defaults={"organization_id": channel.organization_id, "read_at": read_at})


def message_post(*, channel, text, member=None, client=None, visitor=False, appointment=None):
    """Post a message by exactly one author: an employee (`member`), the channel's `client`, or the public
    channel's visitor. Raises ValidationError (nothing written) for an empty or too long text, or when the
    author may not write here now."""
    if sum((member is not None, client is not None, bool(visitor))) != 1:
        raise TypeError("message_post needs exactly one author: member, client or visitor")
    text = clean_text(text)
    with transaction.atomic():
        # The lock orders this post after a concurrent deletion, consult end or revocation (see the module).
        locked = _locked(channel)
        if member is not None:
            if not policy.can_post_in_channel(member, locked):
                raise ValidationError(_("You cannot send messages in this chat."))
            author, sender_name = Author.STAFF, _staff_name(member)
        elif client is not None:
            if locked.kind != ChannelKind.CLIENT or client.pk != locked.client_id:
                raise ValidationError(_("You cannot send messages in this chat."))
            allowed, reason = client_may_post(locked)
            if not allowed:
                raise ValidationError(reason)
            author, sender_name = Author.CLIENT, client.display_name
        else:
            if locked.kind != ChannelKind.PUBLIC:
                raise ValidationError(_("You cannot send messages in this chat."))
            allowed, reason = client_may_post(locked)
            if not allowed:
                raise ValidationError(reason)
            author, sender_name = Author.VISITOR, locked.visitor_name or _("Visitor")
        now = timezone.now()
        message = Message(organization_id=locked.organization_id, channel=locked, author=author, sender=member,
                          sender_name=sender_name[:200], appointment=appointment, created_at=now)
        seal_text(message, text)
        message.save()
        locked.last_message_at = now
        fields = ["last_message_at"]
        if member is not None:
            _mark_read(locked, member, now)
        else:
            locked.client_read_at = now
            fields.append("client_read_at")
        locked.save(update_fields=fields)
        _send_on_commit(channel_group(locked.pk), {"type": "chat.message", "message_id": message.pk})
        _changed_on_commit(locked)
    channel.last_message_at = locked.last_message_at
    return message


def channel_mark_read(*, channel, member):
    """The member has read the channel up to now (their unread count drops)."""
    if not policy.can_view_channel(member, channel):
        raise PermissionDenied
    now = timezone.now()
    marker = ReadMarker.objects.with_scopes_disabled().filter(channel_id=channel.pk, member_id=member.pk).first()
    had_unread = Message.objects.with_scopes_disabled().filter(
        channel_id=channel.pk, author__in=(Author.CLIENT, Author.VISITOR),
        **({"created_at__gt": marker.read_at} if marker else {})).exists()
    with transaction.atomic():
        _mark_read(channel, member, now)
        if had_unread:  # the badge of the member's other tabs; nothing to tell when nothing was unread
            _changed_on_commit(channel)


def channel_mark_read_by_client(*, channel):
    """The client (or visitor) has read the channel up to now: no unread-message email for what they saw."""
    Channel.objects.with_scopes_disabled().filter(pk=channel.pk).update(client_read_at=timezone.now())


# --- access and history -----------------------------------------------------------------------------

def chat_access_set(*, member, channel, allowed, request=None):
    """Grant or revoke the client's chat access (F-CHAT-3). A revoked client reads nothing sent after the
    revocation and cannot write; a grant also opens a channel retention had closed."""
    if not policy.can_manage_chat_access(member, channel):
        raise PermissionDenied
    with transaction.atomic():
        locked = _locked(channel)
        if allowed:
            changed = not locked.client_access or locked.closed_at is not None
            locked.client_access, locked.access_revoked_at, locked.closed_at = True, None, None
        else:
            changed = locked.client_access
            locked.client_access = False
            locked.access_revoked_at = locked.access_revoked_at or timezone.now()
        if not changed:
            return locked
        locked.access_changed_by = member
        locked.save(update_fields=["client_access", "access_revoked_at", "closed_at", "access_changed_by"])
        audit_record(organization=member.organization, actor=member.user,
                     action="chat.access_grant" if allowed else "chat.access_revoke", target=locked,
                     subject=locked.client.display_name, request=request)
        _access_on_commit(locked)
        _changed_on_commit(locked)
    return locked


def history_delete(*, member, channel, request=None):
    """Delete every message of the channel (F-CHAT-5), for good. Audited with the number deleted."""
    if not policy.can_delete_chat_history(member, channel):
        raise PermissionDenied
    with transaction.atomic():
        locked = _locked(channel)
        count, _by_model = Message.objects.with_scopes_disabled().filter(channel_id=locked.pk).delete()
        locked.last_message_at = None
        locked.save(update_fields=["last_message_at"])
        audit_record(organization=member.organization, actor=member.user, action="chat.history_delete",
                     target=locked, changes={"count": [None, count]},
                     subject=locked.client.display_name if locked.client_id else locked.visitor_name,
                     request=request)
        _access_on_commit(locked)  # open panels re-read what is left
        _changed_on_commit(locked)
    return count


# --- retention when a consult ends (F-CHAT-5) --------------------------------------------------------

def _room_author(consult, message):
    """(author, sender membership) of a consultation-room chat line: staff peers are "m<membership id>";
    the client and extra participants write as the client's side."""
    from consult.models import ConsultPresence, PeerRole

    if message.peer_id.startswith("m"):
        presence = ConsultPresence.objects.with_scopes_disabled().filter(
            consult_id=consult.pk, peer_id=message.peer_id, role=PeerRole.STAFF).select_related("membership").first()
        return Author.STAFF, presence.membership if presence is not None else None
    return Author.CLIENT, None


def _pair_has_later_appointment(appointment):
    """Does the appointment's pair (its client with the same practitioner, or with the same department for a
    department channel) have another appointment still to come? The client may already be looking at it."""
    from consult.models import Appointment, AppointmentStatus

    later = Appointment.objects.with_scopes_disabled().filter(
        organization_id=appointment.organization_id, client_id=appointment.client_id,
        status=AppointmentStatus.SCHEDULED, starts_at__gt=appointment.starts_at,
    ).exclude(pk=appointment.pk)
    if appointment.practitioner_id:
        later = later.filter(practitioner_id=appointment.practitioner_id)
    else:
        later = later.filter(practitioner__isnull=True, department_id=appointment.department_id)
    return later.exists()


def consult_ended(*, consult):
    """Apply the organisation's chat retention when a consult ends (called in consult/room.py's transaction):
    - "delete the chat after the consult": the channel's messages are deleted and the channel closes;
    - otherwise the room's chat is kept in the channel (its lines, marked with the appointment);
    - "chat stays open after the consult" off: the channel closes for the client until the next appointment.
    The channel does not close while the pair has a later appointment booked (the client would read "closed
    until your next appointment" while looking at it): the end of that appointment's consult closes it."""
    from consult.models import ConsultMessage, ConsultPresence, PeerRole

    appointment = consult.appointment
    organization = consult.organization
    if appointment.client_id is None:
        return None
    with transaction.atomic():
        channel = _channel_for_pair(appointment).first()
        if channel is None and organization.delete_chat_after_consult:
            return None
        if channel is None:
            channel = channel_ensure_for_appointment(appointment=appointment)
            if channel is None:
                return None
        channel = _locked(channel)
        fields = []
        if organization.delete_chat_after_consult:
            Message.objects.with_scopes_disabled().filter(channel_id=channel.pk).delete()
            channel.last_message_at = None
            fields.append("last_message_at")
        else:
            lines = list(ConsultMessage.objects.with_scopes_disabled().filter(consult_id=consult.pk)
                         .order_by("created_at", "pk"))
            for line in lines:
                author, sender = _room_author(consult, line)
                message = Message(organization_id=organization.pk, channel=channel, author=author, sender=sender,
                                  sender_name=line.sender_name, appointment=appointment, created_at=line.created_at)
                seal_text(message, line.text)
                message.save()
            if lines:
                newest = lines[-1].created_at
                channel.last_message_at = max(filter(None, (channel.last_message_at, newest)))
                # Everyone in the room saw these lines: they are not unread, and the client gets no email for them.
                if channel.client_read_at is None or channel.client_read_at < newest:
                    channel.client_read_at = newest
                    fields.append("client_read_at")
                staff = (ConsultPresence.objects.with_scopes_disabled()
                         .filter(consult_id=consult.pk, role=PeerRole.STAFF, membership__isnull=False)
                         .values_list("membership_id", flat=True).distinct())
                for membership_id in staff:
                    marker = ReadMarker.objects.with_scopes_disabled().filter(
                        channel_id=channel.pk, member_id=membership_id).first()
                    if marker is None or marker.read_at < newest:
                        ReadMarker.objects.with_scopes_disabled().update_or_create(
                            channel_id=channel.pk, member_id=membership_id,
                            defaults={"organization_id": organization.pk, "read_at": newest})
                fields.append("last_message_at")
        if ((organization.delete_chat_after_consult or not organization.chat_open_after_consult)
                and not _pair_has_later_appointment(appointment)):
            channel.closed_at = timezone.now()
            fields.append("closed_at")
        if fields:
            channel.save(update_fields=fields)
        _access_on_commit(channel)
        _changed_on_commit(channel)
    return channel


# --- the public chat widget (F-CHAT-6) --------------------------------------------------------------

def public_conversation_start(*, organization, name, email, text, language):
    """A visitor of the organisation's site starts a conversation. Returns (channel, token): the token is the
    visitor's key to this conversation (their browser keeps it; only its hash is stored)."""
    if not organization.public_chat_widget:
        raise ValidationError(_("This chat is not available."))
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Tell us your name.")})
    if len(name) > VISITOR_NAME_MAX_CHARS:
        raise ValidationError({"name": _("A name can be at most %(count)s characters.") % {
            "count": VISITOR_NAME_MAX_CHARS}})
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"email": _("Enter a valid email address, or leave it empty.")})
    clean_text(text)
    token = secrets.token_urlsafe(32)
    with transaction.atomic(), organization_scope(organization):
        channel = Channel.objects.create(
            organization=organization, kind=ChannelKind.PUBLIC, visitor_name=name, visitor_email=email,
            visitor_token_hash=visitor_token_hash(token), visitor_language=(language or "")[:8])
        channel.organization = organization
        message_post(channel=channel, text=text, visitor=True)
    return channel, token


# --- unread-message emails (F-CHAT, the 5-minute schedule) ------------------------------------------

def _waiting_channels(organization, now):
    """Channels of `organization` whose newest staff message has waited unread long enough, and was not
    emailed about yet."""
    from datetime import timedelta

    newest_staff = (Message.objects.with_scopes_disabled().filter(channel_id=OuterRef("pk"), author=Author.STAFF)
                    .order_by().values("channel_id").annotate(newest=Max("created_at")).values("newest"))
    due = now - timedelta(minutes=organization.chat_unread_email_minutes)
    return (Channel.objects.with_scopes_disabled()
            .filter(organization=organization, last_message_at__isnull=False)
            .filter(Q(kind=ChannelKind.CLIENT, client_access=True, client__is_external=False)
                    | Q(kind=ChannelKind.PUBLIC, organization__public_chat_widget=True) & ~Q(visitor_email=""))
            .annotate(newest_staff=Subquery(newest_staff))
            .filter(newest_staff__lte=due)
            .filter(Q(client_read_at__isnull=True) | Q(client_read_at__lt=F("newest_staff")))
            .filter(Q(client_notified_at__isnull=True) | Q(client_notified_at__lt=F("newest_staff")))
            .select_related("client__organization", "organization"))


def unread_notifications_send(*, now=None):
    """Email clients (and visitors who left an address) about staff messages waiting unread longer than
    their organisation's `chat_unread_email_minutes`. Never the text; nothing when the organisation sends no
    emails. Each waiting message is emailed about once: the channel is claimed (client_notified_at) by a
    guarded update before the email goes out, so two runs never both send. Returns the number sent."""
    from orgs.models import Organization

    from . import emails

    now = now or timezone.now()
    sent = 0
    organizations = Organization.objects.filter(is_active=True, do_not_send_emails=False,
                                                chat_unread_email_minutes__gt=0)
    for organization in organizations:
        with organization_scope(organization):
            for channel in _waiting_channels(organization, now):
                claimed = Channel.objects.with_scopes_disabled().filter(
                    pk=channel.pk, client_notified_at=channel.client_notified_at,
                ).update(client_notified_at=channel.newest_staff)
                if not claimed:
                    continue  # another run took it
                try:
                    if emails.unread_email_send(channel=channel):
                        sent += 1
                except Exception:  # noqa: BLE001 - a failed send is recorded and returns False; this keeps an
                    # unexpected error (building the email) for one channel from stopping the others
                    logger.exception("Unread-chat email for chat channel %s failed", channel.pk)
    return sent


# --- key rotation ------------------------------------------------------------------------------------

def messages_reseal(*, batch=500):
    """Seal every message not yet under the newest key (QUESTIONNAIRE_KEYS) again with it, so an old key can
    be dropped after a rotation (formbuilder's rotate_questionnaire_keys does the same for answers). Each
    message is re-sealed in a short transaction with its channel locked (a deletion waits, or went first).
    Returns the number re-sealed."""
    from formbuilder import crypto

    newest = crypto.newest_key_id().encode()
    prefix = crypto.PREFIX + newest + b":"
    done = 0
    last_id = 0
    while True:
        rows = list(Message.objects.with_scopes_disabled().filter(pk__gt=last_id).order_by("pk")
                    .values_list("pk", "channel_id", "sealed_text")[:batch])
        if not rows:
            return done
        last_id = rows[-1][0]
        for pk, channel_id, sealed in rows:
            if bytes(sealed).startswith(prefix):
                continue
            with transaction.atomic():
                Channel.objects.with_scopes_disabled().select_for_update().filter(pk=channel_id).exists()
                message = Message.objects.with_scopes_disabled().filter(pk=pk).first()
                if message is None:
                    continue
                seal_text(message, open_text(message))
                message.save(update_fields=["sealed_text"])
                done += 1


def messages_by_key():
    """{key id: number of messages sealed under it} (for the rotation's status)."""
    from formbuilder import crypto

    counts = {}
    for sealed in Message.objects.with_scopes_disabled().values_list("sealed_text", flat=True).iterator():
        key_id = crypto.key_id_of(sealed)
        counts[key_id] = counts.get(key_id, 0) + 1
    return counts


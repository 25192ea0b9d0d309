"""Clients, availability, appointments, their personal links, email texts and deliveries.

Every row belongs to an organisation and is read through a scoped manager. Times are stored in UTC;
availability is stored in the organisation's local time (with an RRULE) so that "every Monday 9:00"
stays 9:00 across daylight-saving changes.
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orgs.models import OrganizationOwned

from .private_storage import storages_private
from .slots import validate_rrule


class ParticipantGroup(OrganizationOwned):
    """Groups of external participants the organisation defines, e.g. "Family" or "Home care"."""

    name = models.CharField(_("name"), max_length=80)

    class Meta:
        verbose_name = _("participant group")
        verbose_name_plural = _("participant groups")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="participant_group_unique_name")]

    def __str__(self):
        return self.name


class Client(OrganizationOwned):
    """A client (patient), or an external participant (family, home care) when `is_external`."""

    is_external = models.BooleanField(_("external participant"), default=False)
    initials = models.CharField(_("initials"), max_length=20)
    first_name = models.CharField(_("first name"), max_length=80, blank=True)
    last_name = models.CharField(_("last name"), max_length=120)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True,
                                     help_text=_("Used to check who is joining."))
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    client_number = models.CharField(
        _("client number"), max_length=60, blank=True,
        help_text=_("The number in your own record system."),
    )
    department = models.ForeignKey(
        "orgs.Department", verbose_name=_("department"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="clients",
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="nl",
                                help_text=_("Emails and screens for this person use this language."))
    groups = models.ManyToManyField(ParticipantGroup, verbose_name=_("groups"), blank=True, related_name="members")
    practitioners = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+",
        help_text=_("Practitioners this client has (had) appointments with; “own clients” for strict segregation."),
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["last_name", "initials"]
        indexes = [
            models.Index(fields=["organization", "last_name"]),
            models.Index(fields=["organization", "email"]),
            models.Index(fields=["organization", "client_number"]),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self):
        given = self.first_name or self.initials
        return f"{given} {self.last_name}".strip()


class AvailabilityKind(models.TextChoices):
    WALK_IN = "walk_in", _("Walk-in hours")
    BOOKING = "booking", _("Bookable appointments")


class Availability(OrganizationOwned):
    """A block in a practitioner's agenda, once or recurring (RFC 5545 RRULE), in local time."""

    practitioner = models.ForeignKey("orgs.Membership", on_delete=models.CASCADE, related_name="availabilities")
    kind = models.CharField(_("kind of hours"), max_length=10, choices=AvailabilityKind.choices,
                            default=AvailabilityKind.BOOKING)
    date = models.DateField(_("date"), help_text=_("The first day."))
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"))
    rrule = models.CharField(
        _("repeats"), max_length=200, blank=True, validators=[validate_rrule],
        help_text=_("Empty for once; otherwise an RFC 5545 rule such as FREQ=WEEKLY;BYDAY=MO."),
    )
    repeat_until = models.DateField(_("repeat until"), null=True, blank=True)
    exceptions = models.JSONField(
        _("skipped days"), default=list, blank=True, help_text=_("Dates (YYYY-MM-DD) on which a repeat is skipped."),
    )
    consult_minutes = models.PositiveIntegerField(
        _("consult duration (minutes)"), default=20, validators=[MinValueValidator(5), MaxValueValidator(240)],
    )
    break_minutes = models.PositiveIntegerField(
        _("break after each consult (minutes)"), default=0, validators=[MaxValueValidator(120)],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("availability")
        verbose_name_plural = _("availability")
        ordering = ["date", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")), name="availability_ends_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.date} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")
    COMPLETED = "completed", _("Held")


class AppointmentKind(models.TextChoices):
    APPOINTMENT = "appointment", _("Appointment")
    QUICK = "quick", _("Quick consult")
    WALK_IN = "walk_in", _("Walk-in")


class Appointment(OrganizationOwned):
    practitioner = models.ForeignKey(
        "orgs.Membership", verbose_name=_("practitioner"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="appointments",
    )
    department = models.ForeignKey(
        "orgs.Department", verbose_name=_("department"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="appointments",
    )
    client = models.ForeignKey(Client, verbose_name=_("client"), null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="appointments")
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), default=20,
                                                   validators=[MinValueValidator(5), MaxValueValidator(480)])
    kind = models.CharField(max_length=12, choices=AppointmentKind.choices, default=AppointmentKind.APPOINTMENT)
    status = models.CharField(max_length=10, choices=AppointmentStatus.choices, default=AppointmentStatus.SCHEDULED)
    client_number = models.CharField(_("client number"), max_length=60, blank=True)
    personal_message = models.TextField(_("personal message"), blank=True,
                                        help_text=_("Added to the email to the client."))
    # iCalendar: one UID for the life of the appointment, SEQUENCE goes up with every change.
    ical_uid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    ical_sequence = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        ordering = ["starts_at"]
        constraints = [
            # A slot is never booked twice: the database refuses it even when two requests race.
            models.UniqueConstraint(
                fields=["practitioner", "starts_at"], condition=Q(status="scheduled"),
                name="appointment_one_per_practitioner_start",
            ),
            models.CheckConstraint(
                condition=Q(practitioner__isnull=False) | Q(department__isnull=False),
                name="appointment_has_practitioner_or_department",
            ),
        ]

    def __str__(self):
        return f"{self.starts_at:%Y-%m-%d %H:%M} {self.client or ''}".strip()

    @property
    def ends_at(self):
        from datetime import timedelta

        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_cancelled(self):
        return self.status == AppointmentStatus.CANCELLED


class ParticipantRole(models.TextChoices):
    CLIENT = "client", _("Client")
    GUEST = "guest", _("Extra participant")


class AppointmentParticipant(OrganizationOwned):
    """Someone invited to an appointment, with their personal link (only its hash is stored)."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="participants")
    person = models.ForeignKey(Client, null=True, blank=True, on_delete=models.SET_NULL, related_name="participations")
    role = models.CharField(max_length=10, choices=ParticipantRole.choices, default=ParticipantRole.CLIENT)
    # The link's token is HMAC(SECRET_KEY, nonce): the database alone cannot rebuild it, the server can
    # (reminders carry the same link as the confirmation). Lookups go by the token's SHA-256.
    token_nonce = models.CharField(max_length=32)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["role", "id"]

    def __str__(self):
        return f"{self.get_role_display()}: {self.person or '—'}"


class RetiredLink(OrganizationOwned):
    """A link that no longer works (the appointment moved): its visitor is told to use the newer email."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="retired_links")
    token_hash = models.CharField(max_length=64, unique=True)
    retired_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"retired link of {self.appointment_id}"


class WaitingStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    CALLED = "called", _("Called in")
    LEFT = "left", _("Left")


class WaitingEntry(OrganizationOwned):
    """Someone in a waiting room. Presence lives here (channel groups cannot list their members); the
    patient's socket keeps `last_seen_at` fresh, and reopening the tab finds the same entry, so the place
    in the queue is kept."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="waiting_entries")
    participant = models.OneToOneField(AppointmentParticipant, on_delete=models.CASCADE, related_name="waiting")
    status = models.CharField(max_length=10, choices=WaitingStatus.choices, default=WaitingStatus.WAITING)
    entered_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    connected = models.BooleanField(default=True)
    called_at = models.DateTimeField(null=True, blank=True)
    called_by = models.ForeignKey("orgs.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")

    class Meta:
        ordering = ["entered_at"]
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self):
        return f"{self.participant} ({self.status})"


class Announcement(OrganizationOwned):
    """A service announcement shown live to everyone waiting (F-WAIT-4): organisation-wide or one department."""

    department = models.ForeignKey("orgs.Department", verbose_name=_("department"), null=True, blank=True,
                                   on_delete=models.CASCADE, related_name="announcements",
                                   help_text=_("Empty: everyone waiting in the organisation."))
    text = models.CharField(_("announcement"), max_length=500)
    expires_at = models.DateTimeField(_("show until"), null=True, blank=True,
                                      help_text=_("Empty: until it is deleted."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        ordering = ["-created_at"]

    def __str__(self):
        return self.text[:60]


class EmailKind(models.TextChoices):
    CONFIRMATION = "confirmation", _("Confirmation")
    REMINDER = "reminder", _("Reminder")
    RESCHEDULE = "reschedule", _("Changed appointment")
    CANCELLATION = "cancellation", _("Cancellation")
    INVITATION = "invitation", _("Invitation of extra participants")
    QUESTIONNAIRE = "questionnaire", _("Questionnaire request")
    RECEIPT = "receipt", _("Payment receipt")  # fixed text (payments/receipts.py), not an editable template
    CHAT_UNREAD = "chat_unread", _("New chat message")  # fixed text (chat/emails.py), no appointment


# Emails with a fixed text, written by code, not by the organisation: receipts carry the figures the law asks for
# (payments/receipts.py), chat notifications never the message (chat/emails.py). No editable template exists.
FIXED_TEXT_KINDS = (EmailKind.RECEIPT, EmailKind.CHAT_UNREAD)

class EmailSet(OrganizationOwned):
    """The texts of appointment emails; each department uses one set (or the organisation's default)."""

    name = models.CharField(_("name"), max_length=100)
    is_default = models.BooleanField(_("default set"), default=False,
                                     help_text=_("Used by departments that have no set of their own."))
    departments = models.ManyToManyField("orgs.Department", verbose_name=_("departments"), blank=True,
                                         related_name="email_sets",
                                         help_text=_("Departments whose appointments use these texts."))

    class Meta:
        verbose_name = _("email set")
        verbose_name_plural = _("email sets")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"], condition=Q(is_default=True), name="one_default_email_set"
            ),
        ]

    def __str__(self):
        return self.name


class EmailTemplate(OrganizationOwned):
    email_set = models.ForeignKey(EmailSet, on_delete=models.CASCADE, related_name="templates")
    kind = models.CharField(_("email"), max_length=20, choices=EmailKind.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))

    class Meta:
        verbose_name = _("email text")
        verbose_name_plural = _("email texts")
        ordering = ["kind", "language"]
        constraints = [
            models.UniqueConstraint(fields=["email_set", "kind", "language"], name="email_template_unique"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.language})"


class DeliveryStatus(models.TextChoices):
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    BOUNCED = "bounced", _("Bounced")


class EmailDelivery(OrganizationOwned):
    """One email to one participant. `once_key` makes reminders unique per participant."""

    appointment = models.ForeignKey(Appointment, null=True, on_delete=models.SET_NULL, related_name="deliveries")
    participant = models.ForeignKey(AppointmentParticipant, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=20, choices=EmailKind.choices)
    to = models.EmailField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.SENDING)
    error = models.TextField(blank=True)
    once_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.kind} → {self.to} ({self.status})"


# --- the consultation room (F-ROOM) --------------------------------------------------------------

class ConsultStatus(models.TextChoices):
    OPEN = "open", _("In progress")
    ENDED = "ended", _("Ended")


class Consult(OrganizationOwned):
    """One consultation held in the room: when it started and ended (for usage reports) and who took part.

    Opening a consult is what lets the client in: calling them in from the waiting room, a force start,
    or a quick consult. At most one consult per appointment is open at a time."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="consults")
    status = models.CharField(max_length=10, choices=ConsultStatus.choices, default=ConsultStatus.OPEN)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    started_by = models.ForeignKey("orgs.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    ended_by = models.ForeignKey("orgs.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")

    class Meta:
        verbose_name = _("consult")
        verbose_name_plural = _("consults")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["appointment"], condition=Q(status="open"),
                                    name="consult_one_open_per_appointment"),
            models.CheckConstraint(condition=Q(status="open") | Q(ended_at__isnull=False),
                                   name="consult_ended_has_end"),
        ]

    def __str__(self):
        return f"consult {self.pk} of appointment {self.appointment_id}"

    @property
    def duration(self):
        return (self.ended_at or timezone.now()) - self.started_at

    @property
    def duration_minutes(self):
        return int(self.duration.total_seconds() // 60)

    @property
    def is_open(self):
        return self.status == ConsultStatus.OPEN


class PeerRole(models.TextChoices):
    STAFF = "staff", _("Practitioner")
    CLIENT = "client", _("Client")
    GUEST = "guest", _("Extra participant")


class ConsultPresence(OrganizationOwned):
    """Someone in the room. `peer_id` is stable per person ("m12", "p34"), so a reconnecting browser comes
    back as the same peer; `channel_name` is the socket that currently speaks for them."""

    consult = models.ForeignKey(Consult, on_delete=models.CASCADE, related_name="presences")
    peer_id = models.CharField(max_length=20)
    role = models.CharField(max_length=10, choices=PeerRole.choices)
    membership = models.ForeignKey("orgs.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    participant = models.ForeignKey(AppointmentParticipant, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    display_name = models.CharField(max_length=200)
    channel_name = models.CharField(max_length=200, blank=True)
    # Random per page load: a peer that comes back with the same one still has its media connections.
    browser_session = models.CharField(max_length=64, blank=True)
    connected = models.BooleanField(default=True)
    joined_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at"]
        constraints = [models.UniqueConstraint(fields=["consult", "peer_id"], name="presence_one_per_peer")]

    def __str__(self):
        return f"{self.display_name} in consult {self.consult_id}"


class ConsultMessage(OrganizationOwned):
    """A chat message sent during the consult. At its end the lines move into the client's chat channel, or
    are deleted when the organisation says so (chat.services.consult_ended).

    The text is sealed at rest like chat messages and questionnaire answers (formbuilder/crypto.py), bound to
    the organisation and consult: `ConsultMessage(organization=…, consult=…, text=…)` seals, `.text` opens."""

    consult = models.ForeignKey(Consult, on_delete=models.CASCADE, related_name="messages")
    peer_id = models.CharField(max_length=20)
    sender_name = models.CharField(max_length=200)
    sealed_text = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"message {self.pk} in consult {self.consult_id}"

    def _seal_context(self):
        return b"room-chat:%d:%d" % (self.organization_id, self.consult_id)

    @property
    def text(self):
        from formbuilder import crypto

        return crypto.unseal(self.sealed_text, context=self._seal_context()).decode()

    @text.setter
    def text(self, value):
        from formbuilder import crypto

        self.sealed_text = crypto.seal(value.encode(), context=self._seal_context())


def shared_file_path(instance, filename):
    # The stored name is random: the original name is only kept in the row, never trusted on disk.
    return f"consults/{instance.organization_id}/{instance.consult_id}/{uuid.uuid4().hex}"


class SharedFile(OrganizationOwned):
    """A file shared during a consult, in private storage; it is deleted when the consult ends."""

    consult = models.ForeignKey(Consult, on_delete=models.CASCADE, related_name="files")
    peer_id = models.CharField(max_length=20)
    sender_name = models.CharField(max_length=200)
    file = models.FileField(upload_to=shared_file_path, storage=storages_private, max_length=200)
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.name

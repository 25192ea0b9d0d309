"""Continuous chat (F-CHAT): channels between a client and their care team, and public channels of the site's
chat widget. Message text is sealed at rest (chat/sealing.py, the questionnaire answers' AES-GCM keys).

A client channel belongs to one client and one practitioner (or, for appointments with a department, one
department). Colleagues of the client's department read and answer it; other practitioners may join it.
A public channel is one conversation of one visitor of the organisation's site.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orgs.models import OrganizationOwned


class ChannelKind(models.TextChoices):
    CLIENT = "client", _("Client")
    PUBLIC = "public", _("Website visitor")


class Channel(OrganizationOwned):
    kind = models.CharField(max_length=10, choices=ChannelKind.choices, default=ChannelKind.CLIENT)
    client = models.ForeignKey("consult.Client", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="chat_channels")
    # The practitioner of the pair; empty for a department's channel (appointments with a department).
    practitioner = models.ForeignKey("orgs.Membership", null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="chat_channels")
    department = models.ForeignKey("orgs.Department", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="chat_channels")
    # Colleagues who joined ("join" on the client record); the practitioner is not listed here.
    members = models.ManyToManyField("orgs.Membership", through="ChannelMember", related_name="joined_chat_channels")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey("orgs.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    # Access (F-CHAT-3): department admins revoke and grant. A revoked client reads nothing sent after
    # `access_revoked_at` and cannot write.
    client_access = models.BooleanField(default=True)
    access_revoked_at = models.DateTimeField(null=True, blank=True)
    access_changed_by = models.ForeignKey("orgs.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+")
    # Retention (F-CHAT-5): "chat stays open after the consult" off closes the channel for the client when a
    # consult ends, until the next appointment (or a grant) opens it again.
    closed_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The client's (or visitor's) side: what they have read, and the newest message an unread-mail was sent for.
    client_read_at = models.DateTimeField(null=True, blank=True)
    client_notified_at = models.DateTimeField(null=True, blank=True)
    # Public channels: the visitor, and the hash of the token their browser holds (never the token itself).
    visitor_name = models.CharField(_("name"), max_length=120, blank=True)
    visitor_email = models.EmailField(_("email"), blank=True)
    visitor_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    visitor_language = models.CharField(max_length=8, blank=True)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        verbose_name = _("chat channel")
        verbose_name_plural = _("chat channels")
        ordering = ["-last_message_at", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["client", "practitioner"], condition=Q(kind="client"),
                                    name="chat_one_channel_per_practitioner_client"),
            models.UniqueConstraint(fields=["client", "department"],
                                    condition=Q(kind="client", practitioner__isnull=True),
                                    name="chat_one_department_channel_per_client"),
            models.CheckConstraint(
                condition=(Q(kind="client", client__isnull=False)
                           & (Q(practitioner__isnull=False) | Q(department__isnull=False)))
                | Q(kind="public", client__isnull=True, practitioner__isnull=True),
                name="chat_channel_kind_fields"),
        ]

    def __str__(self):
        return f"chat channel {self.pk}"


class ChannelMember(OrganizationOwned):
    """A colleague who joined a channel (or was its practitioner's stand-in)."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="memberships")
    member = models.ForeignKey("orgs.Membership", on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "member"], name="chat_join_once")]


class ReadMarker(OrganizationOwned):
    """How far one employee has read one channel (unread counts in the portal)."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="read_markers")
    member = models.ForeignKey("orgs.Membership", on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "member"], name="chat_one_marker")]


class Author(models.TextChoices):
    CLIENT = "client", _("Client")
    STAFF = "staff", _("Staff")
    VISITOR = "visitor", _("Visitor")


class Message(OrganizationOwned):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(max_length=10, choices=Author.choices)
    sender = models.ForeignKey("orgs.Membership", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    # The name shown, kept as it was when sent (employees leave, clients get anonymised).
    sender_name = models.CharField(max_length=200)
    # The text, sealed (chat/sealing.py); never stored in the clear.
    sealed_text = models.BinaryField()
    # Sent from the consultation room or its waiting room (retention after the consult applies).
    appointment = models.ForeignKey("consult.Appointment", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["channel", "created_at"], name="chat_message_channel_time")]

    def __str__(self):
        return f"message {self.pk} in chat channel {self.channel_id}"

"""How clients sign in to the patient portal: emailed PINs and QR access codes (F-PORTAL-1,3, F-CLIENT-2).

Neither the PIN nor the QR token is stored: only a keyed hash of it. A PIN is single use, expires after
the organisation's period, and is void after five wrong tries. A QR access code lasts the organisation's
period in days unless it is revoked; sessions it opened end when it is revoked.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orgs.models import OrganizationOwned

PIN_MAX_ATTEMPTS = 5


class PortalPin(OrganizationOwned):
    client = models.ForeignKey("consult.Client", on_delete=models.CASCADE, related_name="portal_pins")
    pin_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "client", "created_at"])]

    def __str__(self):
        return f"PIN for {self.client_id} until {self.expires_at:%H:%M}"

    @property
    def is_usable(self):
        return (self.used_at is None and self.voided_at is None and self.attempts < PIN_MAX_ATTEMPTS
                and self.expires_at > timezone.now())


class AccessCodeDelivery(models.TextChoices):
    EMAIL = "email", _("by email")
    LETTER = "letter", _("as a letter")


class AccessCode(OrganizationOwned):
    """A QR code that signs a client's phone in to the portal (the client app)."""

    client = models.ForeignKey("consult.Client", on_delete=models.CASCADE, related_name="access_codes")
    token_hash = models.CharField(max_length=64, unique=True)
    delivery = models.CharField(_("sent"), max_length=10, choices=AccessCodeDelivery.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("made"), auto_now_add=True)
    expires_at = models.DateTimeField(_("valid until"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"QR code for {self.client_id} until {self.expires_at:%Y-%m-%d}"

    @property
    def is_valid(self):
        return self.revoked_at is None and self.expires_at > timezone.now()

"""Personal appointment links.

A link's token is HMAC-SHA256(SECRET_KEY, a 128-bit random nonce), base64url: 256 bits nobody can
guess. The database keeps the nonce and the token's SHA-256 (for lookups), never the token, so a copy
of the database opens no waiting room; the server can rebuild the token to put it in a reminder.
"""

import base64
import hashlib
import secrets
from datetime import timedelta

from django.urls import reverse
from django.utils.crypto import salted_hmac

SALT = "openconsult.consult.appointment-link"


def new_nonce():
    return secrets.token_hex(16)


def token_for(nonce):
    digest = salted_hmac(SALT, nonce, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def link_url(organization, token):
    return organization.base_url + reverse("consult:link", args=[token])


class Window:
    """When a personal link opens and closes, by the organisation's settings."""

    TOO_EARLY, OPEN, TOO_LATE = "too_early", "open", "too_late"

    def __init__(self, appointment, organization):
        self.opens_at = appointment.starts_at - timedelta(minutes=organization.consult_link_opens_minutes)
        self.closes_at = appointment.starts_at + timedelta(minutes=organization.consult_link_closes_minutes)

    def state(self, now):
        if now < self.opens_at:
            return self.TOO_EARLY
        if now > self.closes_at:
            return self.TOO_LATE
        return self.OPEN

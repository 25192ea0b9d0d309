"""The organisation's provider secrets, sealed at rest (accounts/secret_keys.py) and bound to the organisation
and the field: a sealed value copied into another organisation's row does not open."""

from accounts.secret_keys import seal, unseal

PURPOSE = b"openconsult/payments/provider-credentials/v1"
SEALED_FIELDS = ("stripe_secret_key_sealed", "stripe_webhook_secret_sealed", "paypal_secret_sealed")


def _context(settings_row, field):
    return f"payments:{settings_row.organization_id}:{field}".encode()


def credential_seal(settings_row, field, plaintext):
    """Set `field` (one of SEALED_FIELDS) of the unsaved row to `plaintext` sealed; "" clears it."""
    assert field in SEALED_FIELDS
    setattr(settings_row, field, seal(PURPOSE, _context(settings_row, field), plaintext) if plaintext else b"")


def credential_open(settings_row, field):
    """The plaintext, or "" (not set, or SECRET_KEY rotated beyond its fallbacks: the admin enters it again)."""
    assert field in SEALED_FIELDS
    return unseal(PURPOSE, _context(settings_row, field), getattr(settings_row, field))

"""Payment before the waiting room (F-APPT-6): whether a participant still has to pay before they may wait.

Only the client pays. Extra participants are not gated by payment: they enter only while the client is
present anyway (F-APPT-4), and the client is present only once paid.
"""

from consult.models import ParticipantRole

from . import selectors


def payment_due_for(participant):
    """The Charge `participant` must still pay before entering, or None (not the client, no charge,
    payments off, or paid)."""
    if participant.role != ParticipantRole.CLIENT:
        return None
    return selectors.payment_due(participant.appointment)

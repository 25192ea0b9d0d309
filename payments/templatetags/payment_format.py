"""Payment bits in templates: {{ amount|money:currency }} (payments.charges.money, so pages and emails write
amounts alike) and {% paid_notice participant %}, the client's lasting "Paid" line on the appointment's pages."""

from django import template

from consult.models import ParticipantRole

from ..charges import money as money_text
from ..selectors import paid_payment_of

register = template.Library()


@register.filter
def money(amount, currency):
    return money_text(amount, currency) if amount is not None else ""


@register.inclusion_tag("payments/client/_paid_notice.html")
def paid_notice(participant):
    """The paid payment of the participant's appointment, for its client only (a guest sees no one's receipt).
    The flash message after paying shows once; this stays, so a client who comes back later knows too."""
    if participant is None or participant.role != ParticipantRole.CLIENT or participant.appointment_id is None:
        return {"paid": None}
    return {"paid": paid_payment_of(participant.appointment)}

"""Payment bits in templates: {{ amount|money:currency }} (payments.charges.money, so pages and emails write
amounts alike) and {% paid_notice participant %}, the client's lasting "Paid" line on the appointment's pages."""

from django import template

from consult.models import ParticipantRole

from ..charges import money as money_text
from ..selectors import paid_payment_of, receipt_sent

register = template.Library()


@register.filter
def money(amount, currency):
    return money_text(amount, currency) if amount is not None else ""


@register.inclusion_tag("payments/client/_paid_notice.html")
def paid_notice(participant):
    """The paid payment of the participant's appointment, for its client only (a guest sees no one's receipt).
    The flash message after paying shows once; this stays, so a client who comes back later knows too. It says
    "sent" only once the receipt's delivery row says so: right after paying the email is merely queued."""
    if participant is None or participant.role != ParticipantRole.CLIENT or participant.appointment_id is None:
        return {"paid": None}
    paid = paid_payment_of(participant.appointment)
    if paid is None:
        return {"paid": None}
    emailed = bool(paid.billing_email) and not paid.organization.do_not_send_emails
    return {"paid": paid, "emailed": emailed, "receipt_sent": emailed and receipt_sent(paid)}

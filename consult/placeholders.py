"""`*|placeholder|*` codes in email and waiting-room texts: replaced by values, never evaluated."""

import re

from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

PLACEHOLDER = re.compile(r"\*\|([a-zA-Z0-9_]+)\|\*")

PLACEHOLDERS = {
    "client_name": _("the client's name"),
    "appointment_date": _("the date of the appointment"),
    "appointment_time": _("the time of the appointment"),
    "practitioner_name": _("the practitioner's name"),
    "appointment_welcome_from": _("who welcomes the client, e.g. “Dr. Jansen” or the department"),
    "organisation_name": _("your organisation's name"),
    "consult_deeplink": _("the client's personal link to the waiting room"),
    "portal_deeplink": _("the link to the patient portal"),
    "personal_message": _("the personal message entered with the appointment"),
    "questionnaire_titles": _("the questionnaires the client is asked to fill in, one per line"),
    "payment_amount": _("for a paid consult: the amount before VAT, e.g. “€45.00”; empty when free"),
    "payment_text": _("for a paid consult: the sentence saying what the client pays incl. VAT and when (in the "
                      "cancellation email: that the payment is refunded); empty when free. Without this code (or "
                      "*|payment_amount|*) the sentence is added at the end of the email"),
}


def unknown_placeholders(text):
    return sorted({name for name in PLACEHOLDER.findall(text or "") if name not in PLACEHOLDERS})


def fill(text, values, *, html=False):
    """Replace known codes by their values (HTML-escaped when `html`); unknown codes stay visible."""

    def replace(match):
        name = match.group(1)
        if name not in PLACEHOLDERS:
            return match.group(0)
        value = str(values.get(name, ""))
        return escape(value) if html else value

    return PLACEHOLDER.sub(replace, text or "")

"""Appointment emails: the organisation's texts with placeholders, HTML + text, an iCalendar invitation.

Every send is recorded as an EmailDelivery; a failure is recorded and reported to the department admin
(else the organisation admins). Reminders carry a `once_key`, so each goes out at most once.

The questionnaire request (F-FORM-3) may go to a client without an appointment (sent from the client
record): then the client's own organisation and department choose the texts, the appointment codes are
empty, and there is no calendar invitation. It never carries one, with or without an appointment.
"""

import logging
import re
import zoneinfo
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, send_mail
from django.db import IntegrityError, transaction
from django.template.defaultfilters import linebreaks_filter, urlize
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from orgs.models import Membership, Role
from portal.patient_links import portal_link

from . import links
from .models import (
    AppointmentParticipant,
    DeliveryStatus,
    EmailDelivery,
    EmailKind,
    EmailSet,
    EmailTemplate,
    ParticipantRole,
)
from .placeholders import fill

logger = logging.getLogger(__name__)
BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def email_set_for(appointment=None, *, client=None):
    """The texts of the appointment's department (or, with no appointment, the client's), else the default."""
    source = appointment if appointment is not None else client
    sets = EmailSet.objects.with_scopes_disabled().filter(organization_id=source.organization_id)
    if source.department_id:
        own = sets.filter(departments=source.department_id).first()
        if own is not None:
            return own
    return sets.filter(is_default=True).first()


def template_for(appointment, kind, language, *, client=None):
    email_set = email_set_for(appointment, client=client)
    if email_set is None:
        return None
    templates = {
        t.language: t for t in EmailTemplate.objects.with_scopes_disabled().filter(email_set=email_set, kind=kind)
    }
    organization = (appointment if appointment is not None else client).organization
    for candidate in (language, organization.default_language, "en"):
        if candidate in templates:
            return templates[candidate]
    return next(iter(templates.values()), None)


def placeholder_values(appointment, participant, language):
    organization = appointment.organization
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    local_start = appointment.starts_at.astimezone(zone)
    with translation.override(language):
        date_text = formats.date_format(local_start, "DATE_FORMAT")
        time_text = formats.time_format(local_start, "H:i")  # 24-hour everywhere; no "2 p.m.." in a sentence
    practitioner = appointment.practitioner.user.get_full_name() if appointment.practitioner_id else ""
    if practitioner:
        welcome_from = f"{organization.address_form(language)} {appointment.practitioner.user.last_name}".strip()
    else:
        welcome_from = appointment.department.name if appointment.department_id else organization.name
    person = participant.person if participant is not None else None
    token = links.token_for(participant.token_nonce) if participant is not None else ""
    return {
        "client_name": person.display_name if person else "",
        "appointment_date": date_text,
        "appointment_time": time_text,
        "practitioner_name": practitioner,
        "appointment_welcome_from": welcome_from,
        "organisation_name": organization.name,
        "consult_deeplink": links.link_url(organization, token) if token else "",
        "portal_deeplink": portal_link(person) if person else "",
        "personal_message": appointment.personal_message,
        **payment_values(appointment, language),
    }


def payment_values(appointment, language):
    """*|payment_amount|* and *|payment_text|* (F-PAY): what a paid consult costs and that it is paid online
    before the waiting room opens; empty for a free one, or while the organisation has payments off.

    The sentence gives the total incl. VAT at the organisation's standard rule (a private client in its own
    country): what most clients pay. A business abroad may pay less; the pay page shows its own amount."""
    from payments.charges import money
    from payments.models import ClientType
    from payments.selectors import charge_of, paid_payment_of, quote, settings_for

    charge = charge_of(appointment)
    row = settings_for(appointment.organization)
    if charge is None or not row.enabled:
        return {"payment_amount": "", "payment_text": ""}
    paid = paid_payment_of(appointment)
    with translation.override(language):
        amount = money(charge.amount, charge.currency)
        if paid is not None:
            total = money(paid.total_amount, paid.currency)
            text = _("This is a paid consultation: %(name)s, %(total)s incl. VAT. You have paid it already; "
                     "thank you.") % {"name": charge.name, "total": total}
        else:
            amounts = quote(organization=appointment.organization, charge=charge,
                            client_country=str(row.seller_country or ""), client_type=ClientType.PRIVATE)
            text = _("This is a paid consultation: %(name)s, %(total)s incl. VAT. You pay online before the "
                     "waiting room opens.") % {"name": charge.name, "total": money(amounts.total, charge.currency)}
    return {"payment_amount": amount, "payment_text": text}


def refund_values(appointment, language):
    """*|payment_text|* of the cancellation email: that what the client paid is refunded (consult.services.
    appointment_cancel queues the refund), or empty when nothing was paid. The refund may already have gone
    through by the time the email is built, so a payment refunded because of the cancellation counts too."""
    from payments.charges import money
    from payments.models import PaymentStatus, RefundReason
    from payments.selectors import payments_of

    refunded = next((payment for payment in payments_of(appointment) if payment.status == PaymentStatus.PAID or (
        payment.status == PaymentStatus.REFUNDED and getattr(payment, "refund", None) is not None
        and payment.refund.reason == RefundReason.CANCELLED)), None)
    if refunded is None:
        return {"payment_text": ""}
    with translation.override(language):
        text = _("You paid %(total)s for this consultation; it will be refunded to you.") % {
            "total": money(refunded.total_amount, refunded.currency)}
    return {"payment_text": text}


PAYMENT_KINDS = (EmailKind.CONFIRMATION, EmailKind.RESCHEDULE, EmailKind.REMINDER, EmailKind.CANCELLATION)


def with_payment_text(body, values, kind, participant):
    """The client of a paid consult is told what it costs (and, when it is cancelled, that the payment is
    refunded) even when the organisation's own texts do not use the payment codes (texts written before
    payments existed): the sentence then ends the email."""
    text = values.get("payment_text")
    if not text or kind not in PAYMENT_KINDS or participant is None or participant.role != ParticipantRole.CLIENT:
        return body
    if "*|payment_text|*" in body or "*|payment_amount|*" in body:
        return body
    return f"{body.rstrip()}\n\n{text}\n"


def calendar_invitation(appointment, *, summary, link, cancelled=False, attendee=None):
    organization = appointment.organization
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    calendar = Calendar()
    calendar.add("prodid", "-//OpenConsult//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", f"{appointment.ical_uid}@{organization.hostname}")
    event.add("sequence", appointment.ical_sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.starts_at.astimezone(zone))
    event.add("dtend", appointment.ends_at.astimezone(zone))
    event.add("summary", summary)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if link:
        event.add("url", link)
        event.add("location", link)
        event.add("description", link)
    organizer = vCalAddress(f"mailto:{organization.contact_email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}")
    organizer.params["cn"] = vText(organization.name)
    event.add("organizer", organizer)
    if attendee:
        address = vCalAddress(f"mailto:{attendee.email}")
        address.params["cn"] = vText(attendee.display_name)
        address.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", address)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def client_placeholder_values(client):
    """The codes that need no appointment (a questionnaire request sent from the client record)."""
    return {
        "client_name": client.display_name,
        "organisation_name": client.organization.name,
        "portal_deeplink": portal_link(client),
    }


def build_message(appointment, participant, kind, *, client=None, extra_values=None):
    """The email for `participant` of `appointment`, or (appointment None) for `client` alone.

    `extra_values` fills codes only the caller knows (the questionnaire titles)."""
    person = participant.person if participant is not None else client
    organization = (appointment if appointment is not None else person).organization
    language = person.language if person else organization.default_language
    template = template_for(appointment, kind, language, client=person)
    if template is None:
        raise LookupError(f"No email text for {kind} in {organization}")
    values = placeholder_values(appointment, participant, template.language) if appointment is not None else {}
    if participant is None:
        values.update(client_placeholder_values(person))
    if appointment is not None and kind == EmailKind.CANCELLATION:
        values.update(refund_values(appointment, template.language))
    if participant is not None and participant.role != ParticipantRole.CLIENT:
        # What the client pays, or gets back, is theirs: a guest's copy of the same texts leaves it out.
        values.update(payment_amount="", payment_text="")
    values.update(extra_values or {})
    subject = " ".join(fill(template.subject, values).split())
    body = template.body
    if appointment is not None:
        body = with_payment_text(body, values, kind, participant)
    # An empty code on a line of its own (no personal message, a free consult) leaves no gap of blank lines.
    text = BLANK_LINES.sub("\n\n", fill(body, values))
    html = render_to_string("consult/email/appointment.html", {
        "organization": organization,
        "body": linebreaks_filter(urlize(text, autoescape=True), autoescape=False),
        "language": template.language,
    })
    message = EmailMultiAlternatives(subject=subject, body=text, to=[person.email])
    message.attach_alternative(html, "text/html")
    if appointment is None or kind == EmailKind.QUESTIONNAIRE:
        return message  # no calendar invitation: nothing is scheduled by this email
    cancelled = kind == EmailKind.CANCELLATION
    method = "CANCEL" if cancelled else "REQUEST"
    invitation = calendar_invitation(
        appointment, summary=subject, link="" if cancelled else values["consult_deeplink"], cancelled=cancelled,
        attendee=person,
    )
    message.attach("invite.ics", invitation, f"text/calendar; method={method}; charset=UTF-8")
    return message


def deliver(*, appointment=None, participant=None, kind, once_key=None, client=None, extra_values=None):
    """Send one email to one participant of an appointment (or, without one, to `client`) and record it.
    Returns the delivery, or None when nothing was sent (emails switched off, no address, or this
    once_key went out already)."""
    person = participant.person if participant is not None else client
    if appointment is None and person is None:
        return None
    organization = appointment.organization if appointment is not None else person.organization
    if organization.do_not_send_emails or person is None or not person.email:
        return None
    try:
        with transaction.atomic():
            delivery = EmailDelivery.objects.with_scopes_disabled().create(
                organization=organization, appointment=appointment, participant=participant, kind=kind,
                to=person.email, once_key=once_key,
            )
    except IntegrityError:
        return None  # claimed by an earlier (or concurrent) run: never twice
    return send_claimed(delivery, client=client, extra_values=extra_values)


def send_claimed(delivery, *, client=None, extra_values=None):
    """Send a delivery that is claimed (recorded as "sending") and record the outcome."""
    try:
        build_message(delivery.appointment, delivery.participant, delivery.kind, client=client,
                      extra_values=extra_values).send()
    except Exception as error:  # noqa: BLE001 - any transport failure is recorded and reported
        logger.warning("Email %s to %s failed: %s", delivery.kind, delivery.to, error)
        delivery.status = DeliveryStatus.FAILED
        delivery.error = str(error)[:1000]
        delivery.save(update_fields=["status", "error", "updated_at"])
        report_failure(delivery, client=client)
        return delivery
    delivery.status = DeliveryStatus.SENT
    delivery.save(update_fields=["status", "updated_at"])
    return delivery


def failure_recipients(appointment):
    """Department admins of the appointment's (or a client's) department, else the organisation admins."""
    members = Membership.objects.with_scopes_disabled().filter(
        organization_id=appointment.organization_id, is_active=True
    ).select_related("user")
    if appointment.department_id:
        department_admins = members.filter(role=Role.DEPARTMENT_ADMIN, departments=appointment.department_id)
        if department_admins.exists():
            return list(department_admins)
    return list(members.filter(role=Role.ORG_ADMIN))


def report_client_failure(delivery, client):
    """A questionnaire request without an appointment failed: tell who looks after the client's record."""
    organization = client.organization
    if not organization.notify_bounces:
        return
    for member in failure_recipients(client):
        user = member.user
        with translation.override(user.language or organization.default_language):
            subject = _("An email to a client could not be delivered")
            body = _(
                "The “%(kind)s” email to %(address)s could not be delivered.\n\nReason: %(reason)s\n\n"
                "Check the address with the client and correct it in their record: %(url)s"
            ) % {
                "kind": delivery.get_kind_display(),
                "address": delivery.to,
                "reason": delivery.error or _("unknown"),
                "url": f"{organization.base_url}/portal/clients/{client.pk}/",
            }
        try:
            send_mail(subject, body, None, [user.email])
        except Exception:  # noqa: BLE001 - a failing report must not hide the original failure
            logger.exception("Could not report a failed email to %s", user.email)


def report_failure(delivery, *, client=None):
    """Tell the department admin (else the organisation admins) which address failed and why (F-APPT-9)."""
    appointment = delivery.appointment
    if appointment is None and client is not None:
        report_client_failure(delivery, client)
        return
    if appointment is None or not appointment.organization.notify_bounces:
        return
    zone = zoneinfo.ZoneInfo(appointment.organization.time_zone)
    for member in failure_recipients(appointment):
        user = member.user
        with translation.override(user.language or appointment.organization.default_language):
            subject = _("An appointment email could not be delivered")
            body = _(
                "The “%(kind)s” email for the appointment on %(when)s could not be delivered to %(address)s.\n\n"
                "Reason: %(reason)s\n\nCheck the address with the client and correct it in their record. The "
                "appointment, with the client's personal link to pass on, is in the portal: %(url)s"
            ) % {
                "kind": delivery.get_kind_display(),
                "when": formats.date_format(appointment.starts_at.astimezone(zone), "DATETIME_FORMAT"),
                "address": delivery.to,
                "reason": delivery.error or _("unknown"),
                "url": f"{appointment.organization.base_url}/portal/appointments/{appointment.pk}/",
            }
        try:
            send_mail(subject, body, None, [user.email])
        except Exception:  # noqa: BLE001 - a failing report must not hide the original failure
            logger.exception("Could not report a failed email to %s", user.email)


def bounce_record(*, organization, address, reason):
    """A bounce reported later by the mail provider: mark the newest email to `address` and report it."""
    delivery = (
        EmailDelivery.objects.with_scopes_disabled()
        .filter(organization=organization, to__iexact=address, status=DeliveryStatus.SENT)
        .select_related("appointment__organization").order_by("-created_at").first()
    )
    if delivery is None:
        return None
    delivery.status = DeliveryStatus.BOUNCED
    delivery.error = reason[:1000]
    delivery.save(update_fields=["status", "error", "updated_at"])
    report_failure(delivery)
    return delivery


def questionnaire_titles(responses):
    return "\n".join(f"- {response.title}" for response in responses)


def send_questionnaire_request(*, client, responses, appointment=None):
    """One email asking `client` to fill in `responses` (their titles, the portal link). Returns the
    delivery, or None when nothing was sent (emails off, no address, nothing to fill in)."""
    if not responses:
        return None
    participant = None
    if appointment is not None:
        participant = AppointmentParticipant.objects.with_scopes_disabled().filter(
            appointment=appointment, person=client).first()
    return deliver(appointment=appointment, participant=participant, kind=EmailKind.QUESTIONNAIRE, client=client,
                   extra_values={"questionnaire_titles": questionnaire_titles(responses)})


def questionnaire_request_on_commit(*, client, responses, appointment=None):
    """Send the questionnaire request once the transaction that created `responses` has committed."""
    responses = list(responses)
    transaction.on_commit(lambda: send_questionnaire_request(client=client, responses=responses,
                                                             appointment=appointment))

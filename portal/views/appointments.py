"""Appointments in the portal: list, today, new, detail, reschedule, cancel, quick consult (F-APPT)."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consult import room, selectors, services
from consult.forms import AppointmentForm, CancelForm, ChargeForm, DetailsForm, RescheduleForm
from consult.models import AppointmentStatus
from orgs import policy
from orgs.forms import add_service_errors
from orgs.services import audit_record
from payments import charges, receipts
from payments import selectors as payment_selectors
from payments.models import Payment, PaymentStatus

from ..access import member_required

DEFAULT_COLOUR = "#1d4ed8"
# Distinct at a glance and readable as a stripe on white; more practitioners than colours share one.
PRACTITIONER_COLOURS = ("#1d4ed8", "#be185d", "#047857", "#b45309", "#6d28d9", "#0e7490", "#b91c1c", "#4d7c0f")


def _appointment_or_404(request, appointment_id):
    appointment = selectors.appointment_for(request.membership, appointment_id)
    if appointment is None:
        raise Http404
    return appointment


@member_required
def today(request):
    """Today's appointments coloured by department (their colour) or, with ?colour=practitioner, by
    practitioner (F-APPT-8): a department with several practitioners is one colour otherwise."""
    member = request.membership
    appointments = list(selectors.todays_appointments(member))
    zone = selectors.zone_of(request.organization)
    by_practitioner = request.GET.get("colour") == "practitioner"
    legend = set()
    for appointment in appointments:
        if by_practitioner and appointment.practitioner_id:
            # By id, so a practitioner keeps their colour from day to day.
            appointment.colour = PRACTITIONER_COLOURS[appointment.practitioner_id % len(PRACTITIONER_COLOURS)]
            legend.add((appointment.practitioner.user.get_full_name(), appointment.colour))
        elif not by_practitioner and appointment.department_id:
            appointment.colour = appointment.department.colour
            legend.add((appointment.department.name, appointment.colour))
        else:
            appointment.colour = DEFAULT_COLOUR
    return render(request, "portal/appointments/today.html", {
        "appointments": appointments,
        "today": timezone.localdate(timezone=zone),
        "legend": sorted(legend),
        "by_practitioner": by_practitioner,
    })


@member_required
def appointment_list(request):
    member = request.membership
    show = request.GET.get("show", "upcoming")
    appointments = selectors.appointments_for(member)
    now = timezone.now()
    if show == "past":
        appointments = appointments.filter(starts_at__lt=now).order_by("-starts_at")
    elif show == "cancelled":
        appointments = appointments.filter(status=AppointmentStatus.CANCELLED).order_by("-starts_at")
    else:
        show = "upcoming"
        appointments = appointments.filter(starts_at__gte=now - timedelta(hours=1),
                                           status=AppointmentStatus.SCHEDULED).order_by("starts_at")
    # "€ paid / € due" in the list: the charge and whether a paid payment exists, in the same query.
    paid = Payment.objects.filter(appointment=OuterRef("pk"), status=PaymentStatus.PAID)
    appointments = appointments.select_related("charge").annotate(is_paid=Exists(paid))
    return render(request, "portal/appointments/list.html",
                  {"appointments": appointments[:200], "show": show, "payment_badges": True})


@member_required
def appointment_create(request):
    member = request.membership
    default = services.default_practitioner(member)
    initial = {"practitioner": request.GET.get("practitioner") or (default.pk if default else None),
               "client": request.GET.get("client")}
    if request.GET.get("date"):
        initial["date"] = request.GET["date"]
    form = AppointmentForm(request.POST or None, member=member, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():  # a new client is kept only if the appointment is made too
                client = data["client"] or services.client_create(
                    member=member, initials=data["new_initials"], last_name=data["new_last_name"],
                    date_of_birth=data["new_date_of_birth"], email=data["new_email"],
                    language=data["new_language"] or request.organization.default_language,
                    department=data.get("department") or (data["practitioner"].departments.first()
                                                           if data["practitioner"] else None),
                    request=request,
                )
                appointment = _create(member, client, data, request)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if request.organization.do_not_send_emails:
                messages.success(request, _("Appointment saved. Emails are off: share the links below yourself."))
            elif data.get("questionnaires"):
                messages.success(request, _("Appointment saved; the client has been emailed their link and the "
                                            "questionnaires to fill in."))
            else:
                messages.success(request, _("Appointment saved; the client has been emailed their link."))
            return redirect("portal:appointment_detail", appointment.pk)
    return render(request, "portal/appointments/form.html", {"form": form})


def _create(member, client, data, request):
    return services.appointment_create(
        member=member, client=client, practitioner=data["practitioner"], department=data.get("department"),
        starts_at=data["starts_at"], duration_minutes=data["duration_minutes"], client_number=data["client_number"],
        personal_message=data["personal_message"], guests=list(data["guests"]),
        questionnaires=list(data.get("questionnaires") or ()), rate=data.get("rate"), request=request,
    )


@member_required
def appointment_detail(request, appointment_id):
    member = request.membership
    appointment = _appointment_or_404(request, appointment_id)
    zone = selectors.zone_of(request.organization)
    local_start = appointment.starts_at.astimezone(zone)
    if appointment.client is not None:  # the page shows the client's name and address: a record view
        services.client_record_viewed(member=member, client=appointment.client, request=request)
    participants = list(appointment.participants.select_related("person"))
    show_links = request.organization.do_not_send_emails or request.GET.get("links") == "1"
    return render(request, "portal/appointments/detail.html", {
        "appointment": appointment,
        "participants": [(p, services.participant_link(p) if show_links else "") for p in participants],
        "show_links": show_links,
        "deliveries": appointment.deliveries.all()[:20],
        "reschedule_form": RescheduleForm(organization=request.organization, initial={
            "date": local_start.date(), "time": local_start.time(), "duration_minutes": appointment.duration_minutes,
        }),
        "cancel_form": CancelForm(),
        "details_form": DetailsForm(initial={"client_number": appointment.client_number,
                                             "personal_message": appointment.personal_message}),
        "editable": appointment.status == AppointmentStatus.SCHEDULED and not appointment.anonymised_at
        and appointment.ends_at > timezone.now() and policy.can_change_appointment(member, appointment),
        "member": member,
        **_consult_context(member, appointment),
        **_payment_context(member, appointment),
    })


def _payment_context(member, appointment):
    """The payment panel (F-PAY): the charge, whether it is paid, every attempt; staff who may see the
    appointment only. Department and organisation admins may change the charge until it is paid."""
    if not policy.can_view_payments(member, appointment):
        return {"payment_panel": False}
    charge = payment_selectors.charge_of(appointment)
    attempts = payment_selectors.payments_of(appointment)
    enabled = payment_selectors.settings_for(appointment.organization).enabled
    paid = next((p for p in attempts if p.status == PaymentStatus.PAID), None)
    refunded = next((p for p in attempts if p.status == PaymentStatus.REFUNDED), None)
    form = ChargeForm(member=member, appointment=appointment,
                      initial={"paid": charge is not None, "rate": charge.rate_id if charge else None})
    changeable = (form.offered and paid is None and appointment.status == AppointmentStatus.SCHEDULED
                  and not appointment.anonymised_at)
    return {
        "payment_panel": bool(charge or attempts or form.offered),
        "charge": charge,
        "charge_amount": charges.money(charge.amount, charge.currency) if charge else "",
        "payments_on": enabled,
        "paid_payment": paid,
        "refunded_payment": refunded if paid is None else None,
        "payment_attempts": attempts,
        "charge_form": form if changeable else None,
    }


def _consult_context(member, appointment):
    """The consult part of the appointment page: join the open one, start one (force start, quick consult),
    and the record of consults held (start, end, duration, who took part)."""
    consults = list(appointment.consults.prefetch_related("presences").order_by("started_at"))
    open_consult = next((c for c in consults if c.is_open), None)
    holdable = policy.can_hold_consult(member, appointment)
    scheduled = appointment.status == AppointmentStatus.SCHEDULED and not appointment.anonymised_at
    return {
        "consults": consults,
        "can_join": holdable and open_consult is not None,
        "can_force_start": holdable and scheduled and open_consult is None
        and (member.organization.force_start or appointment.kind == "quick"),
        "room_client_present": open_consult is not None and room.client_present(open_consult),
    }


def _change(request, form, action):
    """Run a change from a detail-page form. Errors (of the form or the service) become messages on the
    appointment page, which it redirects back to; a change the policy forbids is a 404. True when done."""
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return False
    try:
        action(form.cleaned_data)
    except ValidationError as error:
        for error_message in error.messages:
            messages.error(request, error_message)
        return False
    except PermissionDenied:
        raise Http404
    return True


def _to_detail(appointment, *, show_links=False):
    url = reverse("portal:appointment_detail", args=[appointment.pk])
    return redirect(url + "?links=1" if show_links else url)


@member_required
@require_POST
def appointment_reschedule(request, appointment_id):
    appointment = _appointment_or_404(request, appointment_id)
    form = RescheduleForm(request.POST, organization=request.organization)
    moved = _change(request, form, lambda data: services.appointment_reschedule(
        member=request.membership, appointment=appointment, starts_at=data["starts_at"],
        duration_minutes=data["duration_minutes"], request=request))
    emails_off = request.organization.do_not_send_emails
    if moved and emails_off:
        messages.success(request, _("The appointment has been moved. Emails are off: share the new links "
                                    "below yourself; the old ones no longer work."))
    elif moved:
        messages.success(request, _("The appointment has been moved; everyone received a new link."))
    return _to_detail(appointment, show_links=moved and emails_off)


@member_required
@require_POST
def appointment_details(request, appointment_id):
    appointment = _appointment_or_404(request, appointment_id)
    if _change(request, DetailsForm(request.POST), lambda data: services.appointment_update_details(
            member=request.membership, appointment=appointment, request=request, **data)):
        messages.success(request, _("The appointment has been updated."))
    return _to_detail(appointment)


@member_required
@require_POST
def appointment_cancel(request, appointment_id):
    appointment = _appointment_or_404(request, appointment_id)
    if _change(request, CancelForm(request.POST), lambda data: services.appointment_cancel(
            member=request.membership, appointment=appointment, message=data["message"], request=request)):
        if request.organization.do_not_send_emails:
            messages.success(request, _("The appointment has been cancelled. Emails are off: please tell the "
                                        "client yourself."))
        else:
            messages.success(request, _("The appointment has been cancelled and the client has been told."))
    return _to_detail(appointment)


@member_required
@require_POST
def appointment_charge(request, appointment_id):
    appointment = _appointment_or_404(request, appointment_id)
    form = ChargeForm(request.POST, member=request.membership, appointment=appointment)
    if not form.offered:
        raise Http404
    if _change(request, form, lambda data: charges.charge_set(
            member=request.membership, appointment=appointment, rate=data["rate"], request=request)):
        messages.success(request, _("The payment for this appointment has been saved."))
    return _to_detail(appointment)


@member_required
def appointment_receipt(request, appointment_id, reference):
    """The receipt PDF of one paid (or since refunded) payment of the appointment; every download is audited."""
    member = request.membership
    appointment = _appointment_or_404(request, appointment_id)
    if not policy.can_view_payments(member, appointment):
        raise Http404
    payment = next((p for p in payment_selectors.payments_of(appointment)
                    if p.reference == reference and p.receipt_number), None)
    if payment is None:
        raise Http404
    audit_record(organization=member.organization, actor=member.user, action="payment.receipt_download",
                 target=payment, request=request)
    response = HttpResponse(receipts.receipt_pdf(payment), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipts.receipt_filename(payment)}"'
    return response


@member_required
@require_POST
def quick_consult(request, client_id):
    client = selectors.client_for(request.membership, client_id)
    if client is None:
        raise Http404
    try:
        appointment = services.quick_consult_create(member=request.membership, client=client, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("portal:client_detail", client.pk)
    # Straight into the room (F-APPT-7): the client's link leads there too, with no waiting room.
    room.consult_start(member=request.membership, appointment=appointment, force=True, request=request)
    if request.organization.do_not_send_emails:
        messages.info(request, _("Emails are off: give the client their link from the appointment page."))
    else:
        messages.success(request, _("Quick consult started; the client has been emailed a link to join now."))
    return redirect("portal:room", appointment.pk)

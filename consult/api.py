"""REST API for clients, appointments, availability and slots (F-ORG-4), mounted by config/api.py.

Every call runs inside the host organisation's scope (OrganizationHostMiddleware) as the API key's member
(orgs.api_keys.api_member: an org-admin-like integration). Reads go through consult.selectors and the policy,
writes through consult.services, so validation, audit rows and client emails are the portal's own.
An id (in the path or the body) that is not the organisation's, or not visible to the key, is a 404.
"""

import zoneinfo
from datetime import UTC, timedelta

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from orgs import policy
from orgs.models import Department, Membership

from . import api_schemas as s
from . import selectors, services
from .forms import ClientForm
from .models import Availability
from .services import CLIENT_FIELDS

MAX_SLOT_DAYS = 62
ERRORS = {400: s.Error, 401: s.Error, 404: s.Error, 422: s.ValidationErrors, 429: s.Error}

router = Router()


def _member(request):
    return request.auth


def _id(value):
    return value if 1 <= value <= s.MAX_ID else None


def _page(queryset, page, page_size):
    count = queryset.count()
    start = (page - 1) * page_size
    return {"count": count, "page": page, "page_size": page_size, "items": list(queryset[start:start + page_size])}


def _aware(moment, organization, field="starts_at"):
    """An instant from the request: with its offset, or the organisation's local time without one."""
    try:
        if moment.tzinfo is None:
            zone = zoneinfo.ZoneInfo(organization.time_zone)
            local = moment.replace(tzinfo=zone)
            if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment:
                raise ValidationError({field: _("This time does not exist on this day: the clocks go forward.")})
            moment = local
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValidationError({field: _("Enter a date and time between the years 2000 and 9000.")}) from None


def _sane_date(day, field):
    if not 2000 <= day.year <= 9000:
        raise ValidationError({field: _("Enter a date between the years 2000 and 9000.")})
    return day


# --- departments and practitioners ----------------------------------------------------------------

@router.get("/departments", response={200: list[s.Department], **ERRORS}, tags=["practitioners"])
def list_departments(request):
    return list(services.departments_for_appointments(_member(request)))


def _practitioner_out(member):
    return {"id": member.pk, "name": str(member), "job_title": member.job_title, "role": member.role,
            "department_ids": sorted(d.pk for d in member.departments.all())}


@router.get("/practitioners", response={200: list[s.Practitioner], **ERRORS}, tags=["practitioners"])
def list_practitioners(request):
    """Colleagues appointments can be made with (their ids are what the other endpoints take)."""
    return [_practitioner_out(m) for m in services.practitioners_for(_member(request))]


def _practitioner_or_404(member, practitioner_id):
    practitioner = None
    if _id(practitioner_id):
        practitioner = policy.visible_employees(member, Membership.objects.select_related("user", "organization")) \
            .filter(pk=practitioner_id, is_active=True).first()
    if practitioner is None:
        raise Http404
    return practitioner


def _practitioner_in(member, practitioner_id):
    if practitioner_id is None:
        return None
    practitioner = policy.visible_employees(member, Membership.objects.select_related("user", "organization")) \
        .filter(pk=practitioner_id).first()
    if practitioner is None:
        raise Http404(_("There is no practitioner with this id."))
    return practitioner


def _department_in(member, department_id):
    if department_id is None:
        return None
    department = policy.visible_departments(member, Department.objects.all()).filter(pk=department_id).first()
    if department is None:
        raise Http404(_("There is no department with this id."))
    return department


# --- clients --------------------------------------------------------------------------------------

@router.get("/clients", response={200: s.ClientPage, **ERRORS}, tags=["clients"])
def list_clients(request, filters: Query[s.ClientQuery]):
    clients = selectors.clients_for(_member(request), query=filters.q).order_by("last_name", "initials", "pk")
    return _page(clients, filters.page, filters.page_size)


def _client_or_404(member, client_id):
    client = selectors.client_for(member, client_id) if _id(client_id) else None
    if client is None:
        raise Http404
    return client


@router.get("/clients/{client_id}", response={200: s.ClientOut, **ERRORS}, tags=["clients"])
def get_client(request, client_id: int):
    member = _member(request)
    client = _client_or_404(member, client_id)
    services.client_record_viewed(member=member, client=client, request=request)  # audited as in the portal
    return client


def _form_data(values):
    data = {name: values.get(name) for name in CLIENT_FIELDS if name != "department"}
    data["department"] = values.get("department_id")
    return {k: ("" if v is None else v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


def _form_errors(form):
    raise ValidationError(form.errors.as_data())


@router.post("/clients", response={201: s.ClientOut, **ERRORS}, tags=["clients"])
def create_client(request, payload: s.ClientIn):
    """Validated as the portal's client form; the client is added to the audit log."""
    member = _member(request)
    values = payload.dict()
    if not values.get("language"):
        values["language"] = member.organization.default_language
    form = ClientForm(_form_data(values), member=member, external=payload.is_external)
    if not form.is_valid():
        _form_errors(form)
    data = {name: form.cleaned_data[name] for name in CLIENT_FIELDS if name in form.cleaned_data}
    client = services.client_create(member=member, is_external=payload.is_external, request=request, **data)
    return Status(201, client)


@router.patch("/clients/{client_id}", response={200: s.ClientOut, **ERRORS}, tags=["clients"])
def update_client(request, client_id: int, payload: s.ClientPatch):
    """Change the fields given; the others stay as they are."""
    from orgs.services import changed_fields

    member = _member(request)
    client = _client_or_404(member, client_id)
    values = {name: getattr(client, name) for name in CLIENT_FIELDS if name != "department"}
    values["department_id"] = client.department_id
    values.update(payload.dict(exclude_unset=True))
    if not values.get("language"):
        values["language"] = client.language
    form = ClientForm(_form_data(values), instance=client, member=member, external=client.is_external)
    if not form.is_valid():
        _form_errors(form)
    changes = changed_fields(form)
    client = form.save(commit=False)
    client.department = form.cleaned_data.get("department")
    return services.client_update(member=member, client=client, changes=changes, request=request)


# --- appointments ---------------------------------------------------------------------------------

def _appointment_or_404(member, appointment_id):
    appointment = selectors.appointment_for(member, appointment_id) if _id(appointment_id) else None
    if appointment is None:
        raise Http404
    return appointment


@router.get("/appointments", response={200: s.AppointmentPage, **ERRORS}, tags=["appointments"])
def list_appointments(request, filters: Query[s.AppointmentQuery]):
    """Appointments between two local dates, of one practitioner, with one status (each optional)."""
    member = _member(request)
    appointments = selectors.appointments_for(member).order_by("starts_at", "pk")
    if filters.date_from is not None:
        first = _sane_date(filters.date_from, "date_from")
        appointments = appointments.filter(starts_at__gte=selectors.day_bounds(member.organization, first)[0])
    if filters.date_to is not None:
        last = _sane_date(filters.date_to, "date_to")
        appointments = appointments.filter(starts_at__lt=selectors.day_bounds(member.organization, last)[1])
    if filters.practitioner_id is not None:
        appointments = appointments.filter(practitioner_id=filters.practitioner_id)
    if filters.status:
        appointments = appointments.filter(status=filters.status)
    return _page(appointments, filters.page, filters.page_size)


@router.get("/appointments/{appointment_id}", response={200: s.AppointmentOut, **ERRORS}, tags=["appointments"])
def get_appointment(request, appointment_id: int):
    return _appointment_or_404(_member(request), appointment_id)


@router.post("/appointments", response={201: s.AppointmentOut, 409: s.ValidationErrors, **ERRORS},
             tags=["appointments"])
def create_appointment(request, payload: s.AppointmentIn):
    """Book an appointment: the client (and the practitioner's agenda) as in the portal, and the client is
    emailed the confirmation with their personal link. A time already taken is a 409."""
    member = _member(request)
    client = selectors.client_for(member, payload.client_id)
    if client is None:
        raise Http404(_("There is no client with this id."))
    practitioner = _practitioner_in(member, payload.practitioner_id)
    department = _department_in(member, payload.department_id)
    appointment = services.appointment_create(
        member=member, client=client, practitioner=practitioner, department=department,
        starts_at=_aware(payload.starts_at, member.organization), duration_minutes=payload.duration_minutes,
        client_number=payload.client_number, personal_message=payload.personal_message, request=request,
    )
    return Status(201, appointment)


@router.patch("/appointments/{appointment_id}", response={200: s.AppointmentOut, 409: s.ValidationErrors, **ERRORS},
              tags=["appointments"])
def update_appointment(request, appointment_id: int, payload: s.AppointmentPatch):
    """Move (starts_at, duration_minutes) and/or change the message and client number; the client is
    emailed as in the portal."""
    member = _member(request)
    appointment = _appointment_or_404(member, appointment_id)
    changes = payload.dict(exclude_unset=True)
    starts_at = _aware(changes["starts_at"], member.organization) if changes.get("starts_at") else None
    if starts_at is not None or changes.get("duration_minutes"):
        services.appointment_reschedule(
            member=member, appointment=appointment, starts_at=starts_at or appointment.starts_at,
            duration_minutes=changes.get("duration_minutes"), request=request,
        )
    if changes.get("personal_message") is not None or changes.get("client_number") is not None:
        message = changes.get("personal_message")
        number = changes.get("client_number")
        services.appointment_update_details(
            member=member, appointment=appointment,
            personal_message=appointment.personal_message if message is None else message,
            client_number=appointment.client_number if number is None else number, request=request,
        )
    return appointment


@router.post("/appointments/{appointment_id}/cancel", response={200: s.AppointmentOut, **ERRORS},
             tags=["appointments"])
def cancel_appointment(request, appointment_id: int, payload: s.CancelIn | None = None):
    """Cancel; the client gets the cancellation email, as in the portal."""
    member = _member(request)
    appointment = _appointment_or_404(member, appointment_id)
    return services.appointment_cancel(member=member, appointment=appointment,
                                       message=payload.message if payload else "", request=request)


# --- availability and slots -----------------------------------------------------------------------

@router.get("/practitioners/{practitioner_id}/availability", response={200: list[s.AvailabilityOut], **ERRORS},
            tags=["availability"])
def list_availability(request, practitioner_id: int):
    practitioner = _practitioner_or_404(_member(request), practitioner_id)
    return list(Availability.objects.filter(practitioner=practitioner).order_by("date", "start_time", "pk"))


@router.post("/practitioners/{practitioner_id}/availability", response={201: s.AvailabilityOut, **ERRORS},
             tags=["availability"])
def create_availability(request, practitioner_id: int, payload: s.AvailabilityIn):
    member = _member(request)
    practitioner = _practitioner_or_404(member, practitioner_id)
    if not policy.can_manage_agenda(member, practitioner):
        raise Http404
    _sane_date(payload.date, "date")
    if payload.repeat_until is not None:
        _sane_date(payload.repeat_until, "repeat_until")
    if payload.end_time <= payload.start_time:
        raise ValidationError({"end_time": _("The end must be after the start.")})
    availability = Availability(practitioner=practitioner, **payload.dict())
    return Status(201, services.availability_save(member=member, availability=availability, request=request))


@router.delete("/availability/{availability_id}", response={204: None, **ERRORS}, tags=["availability"])
def delete_availability(request, availability_id: int):
    member = _member(request)
    availability = Availability.objects.select_related("practitioner").filter(pk=availability_id).first() \
        if _id(availability_id) else None
    if availability is None or not policy.can_manage_agenda(member, availability.practitioner):
        raise Http404
    services.availability_delete(member=member, availability=availability, request=request)
    return Status(204, None)


@router.get("/slots", response={200: list[s.SlotOut], **ERRORS}, tags=["availability"])
def list_slots(request, filters: Query[s.SlotQuery]):
    """Free booking slots of a practitioner, or of every practitioner of a department (both given: the
    practitioner's, when they are in that department), as the booking screens and widgets offer them."""
    member = _member(request)
    first = _sane_date(filters.date_from, "date_from")
    last = _sane_date(filters.date_to, "date_to")
    if last < first or last - first > timedelta(days=MAX_SLOT_DAYS):
        raise ValidationError({"date_to": _("Choose an end on or after the start, at most %(days)s days on.")
                               % {"days": MAX_SLOT_DAYS}})
    if filters.practitioner_id is None and filters.department_id is None:
        raise ValidationError({"practitioner_id": _("Give a practitioner, a department or both.")})
    practitioners = services.practitioners_for(member)
    if filters.practitioner_id is not None:
        practitioners = [p for p in practitioners if p.pk == filters.practitioner_id]
    if filters.department_id is not None:
        department = _department_in(member, filters.department_id)
        practitioners = [p for p in practitioners if department.pk in {d.pk for d in p.departments.all()}]
    slots = selectors.bookable_slots(member.organization, practitioners, first, last)
    return [{"starts_at": slot.starts_at, "ends_at": slot.ends_at, "practitioner_id": slot.practitioner_id}
            for slot in slots]

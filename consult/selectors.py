"""Reads for clients, agendas and appointments, already scoped and filtered by the policy."""

import zoneinfo
from datetime import datetime, time, timedelta

from django.db.models import Q
from django.utils import timezone

from orgs import policy

from .models import Appointment, AppointmentStatus, Availability, AvailabilityKind, Client
from .slots import free_slots


def zone_of(organization):
    return zoneinfo.ZoneInfo(organization.time_zone)


def clients_for(member, *, query="", external=None):
    """Clients `member` may see, searched by name, date of birth, email or client number."""
    clients = policy.visible_clients(member, Client.objects.select_related("department"))
    if external is not None:
        clients = clients.filter(is_external=external)
    query = query.strip()
    if query:
        condition = Q()
        for word in query.split():
            parsed = _parse_date(word)
            word_condition = (
                Q(last_name__icontains=word) | Q(first_name__icontains=word) | Q(initials__iexact=word)
                | Q(email__icontains=word) | Q(client_number__iexact=word)
            )
            if parsed:
                word_condition |= Q(date_of_birth=parsed)
            condition &= word_condition
        clients = clients.filter(condition)
    return clients


def possible_duplicates(member, *, last_name="", date_of_birth="", email="", client_number="", limit=10):
    """Visible clients sharing the last name, date of birth, email or client number being typed."""
    condition = Q()
    if len(last_name) >= 2:
        condition |= Q(last_name__iexact=last_name) | Q(last_name__istartswith=last_name)
    parsed = _parse_date(date_of_birth)
    if parsed:
        condition |= Q(date_of_birth=parsed)
    if "@" in email:
        condition |= Q(email__iexact=email)
    if client_number:
        condition |= Q(client_number__iexact=client_number)
    if not condition:
        return Client.objects.none()
    return clients_for(member).filter(condition)[:limit]


def _parse_date(text):
    for pattern in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def client_for(member, client_id):
    """The client with this id if `member` may see it; None otherwise (the view answers 404)."""
    return clients_for(member).filter(pk=client_id).first()


def appointments_for(member):
    return policy.visible_appointments(
        member, Appointment.objects.select_related("client", "practitioner__user", "department")
    )


def appointment_for(member, appointment_id):
    return appointments_for(member).filter(pk=appointment_id).first()


def day_bounds(organization, day):
    zone = zone_of(organization)
    start = datetime.combine(day, time(0, 0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
    return start, end


def todays_appointments(member, *, day=None):
    organization = member.organization
    day = day or timezone.localdate(timezone=zone_of(organization))
    start, end = day_bounds(organization, day)
    return appointments_for(member).filter(starts_at__gte=start, starts_at__lt=end).exclude(
        status=AppointmentStatus.CANCELLED
    ).order_by("starts_at")


def agenda_entries(member, practitioner, first_day, last_day):
    """Availability blocks (expanded) and appointments of `practitioner` between two local dates."""
    from .slots import occurrences

    organization = member.organization
    zone = zone_of(organization)
    blocks = []
    for availability in Availability.objects.filter(practitioner=practitioner):
        for start, end in occurrences(availability, zone, first_day, last_day):
            blocks.append({"availability": availability, "start": start.astimezone(zone), "end": end.astimezone(zone)})
    start, _ = day_bounds(organization, first_day)
    _, end = day_bounds(organization, last_day)
    appointments = appointments_for(member).filter(
        practitioner=practitioner, starts_at__gte=start, starts_at__lt=end
    ).exclude(status=AppointmentStatus.CANCELLED).order_by("starts_at")
    return blocks, list(appointments)


def bookable_slots(organization, practitioners, first_day, last_day, *, now=None):
    """Free booking slots for these practitioners: two queries, whatever their number."""
    practitioner_ids = [p.pk for p in practitioners]
    availabilities = list(Availability.objects.with_scopes_disabled().filter(
        organization=organization, practitioner_id__in=practitioner_ids, kind=AvailabilityKind.BOOKING,
        date__lte=last_day,
    ).filter(Q(rrule="", date__gte=first_day) | ~Q(rrule="")))
    start, _ = day_bounds(organization, first_day)
    _, end = day_bounds(organization, last_day)
    booked = {}
    # From a day early: a long appointment late the evening before can reach into the first day.
    for practitioner_id, starts_at, minutes in Appointment.objects.with_scopes_disabled().filter(
        practitioner_id__in=practitioner_ids, status=AppointmentStatus.SCHEDULED,
        starts_at__gte=start - timedelta(days=1), starts_at__lt=end,
    ).values_list("practitioner_id", "starts_at", "duration_minutes"):
        booked.setdefault(practitioner_id, []).append((starts_at, starts_at + timedelta(minutes=minutes)))
    return free_slots(availabilities, booked, zone_of(organization), first_day, last_day, now or timezone.now())


def remaining_slots_today(organization, practitioner, *, now=None):
    """How many bookable slots `practitioner` has left today, from now on (the portal's top bar)."""
    now = now or timezone.now()
    today = timezone.localdate(now, timezone=zone_of(organization))
    return len(bookable_slots(organization, [practitioner], today, today, now=now))

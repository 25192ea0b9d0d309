"""Reads for the public widget pages: who can be seen now, which times can be booked."""

from datetime import timedelta
from itertools import groupby

from django.db.models import Prefetch
from django.utils import timezone

from consult.models import Availability, AvailabilityKind
from consult.selectors import bookable_slots, zone_of
from consult.slots import occurrences
from orgs.models import Department, Membership


def widget_by_key(model, key):
    """The widget with this public key in the current organisation's scope, or None (the view's 404)."""
    return model.objects.select_related("organization", "logo", "background_image").filter(key=key).first()


def widget_departments(widget):
    """The departments the widget offers: its own choice, or every department of the organisation."""
    chosen = list(widget.departments.all()) if widget.pk else []
    return chosen or list(Department.objects.filter(organization_id=widget.organization_id))


def widget_practitioners(widget):
    """Active employees in the widget's departments (any department when it names none)."""
    members = Membership.objects.filter(organization_id=widget.organization_id, is_active=True)
    chosen = list(widget.departments.values_list("pk", flat=True)) if widget.pk else []
    if chosen:
        members = members.filter(departments__in=chosen).distinct()
    return list(members.select_related("user", "organization").prefetch_related(
        Prefetch("departments", queryset=Department.objects.order_by("name"))
    ))


def walk_in_hours_now(organization, practitioner_ids, now):
    """Ids of practitioners with a walk-in hours block running at `now` (the organisation's local time,
    repeats expanded in local time so 9:00 stays 9:00 across daylight-saving changes)."""
    zone = zone_of(organization)
    today = timezone.localdate(now, timezone=zone)
    running = set()
    for availability in Availability.objects.with_scopes_disabled().filter(
        organization=organization, practitioner_id__in=practitioner_ids, kind=AvailabilityKind.WALK_IN,
        date__lte=today,
    ):
        if availability.practitioner_id in running:
            continue
        if any(start <= now < end for start, end in occurrences(availability, zone, today, today)):
            running.add(availability.practitioner_id)
    return running


def is_available_for_walk_in(practitioner, now=None):
    """The walk-in switch is on, or walk-in hours are running now."""
    now = now or timezone.now()
    return practitioner.walk_in_open or practitioner.pk in walk_in_hours_now(
        practitioner.organization, [practitioner.pk], now
    )


def choice_value(department, practitioner):
    """How the walk-in form names a choice: "<department id>:<practitioner id>" (department may be empty)."""
    return f"{department.pk if department is not None else ''}:{practitioner.pk}"


def available_now(widget, now=None):
    """[(department, [(practitioner, choice value), …]), …]: who a walk-in visitor can see now, per
    department of the widget.

    Someone in two of the widget's departments is listed under both; someone in none of them (a widget
    for all departments) under None.
    """
    now = now or timezone.now()
    practitioners = widget_practitioners(widget)
    hours = walk_in_hours_now(widget.organization, [p.pk for p in practitioners], now)
    available = [p for p in practitioners if p.walk_in_open or p.pk in hours]
    groups = []
    listed = set()
    own_choice = bool(widget.pk) and widget.departments.exists()  # an unsaved widget (preview) names none
    for department in widget_departments(widget):
        members = [p for p in available if department in p.departments.all()]
        if members:
            groups.append((department, [(p, choice_value(department, p)) for p in members]))
            listed.update(p.pk for p in members)
    unlisted = [p for p in available if p.pk not in listed and not own_choice]
    if unlisted:
        groups.append((None, [(p, choice_value(None, p)) for p in unlisted]))
    return groups


def free_slots_by_day(widget, now=None):
    """[(local date, [(slot, practitioner, slot id), …]), …] for the widget's practitioners, the next
    `days_ahead` days (today first)."""
    now = now or timezone.now()
    organization = widget.organization
    zone = zone_of(organization)
    practitioners = {p.pk: p for p in widget_practitioners(widget)}
    first_day = timezone.localdate(now, timezone=zone)
    last_day = first_day + timedelta(days=widget.days_ahead - 1)
    slots = bookable_slots(organization, practitioners.values(), first_day, last_day, now=now)
    days = []
    for day, day_slots in groupby(slots, key=lambda slot: slot.starts_at.astimezone(zone).date()):
        days.append((day, [(slot, practitioners[slot.practitioner_id], slot_id(slot)) for slot in day_slots]))
    return days


def slot_id(slot):
    """How a form names a slot: practitioner and start (seconds since the epoch)."""
    return f"{slot.practitioner_id}-{int(slot.starts_at.timestamp())}"


def find_slot(widget, value, now=None):
    """The free slot a form names, if the widget still offers it; None otherwise."""
    from datetime import UTC, datetime

    try:
        practitioner_id, seconds = (int(part) for part in (value or "").split("-"))
        starts_at = datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None, None
    practitioner = next((p for p in widget_practitioners(widget) if p.pk == practitioner_id), None)
    if practitioner is None:
        return None, None
    day = starts_at.astimezone(zone_of(widget.organization)).date()
    slots = bookable_slots(widget.organization, [practitioner], day, day, now=now or timezone.now())
    slot = next((s for s in slots if s.starts_at == starts_at), None)
    return (slot, practitioner) if slot else (None, None)

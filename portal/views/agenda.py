"""The practitioner's agenda: availability (once or recurring) and appointments, by week or month (F-AVAIL)."""

import calendar
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from consult import selectors, services
from consult.forms import AvailabilityForm
from consult.models import Appointment, AppointmentStatus, Availability
from orgs import policy
from orgs.forms import add_service_errors

from ..access import member_required


def _practitioner(request):
    """The agenda being looked at: the member's own, or a colleague's they may manage."""
    member = request.membership
    wanted = request.GET.get("practitioner") or request.POST.get("practitioner")
    if wanted and member.pk is not None and str(wanted) == str(member.pk):
        return member
    colleagues = services.practitioners_for(member)
    if not wanted:
        practitioner = services.default_practitioner(member)
        if practitioner is None:
            raise Http404
        return practitioner
    for colleague in colleagues:
        if str(colleague.pk) == str(wanted):
            return colleague
    raise Http404


def _parse_day(text, default):
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        return default


@member_required
def agenda(request):
    member = request.membership
    organization = request.organization
    practitioner = _practitioner(request)
    today = timezone.localdate(timezone=selectors.zone_of(organization))
    view = "month" if request.GET.get("view") == "month" else "week"
    anchor = _parse_day(request.GET.get("day"), today)
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
        previous, following = first - timedelta(days=7), first + timedelta(days=7)
    else:
        first = anchor.replace(day=1)
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        previous = (first - timedelta(days=1)).replace(day=1)
        following = last + timedelta(days=1)
    blocks, appointments = selectors.agenda_entries(member, practitioner, first, last)
    zone = selectors.zone_of(organization)
    days = []
    day = first
    while day <= last:
        days.append({
            "date": day,
            "blocks": [b for b in blocks if b["start"].date() == day],
            "appointments": [a for a in appointments if a.starts_at.astimezone(zone).date() == day],
            "is_today": day == today,
        })
        day += timedelta(days=1)
    if view == "month":
        leading = [None] * first.weekday()
        cells = leading + days
        weeks = [cells[i:i + 7] for i in range(0, len(cells), 7)]
    else:
        weeks = [days]
    can_manage = policy.can_manage_agenda(member, practitioner)
    return render(request, "portal/agenda/agenda.html", {
        "practitioner": practitioner,
        "practitioners": services.practitioners_for(member),
        "can_manage": can_manage,
        "view": view, "weeks": weeks, "first": first, "last": last, "today": today,
        "previous": previous, "following": following, "anchor": anchor,
        "just_skipped": _just_skipped(request, practitioner) if can_manage else None,
    })


def _just_skipped(request, practitioner):
    """The day skipped a moment ago (?skipped=<block>:<day>), for its "Skipped — undo" line; None once restored."""
    block_id, _sep, text = (request.GET.get("skipped") or "").partition(":")
    day = _parse_day(text, None)
    if not block_id.isdigit() or day is None:
        return None
    availability = Availability.objects.filter(pk=int(block_id), practitioner=practitioner).first()
    if availability is None or day.isoformat() not in (availability.exceptions or []):
        return None
    # Skipping takes the free times away, not what is booked: say what still stands in those hours.
    zone = selectors.zone_of(request.organization)
    booked = Appointment.objects.filter(
        practitioner=practitioner, status=AppointmentStatus.SCHEDULED,
        starts_at__gte=datetime.combine(day, availability.start_time, tzinfo=zone),
        starts_at__lt=datetime.combine(day, availability.end_time, tzinfo=zone),
    ).count()
    return {"availability": availability, "day": day, "booked": booked}


def _availability_or_404(request, availability_id):
    availability = Availability.objects.select_related("practitioner").filter(pk=availability_id).first()
    if availability is None or not policy.can_manage_agenda(request.membership, availability.practitioner):
        raise Http404
    return availability


@member_required
def availability_edit(request, availability_id=None):
    member = request.membership
    if availability_id is None:
        practitioner = _practitioner(request)
        if not policy.can_manage_agenda(member, practitioner):
            raise Http404
        instance = Availability(practitioner=practitioner, organization=request.organization,
                                date=_parse_day(request.GET.get("day"), timezone.localdate()))
    else:
        instance = _availability_or_404(request, availability_id)
        practitioner = instance.practitioner
    form = AvailabilityForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        availability = form.save(commit=False)
        availability.rrule = form.cleaned_data["rrule"]
        try:
            services.availability_save(member=member, availability=availability, request=request)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied:
            raise Http404
        else:
            messages.success(request, _("The agenda has been updated."))
            return redirect(f"{_agenda_url()}?practitioner={practitioner.pk}&day={availability.date.isoformat()}")
    today = timezone.localdate(timezone=selectors.zone_of(request.organization))
    # Days skipped from now on, each with a way back; days gone by stay skipped.
    skipped_days = sorted(day for day in (_parse_day(text, None) for text in (instance.exceptions or []))
                          if day is not None and day >= today) if instance.pk else []
    return render(request, "portal/agenda/availability_form.html",
                  {"form": form, "practitioner": practitioner, "availability": instance, "skipped_days": skipped_days})


@member_required
def availability_delete(request, availability_id):
    availability = _availability_or_404(request, availability_id)
    if request.method == "POST":
        practitioner_id = availability.practitioner_id
        services.availability_delete(member=request.membership, availability=availability, request=request)
        messages.success(request, _("The hours have been removed from the agenda."))
        return redirect(f"{_agenda_url()}?practitioner={practitioner_id}")
    return render(request, "portal/agenda/availability_delete.html", {"availability": availability})


@member_required
@require_POST
def availability_day(request, availability_id):
    """Skip one day of a repeating block, or restore a skipped one, then back to the agenda where it was done."""
    availability = _availability_or_404(request, availability_id)
    day = _parse_day(request.POST.get("day"), None)
    if day is None:
        raise Http404
    restore = request.POST.get("action") == "restore"
    service = services.availability_restore_day if restore else services.availability_skip_day
    try:
        service(member=request.membership, availability=availability, day=day, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        restore = True  # nothing was skipped: no undo line to offer
    except PermissionDenied:
        raise Http404 from None
    shown = date_format(day, "l j F")
    if request.POST.get("next") == "edit":
        if restore:
            messages.success(request, _("%(day)s is back in these hours.") % {"day": shown})
        return redirect("portal:availability_edit", availability_id=availability.pk)
    query = {"practitioner": availability.practitioner_id,
             "view": "month" if request.POST.get("view") == "month" else "week",
             "day": _parse_day(request.POST.get("anchor"), day).isoformat()}
    if restore:
        messages.success(request, _("%(day)s is back in the agenda.") % {"day": shown})
    else:
        query["skipped"] = f"{availability.pk}:{day.isoformat()}"
    return redirect(f"{_agenda_url()}?{urlencode(query)}")


@member_required
def free_slots(request):
    """htmx: the free slots of a practitioner on a day, as buttons that fill the appointment form."""
    member = request.membership
    practitioner = _practitioner(request)
    day = _parse_day(request.GET.get("date"), None)
    slots = []
    if day is not None and policy.can_schedule_for(member, practitioner):
        zone = selectors.zone_of(request.organization)
        slots = [s.starts_at.astimezone(zone) for s in
                 selectors.bookable_slots(request.organization, [practitioner], day, day)]
    return render(request, "portal/agenda/_free_slots.html", {"slots": slots, "day": day})


def _agenda_url():
    from django.urls import reverse

    return reverse("portal:agenda")

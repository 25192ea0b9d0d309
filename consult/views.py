"""The personal appointment link. The token is exchanged for a session entry and leaves the URL."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from . import links
from .models import AppointmentParticipant, AppointmentStatus, RetiredLink
from .selectors import zone_of
from .waiting import active_announcements

SESSION_PARTICIPANT = "consult_participant"
SESSION_TOKEN = "consult_token_hash"


def check(request):
    """The network and hardware check anyone can open before a consult (F-ROOM-11, F-SUPPORT-1)."""
    from django.conf import settings

    return render(request, "consult/check.html", {"ice_servers": settings.ICE_SERVERS})


@never_cache
def link(request, token):
    if request.organization is None:
        raise Http404
    hashed = links.token_hash(token)
    participant = AppointmentParticipant.objects.select_related("appointment").filter(token_hash=hashed).first()
    if participant is None:
        retired = RetiredLink.objects.select_related("appointment").filter(token_hash=hashed).first()
        if retired is None:
            raise Http404
        return render(request, "consult/link_state.html", {"state": "replaced"}, status=410)
    request.session.cycle_key()
    request.session[SESSION_PARTICIPANT] = participant.pk
    request.session[SESSION_TOKEN] = hashed  # a moved appointment gives new links; this one then stops too
    return redirect("consult:appointment")


@never_cache
def appointment(request):
    """What the visitor of a link sees: too early, too late, cancelled, or the way in."""
    if request.organization is None:
        raise Http404
    participant_id = request.session.get(SESSION_PARTICIPANT)
    participant = (
        AppointmentParticipant.objects.select_related("appointment__practitioner__user", "appointment__department",
                                                      "person")
        .filter(pk=participant_id).first()
        if participant_id else None
    )
    if participant is None:
        return render(request, "consult/link_state.html", {"state": "no_session"}, status=403)
    if request.session.get(SESSION_TOKEN) != participant.token_hash:
        return render(request, "consult/link_state.html", {"state": "replaced"}, status=410)
    appointment = participant.appointment
    organization = request.organization
    zone = zone_of(organization)
    window = links.Window(appointment, organization)
    if appointment.status == AppointmentStatus.CANCELLED:
        state = "cancelled"
    elif appointment.anonymised_at:
        state = "too_late"
    else:
        state = window.state(timezone.now())
    template = "consult/waiting_room.html" if state == links.Window.OPEN else "consult/link_state.html"
    return render(request, template, {
        "state": state,
        "participant": participant,
        "appointment": appointment,
        "starts_at": appointment.starts_at.astimezone(zone),
        "opens_at": window.opens_at.astimezone(zone),
        "closes_at": window.closes_at.astimezone(zone),
        "today": timezone.localdate(timezone=zone),
        "announcements": active_announcements(appointment) if state == links.Window.OPEN else [],
        "initial_state": "walk_in" if appointment.kind == "walk_in" else (
            "late" if timezone.now() > appointment.starts_at else "on_time"),
    })

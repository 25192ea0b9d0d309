"""The personal appointment link. The token is exchanged for a session entry and leaves the URL."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import links
from .models import AppointmentParticipant, AppointmentStatus, RetiredLink
from .room_texts import explainer_video, origin_of, room_texts
from .selectors import zone_of
from .waiting import active_announcements

SESSION_PARTICIPANT = "consult_participant"
SESSION_TOKEN = "consult_token_hash"
SESSION_DISCLAIMER = "consult_disclaimer_accepted"  # the participant ids whose visitor accepted the disclaimer


def disclaimer_accepted(session, participant, organization):
    """Whether this visitor may enter the waiting room as far as the disclaimer goes (F-ORG-6)."""
    return not organization.disclaimer_enabled or participant.pk in session.get(SESSION_DISCLAIMER, [])


def entry_allowed(session, participant, organization):
    """Whether this visitor may be in the waiting room or the consultation room now, as far as their own steps
    go: the disclaimer accepted (F-ORG-6) and, for the client of a paid appointment, the consult paid
    (F-APPT-6). Every way in (pages, sockets, uploads, questionnaires) asks this one question, so none can
    forget a step; the link's window and the consult's state are checked by each as before."""
    from payments.gate import payment_due_for

    return disclaimer_accepted(session, participant, organization) and payment_due_for(participant) is None


def check(request):
    """The network and hardware check anyone can open before a consult (F-ROOM-11, F-SUPPORT-1)."""
    from django.utils.http import url_has_allowed_host_and_scheme

    # Sent here from the room when a camera failed: a way back (only to a path on this site).
    back = request.GET.get("next", "")
    if not (back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})):
        back = ""
    from .ice import ice_servers_for

    # The relay (TURN) is tested only by someone with a reason: a patient with a link, or staff; briefly.
    known = bool(request.session.get(SESSION_PARTICIPANT)) or request.user.is_authenticated
    servers = ice_servers_for("check", with_turn=known, seconds=600)
    response = render(request, "consult/check.html", {"ice_servers": servers, "back_url": back})
    response.media_devices = True  # the camera and microphone test (Permissions-Policy, orgs/security.py)
    return response


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
    enter_participant_session(request, participant)
    return redirect("consult:appointment")


def enter_participant_session(request, participant):
    """This browser's session is now `participant`'s, as opening their link does (also from the patient portal)."""
    request.session.cycle_key()
    request.session[SESSION_PARTICIPANT] = participant.pk
    # A moved appointment gives new links; this one then stops too.
    request.session[SESSION_TOKEN] = participant.token_hash


def _session_participant(request):
    """The participant whose link this browser opened, or the page that says why there is none."""
    participant_id = request.session.get(SESSION_PARTICIPANT)
    participant = (
        AppointmentParticipant.objects.select_related("appointment__practitioner__user", "appointment__department",
                                                      "person")
        .filter(pk=participant_id).first()
        if participant_id else None
    )
    if participant is None:
        return None, render(request, "consult/link_state.html", {"state": "no_session"}, status=403)
    if request.session.get(SESSION_TOKEN) != participant.token_hash:
        return None, render(request, "consult/link_state.html", {"state": "replaced"}, status=410)
    return participant, None


def link_state(appointment, organization):
    """"open" while the personal link lets its holder in; otherwise why not (cancelled, too early, too late)."""
    if appointment.status == AppointmentStatus.CANCELLED:
        return "cancelled"
    if appointment.anonymised_at:
        return "too_late"
    return links.Window(appointment, organization).state(timezone.now())


@never_cache
def appointment(request):
    """What the visitor of a link sees: too early, too late, cancelled, the disclaimer, or the waiting room."""
    if request.organization is None:
        raise Http404
    participant, refusal = _session_participant(request)
    if refusal is not None:
        return refusal
    appointment = participant.appointment
    organization = request.organization
    from portal.views.patient_forms import waiting_room_questionnaires

    from . import room

    allowed = entry_allowed(request.session, participant, organization)
    if allowed:
        if room.consult_for_participant(participant) is not None:
            return redirect("consult:room")  # called in, force-started or a quick consult: no waiting
        latest = room.latest_consult_for(appointment)
        if latest is not None and not latest.is_open and appointment.status == AppointmentStatus.COMPLETED:
            return redirect("consult:room_ended")
    zone = zone_of(organization)
    window = links.Window(appointment, organization)
    state = link_state(appointment, organization)
    context = {
        "state": state,
        "participant": participant,
        "appointment": appointment,
        "starts_at": appointment.starts_at.astimezone(zone),
        "opens_at": window.opens_at.astimezone(zone),
        "closes_at": window.closes_at.astimezone(zone),
        "today": timezone.localdate(timezone=zone),
    }
    from payments.gate import payment_due_for

    # Paying comes first: too early, the client may already pay in advance; once open, the pay page stands in
    # for the waiting room until the payment is confirmed.
    due = None if allowed else payment_due_for(participant)
    if state != links.Window.OPEN:
        context["payment_due"] = due if state == links.Window.TOO_EARLY else None
        return render(request, "consult/link_state.html", context)
    if due is not None:
        return redirect("payments:pay")
    accepted = disclaimer_accepted(request.session, participant, organization)
    video = explainer_video(organization.explainer_video_url) if accepted else None
    more_info = organization.more_info_iframe_url if accepted else ""
    context.update({
        "needs_disclaimer": not accepted,
        "texts": room_texts(appointment, participant, translation.get_language()),
        "video": video,
        "more_info_url": more_info,
        "announcements": active_announcements(appointment) if accepted else [],
        "questionnaires": waiting_room_questionnaires(organization, participant) if accepted else [],
        "initial_state": "walk_in" if appointment.kind == "walk_in" else (
            "late" if timezone.now() > appointment.starts_at else "on_time"),
    })
    response = render(request, "consult/waiting_room.html", context)
    response.media_devices = True  # "Check my camera and microphone" (Permissions-Policy, orgs/security.py)
    # The page's Content-Security-Policy lets in exactly the organisation's video and page (orgs/security.py).
    if video is not None and video.kind == "file":
        response.csp_media_src = [origin_of(video.src)]
    response.csp_frame_src = [origin for origin in (
        origin_of(video.src) if video is not None and video.kind == "embed" else "", origin_of(more_info),
    ) if origin]
    return response


@never_cache
@require_POST
def accept_disclaimer(request):
    """"I accept": remembered in this browser's session for this participant; then into the waiting room."""
    if request.organization is None:
        raise Http404
    participant, refusal = _session_participant(request)
    if refusal is not None:
        return refusal
    accepted = request.session.get(SESSION_DISCLAIMER, [])
    if participant.pk not in accepted:
        request.session[SESSION_DISCLAIMER] = [*accepted, participant.pk]
    return redirect("consult:appointment")

"""The consultation room's pages for patients (/c/room/…); the staff side is portal/views/room.py.

A patient is whoever the session's participant is (the emailed link was exchanged for it); the room
only opens while their consult is open (and, for extra participants, while the client is in it).
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import room
from .ice import ice_servers_for
from .room_texts import origin_of
from .views import SESSION_PARTICIPANT, SESSION_TOKEN


def room_config(request, *, consult, me_role, socket_path, files_url, end_url="", participants_url="",
                leave_url, check_url):
    """What room.js needs, as one JSON document in the page (json_script): no data in inline scripts."""
    organization = request.organization
    return {
        "role": me_role,
        "socketPath": socket_path,
        "iceServers": ice_servers_for(f"{me_role}-{consult.pk}"),
        "startedAt": consult.started_at.isoformat(),
        "filesUrl": files_url,
        "endUrl": end_url,
        "participantsUrl": participants_url,
        "leaveUrl": leave_url,
        "checkUrl": check_url,
        "fileMaxBytes": settings.ROOM_FILE_MAX_BYTES,
        "switches": {
            "fileSharing": organization.file_sharing,
            "screenSharing": organization.screen_sharing,
            "resolutionChange": organization.allow_resolution_change,
            "backgroundEffects": organization.allow_background_effects,
            "warnBackgroundActive": organization.warn_background_active,
            "deviceSettingsFirst": organization.device_settings_first,
            "cameraFailureCheck": organization.camera_failure_check,
            "videoFit": organization.video_fit,
        },
        "vendor": {
            "adapter": _static("vendor/webrtc-adapter/adapter.js"),
            "segmentation": _static("vendor/selfie_segmentation/selfie_segmentation.js").rsplit("/", 1)[0] + "/",
        },
    }


def _static(path):
    from django.templatetags.static import static

    return static(path)


def _participant(request):
    if request.organization is None:
        raise Http404
    return room.participant_by_session(request.organization, request.session.get(SESSION_PARTICIPANT),
                                       request.session.get(SESSION_TOKEN))


@never_cache
def patient_room(request):
    participant = _participant(request)
    if participant is None:
        return render(request, "consult/link_state.html", {"state": "no_session"}, status=403)
    from .views import entry_allowed

    consult = room.consult_for_participant(participant)
    if consult is None or not entry_allowed(request.session, participant, request.organization):
        latest = room.latest_consult_for(participant.appointment)
        if latest is not None and not latest.is_open:
            return redirect("consult:room_ended")
        return redirect("consult:appointment")  # the waiting room, or why the link does not open
    config = room_config(
        request, consult=consult, me_role="client" if participant.role == "client" else "guest",
        socket_path="/ws/room/", files_url=reverse("consult:room_file_upload"), leave_url=reverse("consult:room_ended"),
        check_url=reverse("consult:check") + "?next=" + reverse("consult:room"),
    )
    practitioner = participant.appointment.practitioner
    photo = practitioner.user.photo if practitioner is not None else None
    return room_page(request, {
        "config": config, "consult": consult, "appointment": participant.appointment, "staff": False,
        "other_party": _other_party(participant.appointment), "other_photo": photo.url if photo else "",
    })


def room_page(request, context):
    response = render(request, "consult/room.html", context)
    response.csp_wasm = True  # background blur runs WebAssembly
    response.media_devices = True  # camera, microphone, screen sharing (Permissions-Policy, orgs/security.py)
    return response


def _other_party(appointment):
    if appointment.practitioner_id:
        return appointment.practitioner.user.get_full_name()
    return appointment.department.name if appointment.department_id else ""


@never_cache
def room_ended(request):
    """After the consult: the organisation's after-consult message and, when set, the evaluation survey."""
    participant = _participant(request)
    if participant is None:
        return render(request, "consult/link_state.html", {"state": "no_session"}, status=403)
    latest = room.latest_consult_for(participant.appointment)
    if latest is None or latest.is_open:
        return redirect("consult:appointment")
    from .room_texts import room_texts

    organization = request.organization
    texts = room_texts(participant.appointment, participant, request.LANGUAGE_CODE)
    survey = organization.evaluation_survey_url
    response = render(request, "consult/room_ended.html", {
        "after_consult": texts.after_consult, "survey_url": survey, "duration": latest.duration,
        "other_party": _other_party(participant.appointment),
        "chat_portal_url": _chat_goes_on_in_portal(organization, participant),
    })
    if survey:
        response.csp_frame_src = [origin_of(survey)]
    return response


def _chat_goes_on_in_portal(organization, participant):
    """The client's patient-portal address when their chat with the practice stays open after the consult
    (F-ORG-6 "chat stays open after the consult", not deleted after it), else "". Only for the appointment's
    client: an extra participant has no chat with the practice."""
    from chat.selectors import channel_of_appointment
    from chat.services import client_may_post
    from portal.patient_links import portal_path

    appointment = participant.appointment
    if (not organization.chat_open_after_consult or organization.delete_chat_after_consult
            or appointment.client_id is None or participant.role != "client"
            or participant.person_id != appointment.client_id):
        return ""
    channel = channel_of_appointment(appointment)
    if channel is None or not client_may_post(channel)[0]:
        return ""  # access revoked: no promise of a chat
    return portal_path(appointment.client)


def _patient_consult(request):
    from .views import entry_allowed

    participant = _participant(request)
    consult = room.consult_for_participant(participant) if participant is not None else None
    if consult is None or not entry_allowed(request.session, participant, request.organization):
        raise Http404
    return participant, consult


@require_POST
def patient_file_upload(request):
    participant, consult = _patient_consult(request)
    person = participant.person
    return share_file(request, consult=consult, peer_id=room.participant_peer_id(participant),
                      sender_name=person.display_name if person else "")


def share_file(request, *, consult, peer_id, sender_name):
    """The upload behind the room's "share a file" (staff and patients alike); answers JSON."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > settings.ROOM_FILE_MAX_BYTES + 64 * 1024:  # form overhead
        # Refused before the body is parsed; the proxy's body limit (README) stops it before it is stored.
        return JsonResponse({"error": _("This file is too large to share; the limit is %(size)s.") % {
            "size": filesizeformat(settings.ROOM_FILE_MAX_BYTES)}}, status=413)
    try:
        shared = room.file_share(consult=consult, peer_id=peer_id, sender_name=sender_name,
                                 upload=request.FILES.get("file"))
    except PermissionDenied:
        raise Http404
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    return JsonResponse({"file": room.file_summary(shared)}, status=201)


def send_file(consult, file_id):
    shared = room.shared_file_for(consult, file_id)
    if shared is None or not shared.file.storage.exists(shared.file.name):
        raise Http404
    response = FileResponse(shared.file.open("rb"), as_attachment=True, filename=shared.name,
                            content_type="application/octet-stream")
    response["Cache-Control"] = "no-store"
    return response


@never_cache
def patient_file_download(request, file_id):
    _participant_, consult = _patient_consult(request)
    return send_file(consult, file_id)

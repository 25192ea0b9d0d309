"""The consultation room for staff: open it (force start), hold it, add a participant, share files, end it."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from consult import room, selectors
from consult.forms import RoomParticipantForm
from consult.room_views import room_config, room_page, send_file, share_file
from orgs import policy

from ..access import member_required


def _holdable_appointment(request, appointment_id):
    appointment = selectors.appointment_for(request.membership, appointment_id)
    if appointment is None or not policy.can_hold_consult(request.membership, appointment):
        raise Http404
    return appointment


def _consult(request, appointment_id):
    consult = room.consult_for_staff(request.membership, appointment_id)
    if consult is None:
        raise Http404
    return consult


@member_required
@never_cache
def consult_room(request, appointment_id):
    appointment = _holdable_appointment(request, appointment_id)
    consult = room.consult_for_staff(request.membership, appointment.pk)
    if consult is None:
        latest = room.latest_consult_for(appointment)
        if latest is not None:
            messages.info(request, _("This consult has ended."))
        else:
            messages.info(request, _("This consult has not started. Call the client in from the waiting room."))
        return redirect("portal:appointment_detail", appointment.pk)
    config = room_config(
        request, consult=consult, me_role="staff", socket_path=f"/ws/room/{appointment.pk}/",
        files_url=reverse("portal:room_files", args=[appointment.pk]),
        end_url=reverse("portal:room_end", args=[appointment.pk]),
        participants_url=reverse("portal:room_participants", args=[appointment.pk]),
        leave_url=reverse("portal:waiting_room"),
        check_url=reverse("consult:check") + "?next=" + reverse("portal:room", args=[appointment.pk]),
    )
    return room_page(request, {
        "config": config, "consult": consult, "appointment": appointment, "staff": True,
        "other_party": appointment.client.display_name if appointment.client else "",
        "participant_form": RoomParticipantForm(),
    })


@member_required
@require_POST
def consult_start(request, appointment_id):
    """Force start (F-WAIT-3) and quick consults: the practitioner goes in before the client arrives."""
    appointment = _holdable_appointment(request, appointment_id)
    try:
        room.consult_start(member=request.membership, appointment=appointment, force=True, request=request)
    except PermissionDenied:
        raise Http404
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("portal:appointment_detail", appointment.pk)
    return redirect("portal:room", appointment.pk)


@member_required
@require_POST
def consult_end(request, appointment_id):
    consult = _consult(request, appointment_id)
    consult = room.consult_end(member=request.membership, consult=consult, request=request)
    minutes = int(consult.duration.total_seconds() // 60)
    messages.success(request, _("The consult has ended after %(minutes)s minutes.") % {"minutes": minutes})
    return redirect("portal:waiting_room")


@member_required
@require_POST
def add_participant(request, appointment_id):
    consult = _consult(request, appointment_id)
    form = RoomParticipantForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"errors": {k: [str(m) for m in v] for k, v in form.errors.items()}}, status=400)
    try:
        participant, link = room.participant_add(member=request.membership, consult=consult, request=request,
                                                 **form.cleaned_data)
    except ValidationError as error:
        return JsonResponse({"errors": {"__all__": error.messages}}, status=400)
    return JsonResponse({"name": participant.person.display_name, "link": link}, status=201)


@member_required
@require_POST
def file_upload(request, appointment_id):
    consult = _consult(request, appointment_id)
    user = request.user
    return share_file(request, consult=consult, peer_id=room.staff_peer_id(request.membership),
                      sender_name=user.get_full_name() or user.email)


@member_required
@never_cache
def file_download(request, appointment_id, file_id):
    return send_file(_consult(request, appointment_id), file_id)


@member_required
@require_POST
def walk_in_switch(request):
    """Open or close walk-in hours from the room or the waiting room (F-ROOM-10); JSON for the room's switch."""
    from consult.services import walk_in_set

    member = walk_in_set(member=request.membership, is_open=request.POST.get("open") == "1")
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"open": member.walk_in_open})
    messages.success(request, _("Walk-ins are open.") if member.walk_in_open else _("Walk-ins are closed."))
    return redirect(request.POST.get("back") if request.POST.get("back", "").startswith("/portal/")
                    else "portal:waiting_room")

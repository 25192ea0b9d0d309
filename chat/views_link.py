"""Chat from the personal appointment link (F-CHAT-4, F-ORG-6 "chat in the waiting room").

Whether the client comes too early, on time or too late, the link's pages show the appointment's channel
(its practitioner's, or its department's) when the organisation has "chat in the waiting room" on. Only the
appointment's client chats there: guests on the same appointment have links too, but the conversation is
the client's own. A cancelled appointment or a replaced link (SESSION_TOKEN no longer matches) has none.
"""

from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from consult import room
from consult.models import AppointmentStatus
from consult.views import SESSION_PARTICIPANT, SESSION_TOKEN

from . import selectors, services
from .models import Channel, ChannelKind
from .views_patient import client_side_state, post_message, posted_response, updates_payload


def appointment_channel(appointment):
    """The channel of the appointment's client with its practitioner (or department), created if the
    appointment predates it (channel_ensure_for_appointment does that when appointments are made)."""
    channels = Channel.objects.filter(kind=ChannelKind.CLIENT, client_id=appointment.client_id)
    if appointment.practitioner_id:
        channel = channels.filter(practitioner_id=appointment.practitioner_id).first()
    else:
        channel = channels.filter(practitioner__isnull=True, department_id=appointment.department_id).first()
    return channel or services.channel_ensure_for_appointment(appointment=appointment)


def link_chat(request):
    """(participant, channel) when this browser's appointment link may chat now, else None."""
    organization = getattr(request, "organization", None)
    if organization is None or not organization.chat_in_waiting_room:
        return None
    participant = room.participant_by_session(organization, request.session.get(SESSION_PARTICIPANT),
                                              request.session.get(SESSION_TOKEN))
    if participant is None:
        return None
    appointment = participant.appointment
    if (appointment.client_id is None or participant.person_id != appointment.client_id
            or appointment.status == AppointmentStatus.CANCELLED or appointment.anonymised_at):
        return None
    channel = appointment_channel(appointment)
    if channel is None:
        return None
    return participant, channel


def panel_context(request):
    """What chat/_panel.html needs on the link's pages, or None when this visitor has no chat there."""
    found = link_chat(request)
    if found is None:
        return None
    _participant, channel = found
    can_post, reason = client_side_state(channel)
    if channel.client_access:
        services.channel_mark_read_by_client(channel=channel)
    return {
        "channel": channel, "history": selectors.messages_for(channel, viewer="client", for_client=True),
        "ws_path": f"/ws/chat/{channel.pk}/", "updates_url": reverse("consult:chat:updates"),
        "post_url": reverse("consult:chat:post"), "can_post": can_post, "closed_reason": reason, "me": "client",
    }


def _found_or_404(request):
    if getattr(request, "organization", None) is None:
        raise Http404
    found = link_chat(request)
    if found is None:
        raise Http404
    return found


@never_cache
@require_http_methods(["GET", "POST"])
def post(request):
    """POST: send as the appointment's client, then back to the link's page. GET: that page."""
    if request.method == "GET":
        return redirect("consult:appointment")
    participant, channel = _found_or_404(request)
    message, error = post_message(request, channel, appointment=participant.appointment)
    return posted_response(request, message, error, back_url=reverse("consult:appointment"))


@never_cache
@require_GET
def updates(request):
    """The chat component's fallback while its socket is down: new messages since ?after=<id> (marks read)."""
    _participant, channel = _found_or_404(request)
    payload = updates_payload(channel, request.GET.get("after"))
    if channel.client_access and payload["messages"]:
        services.channel_mark_read_by_client(channel=channel)
    return JsonResponse(payload)

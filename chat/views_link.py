"""Chat from the personal appointment link (F-CHAT-4, F-ORG-6 "chat in the waiting room").

Whether the client comes too early, on time or too late, the link's pages show the appointment's channel
(its practitioner's, or its department's) when the organisation has "chat in the waiting room" on. Only the
appointment's client chats there: guests on the same appointment have links too, but the conversation is
the client's own. A cancelled appointment or a replaced link (SESSION_TOKEN no longer matches) has none.

The link is a bearer URL without a PIN (F-PORTAL-2 asks for one outside the appointment window), so its chat is
bounded to the appointment: it works from the booking until policy.LINK_CHAT_AFTER_WINDOW after the link's window
closes, and shows the conversation only from the appointment's booking on. After that the pages point to the
patient portal (its sign-in asks for the PIN), where the whole conversation is.
"""


from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from portal.patient_links import portal_path

from . import selectors, services
from .access import client_side_state, link_chat, link_chat_over, link_participant
from .views_patient import post_message, posted_response, updates_payload


def ended_context(request):
    """What chat/patient/_link_chat_ended.html needs when this link's chat is over (the portal takes over), else
    None."""
    participant = link_participant(request)
    if participant is None or not link_chat_over(request, participant):
        return None
    return {"portal_url": portal_path(participant.appointment.client)}


def panel_context(request):
    """What chat/_panel.html needs on the link's pages, or None when this visitor has no chat there."""
    found = link_chat(request)
    if found is None:
        return None
    participant, channel = found
    can_post, reason = client_side_state(channel)
    if channel.client_access:
        services.channel_mark_read_by_client(channel=channel)
    return {
        "channel": channel,
        "history": selectors.messages_for(channel, viewer="client", for_client=True,
                                          since=participant.appointment.created_at),
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
    participant, channel = _found_or_404(request)
    payload = updates_payload(channel, request.GET.get("after"), since=participant.appointment.created_at)
    if channel.client_access and payload["messages"]:
        services.channel_mark_read_by_client(channel=channel)
    return JsonResponse(payload)

"""The client's side of continuous chat in the patient portal (F-CHAT-2,4,7): /patient/messages/.

The signed-in patient (portal/patient_session.py) may speak for several clients (a parent and children);
each client's channels stay separate, one per practitioner or department. Channel ids from the address are
looked up through chat.selectors.channel_for_client_session: another client's or organisation's id is a 404.

The client reading their own conversation is not audited (like their own questionnaire answers, it is their
own data; the audit log records staff reads). Pages are `never_cache` through `patient_required`.
"""

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from consult.models import Client
from portal.views.patient import patient_required

from . import selectors, services
from .access import client_post_limited, client_side_state
from .selectors import channel_title, clients_channels
from .serialise import message_json


def wants_json(request):
    return (request.headers.get("x-requested-with") == "XMLHttpRequest"
            or "application/json" in request.headers.get("accept", ""))


def post_message(request, channel, *, appointment=None):
    """Post the form's text as the channel's client. Returns (message, error text)."""
    can_post, reason = client_side_state(channel)
    if not can_post:
        return None, reason
    if client_post_limited(channel):
        return None, _("You sent many messages in a short time. Please wait a minute and try again.")
    try:
        message = services.message_post(channel=channel, text=request.POST.get("text", ""), client=channel.client,
                                        appointment=appointment)
    except ValidationError as error:
        return None, " ".join(error.messages)
    return message, ""


def posted_response(request, message, error, *, back_url):
    """The answer to a post: JSON for the chat component, else back to the page (the error shown once)."""
    from django.contrib import messages as flash

    if wants_json(request):
        if message is None:
            return JsonResponse({"error": error}, status=400)
        return JsonResponse({"message": message_json(message, viewer="client")}, status=201)
    if message is None:
        flash.error(request, error)
    # Back at the newest message (the panel's #chat-end), or at the form with the reason above the page.
    return redirect(f"{back_url}#chat-form" if message is None else f"{back_url}#chat-end")


def updates_payload(channel, after, *, since=None):
    """New messages after id `after` for the client, and whether they may still write. `since`: none older (the
    appointment link's view of the conversation)."""
    try:
        after_id = int(after) if after else None
    except ValueError:
        after_id = None
    can_post, reason = client_side_state(channel)
    return {"messages": selectors.messages_for(channel, viewer="client", after_id=after_id, for_client=True,
                                               since=since),
            "open": can_post, "reason": reason}


def _channel(request, channel_id):
    return selectors.channel_for_client_session(request.organization, request.patient.client_ids, channel_id)


@patient_required
@require_GET
def channel_list(request):
    clients = list(Client.objects.filter(pk__in=request.patient.client_ids).order_by("last_name", "pk"))
    groups = []
    for client in clients:
        channels = list(selectors.channels_for_client(client))
        for channel in channels:
            channel.title = channel_title(channel)
        groups.append({"client": client, "channels": channels})
    return render(request, "chat/patient/list.html", {
        "groups": groups, "several": len(clients) > 1, "signed_in": True,
    })


@patient_required
@require_GET
def unread_count(request):
    """{"total": n} for the unread badge on the portal's home page (chat/static/chat/unread-badge.js polls it)."""
    return JsonResponse({"total": sum(channel.unread for channel in clients_channels(request.patient.client_ids))})


@patient_required
@require_http_methods(["GET", "POST"])
def channel_page(request, channel_id):
    channel = _channel(request, channel_id)
    url = reverse("patient:chat:channel", args=[channel.pk])
    if request.method == "POST":
        message, error = post_message(request, channel)
        return posted_response(request, message, error, back_url=url)
    can_post, reason = client_side_state(channel)
    if channel.client_access:
        services.channel_mark_read_by_client(channel=channel)
    several = len(request.patient.client_ids) > 1
    return render(request, "chat/patient/channel.html", {
        "channel": channel, "title": channel_title(channel), "several": several, "signed_in": True,
        "history": selectors.messages_for(channel, viewer="client", for_client=True),
        "ws_path": f"/ws/chat/{channel.pk}/",
        "updates_url": reverse("patient:chat:updates", args=[channel.pk]),
        "post_url": url, "can_post": can_post, "closed_reason": reason, "me": "client",
    })


@patient_required
@require_GET
def updates(request, channel_id):
    """The chat component's fallback while its socket is down: new messages since ?after=<id> (marks read)."""
    channel = _channel(request, channel_id)
    payload = updates_payload(channel, request.GET.get("after"))
    if channel.client_access and payload["messages"]:
        services.channel_mark_read_by_client(channel=channel)
    return JsonResponse(payload)

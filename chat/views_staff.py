"""The staff side of chat (F-CHAT-1, 2, 3, 5, 6): the messages page, one channel's page, its live-update and
unread-count JSON, joining, granting and revoking a client's access, deleting a history, and creating a
channel from the client record.

Thin adapters: every channel comes from `selectors.channel_for` (scoped; a foreign or hidden id is a 404),
every "may" is asked of orgs.policy, every change is a POST through chat.services. Reading a channel is
reading patient data: opening its page writes a "chat.view" audit row, like the client record's "client.view".
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from consult import selectors as consult_selectors
from orgs import policy
from orgs.selectors import member_capacity
from orgs.services import audit_record
from portal.access import member_required

from . import selectors, services
from .access import channel_actions, write_refusal
from .forms import AccessForm, ChannelCreateForm, MessageForm
from .models import ChannelKind
from .serialise import message_json

# --- helpers -----------------------------------------------------------------------------------------------

def _channel_or_404(request, channel_id):
    # The selector raises Http404 for another organisation's channel and for one the member may not see.
    return selectors.channel_for(request.membership, channel_id)


def _wants_json(request):
    return (request.headers.get("x-requested-with") == "XMLHttpRequest"
            or "application/json" in request.headers.get("accept", ""))


def _safe_next(request, target):
    """A path on this site to return to, or "" (never another host, never a javascript: address)."""
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return ""


def _back(request, channel):
    """Where a form on the client record or the channel page returns to: a path on this site, else the channel."""
    return _safe_next(request, request.POST.get("next", "")) or reverse("portal:message_channel", args=[channel.pk])


def _service_error(request, error):
    messages.error(request, " ".join(error.messages))


def _subject(channel):
    """Whose conversation it is, for the audit log: the client, or the site visitor."""
    if channel.kind == ChannelKind.PUBLIC:
        return channel.visitor_name or _("Website visitor")
    return channel.client.display_name


def _mark_read(member, channel):
    # Platform staff looking during remote support must not clear the employee's unread messages.
    if policy.can_act_live(member):
        services.channel_mark_read(channel=channel, member=member)


def _audit_view(request, channel):
    audit_record(organization=request.organization, actor=request.user, action="chat.view", target=channel,
                 subject=_subject(channel), acting_for=member_capacity(request.membership), request=request)


def channel_notice(channel):
    """What a channel that still takes staff messages should say about the client's side."""
    if channel.kind == ChannelKind.CLIENT and channel.client_access and channel.closed_at:
        return _("This chat closed for the client when the consult ended. You can still write; the client "
                 "reads it when the chat opens again (with the next appointment or when access is granted).")
    return ""


def _describe(channel):
    """Who the channel is with, for headings: "Client — practitioner" or "Client — department"."""
    if channel.kind == ChannelKind.PUBLIC:
        return channel.visitor_name or _("Website visitor")
    with_whom = channel.practitioner.user.get_full_name() if channel.practitioner_id else (
        channel.department.name if channel.department_id else "")
    return f"{channel.client.display_name} — {with_whom}" if with_whom else channel.client.display_name


# --- the messages page --------------------------------------------------------------------------------------

def _answers_public(member):
    return member.organization.public_chat_widget and policy.can_answer_public_chat(member)


@never_cache
@member_required
@require_GET
def message_list(request):
    member = request.membership
    unread_only = request.GET.get("show") == "unread"
    channels = selectors.channels_for_member(member)
    if unread_only:
        channels = [channel for channel in channels if channel.unread]
    public_section = _answers_public(member)
    return render(request, "chat/staff/list.html", {
        "client_channels": [c for c in channels if c.kind == ChannelKind.CLIENT],
        "public_channels": [c for c in channels if c.kind == ChannelKind.PUBLIC] if public_section else [],
        "public_section": public_section,
        "unread_only": unread_only,
    })


@never_cache
@member_required
@require_GET
def public_list(request):
    """The website visitors' conversations alone (F-CHAT-6), for those who answer them."""
    member = request.membership
    if not _answers_public(member):
        raise Http404
    unread_only = request.GET.get("show") == "unread"
    channels = [c for c in selectors.channels_for_member(member)
                if c.kind == ChannelKind.PUBLIC and (c.unread or not unread_only)]
    return render(request, "chat/staff/public_list.html", {"public_channels": channels, "unread_only": unread_only})


@never_cache
@member_required
@require_GET
def unread_count(request):
    """The navigation's count (unread-badge.js asks after every inbox event)."""
    return JsonResponse({"total": selectors.unread_total(request.membership)})


# --- one channel --------------------------------------------------------------------------------------------

def _post(request, channel):
    """POST on the channel page: send a message. JSON for chat.js's fetch fallback, a redirect without JS."""
    member = request.membership
    form = MessageForm(request.POST)
    refusal = write_refusal(member, channel)
    error = refusal
    message = None
    if refusal is None:
        if form.is_valid():
            try:
                message = services.message_post(channel=channel, text=form.cleaned_data["text"], member=member)
            except ValidationError as failure:
                error = " ".join(failure.messages)
            except PermissionDenied:
                error = _("You cannot write in this chat.")
        else:
            error = " ".join(form.errors.get("text", [_("Write a message first.")]))
    if _wants_json(request):
        if error:
            return JsonResponse({"error": error}, status=403 if refusal else 400)
        return JsonResponse({"message": message_json(message, viewer=member)}, status=201)
    if error:
        messages.error(request, error)
    return redirect("portal:message_channel", channel.pk)


@never_cache
@member_required
def channel_page(request, channel_id):
    member = request.membership
    channel = _channel_or_404(request, channel_id)
    if request.method == "POST":
        return _post(request, channel)
    if request.method != "GET":
        return JsonResponse({"error": "method not allowed"}, status=405)
    history = selectors.messages_for(channel, viewer=member)
    _mark_read(member, channel)
    _audit_view(request, channel)
    refusal = write_refusal(member, channel)
    return render(request, "chat/staff/channel.html", {
        "channel": channel,
        "title": _describe(channel),
        "history": history,
        "ws_path": f"/ws/chat/{channel.pk}/",
        "updates_url": reverse("portal:message_updates", args=[channel.pk]),
        "post_url": reverse("portal:message_channel", args=[channel.pk]),
        "can_post": refusal is None,
        "closed_reason": refusal or "",
        "notice": channel_notice(channel),
        "me": "staff",
        "actions": channel_actions(member, channel),
    })


@never_cache
@member_required
@require_GET
def channel_updates(request, channel_id):
    """Messages after ?after=<id> (the panel polls this while its socket is down); reading them marks read.
    Without `after` (or 0) it returns the history, so it is audited like the page."""
    member = request.membership
    channel = _channel_or_404(request, channel_id)
    try:
        after_id = int(request.GET.get("after") or 0)
    except ValueError:
        after_id = 0
    found = selectors.messages_for(channel, viewer=member, after_id=after_id or None)
    if not after_id:
        _audit_view(request, channel)  # the whole history (up to 200 messages), as the page shows it: a read
    if found:
        _mark_read(member, channel)
    refusal = write_refusal(member, channel)
    return JsonResponse({"messages": found, "open": refusal is None, "reason": refusal or ""})


@member_required
@require_POST
def channel_join(request, channel_id):
    member = request.membership
    channel = selectors.joinable_channel_for(member, channel_id)
    try:
        services.channel_join(member=member, channel=channel, request=request)
    except PermissionDenied:
        messages.error(request, _("You cannot join this chat."))
    except ValidationError as error:
        _service_error(request, error)
    else:
        messages.success(request, _("You have joined the chat with %(name)s.") % {"name": _subject(channel)})
        # Joined to read and answer: straight to the conversation, not back to where "Join" was pressed.
        return redirect("portal:message_channel", channel.pk)
    return redirect(_back(request, channel))


@member_required
@require_POST
def channel_access(request, channel_id):
    """Grant or revoke the client's chat access (F-CHAT-3): department admins and organisation admins."""
    member = request.membership
    channel = _channel_or_404(request, channel_id)
    form = AccessForm(request.POST)
    if channel.kind != ChannelKind.CLIENT or not form.is_valid():
        messages.error(request, _("Choose whether to grant or revoke access."))
        return redirect(_back(request, channel))
    allowed = form.cleaned_data["allowed"]
    try:
        services.chat_access_set(member=member, channel=channel, allowed=allowed, request=request)
    except PermissionDenied:
        messages.error(request, _("Only department admins and organisation admins grant or revoke chat access."))
    except ValidationError as error:
        _service_error(request, error)
    else:
        name = {"name": channel.client.display_name}
        messages.success(request, _("%(name)s can chat again.") % name if allowed
                         else _("%(name)s can no longer read or write new messages in this chat.") % name)
    return redirect(_back(request, channel))


@never_cache
@member_required
def channel_delete_history(request, channel_id):
    """GET asks to confirm (works without JS); POST deletes every message of the channel (audited by the
    service)."""
    member = request.membership
    channel = _channel_or_404(request, channel_id)
    if not policy.can_delete_chat_history(member, channel):
        raise Http404
    if request.method == "POST":
        try:
            services.history_delete(member=member, channel=channel, request=request)
        except PermissionDenied:
            messages.error(request, _("You cannot delete this chat's history."))
        except ValidationError as error:
            _service_error(request, error)
        else:
            messages.success(request, _("The chat history has been deleted."))
        return redirect(_back(request, channel))
    if request.method != "GET":
        return JsonResponse({"error": "method not allowed"}, status=405)
    return render(request, "chat/staff/delete_history.html", {
        "channel": channel, "title": _describe(channel), "next": _safe_next(request, request.GET.get("next", "")),
    })


# --- the client record --------------------------------------------------------------------------------------

@member_required
@require_POST
def client_channel_create(request, client_id):
    """"Create chat channel with …" on the client record: a practitioner for themselves, a department admin for a
    practitioner of the client's department, an organisation admin for anyone (policy.can_create_channel)."""
    member = request.membership
    client = consult_selectors.client_for(member, client_id)
    if client is None or client.is_external:
        raise Http404
    record = reverse("portal:client_detail", args=[client.pk]) + "#chat"
    form = ChannelCreateForm(request.POST, member=member, client=client)
    if not form.is_valid():
        messages.error(request, _("Choose a practitioner you may open a chat channel for."))
        return redirect(record)
    try:
        channel = services.channel_create(member=member, client=client, practitioner=form.cleaned_data["practitioner"],
                                          request=request)
    except ValidationError as error:
        _service_error(request, error)
        return redirect(record)
    except PermissionDenied:
        messages.error(request, _("You cannot open a chat channel for this practitioner."))
        return redirect(record)
    messages.success(request, _("The chat channel has been created."))
    return redirect("portal:message_channel", channel.pk)

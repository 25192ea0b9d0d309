"""Chat in the staff portal's shared pages (F-CHAT-2): the navigation's unread count, the chat icons of client
and appointment lists, and the client record's "Chat channels" section.

Tags rather than a context processor or view changes: the queries run only on pages that show them, and the
portal's own views stay unaware of chat.
"""

from django import template
from django.template.loader import render_to_string
from django.urls import reverse

from orgs import policy

register = template.Library()


def _member(context):
    request = context.get("request")
    member = getattr(request, "membership", None)
    if member is None or member.pk is None or not policy.can_use_portal(member):
        return None
    return member


@register.simple_tag(takes_context=True)
def chat_unread_total(context):
    """The member's unread chat messages (chat.selectors.unread_total: one or two queries); None off the portal."""
    member = _member(context)
    if member is None:
        return None
    from chat.selectors import unread_total

    return unread_total(member)


def _client_id(row):
    """A list row is a client, or something with a client (an appointment)."""
    from consult.models import Client

    if isinstance(row, Client):
        return None if row.is_external else row.pk
    return getattr(row, "client_id", None)


@register.simple_tag(takes_context=True)
def chat_icon_states(context, rows):
    """{client id: [channels]} for every client of a list, in one query (chat.selectors.chat_icon_states).
    Use once per list: `{% chat_icon_states clients as chat_states %}`, then `{% chat_icon chat_states c %}`."""
    member = _member(context)
    if member is None:
        return {}
    client_ids = {client_id for client_id in map(_client_id, rows) if client_id}
    if not client_ids:
        return {}
    from chat.selectors import chat_icon_states as states

    return states(member, client_ids)


@register.inclusion_tag("chat/staff/_icon.html", takes_context=True)
def chat_icon(context, states, client):
    """One client's icon: dark when a channel is open to the client, light when none is (or access is revoked).
    Without a channel of their own but with a colleague's they may join, a menu offers "Join …" and "Create
    chat channel with <you>" (joining is allowed only to a practitioner who may see the client, who may then
    also create a channel with themselves: policy.can_join_channel, policy.can_create_channel)."""
    state = states.get(client.pk) if states is not None and client is not None else None
    channels = list(state or ())
    joinable = [] if channels else list(getattr(state, "joinable", ()))
    request = context.get("request")
    return {
        "client": client,
        "channels": channels,
        "joinable": joinable,
        "me": _member(context) if joinable else None,
        "here": request.get_full_path() if request is not None else "",
        "has_access": any(channel.client_access for channel in channels),
        "unread": sum(getattr(channel, "unread", 0) or 0 for channel in channels),
    }


@register.simple_tag(takes_context=True)
def client_chat_channels(context, client):
    """The client record's "Chat channels" section: each channel with its actions, and creating one."""
    member = _member(context)
    if member is None or client.is_external:
        return ""
    from chat.access import channel_actions
    from chat.forms import practitioner_choices
    from chat.selectors import client_channels, joinable_channels

    request = context["request"]
    channels = list(client_channels(member, client))
    rows = [{"channel": channel, "can_open": policy.can_view_channel(member, channel),
             "actions": channel_actions(member, channel)} for channel in channels]
    # A colleague's channel the member may join but not read yet: who it is with and "Join", nothing more.
    rows += [{"channel": channel, "can_open": False, "actions": {"join": True}}
             for channel in joinable_channels(member, client)]
    channels += [row["channel"] for row in rows[len(channels):]]
    with_channel = {channel.practitioner_id for channel in channels if channel.practitioner_id}
    choices = practitioner_choices(member, client)
    create = None
    if choices:
        options = [{"member": choice, "exists": choice.pk in with_channel, "is_me": choice.pk == member.pk}
                   for choice in choices]
        only_self = choices[0] if len(choices) == 1 and choices[0].pk == member.pk else None
        create = {
            "options": options,
            "open": any(not option["exists"] for option in options),
            "only_self": only_self,
            "self_exists": only_self is not None and only_self.pk in with_channel,
        }
    return render_to_string("chat/staff/_client_channels.html", {
        "client": client, "rows": rows, "create": create,
        "next": reverse("portal:client_detail", args=[client.pk]) + "#chat",
    }, request=request)

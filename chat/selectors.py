"""Reads of the continuous chat (F-CHAT), scoped to the organisation and filtered by orgs/policy.py.

A foreign or hidden channel id is a 404, never a 403. Unread counts:
- staff: a member's unread in a channel = messages by the client (or visitor) newer than the member's
  ReadMarker (all of them without one), over the channels `policy.visible_channels` gives them (the inbox);
- client: messages by staff newer than the channel's `client_read_at`, and none sent after a revocation.
"""

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from consult.models import Client
from orgs import policy
from orgs.scoping import organization_scope

from .models import Author, Channel, ChannelKind, Message, ReadMarker
from .sealing import open_text

CLIENT_SIDE = (Author.CLIENT, Author.VISITOR)
LIST_RELATED = ("organization", "client__organization", "client__department", "practitioner__user", "department")


def _channels():
    return Channel.objects.with_scopes_disabled().select_related(*LIST_RELATED)


def _newest_first(queryset):
    return queryset.order_by(F("last_message_at").desc(nulls_last=True), "-created_at", "-pk")


# --- staff ------------------------------------------------------------------------------------------

def channel_for(member, channel_id):
    """The channel `member` may see, or Http404 (also for an id of another organisation)."""
    try:
        channel_id = int(channel_id)
    except (TypeError, ValueError):
        raise Http404
    with organization_scope(member.organization):
        channel = _channels().filter(organization_id=member.organization_id, pk=channel_id).first()
    if channel is None or not policy.can_view_channel(member, channel):
        raise Http404
    return channel


def _unread_for_member(member):
    """Per channel (OuterRef "pk"): client/visitor messages newer than the member's read marker."""
    read_at = ReadMarker.objects.with_scopes_disabled().filter(
        channel_id=OuterRef("channel_id"), member_id=member.pk).values("read_at")[:1]
    counted = (Message.objects.with_scopes_disabled()
               .filter(channel_id=OuterRef("pk"), author__in=CLIENT_SIDE)
               .annotate(read_at=Subquery(read_at))
               .filter(Q(read_at__isnull=True) | Q(created_at__gt=F("read_at")))
               .order_by().values("channel_id").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def visible_channels(member):
    return policy.visible_channels(member, Channel.objects.with_scopes_disabled())


def channels_for_member(member, *, kind=None):
    """The member's inbox, newest first, each channel with `.unread`; one query whatever the number of
    channels. `kind`: only client or only public channels."""
    queryset = policy.visible_channels(member, _channels())
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    return list(_newest_first(queryset.annotate(unread=_unread_for_member(member))))


def unread_total(member):
    """The member's unread messages over all the channels they may see (one query)."""
    if member is None or member.pk is None:
        return 0
    marker = ReadMarker.objects.with_scopes_disabled().filter(
        channel_id=OuterRef("channel_id"), member_id=member.pk, read_at__gte=OuterRef("created_at"))
    return (Message.objects.with_scopes_disabled()
            .filter(channel_id__in=visible_channels(member).values("pk"), author__in=CLIENT_SIDE)
            .filter(~Exists(marker)).count())


def client_channels(member, client):
    """The client's channels `member` may see (the client record), each with `.unread` for the member."""
    queryset = policy.visible_channels(member, _channels()).filter(kind=ChannelKind.CLIENT, client_id=client.pk)
    return list(_newest_first(queryset.annotate(unread=_unread_for_member(member))))


def joinable_channels(member, client):
    """The client's channels `member` cannot read yet but may join (policy.can_join_channel): a practitioner of
    another department finds a colleague's channel on the client record (only who it is with is shown)."""
    candidates = (policy.joinable_channels(member, _channels()).filter(client_id=client.pk)
                  .exclude(pk__in=visible_channels(member).values("pk")))
    return list(_newest_first(candidates))


def joinable_channel_for(member, channel_id):
    """The channel `member` may join, or Http404 (another organisation's, or a colleague's they may not join).
    One they already read is returned too: "join" pressed twice then says why, instead of a 404."""
    try:
        channel_id = int(channel_id)
    except (TypeError, ValueError):
        raise Http404
    channel = _channels().filter(organization_id=member.organization_id, pk=channel_id).first()
    if channel is None or not (policy.can_join_channel(member, channel) or policy.can_view_channel(member, channel)):
        raise Http404
    return channel


class IconChannels(list):
    """One client's channels the member may see (newest first); `joinable`: the colleagues' channels of that
    client the member cannot read yet but may join (policy.joinable_channels)."""

    def __init__(self):
        super().__init__()
        self.joinable = []


def chat_icon_states(member, client_ids):
    """{client id: IconChannels} for list icons (dark: a channel the client has access to; light: none, then
    "join" a colleague's channel or create one), in one query."""
    client_ids = list(client_ids)
    states = {client_id: IconChannels() for client_id in client_ids}
    if not client_ids:
        return states
    channels = Channel.objects.with_scopes_disabled()
    queryset = (_channels().filter(organization_id=member.organization_id, kind=ChannelKind.CLIENT,
                                   client_id__in=client_ids)
                .annotate(is_visible=Exists(policy.visible_channels(member, channels).filter(pk=OuterRef("pk"))),
                          is_joinable=Exists(policy.joinable_channels(member, channels).filter(pk=OuterRef("pk"))))
                .filter(Q(is_visible=True) | Q(is_joinable=True)))
    for channel in _newest_first(queryset):
        state = states[channel.client_id]
        (state if channel.is_visible else state.joinable).append(channel)
    return states


# --- the client's side (patient portal, waiting-room link) ------------------------------------------

def _unread_for_client():
    counted = (Message.objects.with_scopes_disabled()
               .filter(channel_id=OuterRef("pk"), author=Author.STAFF)
               .filter(Q(channel__client_read_at__isnull=True) | Q(created_at__gt=F("channel__client_read_at")))
               .filter(Q(channel__access_revoked_at__isnull=True)
                       | Q(created_at__lte=F("channel__access_revoked_at")))
               .order_by().values("channel_id").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def channels_for_client(client):
    """The client's channels (patient portal), newest first, each with `.unread` for the client."""
    queryset = _channels().filter(organization_id=client.organization_id, kind=ChannelKind.CLIENT, client_id=client.pk)
    return list(_newest_first(queryset.annotate(unread=_unread_for_client())))


def channel_of_appointment(appointment):
    """The channel of the appointment's client with its practitioner (or, without one, its department), or None;
    never makes one (services.channel_ensure_for_appointment does, when appointments are made)."""
    if appointment.client_id is None:
        return None
    channels = _channels().filter(organization_id=appointment.organization_id, kind=ChannelKind.CLIENT,
                                  client_id=appointment.client_id)
    if appointment.practitioner_id:
        return channels.filter(practitioner_id=appointment.practitioner_id).first()
    return channels.filter(practitioner__isnull=True, department_id=appointment.department_id).first()


def channel_for_client_session(organization, client_ids, channel_id):
    """A channel of one of the clients a patient-portal session speaks for, or Http404. A revoked or closed
    channel is returned (its history stays readable up to the revocation); `services.client_may_post` says
    whether the client may write."""
    try:
        channel_id = int(channel_id)
    except (TypeError, ValueError):
        raise Http404
    client_ids = [int(c) for c in (client_ids or ())]
    if not client_ids:
        raise Http404
    channel = _channels().filter(organization_id=organization.pk, kind=ChannelKind.CLIENT, client_id__in=client_ids,
                                 pk=channel_id).first()
    if channel is None:
        raise Http404
    return channel


# --- messages ---------------------------------------------------------------------------------------

def message_list(channel, *, after_id=None, for_client=False, limit=200, since=None):
    """The channel's messages, oldest first (the newest `limit` of them, or those after `after_id`), each
    with its opened `.text`. `for_client`: nothing sent after the client's access was revoked. `since`: nothing
    older (the appointment link shows the conversation from its appointment's booking on)."""
    queryset = Message.objects.with_scopes_disabled().filter(channel_id=channel.pk,
                                                             organization_id=channel.organization_id)
    if after_id:
        queryset = queryset.filter(pk__gt=int(after_id))
    if for_client and channel.access_revoked_at is not None:
        queryset = queryset.filter(created_at__lte=channel.access_revoked_at)
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    messages = list(queryset.select_related("sender__user").order_by("-created_at", "-pk")[:limit])
    messages.reverse()
    for message in messages:
        message.channel = channel
        message.text = open_text(message)
    return messages


def messages_for(channel, *, viewer=None, after_id=None, for_client=False, limit=200, since=None):
    """The messages as JSON-ready dicts (chat/serialise.py `message_json`); `viewer` decides "mine" (a
    Membership for staff; the client's side is "client" by default with `for_client`)."""
    from .serialise import message_json

    if viewer is None and for_client:
        viewer = Author.VISITOR if channel.kind == ChannelKind.PUBLIC else Author.CLIENT

    return [message_json(message, viewer=viewer)
            for message in message_list(channel, after_id=after_id, for_client=for_client, limit=limit, since=since)]


# --- the patient portal's list -------------------------------------------------------------------------

def channel_title(channel):
    if channel.practitioner_id:
        return channel.practitioner.user.get_full_name()
    return channel.department.name if channel.department_id else channel.organization.name


def clients_channels(client_ids):
    """The channels of the session's clients, each with `.unread` and `.title`, newest first."""
    channels = []
    for client in Client.objects.filter(pk__in=client_ids).order_by("last_name", "pk"):
        for channel in channels_for_client(client):
            channel.title = channel_title(channel)
            channels.append(channel)
    channels.sort(key=lambda channel: channel.last_message_at.timestamp() if channel.last_message_at else 0,
                  reverse=True)
    return channels

"""Who may chat where, and how often: the rules the chat's pages, sockets and template tags share.

The allow/deny decisions about people come from orgs/policy.py and chat/services.py; this module words them
(write_refusal), bounds the appointment link's chat in time, and counts posts against the rate limits. It lives
apart from the views so the consumers and template tags that need the same answers do not import view modules.
"""


from django.utils import timezone
from django.utils.translation import gettext as _

from consult import room
from consult.views import SESSION_PARTICIPANT, SESSION_TOKEN
from orgs import policy
from portal import throttle

from . import services
from .models import Channel, ChannelKind

# --- the appointment link's chat (F-CHAT-4) ----------------------------------------------------------------

def appointment_channel(appointment):
    """The channel of the appointment's client with its practitioner (or department), created if the
    appointment predates it (channel_ensure_for_appointment does that when appointments are made)."""
    channels = Channel.objects.filter(kind=ChannelKind.CLIENT, client_id=appointment.client_id)
    if appointment.practitioner_id:
        channel = channels.filter(practitioner_id=appointment.practitioner_id).first()
    else:
        channel = channels.filter(practitioner__isnull=True, department_id=appointment.department_id).first()
    return channel or services.channel_ensure_for_appointment(appointment=appointment)


def link_participant(request):
    """The appointment's client participant of this browser's link session when "chat in the waiting room" is on
    (whatever the time), else None."""
    organization = getattr(request, "organization", None)
    if organization is None or not organization.chat_in_waiting_room:
        return None
    participant = room.participant_by_session(organization, request.session.get(SESSION_PARTICIPANT),
                                              request.session.get(SESSION_TOKEN))
    if participant is None or not policy.can_chat_from_link(organization, participant):
        return None
    return participant


def link_chat_over(request, participant):
    return timezone.now() > policy.link_chat_ends_at(request.organization, participant.appointment)


def link_chat(request):
    """(participant, channel) when this browser's appointment link may chat now, else None (also once the link's
    chat is over: the socket and the JSON follow this)."""
    participant = link_participant(request)
    if participant is None or link_chat_over(request, participant):
        return None
    channel = appointment_channel(participant.appointment)
    if channel is None:
        return None
    return participant, channel


# --- posting limits ---------------------------------------------------------------------------------------

# Posting by HTTP (no JavaScript, or the socket down): enough for a conversation, too few for a flood.
POST_LIMIT, POST_WINDOW_SECONDS = 30, 60


def client_side_state(channel):
    """(can_post, why_not) for the client of `channel`: services.client_may_post decides and words it (the
    socket tells the same words live)."""
    return services.client_may_post(channel)


def client_post_limited(channel):
    """Count one post by the channel's client (portal or appointment link, by HTTP or by socket: one limit, so
    opening new sockets does not get round it). True when over the limit."""
    return bool(throttle.hit(f"chat:client-post:{channel.pk}", limit=POST_LIMIT, window_seconds=POST_WINDOW_SECONDS))


# The public widget's visitor: a person asks a question or two, a robot hundreds.
POSTS_PER_CONVERSATION = 10
POSTS_WINDOW_SECONDS = 60


def visitor_post_limited(channel):
    """Count one post by the visitor (by HTTP or by socket: one limit, so new sockets do not get round it). None when
    allowed, else the epoch second the limit ends."""
    return throttle.hit(f"chat:widget-post:{channel.pk}", limit=POSTS_PER_CONVERSATION,
                        window_seconds=POSTS_WINDOW_SECONDS)


# --- staff ------------------------------------------------------------------------------------------------

def write_refusal(member, channel):
    """Why `member` cannot write here (None: they can). policy.can_post_in_channel decides; this only words it."""
    if policy.can_post_in_channel(member, channel):
        return None
    if channel.kind == ChannelKind.CLIENT and not channel.client_access:
        return _("The client's chat access has been revoked: the client cannot read new messages, so nobody can "
                 "write here until a department admin grants access again.")
    if not policy.can_act_live(member):
        return _("You are giving remote support: you can read this chat, not write in it.")
    return _("You cannot write in this chat.")


def channel_actions(member, channel):
    """What `member` may do with `channel` besides reading and writing (buttons on the page and client record)."""
    client_channel = channel.kind == ChannelKind.CLIENT
    return {
        "join": client_channel and policy.can_join_channel(member, channel),
        "manage_access": client_channel and policy.can_manage_chat_access(member, channel),
        "delete_history": policy.can_delete_chat_history(member, channel),
    }

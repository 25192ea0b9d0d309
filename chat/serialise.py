"""One chat message as JSON for the one person who reads it (the pages' history, the updates URL, the sockets).

The text is plain text, opened from its seal here and nowhere else on the way out: pages put it in the DOM
with textContent (chat/static/chat/chat.js) and server-rendered history passes it through `chat_text`.
`mine` depends on the viewer, which is why group events carry ids only and each socket serialises for itself.
"""

import zoneinfo

from django.utils import timezone

from .models import Author
from .sealing import open_text


def is_mine(message, viewer):
    """Whether `viewer` wrote `message`. The viewer is a Membership (staff), "client" or "visitor" (the one
    person on the other side of a client or public channel), or None (nobody: a neutral rendering)."""
    if viewer is None:
        return False
    if isinstance(viewer, str):
        return message.author == viewer and viewer in (Author.CLIENT, Author.VISITOR)
    return message.author == Author.STAFF and message.sender_id is not None and message.sender_id == viewer.pk


def local_time(message):
    """The moment in the organisation's time zone: sockets and tasks run outside the request's override."""
    return timezone.localtime(message.created_at, zoneinfo.ZoneInfo(message.organization.time_zone))


def message_json(message, *, viewer):
    at = local_time(message)
    return {
        "id": message.pk,
        "text": open_text(message),
        "author": message.author,
        "sender": message.sender_name,
        "mine": is_mine(message, viewer),
        "at": at.isoformat(),
        "time": at.strftime("%H:%M"),
    }

"""django-q2 entry points of the chat; each calls a service (which enters the organisation's scope)."""

from . import services


def send_unread_notifications():
    """Every 5 minutes (setup_schedules): emails about chat messages waiting unread."""
    return services.unread_notifications_send()

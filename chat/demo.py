"""Demo chats for `manage.py demo` (idempotent): every demo client's channel with their practitioner holds a
short exchange, and one of Eva's clients waits for her answer (one unread message in her top bar)."""

from orgs.scoping import organization_scope

from . import services
from .models import Channel, ChannelKind, Message

DEMO_PRACTITIONER = "eva@demo.test"

EXCHANGE = [
    ("client", "Hello, may I bring my partner to the appointment?"),
    ("staff", "Of course, you are both welcome. Please have your medication list at hand."),
]
WAITING_FOR_EVA = ("client", "Thank you! One more question: should I skip breakfast before the blood test?")


def chat_demo(organization):
    from consult.models import Appointment

    with organization_scope(organization):
        # Channels for appointments made before the chat existed (an older demo database).
        for appointment in (Appointment.objects.filter(client__isnull=False).select_related("client")
                            .order_by("starts_at")):
            services.channel_ensure_for_appointment(appointment=appointment)
        channels = list(Channel.objects.filter(kind=ChannelKind.CLIENT, practitioner__isnull=False)
                        .select_related("organization", "client__organization", "practitioner__user",
                                        "practitioner__organization", "department").order_by("pk"))
        if not channels or Message.objects.filter(channel__in=channels).exists():
            return
        eva_waits = next((c for c in channels if c.practitioner.user.email == DEMO_PRACTITIONER), None)
        for channel in channels:
            practitioner = channel.practitioner
            lines = EXCHANGE + ([WAITING_FOR_EVA] if channel is eva_waits else [])
            for author, text in lines:
                if author == "client":
                    services.message_post(channel=channel, text=text, client=channel.client)
                else:
                    services.message_post(channel=channel, text=text, member=practitioner)

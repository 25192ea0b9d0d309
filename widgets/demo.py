"""Demo widgets for `manage.py demo`: one walk-in and one booking widget (idempotent)."""

from django.utils.translation import gettext as _

from orgs.scoping import organization_scope

from .models import BookingWidget, IntakeChoice, WalkInWidget


def demo_widgets(organization):
    """The organisation's demo walk-in and booking widgets, created once; returns (walk_in, booking)."""
    with organization_scope(organization):
        walk_in, _created = WalkInWidget.objects.get_or_create(
            organization=organization, name="Demo walk-in",
            defaults={
                "title": _("Walk-in consultation"),
                "text": _("<p>See a practitioner by video now, without an appointment.</p>"),
                "absent_text": _("<p>Nobody is available for walk-ins right now. Walk-in hours are on "
                                 "Wednesday afternoon; or call us to make an appointment.</p>"),
                "ask_date_of_birth": IntakeChoice.REQUIRED, "ask_email": IntakeChoice.OPTIONAL,
                "ask_phone": IntakeChoice.OPTIONAL,
            },
        )
        booking, _created = BookingWidget.objects.get_or_create(
            organization=organization, name="Demo booking",
            defaults={
                "title": _("Book a video consultation"),
                "text": _("<p>Choose a time that suits you. You receive the link by email.</p>"),
                "ask_phone": IntakeChoice.OPTIONAL, "days_ahead": 14,
            },
        )
    return walk_in, booking

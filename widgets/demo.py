"""Demo widgets for `manage.py demo`: one walk-in and one booking widget (idempotent)."""


from orgs.scoping import organization_scope

from .models import BookingWidget, IntakeChoice, WalkInWidget


def demo_widgets(organization):
    """The organisation's demo walk-in and booking widgets, created once; returns (walk_in, booking)."""
    with organization_scope(organization):
        walk_in, _created = WalkInWidget.objects.get_or_create(
            organization=organization, name="Demo walk-in",
            defaults={
                # No title or text: the standard ones come in the visitor's language (the site is nl and en).
                "ask_date_of_birth": IntakeChoice.REQUIRED, "ask_email": IntakeChoice.OPTIONAL,
                "ask_phone": IntakeChoice.OPTIONAL,
            },
        )
        booking, _created = BookingWidget.objects.get_or_create(
            organization=organization, name="Demo booking",
            defaults={
                "ask_phone": IntakeChoice.OPTIONAL, "days_ahead": 14,
            },
        )
    return walk_in, booking

import pytest
from django.core.cache import cache

from orgs.scoping import scopes_disabled
from widgets.models import BookingWidget, IntakeChoice, WalkInWidget


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()  # the submission throttle counts in the cache
    yield
    cache.clear()


def make_walk_in(organization, **fields):
    with scopes_disabled():
        return WalkInWidget.objects.create(
            organization=organization, name=fields.pop("name", "Walk-in"), title=fields.pop("title", "Walk in now"),
            absent_text=fields.pop("absent_text", "<p>Nobody is here now; call 020 123 4567.</p>"),
            ask_email=fields.pop("ask_email", IntakeChoice.OPTIONAL), **fields,
        )


def make_booking(organization, **fields):
    with scopes_disabled():
        return BookingWidget.objects.create(
            organization=organization, name=fields.pop("name", "Booking"), title=fields.pop("title", "Book a consult"),
            **fields,
        )


@pytest.fixture
def walk_in_widget(alpha):
    return make_walk_in(alpha)


@pytest.fixture
def booking_widget(alpha):
    return make_booking(alpha)

"""Widgets with a rate (F-PAY-2): visitors see the price, their bookings and walk-ins carry the charge; the
admin offers only the organisation's own rates."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from consult.models import Availability, AvailabilityKind
from consult.selectors import zone_of
from orgs.scoping import scopes_disabled
from payments.models import Charge, PaymentSettings
from tests.conftest import host_client, signed_in_client
from tests.payments.factories import paying_org, rate_create
from tests.widgets.conftest import make_booking, make_walk_in
from widgets import selectors, services
from widgets.models import BookingWidget

pytestmark = pytest.mark.django_db

DETAILS = {"given_name": "Jan", "last_name": "de Boer", "date_of_birth": date(1958, 3, 14),
           "email": "jan@example.com", "phone": "", "client_number": ""}


@pytest.fixture
def alpha_pay(alpha):
    alpha.rate = paying_org(alpha)
    return alpha


def booking_slot(organization, widget):
    gp = organization.people["gp"]
    day = timezone.localdate(timezone=zone_of(organization)) + timedelta(days=2)
    with scopes_disabled():
        Availability.objects.create(organization=organization, practitioner=gp, kind=AvailabilityKind.BOOKING,
                                    date=day, start_time=time(9, 0), end_time=time(10, 0), consult_minutes=20)
        days = selectors.free_slots_by_day(widget)
    assert days[0][1][0][1] == gp
    return days[0][1][0][2], datetime.combine(day, time(9, 0), tzinfo=zone_of(organization))


def charge_of(appointment):
    with scopes_disabled():
        return Charge.objects.filter(appointment=appointment).first()


def test_a_booking_through_a_paid_widget_carries_the_charge_and_says_so(alpha_pay,
                                                                        django_capture_on_commit_callbacks):
    widget = make_booking(alpha_pay, rate=alpha_pay.rate)
    slot_id, _nine = booking_slot(alpha_pay, widget)
    page = host_client(alpha_pay).get(widget.get_absolute_url()).content.decode()
    assert "Paid consultation: €45.00 + VAT" in page
    with django_capture_on_commit_callbacks(execute=True):
        appointment = services.booking_make(widget=widget, slot_value=slot_id, details=DETAILS)
    charge = charge_of(appointment)
    assert (charge.name, charge.amount) == ("Consultation 20 min", Decimal("45.00"))
    assert "€54.45 incl. VAT" in mail.outbox[0].body


def test_a_walk_in_through_a_paid_widget_carries_the_charge(alpha_pay):
    gp = alpha_pay.people["gp"]
    with scopes_disabled():
        gp.walk_in_open = True
        gp.save(update_fields=["walk_in_open"])
    widget = make_walk_in(alpha_pay, rate=alpha_pay.rate)
    appointment, _link = services.walk_in_start(widget=widget, practitioner_id=gp.pk, details=DETAILS)
    assert charge_of(appointment).amount == Decimal("45.00")


def test_free_when_payments_are_off_or_the_rate_is_inactive_or_deleted(alpha_pay):
    widget = make_booking(alpha_pay, rate=alpha_pay.rate)
    with scopes_disabled():
        PaymentSettings.objects.filter(organization=alpha_pay).update(enabled=False)
    assert widget.charged_rate() is None and widget.price_notice() == ""
    with scopes_disabled():
        PaymentSettings.objects.filter(organization=alpha_pay).update(enabled=True)
        assert widget.charged_rate() == alpha_pay.rate
        alpha_pay.rate.is_active = False
        alpha_pay.rate.save()
        assert widget.charged_rate() is None
        alpha_pay.rate.delete()
        widget.refresh_from_db()
    assert widget.rate is None


def test_another_organisations_rate_is_refused_by_the_model_and_the_admin_form(alpha_pay, beta):
    theirs = rate_create(beta, name="Beta rate")
    widget = make_booking(alpha_pay)
    widget.rate = theirs
    with scopes_disabled(), pytest.raises(ValidationError) as refused:
        widget.full_clean()
    assert "rate" in refused.value.error_dict
    admin = signed_in_client(alpha_pay.people["admin"].user, alpha_pay)
    page = admin.get(f"/admin/snippets/widgets/bookingwidget/edit/{widget.pk}/").content.decode()
    assert "Consultation 20 min" in page and "Beta rate" not in page
    data = {
        "name": "Booking", "title": "Book", "text": "<p>Hi</p>", "title_colour": "#112233", "text_colour": "#111111",
        "background_colour": "#ffffff", "button_colour": "#1d4ed8", "button_text_colour": "#ffffff",
        "ask_date_of_birth": "required", "ask_email": "required", "ask_phone": "off", "ask_client_number": "off",
        "terms_text": "", "terms_url": "", "custom_css": "", "days_ahead": 14, "rate": theirs.pk,
    }
    admin.post(f"/admin/snippets/widgets/bookingwidget/edit/{widget.pk}/", data)
    with scopes_disabled():
        assert BookingWidget.objects.get(pk=widget.pk).rate_id is None
    response = admin.post(f"/admin/snippets/widgets/bookingwidget/edit/{widget.pk}/",
                          {**data, "rate": alpha_pay.rate.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    with scopes_disabled():
        assert BookingWidget.objects.get(pk=widget.pk).rate_id == alpha_pay.rate.pk


def test_no_rate_field_while_payments_are_off(alpha):
    widget = make_booking(alpha)
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    page = admin.get(f"/admin/snippets/widgets/bookingwidget/edit/{widget.pk}/").content.decode()
    assert 'name="rate"' not in page

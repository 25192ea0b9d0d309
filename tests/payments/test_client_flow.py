"""The client pays (F-PAY-3, F-APPT-6): the pay page and its amounts with VAT, off to Stripe Checkout (the local
stand-in, tests/payments/standin.py, through the real stripe library), back on the confirming page, cancelled,
the provider down, and the rate limit on starting checkouts."""

import json
import time
from datetime import timedelta

import pytest
from django.core.cache import cache

from consult import links
from orgs.scoping import scopes_disabled
from payments.models import Payment, PaymentSettings, PaymentStatus, Provider
from payments.views import client as client_views
from tests.conftest import host_client
from tests.payments.factories import charged_appointment, paying_org, payment_make, reload
from tests.payments.standin import StripeStandIn

pytestmark = pytest.mark.django_db

SOON = timedelta(minutes=10)
BILLING = {"client_type": "private", "country": "NL", "name": "Jan Jansen", "email": "jan@example.test",
           "company_name": "", "vat_number": ""}


@pytest.fixture
def org(alpha):
    alpha.rate = paying_org(alpha)
    alpha.contact_phone = "+31 20 123 4567"
    alpha.save()
    return alpha


@pytest.fixture
def stand_in(settings):
    with StripeStandIn(send_webhooks=False) as running:
        settings.STRIPE_API_BASE = running.url
        yield running


@pytest.fixture
def client_browser(org):
    """(browser with the client's link opened, participant) for an appointment that opens in 10 minutes."""
    _appointment, participant, _charge = charged_appointment(org, rate=org.rate, starts_in=SOON)
    browser = host_client(org)
    browser.get(f"/c/{links.token_for(participant.token_nonce)}/")
    return browser, participant


def payments_of(participant):
    with scopes_disabled():
        return list(Payment.objects.filter(participant=participant).order_by("created_at"))


def amounts(browser, **query):
    return browser.get("/pay/", {"partial": "amounts", **query}).content.decode()


# --- the pay page ------------------------------------------------------------------------------------------

def test_the_pay_page_shows_the_appointment_the_amount_and_one_button_per_provider(client_browser):
    browser, _participant = client_browser
    page = browser.get("/pay/").content.decode()
    assert "Pay for your consultation" in page and "Gp Alpha" in page and "Consultation 20 min" in page
    assert "EUR 45.00" in page and "VAT 21 %" in page and "EUR 9.45" in page and "EUR 54.45" in page
    assert 'value="stripe"' in page and "Pay with card" in page and "Pay with PayPal" in page
    assert "After paying you go straight to the waiting room." in page
    assert 'value="Jan' not in page and 'value="J. Jansen"' in page  # prefilled from the client
    assert 'value="client@example.test"' in page
    assert '<option value="NL" selected>' in page  # the organisation's country


@pytest.mark.parametrize(("query", "expected", "absent"), [
    ({"country": "NL", "client_type": "private"}, ["VAT 21 %", "EUR 9.45", "EUR 54.45"], ["reverse"]),
    ({"country": "DE", "client_type": "private"}, ["VAT 19 %", "EUR 8.55", "EUR 53.55"], ["reverse"]),
    ({"country": "DE", "client_type": "business", "vat_number": "DE 123456789"},
     ["VAT reverse charged", "EUR 0.00", "EUR 45.00", "account for the VAT yourself"], ["VAT 19 %"]),
    ({"country": "DE", "client_type": "business", "vat_number": "not a number"}, ["VAT 0 %"], ["reverse"]),
    ({"country": "US", "client_type": "private"}, ["VAT 21 %", "EUR 54.45"], ["reverse"]),
    ({"country": "US", "client_type": "business"}, ["VAT 0 %", "EUR 45.00"], ["reverse"]),
])
def test_the_amounts_follow_country_and_client_type(client_browser, query, expected, absent):
    browser, _participant = client_browser
    part = amounts(browser, **query)
    assert "<html" not in part
    for text in expected:
        assert text in part, text
    for text in absent:
        assert text not in part, text


def test_without_javascript_update_the_amount_shows_the_page_again_with_the_choice(client_browser):
    browser, participant = client_browser
    response = browser.post("/pay/start/", {**BILLING, "country": "DE", "recompute": "1"})
    page = response.content.decode()
    assert response.status_code == 200 and "VAT 19 %" in page and '<option value="DE" selected>' in page
    assert payments_of(participant) == []


def test_no_provider_configured_says_whom_to_contact(client_browser, org):
    browser, _participant = client_browser
    with scopes_disabled():
        PaymentSettings.objects.filter(organization=org).update(stripe_secret_key_sealed=b"",
                                                                paypal_client_id="")
    page = browser.get("/pay/").content.decode()
    assert "Online payment is not available" in page and "+31 20 123 4567" in page and "Pay with" not in page


def test_without_a_session_or_for_a_guest_there_is_no_pay_page(org):
    assert host_client(org).get("/pay/").status_code == 403


# --- starting ----------------------------------------------------------------------------------------------

def test_start_creates_a_checkout_session_and_sends_the_client_there(client_browser, stand_in):
    browser, participant = client_browser
    response = browser.post("/pay/start/", {**BILLING, "provider": "stripe"})
    [payment] = payments_of(participant)
    assert response.status_code == 303 and response["Location"] == payment.checkout_url
    assert payment.checkout_url.startswith(f"{stand_in.url}/checkout/cs_test_")
    assert payment.status == PaymentStatus.OPEN and str(payment.total_amount) == "54.45"
    session = stand_in.sessions[payment.provider_checkout_id]
    assert session["amount_total"] == 5445 and session["currency"] == "eur"
    assert session["success_url"] == (f"http://{participant.organization.hostname}/pay/return/{payment.reference}/"
                                      "?session_id={CHECKOUT_SESSION_ID}")
    assert session["cancel_url"] == f"http://{participant.organization.hostname}/pay/cancelled/{payment.reference}/"
    # The hosted page shows the amount.
    page_status, _headers, page = stand_in.page(payment.provider_checkout_id, None)
    assert page_status == 200 and "EUR 54.45" in page


@pytest.mark.parametrize(("billing", "field", "message"), [
    ({"name": ""}, "name", "This field is required"),
    ({"email": "not-an-email"}, "email", "valid email"),
    ({"client_type": "business", "company_name": ""}, "company_name", "company"),
    ({"client_type": "business", "company_name": "Acme GmbH", "country": "DE", "vat_number": "FR123"},
     "vat_number", "starts with DE"),
    ({"provider": "bitcoin"}, "provider", "valid choice"),
])
def test_bad_billing_details_show_the_form_with_errors_and_change_nothing(client_browser, stand_in, billing, field,
                                                                           message):
    browser, participant = client_browser
    response = browser.post("/pay/start/", {**BILLING, "provider": "stripe", **billing})
    page = response.content.decode()
    assert response.status_code == 400 and "Please check your answers" in page and message in page
    assert f'id="id_{field}_error"' in page
    assert payments_of(participant) == [] and stand_in.sessions == {}


def test_the_provider_down_shows_its_message_and_the_form_to_try_again(client_browser, stand_in):
    browser, participant = client_browser
    stand_in.fail_next(status=500)
    stand_in.fail_next(status=500)  # the library retries once
    response = browser.post("/pay/start/", {**BILLING, "provider": "stripe"})
    page = response.content.decode()
    assert response.status_code == 200 and "Nothing was charged" in page and "Please try again." not in page
    assert 'value="Jan Jansen"' in page and "Pay with card" in page
    [payment] = payments_of(participant)
    assert payment.status == PaymentStatus.FAILED
    # And again, now it works.
    assert browser.post("/pay/start/", {**BILLING, "provider": "stripe"}).status_code == 303


def test_starting_checkouts_is_rate_limited_per_session(client_browser, stand_in):
    browser, participant = client_browser
    for _ in range(client_views.START_LIMIT):
        assert browser.post("/pay/start/", {**BILLING, "provider": "stripe"}).status_code == 303
    response = browser.post("/pay/start/", {**BILLING, "provider": "stripe"})
    assert response.status_code == 429 and "wait a few minutes" in response.content.decode()
    assert len(payments_of(participant)) == client_views.START_LIMIT


def test_a_started_payment_is_mentioned_before_paying_again(client_browser, stand_in):
    browser, participant = client_browser
    browser.post("/pay/start/", {**BILLING, "provider": "stripe"})
    [payment] = payments_of(participant)
    page = browser.get("/pay/").content.decode()
    assert "not confirmed yet" in page and f"/pay/return/{payment.reference}/" in page


# --- back from the provider --------------------------------------------------------------------------------

def test_back_and_paid_goes_to_the_waiting_room(client_browser):
    browser, participant = client_browser
    payment = payment_make(participant, status=PaymentStatus.PAID)
    response = browser.get(f"/pay/return/{payment.reference}/?session_id={payment.provider_checkout_id}")
    assert response.status_code == 302 and response["Location"] == "/c/"
    assert json.loads(browser.get(f"/pay/status/{payment.reference}/").content) == {"state": "paid", "next": "/c/"}


def test_back_before_the_webhook_shows_confirming_and_polls(client_browser):
    browser, participant = client_browser
    payment = payment_make(participant)
    response = browser.get(f"/pay/return/{payment.reference}/")
    page = response.content.decode()
    assert response.status_code == 200 and 'role="status"' in page and "Confirming your payment" in page
    assert f'data-status-url="/pay/status/{payment.reference}/"' in page and "<progress" in page
    assert 'http-equiv="refresh"' in page  # without JavaScript the page reloads itself
    assert json.loads(browser.get(f"/pay/status/{payment.reference}/").content) == {"state": "open", "next": ""}
    # The webhook arrives: the next poll says where to go.
    with scopes_disabled():
        Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.PAID)
    assert json.loads(browser.get(f"/pay/status/{payment.reference}/").content) == {"state": "paid", "next": "/c/"}


def test_a_late_webhook_is_covered_by_asking_stripe_once_per_ten_seconds(client_browser, stand_in):
    browser, participant = client_browser
    browser.post("/pay/start/", {**BILLING, "provider": "stripe"})
    [payment] = payments_of(participant)
    browser.get(f"/pay/return/{payment.reference}/")
    stand_in.page(payment.provider_checkout_id, "pay")  # paid at Stripe; no webhook comes
    retrievals = lambda: [c for c in stand_in.calls if c[0] == "GET"]  # noqa: E731
    assert json.loads(browser.get(f"/pay/status/{payment.reference}/").content)["state"] == "open"
    assert retrievals() == []  # not before 10 seconds
    cache.set(f"payments:returned:{payment.reference}", time.time() - 11, 3600)
    assert json.loads(browser.get(f"/pay/status/{payment.reference}/").content) == {"state": "paid", "next": "/c/"}
    assert len(retrievals()) == 1 and reload(payment).status == PaymentStatus.PAID


def test_still_open_after_two_minutes_says_so_without_inviting_a_second_payment(client_browser, stand_in):
    browser, participant = client_browser
    browser.post("/pay/start/", {**BILLING, "provider": "stripe"})
    [payment] = payments_of(participant)
    cache.set(f"payments:returned:{payment.reference}", time.time() - 125, 3600)
    assert json.loads(browser.get(f"/pay/status/{payment.reference}/").content)["state"] == "slow"
    page = browser.get(f"/pay/return/{payment.reference}/").content.decode()
    assert "has not been confirmed yet" in page and "+31 20 123 4567" in page
    assert 'href="/pay/"' not in page.split("data-show=\"failed expired\" hidden", 1)[0].split("<main", 1)[1]


@pytest.mark.parametrize(("status", "text"), [(PaymentStatus.FAILED, "did not go through"),
                                              (PaymentStatus.EXPIRED, "was not completed")])
def test_a_failed_or_expired_payment_offers_to_try_again(client_browser, status, text):
    browser, participant = client_browser
    payment = payment_make(participant, status=status)
    page = browser.get(f"/pay/return/{payment.reference}/").content.decode()
    assert text in page and "Nothing was charged" in page and 'href="/pay/"' in page and "Try again" in page
    assert 'http-equiv="refresh"' not in page
    assert json.loads(browser.get(f"/pay/status/{payment.reference}/").content)["state"] == status


def test_back_from_paypal_captures_the_approved_order_at_once(client_browser, monkeypatch):
    from payments import services

    browser, participant = client_browser
    payment = payment_make(participant, provider=Provider.PAYPAL)
    refreshed = []

    def refresh(*, payment):
        refreshed.append(payment.pk)
        with scopes_disabled():
            Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.PAID)
        return reload(payment)

    monkeypatch.setattr(services, "payment_refresh", refresh)
    response = browser.get(f"/pay/return/{payment.reference}/?token={payment.provider_checkout_id}&PayerID=X1")
    assert response["Location"] == "/c/" and refreshed == [payment.pk]


def test_paid_in_advance_the_too_early_page_says_thank_you(org):
    _appointment, participant, _charge = charged_appointment(org, rate=org.rate)  # tomorrow
    browser = host_client(org)
    browser.get(f"/c/{links.token_for(participant.token_nonce)}/")
    assert "You can pay now, in advance" in browser.get("/pay/").content.decode()
    payment = payment_make(participant, status=PaymentStatus.PAID)
    response = browser.get(f"/pay/return/{payment.reference}/", follow=True)
    page = response.content.decode()
    assert "You are early" in page and "Thank you, your payment is confirmed." in page


def test_cancelled_at_the_provider_ends_the_attempt_and_shows_the_form_again(client_browser, stand_in):
    browser, participant = client_browser
    browser.post("/pay/start/", {**BILLING, "provider": "stripe"})
    [payment] = payments_of(participant)
    status, headers, _page = stand_in.page(payment.provider_checkout_id, "cancel")
    assert status == 303 and headers["Location"].endswith(f"/pay/cancelled/{payment.reference}/")
    response = browser.get(f"/pay/cancelled/{payment.reference}/", follow=True)
    page = response.content.decode()
    assert response.redirect_chain == [("/pay/", 302)]
    assert "Payment cancelled. Nothing was charged." in page and "Pay with card" in page
    assert reload(payment).status == PaymentStatus.EXPIRED
    assert stand_in.sessions[payment.provider_checkout_id]["status"] == "expired"
    assert "not confirmed yet" not in page

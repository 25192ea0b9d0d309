"""A client pays before the waiting room opens (F-APPT-6, F-PAY-3), end to end in Chromium over ASGI: the personal
link leads to the pay page (amounts follow the country live), the card is declined once and then paid on the
Stripe stand-in's hosted page (tests/payments/standin.py, which the real stripe library talks to and which sends
the signed webhook a few seconds late), the client waits on "confirming…", then lands in the waiting room, whose
socket registers them. The pay page passes axe on a phone."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from consult import links
from consult.models import WaitingEntry
from orgs.scoping import scopes_disabled
from payments.models import Payment, PaymentStatus
from tests.browser.test_patient_portal import assert_accessible, phone_context
from tests.payments.factories import charged_appointment, paying_org, stripe_webhook_secret
from tests.payments.standin import StripeStandIn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def stand_in(alpha, settings):
    # The ASGI server runs in a thread of this process: the overridden setting reaches it.
    running = StripeStandIn(webhook_secret=stripe_webhook_secret(alpha), webhook_delay=3).start()
    settings.STRIPE_API_BASE = running.url
    yield running
    running.stop()


def test_a_client_pays_on_the_provider_page_and_then_enters_the_waiting_room(page, url_for, asgi_server, alpha,
                                                                             stand_in):
    rate = paying_org(alpha)
    _appointment, participant, _charge = charged_appointment(alpha, rate=rate, starts_in=timedelta(minutes=10))

    page.goto(url_for("alpha", f"/c/{links.token_for(participant.token_nonce)}/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay for your consultation")
    assert page.url == url_for("alpha", "/pay/")
    amounts = page.locator("#amounts")
    expect(amounts).to_contain_text("EUR 54.45")
    expect(page.get_by_role("button", name="Update the amount")).to_be_hidden()  # the script updates it live
    page.get_by_label("Country").select_option("DE")
    expect(amounts).to_contain_text("VAT 19 %")
    expect(amounts).to_contain_text("EUR 53.55")
    page.get_by_label("Country").select_option("NL")
    expect(amounts).to_contain_text("EUR 54.45")
    expect(page.get_by_label("Company name")).to_be_hidden()  # private person
    page.get_by_label("Business").check()
    expect(page.get_by_label("Company name")).to_be_visible()
    page.get_by_label("Private person").check()

    page.get_by_role("button", name="Pay with card").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay EUR 54.45")
    assert page.url.startswith(f"{stand_in.url}/checkout/cs_test_")
    page.get_by_role("button", name="Decline card").click()
    expect(page.get_by_role("alert")).to_have_text("Your card was declined.")
    page.get_by_role("button", name="Pay", exact=True).click()

    # Back on our site before Stripe's webhook (3 s late): confirming, then the waiting room by itself.
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirming your payment")
    expect(page.get_by_role("status")).to_contain_text("Confirming your payment…")
    expect(page.get_by_role("heading", level=1)).to_have_text("Waiting room", timeout=20_000)
    expect(page.locator("[data-waiting-room][data-socket=open]")).to_be_attached()
    with scopes_disabled():
        payment = Payment.objects.get(participant=participant)
        assert payment.status == PaymentStatus.PAID and payment.receipt_number
        assert WaitingEntry.objects.filter(participant=participant, connected=True).exists()
    stand_in.wait_webhooks()
    assert [(kind, status) for _url, kind, status in stand_in.webhooks_sent] == [("checkout.session.completed", 200)]
    page.context.close()
    asgi_server.wait_idle()


def test_the_pay_page_is_accessible_on_a_phone(browser, url_for, alpha):
    rate = paying_org(alpha)
    _appointment, participant, _charge = charged_appointment(alpha, rate=rate, starts_in=timedelta(minutes=10))
    context = phone_context(browser)
    phone = context.new_page()
    phone.goto(url_for("alpha", f"/c/{links.token_for(participant.token_nonce)}/"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("Pay for your consultation")
    assert_accessible(phone, "pay page")
    # With errors: the summary takes the focus and each error is tied to its field.
    phone.locator("#id_name").fill("")
    phone.get_by_role("button", name="Pay with card").click()
    expect(phone.locator("[data-error-summary]")).to_be_focused()
    expect(phone.locator("#id_name")).to_have_attribute("aria-describedby", "id_name_error")
    assert_accessible(phone, "pay page with errors")
    context.close()

"""Settings → Payments in the organisation admin (F-PAY-1): who may see and change it, sealed secrets that are never
rendered back, validation that changes nothing, the webhook addresses to register, the audit trail."""

import pytest

from orgs.models import AuditEvent
from orgs.scoping import organization_scope, scopes_disabled
from payments.credentials import credential_open
from payments.models import PaymentSettings
from tests.conftest import signed_in_client
from tests.orgs.test_remote_support import support_client

pytestmark = pytest.mark.django_db

URL = "/admin/payments/settings/"
STRIPE_KEY = "sk_test_51AbCdEfGhIjKlMnOpQrStUvWxYz0123456789wxyz"
WEBHOOK_SECRET = "whsec_0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"
PAYPAL_SECRET = "EKp-very-secret-paypal-value-4242"


def form_data(**overrides):
    data = {"seller_name": "Alpha Practice B.V.", "seller_country": "NL", "seller_vat_number": "",
            "paypal_client_id": "", "paypal_mode": "sandbox", "paypal_webhook_id": "", "stripe_secret_key": "",
            "stripe_webhook_secret": "", "paypal_secret": ""}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not False}


def stored(org):
    with organization_scope(org):
        return PaymentSettings.objects.filter(organization=org).first()


def audit_rows(org, action):
    with scopes_disabled():
        return list(AuditEvent.objects.filter(organization=org, action=action))


@pytest.fixture
def admin_client(alpha):
    return signed_in_client(alpha.people["admin"].user, alpha)


def test_org_admin_sees_the_page_with_the_webhook_addresses(alpha, admin_client):
    response = admin_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{alpha.base_url}/pay/webhooks/stripe/" in html
    assert f"{alpha.base_url}/pay/webhooks/paypal/" in html
    for event in ("checkout.session.completed", "checkout.session.async_payment_succeeded",
                  "checkout.session.async_payment_failed", "checkout.session.expired", "charge.refunded",
                  "PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.REFUNDED",
                  "CHECKOUT.ORDER.APPROVED"):
        assert event in html
    assert "missing: secret key, webhook secret" in html
    assert "Developers → API keys" in html  # where to find the key, for someone who never saw the dashboard


@pytest.mark.parametrize("who", ["deptadmin", "gp"])
def test_other_roles_cannot_open_or_post(alpha, who):
    client = signed_in_client(alpha.people[who].user, alpha)
    assert client.get(URL).status_code in (302, 403, 404)
    response = client.post(URL, form_data(enabled="on", stripe_secret_key=STRIPE_KEY,
                                          stripe_webhook_secret=WEBHOOK_SECRET))
    assert response.status_code in (302, 403, 404)
    assert stored(alpha) is None


def test_secrets_are_sealed_never_rendered_and_audited_by_name(alpha, admin_client):
    response = admin_client.post(URL, form_data(enabled="on", stripe_secret_key=STRIPE_KEY,
                                                stripe_webhook_secret=WEBHOOK_SECRET,
                                                seller_vat_number="nl 1234.567.89.b01"))
    assert response.status_code == 302, response.content.decode()[:3000]
    row = stored(alpha)
    assert row.enabled and row.seller_vat_number == "NL123456789B01"
    assert STRIPE_KEY.encode() not in bytes(row.stripe_secret_key_sealed)
    assert WEBHOOK_SECRET.encode() not in bytes(row.stripe_webhook_secret_sealed)
    assert credential_open(row, "stripe_secret_key_sealed") == STRIPE_KEY
    assert credential_open(row, "stripe_webhook_secret_sealed") == WEBHOOK_SECRET
    assert row.stripe_secret_key_hint == "wxyz"
    html = admin_client.get(URL).content.decode()
    assert STRIPE_KEY not in html and WEBHOOK_SECRET not in html
    assert "•••• set (ends in wxyz)" in html
    assert "Remove the stored Stripe secret key" in html
    [row_audit] = audit_rows(alpha, "payment_settings.update")
    assert set(row_audit.changes["changed"]) >= {"enabled", "stripe_secret_key", "stripe_webhook_secret",
                                                  "seller_vat_number"}
    assert STRIPE_KEY not in str(row_audit.changes) and WEBHOOK_SECRET not in str(row_audit.changes)
    assert "NL123456789B01" not in str(row_audit.changes)  # names only, never values


def test_empty_secret_keeps_it_and_remove_clears_it(alpha, admin_client):
    admin_client.post(URL, form_data(stripe_secret_key=STRIPE_KEY, paypal_client_id="client-1",
                                     paypal_secret=PAYPAL_SECRET, paypal_webhook_id="WH-1"))
    assert admin_client.post(URL, form_data(enabled="on", paypal_client_id="client-1",
                                            paypal_webhook_id="WH-1")).status_code == 302
    row = stored(alpha)
    assert row.enabled and credential_open(row, "stripe_secret_key_sealed") == STRIPE_KEY
    assert credential_open(row, "paypal_secret_sealed") == PAYPAL_SECRET
    assert PAYPAL_SECRET not in admin_client.get(URL).content.decode()
    response = admin_client.post(URL, form_data(paypal_client_id="client-1", paypal_webhook_id="WH-1",
                                                stripe_secret_key_remove="on"))
    assert response.status_code == 302
    row = stored(alpha)
    assert row.stripe_secret_key_sealed == b"" and row.stripe_secret_key_hint == ""
    assert credential_open(row, "paypal_secret_sealed") == PAYPAL_SECRET


@pytest.mark.parametrize(("field", "value", "message"), [
    ("stripe_secret_key", "pk_live_51AbCdEfGhIjKlMnOp", "This is the publishable key."),
    ("stripe_secret_key", "sk_prod_1234567890", "A Stripe secret key starts with sk_live_"),
    ("stripe_webhook_secret", "secret_1234567890", "starts with whsec_"),
    ("seller_vat_number", "DE123456789", "A VAT number of this country starts with NL."),
])
def test_invalid_input_shows_an_error_and_changes_nothing(alpha, admin_client, field, value, message):
    admin_client.post(URL, form_data(seller_name="Before"))
    before = bytes(stored(alpha).stripe_secret_key_sealed), len(audit_rows(alpha, "payment_settings.update"))
    response = admin_client.post(URL, form_data(seller_name="After", **{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    row = stored(alpha)
    assert row.seller_name == "Before"
    assert (bytes(row.stripe_secret_key_sealed), len(audit_rows(alpha, "payment_settings.update"))) == before


def test_switching_on_without_a_complete_provider_is_refused(alpha, admin_client):
    # Stripe without its webhook secret, PayPal without its webhook id: neither can take payments.
    response = admin_client.post(URL, form_data(enabled="on", stripe_secret_key=STRIPE_KEY,
                                                paypal_client_id="client-1", paypal_secret=PAYPAL_SECRET))
    assert response.status_code == 200
    assert "Payments cannot be switched on yet" in response.content.decode()
    assert stored(alpha) is None
    assert audit_rows(alpha, "payment_settings.update") == []


def test_remote_support_sees_it_read_only(alpha, superuser):
    alpha.allow_remote_support = True
    alpha.save()
    client = support_client(alpha, alpha.people["admin"], superuser)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Read-only during remote support" in html
    assert 'name="stripe_secret_key"' in html and "disabled" in html
    response = client.post(URL, form_data(enabled="on", stripe_secret_key=STRIPE_KEY,
                                          stripe_webhook_secret=WEBHOOK_SECRET), follow=True)
    assert "can only be changed by an organisation admin signed in personally" in response.content.decode()
    assert stored(alpha) is None


def test_another_organisation_has_its_own_settings(alpha, beta, admin_client):
    admin_client.post(URL, form_data(stripe_secret_key=STRIPE_KEY))
    assert stored(beta) is None
    beta_admin = signed_in_client(beta.people["admin"].user, beta)
    assert "•••• set" not in beta_admin.get(URL).content.decode()
    # alpha's admin has no membership at beta: beta's page is not theirs.
    assert signed_in_client(alpha.people["admin"].user, beta).get(URL).status_code in (302, 403, 404)


def test_menu_items_for_the_org_admin_only(alpha, admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert "/admin/payments/settings/" in html and "/admin/payments/rates/" in html

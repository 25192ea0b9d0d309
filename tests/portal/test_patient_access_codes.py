"""QR access codes and the installable app (F-PORTAL-3, F-CLIENT-2): staff make, email, print and revoke
codes from the client record; scanning signs the phone in until the code is revoked or expires; the
manifest and service worker are served for /patient/ and never cache patient pages."""

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from orgs.models import AuditEvent, Organization
from orgs.scoping import scopes_disabled
from portal import services
from portal.models import AccessCode, AccessCodeDelivery, PortalPin
from portal.patient_links import client_id_from_link
from tests.conftest import host_client, signed_in_client
from tests.portal.patient_helpers import last_pin, make_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def app_on(alpha):
    alpha.client_app_enabled = True
    alpha.save()
    return alpha


def _new_code(org, client, member="gp"):
    client.organization = org  # as saved by the test, not the copy the fixture's memberships hold
    with scopes_disabled():
        return services.access_code_create(member=org.people[member], client=client,
                                           delivery=AccessCodeDelivery.EMAIL)


def _actions(org, action):
    with scopes_disabled():
        return list(AuditEvent.objects.filter(organization=org, action=action))


def test_the_client_record_offers_remote_access(app_on, alpha):
    client = make_client(alpha)
    page = signed_in_client(alpha.people["gp"].user, alpha).get(f"/portal/clients/{client.pk}/").content.decode()
    assert "Email a portal PIN" in page and "Email a QR code" in page and "Print a QR letter (PDF)" in page
    alpha.client_app_enabled = False
    alpha.save()
    page = signed_in_client(alpha.people["gp"].user, alpha).get(f"/portal/clients/{client.pk}/").content.decode()
    assert "Email a QR code" not in page and "Email a portal PIN" not in page
    assert "The organisation admin can switch the client app on" in page


def test_staff_email_a_portal_pin(alpha, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    staff = signed_in_client(alpha.people["gp"].user, alpha)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(f"/portal/clients/{client.pk}/access/pin/")
    assert response.status_code == 302
    message = mail.outbox[-1]
    assert message.to == [client.email] and re.search(r"http://alpha\.[^/]+/patient/start/[^/]+/", message.body)
    with scopes_disabled():
        assert PortalPin.objects.get().sent_by == alpha.people["gp"].user
    assert len(_actions(alpha, "portal.pin_sent")) == 1
    # The patient follows the link, says they have a code, and is in.
    browser = host_client(alpha)
    browser.get(re.search(r"http://alpha\.[^/]+(/patient/start/[^/]+/)", message.body).group(1))
    assert browser.get("/patient/code/?have=1").status_code == 200
    assert browser.post("/patient/code/", {"pin": last_pin()})["Location"] == "/patient/"


def test_staff_email_a_qr_code_and_print_a_letter(app_on, alpha, django_capture_on_commit_callbacks):
    client = make_client(alpha)
    staff = signed_in_client(alpha.people["gp"].user, alpha)
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/portal/clients/{client.pk}/access/qr/email/")
    message = mail.outbox[-1]
    url = re.search(r"http://alpha\.\S+/patient/qr/[\w-]+/", message.body).group(0)
    html = message.alternatives[0][0]
    assert "cid:qr-code" in html
    image = next(part for part in message.attachments if getattr(part, "get_content_type", lambda: "")()
                 == "image/svg+xml")
    assert b"<svg" in image.get_payload(decode=True)
    response = staff.post(f"/portal/clients/{client.pk}/access/qr/letter/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    with scopes_disabled():
        codes = list(AccessCode.objects.order_by("created_at"))
    assert [c.delivery for c in codes] == ["email", "letter"]
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert token not in codes[0].token_hash and len(codes[0].token_hash) == 64
    assert len(_actions(alpha, "portal.qr_created")) == 2
    page = staff.get(f"/portal/clients/{client.pk}/").content.decode()
    assert page.count(">Revoke</button>") == 2


def test_qr_codes_need_the_client_app(alpha):
    client = make_client(alpha)
    staff = signed_in_client(alpha.people["gp"].user, alpha)
    staff.post(f"/portal/clients/{client.pk}/access/qr/email/")
    with scopes_disabled():
        assert not AccessCode.objects.exists()


def test_scanning_signs_in_and_revoking_ends_it(app_on, alpha):
    client = make_client(alpha)
    new = _new_code(alpha, client)
    phone = host_client(alpha)
    page = phone.get(f"/patient/qr/{new.token}/")
    assert page.status_code == 200 and "Open my patient portal" in page.content.decode()
    with scopes_disabled():
        new.code.refresh_from_db()
    assert new.code.last_used_at is None  # opening the address (a link checker, say) uses nothing
    assert "Sign in to your patient portal" in phone.get("/patient/").content.decode()
    response = phone.post(f"/patient/qr/{new.token}/")
    assert response["Location"] == "/patient/"
    assert "Your patient portal" in phone.get("/patient/").content.decode()
    with scopes_disabled():
        new.code.refresh_from_db()
    assert new.code.last_used_at is not None
    staff = signed_in_client(alpha.people["gp"].user, alpha)
    assert staff.get(f"/portal/clients/{client.pk}/access/qr/{new.code.pk}/revoke/").status_code == 405
    staff.post(f"/portal/clients/{client.pk}/access/qr/{new.code.pk}/revoke/")
    assert len(_actions(alpha, "portal.qr_revoked")) == 1
    page = phone.get("/patient/").content.decode()
    assert "the QR code you used has been revoked or has expired" in page
    again = phone.get(f"/patient/qr/{new.token}/")
    assert again.status_code == 410 and "withdrawn by the practice" in again.content.decode()
    assert "Sign in with a code" in again.content.decode()


def test_an_expired_code_is_refused(app_on, alpha):
    client = make_client(alpha)
    new = _new_code(alpha, client)
    phone = host_client(alpha)
    assert new.code.expires_at > timezone.now() + timedelta(days=alpha.access_code_days - 1)
    phone.post(f"/patient/qr/{new.token}/")
    with scopes_disabled():  # a code near its end: the session it opened ends with it, before any idle timeout
        AccessCode.objects.filter(pk=new.code.pk).update(expires_at=timezone.now() + timedelta(minutes=5))
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert "the QR code you used has been revoked or has expired" in phone.get("/patient/").content.decode()
        response = host_client(alpha).get(f"/patient/qr/{new.token}/")
        refused = host_client(alpha).post(f"/patient/qr/{new.token}/")
    assert response.status_code == 410 and "This QR code has expired" in response.content.decode()
    assert refused.status_code == 410 and "patient_portal" not in refused.client.session.keys()


def test_unknown_and_foreign_codes(app_on, alpha, beta):
    beta.client_app_enabled = True
    beta.save()
    beta_code = _new_code(beta, make_client(beta))
    response = host_client(alpha).get(f"/patient/qr/{beta_code.token}/")
    assert response.status_code == 404 and "We do not recognise this QR code" in response.content.decode()
    assert host_client(alpha).get("/patient/qr/made-up/").status_code == 404


def test_revoking_a_code_of_another_organisation_or_client_is_a_404(app_on, alpha, beta):
    beta.client_app_enabled = True
    beta.save()
    client = make_client(alpha)
    other_client = make_client(alpha, email="other@example.com", last_name="Other")
    beta_code = _new_code(beta, make_client(beta))
    other_code = _new_code(alpha, other_client)
    staff = signed_in_client(alpha.people["gp"].user, alpha)
    assert staff.post(f"/portal/clients/{client.pk}/access/qr/{beta_code.code.pk}/revoke/").status_code == 404
    assert staff.post(f"/portal/clients/{client.pk}/access/qr/{other_code.code.pk}/revoke/").status_code == 404
    with scopes_disabled():
        assert not AccessCode.objects.filter(revoked_at__isnull=False).exists()


def test_staff_who_may_not_see_the_client_get_a_404(app_on, alpha):
    alpha.strict_departments = True
    alpha.save()
    client = make_client(alpha)  # in General practice
    physio = signed_in_client(alpha.people["physio"].user, alpha)
    for path in ("pin/", "qr/email/", "qr/letter/"):
        assert physio.post(f"/portal/clients/{client.pk}/access/{path}").status_code == 404
    assert host_client(alpha).post(f"/portal/clients/{client.pk}/access/pin/").status_code == 302  # sign in


def test_manifest_and_service_worker(alpha):
    browser = host_client(alpha)
    response = browser.get("/patient/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == "Alpha Practice" and manifest["start_url"] == "/patient/"
    assert manifest["scope"] == "/patient/" and manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert browser.get(icon["src"]).status_code == 200
    sw = browser.get("/patient/sw.js")
    assert sw.status_code == 200 and sw["Content-Type"].startswith("text/javascript")
    assert sw["Service-Worker-Allowed"] == "/patient/" and "no-cache" in sw["Cache-Control"]
    body = sw.content.decode()
    assert '"/patient/offline/"' in body and 'request.mode === "navigate"' in body
    assert "/patient/questionnaires" not in body  # only the shell is cached
    assert browser.get("/patient/offline/").status_code == 200
    assert '<link rel="manifest" href="/patient/manifest.webmanifest">' in browser.get("/patient/").content.decode()
    assert host_client(None).get("/patient/manifest.webmanifest").status_code == 404


@pytest.mark.parametrize("language", ["nl", "en", "de", "es"])
def test_the_qr_letter_is_one_a4_page(alpha, language):
    from weasyprint import HTML

    alpha.address = "Main street 1\n1234 AB Town"
    alpha.contact_phone = "+31 20 123 4567"
    alpha.contact_email = "desk@alpha.test"
    alpha.save()
    client = make_client(alpha, language=language)
    client.organization = alpha
    url = f"{alpha.base_url}/patient/qr/{'x' * 43}/"
    html = services.qr_letter_html(client, url, timezone.now() + timedelta(days=30))
    assert f'lang="{language}"' in html and "data:image/svg+xml;base64," in html and url in html
    document = HTML(string=html).render()
    assert len(document.pages) == 1
    assert round(document.pages[0].width * 25.4 / 96) == 210  # A4, in millimetres


def test_a_qr_link_opened_by_signed_in_staff_changes_nothing(app_on, alpha):
    """Someone sends an employee a link to their own QR code: the employee stays signed in, no patient session."""
    client = make_client(alpha)
    new = _new_code(alpha, client)
    staff = signed_in_client(alpha.people["gp"].user, alpha)
    for method in (staff.get, staff.post):
        response = method(f"/patient/qr/{new.token}/")
        assert response.status_code == 409 and "signed in to the staff portal" in response.content.decode()
    assert staff.get("/portal/").status_code == 200
    assert "patient_portal" not in staff.session.keys()
    with scopes_disabled():
        new.code.refresh_from_db()
    assert new.code.last_used_at is None


def test_the_client_record_shows_the_personal_portal_link_also_with_the_client_app_off(alpha):
    """Staff can hand the link over themselves (emails switched off); it opens that client's sign-in."""
    client = make_client(alpha)
    page = signed_in_client(alpha.people["gp"].user, alpha).get(f"/portal/clients/{client.pk}/").content.decode()
    link = re.search(r'class="portal-link" type="text" readonly value="(http://alpha\.[^"]+)"', page).group(1)
    assert link.startswith(f"{alpha.base_url}/patient/start/")  # the signature's timestamp makes each link new
    assert client_id_from_link(alpha, link.rstrip("/").rsplit("/", 1)[1]) == client.pk
    patient = host_client(alpha)
    assert patient.get("/" + link.split("/", 3)[3])["Location"] == "/patient/"
    assert "Or your date of birth" in patient.get("/patient/").content.decode()  # the link named the client


def test_the_organisations_own_periods_for_pins_and_qr_codes(app_on, alpha, django_capture_on_commit_callbacks):
    alpha.portal_pin_minutes = 25
    alpha.access_code_days = 7
    alpha.save()
    client = make_client(alpha)
    new = _new_code(alpha, client)
    assert timedelta(days=6, hours=23) < new.code.expires_at - timezone.now() <= timedelta(days=7)
    staff = signed_in_client(alpha.people["gp"].user, alpha)
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/portal/clients/{client.pk}/access/pin/")
    with scopes_disabled():
        pin = PortalPin.objects.get(client=client)
    assert timedelta(minutes=24) < pin.expires_at - timezone.now() <= timedelta(minutes=25)
    assert "valid for 25 minutes" in mail.outbox[-1].body
    # At most 30 minutes, whatever reaches the database: the settings form refuses more, and so does the code.
    alpha.portal_pin_minutes = 45
    with pytest.raises(ValidationError):
        alpha.full_clean()
    Organization.objects.filter(pk=alpha.pk).update(portal_pin_minutes=45)
    client.organization.refresh_from_db()
    with scopes_disabled():
        services.pin_issue(client=client)
        newest = PortalPin.objects.filter(client=client).order_by("-created_at", "-id").first()
    assert newest.expires_at - timezone.now() <= timedelta(minutes=30)

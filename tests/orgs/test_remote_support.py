"""Remote support by platform staff (F-ORG-10, issue #7 part 4): start with a fresh second factor on the platform
host, a one-time handoff to the organisation's host, acting as the employee with limits, a banner, audit rows."""

import re
import time
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.core.cache import cache
from django.utils import timezone

from consult import services as consult_services
from consult import waiting
from consult.models import Appointment, AppointmentParticipant, WaitingEntry
from orgs import policy
from orgs.models import AuditEvent
from orgs.remote_support import SESSION_KEY
from orgs.scoping import scopes_disabled
from tests.conftest import PASSWORD, host_client, signed_in_client

pytestmark = pytest.mark.django_db

STAFF = "staff@platform.test"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()  # handoff tokens, used TOTP codes, wrong-code counters


@pytest.fixture
def allowing(alpha):
    alpha.allow_remote_support = True
    alpha.save()
    return alpha


@pytest.fixture
def secret(superuser):
    value = generate_totp_secret()
    TOTP.activate(superuser, value)
    return value


def code_now(secret):
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def fresh_code(secret, user):
    """The current code, as if not used yet (a second start within the same 30 seconds)."""
    code = code_now(secret)
    cache.delete(f"allauth.mfa.totp.used?user={user.pk}&code={code}")
    return code


def start_url(organization):
    return f"/admin/organisations/{organization.pk}/remote-support/"


def start(organization, employee, code, *, reason="Agenda shows no slots", staff_client=None):
    staff_client = staff_client or platform_client()
    return staff_client.post(start_url(organization), {"employee": employee.pk, "reason": reason, "code": code})


def platform_client():
    from accounts.models import User

    return signed_in_client(User.objects.get(email=STAFF), None)


def token_path(response):
    assert response.status_code == 302, response.content.decode()[:3000]
    match = re.fullmatch(r"http://([a-z0-9.-]+)(:\d+)?(/support/enter/[^/]+/)", response["Location"])
    assert match, response["Location"]
    return match.group(1), match.group(3)


def entered(organization, employee, secret, superuser):
    """A client on the organisation's host in a remote support session as `employee` (the real flow)."""
    _host, path = token_path(start(organization, employee, fresh_code(secret, superuser)))
    client = host_client(organization)
    response = client.get(path)
    assert response.status_code == 302
    return client


def support_client(organization, employee, staff, minutes=60):
    """A remote support session set up directly (for tests of other apps that need one)."""
    client = signed_in_client(employee.user, organization)
    session = client.session
    now = timezone.now()
    session[SESSION_KEY] = {"staff_id": staff.pk, "staff_email": staff.email, "reason": "Test",
                            "until": (now + timedelta(minutes=minutes)).isoformat(), "started": now.isoformat(),
                            "employee_email": employee.user.email}
    session.save()
    return client


def rows(organization, action="remote_support.", since=None):
    """Audit rows of remote support (or of `action`), or every row written after the row `since`."""
    with scopes_disabled():
        events = AuditEvent.objects.filter(organization=organization).order_by("pk")
        if since is not None:
            return list(events.filter(pk__gt=since.pk))
        return list(events.filter(action__startswith=action))


# --- starting ------------------------------------------------------------------------------------

def test_start_needs_the_staff_members_own_authenticator(allowing, superuser):
    client = platform_client()
    html = client.get(start_url(allowing)).content.decode()
    assert "Set up an authenticator app" in html and 'href="/accounts/2fa/"' in html
    response = start(allowing, allowing.people["gp"], "123456", staff_client=client)
    assert response.status_code == 200
    assert "Activate an authenticator app for your own account first." in response.content.decode()
    assert rows(allowing) == []


def test_start_form_names_the_duration(allowing, superuser, secret, settings):
    settings.REMOTE_SUPPORT_MINUTES = 45
    html = platform_client().get(start_url(allowing)).content.decode()
    assert "at most 45 minutes" in html and 'autocomplete="one-time-code"' in html
    assert "gp@alpha.test" in html and "gp@beta.test" not in html


def test_a_wrong_code_starts_nothing(allowing, superuser, secret):
    wrong = "000000" if code_now(secret) != "000000" else "111111"
    response = start(allowing, allowing.people["gp"], wrong)
    assert response.status_code == 200 and "This code is not correct" in response.content.decode()
    assert rows(allowing) == []


def test_a_reason_is_required(allowing, superuser, secret):
    response = start(allowing, allowing.people["gp"], code_now(secret), reason="  ")
    assert response.status_code == 200 and "This field is required." in response.content.decode()


def test_a_replayed_code_is_refused(allowing, superuser, secret):
    code = code_now(secret)
    token_path(start(allowing, allowing.people["gp"], code))
    response = start(allowing, allowing.people["gp"], code)
    assert response.status_code == 200 and "used already" in response.content.decode()


def test_wrong_codes_are_throttled(allowing, superuser, secret):
    wrong = "000000" if code_now(secret) != "000000" else "111111"
    for _attempt in range(5):
        start(allowing, allowing.people["gp"], wrong)
    response = start(allowing, allowing.people["gp"], code_now(secret))
    assert response.status_code == 200 and "Too many wrong codes" in response.content.decode()


def test_only_organisations_that_allow_it_offer_remote_support(alpha, beta, superuser, secret):
    beta.allow_remote_support = True
    beta.save()
    client = platform_client()
    assert client.get(start_url(alpha)).status_code == 404
    assert start(alpha, alpha.people["gp"], code_now(secret), staff_client=client).status_code == 404
    assert f"/admin/organisations/{alpha.pk}/remote-support/" not in client.get(
        f"/admin/organisations/edit/{alpha.pk}/").content.decode()
    assert f"/admin/organisations/{beta.pk}/remote-support/" in client.get(
        f"/admin/organisations/edit/{beta.pk}/").content.decode()
    assert f"/admin/organisations/{beta.pk}/remote-support/" in client.get("/admin/organisations/").content.decode()
    # An employee of another organisation cannot be chosen.
    response = start(beta, alpha.people["gp"], code_now(secret), staff_client=client)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


def test_only_platform_staff_on_the_platform_host_start_it(allowing, superuser, secret):
    assert signed_in_client(allowing.people["admin"].user, allowing).get(start_url(allowing)).status_code == 404
    assert host_client(None).get(start_url(allowing)).status_code == 302  # to the sign-in


# --- the handoff -----------------------------------------------------------------------------------

def test_entering_signs_in_as_the_employee_with_the_session_marks(allowing, superuser, secret, settings):
    gp = allowing.people["gp"]
    host, path = token_path(start(allowing, gp, code_now(secret), reason="Cannot find her agenda"))
    assert host == allowing.hostname
    client = host_client(allowing)
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == "/portal/"
    support = client.session[SESSION_KEY]
    assert support["staff_id"] == superuser.pk and support["staff_email"] == STAFF
    assert support["reason"] == "Cannot find her agenda" and support["started"] and support["until"]
    assert int(client.session["_auth_user_id"]) == gp.user.pk
    [row] = rows(allowing, "remote_support.start")
    assert row.actor == superuser and row.actor_label == f"{STAFF} as gp@alpha.test (remote support)"
    assert row.changes["reason"] == "Cannot find her agenda" and row.changes["employee"] == "gp@alpha.test"
    assert row.acting_for == "remote support"
    # An org admin lands in the admin.
    admin_client = entered(allowing, allowing.people["admin"], secret, superuser)
    assert admin_client.get("/admin/").status_code == 200


def test_the_handoff_token_works_once(allowing, superuser, secret):
    _host, path = token_path(start(allowing, allowing.people["gp"], code_now(secret)))
    assert host_client(allowing).get(path).status_code == 302
    response = host_client(allowing).get(path)
    assert response.status_code == 403 and "This support link does not work" in response.content.decode()
    assert len(rows(allowing, "remote_support.start")) == 1


def test_the_handoff_token_expires_after_a_minute(allowing, superuser, secret):
    _host, path = token_path(start(allowing, allowing.people["gp"], code_now(secret)))
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        client = host_client(allowing)
        assert client.get(path).status_code == 403
        assert client.get("/portal/").status_code == 302
    assert rows(allowing) == []


def test_a_token_for_one_organisation_is_refused_on_another(allowing, beta, superuser, secret):
    beta.allow_remote_support = True
    beta.save()
    _host, path = token_path(start(allowing, allowing.people["gp"], code_now(secret)))
    client = host_client(beta)
    assert client.get(path).status_code == 403
    assert SESSION_KEY not in client.session and rows(beta) == []
    assert host_client(allowing).get(path).status_code == 302  # still unused: the right host accepts it


def test_a_forged_token_or_a_withdrawn_permission_is_refused(allowing, superuser, secret):
    _host, path = token_path(start(allowing, allowing.people["gp"], code_now(secret)))
    assert host_client(allowing).get(path[:-3] + "xx/").status_code == 403
    allowing.allow_remote_support = False
    allowing.save()
    assert host_client(allowing).get(path).status_code == 403


# --- during the session -----------------------------------------------------------------------------

def test_the_banner_is_on_portal_admin_and_account_pages(allowing, superuser, secret):
    client = entered(allowing, allowing.people["admin"], secret, superuser)
    for url in ("/portal/", "/portal/profile/", "/admin/", "/admin/audit/", "/accounts/logout/"):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert "data-remote-support-banner" in html, url
        assert f"{STAFF} is acting as admin@alpha.test until" in html and "Agenda shows no slots" in html, url
        assert 'action="/support/end/"' in html and "End remote support" in html, url
    # The employee's own sessions show no banner.
    html = signed_in_client(allowing.people["gp"].user, allowing).get("/portal/").content.decode()
    assert "data-remote-support-banner" not in html


def test_password_and_two_factor_pages_are_out_of_reach(allowing, superuser, secret):
    admin = allowing.people["admin"]
    client = entered(allowing, admin, secret, superuser)
    gp = allowing.people["gp"]
    for url in ("/accounts/password/change/", "/accounts/password/set/", "/accounts/2fa/",
                "/accounts/2fa/totp/activate/", "/accounts/2fa/recovery-codes/", "/accounts/3rdparty/",
                "/accounts/reauthenticate/", "/accounts/sessions/", f"/admin/employees/{gp.pk}/two-factor/disable/"):
        response = client.get(url)
        assert response.status_code == 403, url
        html = response.content.decode()
        assert "Not available during remote support" in html and "data-remote-support-banner" in html, url
    response = client.post("/accounts/password/change/", {"oldpassword": PASSWORD, "password1": "x" * 12,
                                                          "password2": "x" * 12})
    assert response.status_code == 403
    admin.user.refresh_from_db()
    assert admin.user.check_password(PASSWORD)
    assert client.get("/admin/account/")["Location"] == "/portal/profile/"  # Wagtail's account link: My profile
    profile = client.get("/portal/profile/").content.decode()
    assert "/accounts/password/change/" not in profile and "/accounts/2fa/" not in profile


def test_every_change_is_audited_with_the_staff_member_named(allowing, superuser, secret):
    gp = allowing.people["gp"]
    client = entered(allowing, gp, secret, superuser)
    response = client.post("/portal/profile/", {"first_name": "Greta", "last_name": "Praktijk", "language": "en",
                                                "job_title": "GP"})
    assert response.status_code in (200, 302)
    [action] = rows(allowing, "remote_support.action")
    assert action.changes["method"] == "POST" and action.changes["path"] == "/portal/profile/"
    assert action.actor == gp.user and action.actor_label == f"{STAFF} as gp@alpha.test (remote support)"
    assert "Greta" not in str(action.changes)  # never the body
    [start_row] = rows(allowing, "remote_support.start")
    assert len(rows(allowing, since=start_row)) >= 2  # the profile change and the action
    for row in rows(allowing, since=start_row):
        assert row.actor_label == f"{STAFF} as gp@alpha.test (remote support)", row.action
        assert row.acting_for == "remote support", row.action


def test_ending_signs_out_and_is_audited(allowing, superuser, secret):
    client = entered(allowing, allowing.people["gp"], secret, superuser)
    assert client.get("/support/end/").status_code == 405
    response = client.post("/support/end/")
    assert response.status_code == 302 and response["Location"] == "/support/ended/?why=ended"
    html = client.get(response["Location"]).content.decode()
    assert "Remote support has ended" in html and 'href="http://localhost:8000/admin/"' in html
    assert client.get("/portal/").status_code == 302  # signed out
    [end] = rows(allowing, "remote_support.end")
    assert end.changes["staff"] == STAFF and end.changes["reason"] == "ended by the staff member"
    assert end.actor_label == f"{STAFF} as gp@alpha.test (remote support)"
    assert rows(allowing, "remote_support.action") == []


def test_signing_out_ends_the_session_too(allowing, superuser, secret):
    client = entered(allowing, allowing.people["gp"], secret, superuser)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/support/ended/?why=signed_out"
    assert rows(allowing, "remote_support.end")[0].changes["reason"] == "signed out"
    assert client.get("/portal/").status_code == 302


def test_the_session_ends_at_its_time_limit(allowing, superuser, secret, settings):
    settings.REMOTE_SUPPORT_MINUTES = 30
    client = entered(allowing, allowing.people["gp"], secret, superuser)
    with time_machine.travel(timezone.now() + timedelta(minutes=29)):
        assert client.get("/portal/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        response = client.get("/portal/agenda/")
        assert response.status_code == 302 and response["Location"] == "/support/ended/?why=expired"
        assert "Reason: time limit reached." in client.get(response["Location"]).content.decode()
        assert client.get("/portal/").status_code == 302
    [end] = rows(allowing, "remote_support.end")
    assert end.changes["reason"] == "time limit reached" and end.changes["staff"] == STAFF


def test_switching_support_off_ends_running_sessions(allowing, superuser, secret):
    client = entered(allowing, allowing.people["gp"], secret, superuser)
    allowing.allow_remote_support = False
    allowing.save()
    response = client.get("/portal/")
    assert response.status_code == 302 and response["Location"] == "/support/ended/?why=disabled"
    assert "switched remote support off" in client.get(response["Location"]).content.decode()
    [end] = rows(allowing, "remote_support.end")
    assert end.changes["reason"] == "the organisation switched remote support off"


def test_patient_facing_live_actions_are_refused(allowing, superuser, secret):
    gp = allowing.people["gp"]
    with scopes_disabled():
        client_record = consult_services.client_create(
            member=allowing.people["admin"], initials="R.", last_name="Verhoeven", email="rosa@example.com",
            department=allowing.departments_by_name["gp"])
        appointment = consult_services.appointment_create(
            member=allowing.people["admin"], client=client_record, practitioner=gp,
            starts_at=timezone.now() + timedelta(minutes=5))
        participant = AppointmentParticipant.objects.get(appointment=appointment, role="client")
        entry = waiting.waiting_enter(participant=participant)
    client = entered(allowing, gp, secret, superuser)
    assert client.get("/portal/waiting-room/").status_code == 200  # looking is fine
    assert client.post(f"/portal/waiting-room/{entry.pk}/call-in/").status_code == 404
    with scopes_disabled():
        assert WaitingEntry.objects.get(pk=entry.pk).status == "waiting"
    assert client.post(f"/portal/clients/{client_record.pk}/quick-consult/").status_code == 302
    with scopes_disabled():
        assert Appointment.objects.count() == 1
    # The same member, not marked: the employee themselves may.
    assert policy.can_hold_consult(gp, appointment)
    gp.is_remote_support = True
    assert not policy.can_hold_consult(gp, appointment) and not policy.can_act_live(gp)
    assert len(rows(allowing, "remote_support.action")) == 2


def test_the_org_admin_finds_it_all_in_the_audit_log(allowing, superuser, secret):
    client = entered(allowing, allowing.people["gp"], secret, superuser)
    client.post("/portal/profile/", {"first_name": "Greta", "last_name": "Praktijk", "language": "en"})
    client.post("/support/end/")
    admin = signed_in_client(allowing.people["admin"].user, allowing)
    admin.post("/admin/departments/new/", {"name": "Dermatology", "colour": "#aa3377"})  # not remote support
    html = admin.get("/admin/audit/?remote_support=true").content.decode()
    for label in ("Remote support started", "Change during remote support", "Remote support ended"):
        assert label in html, label
    assert f"{STAFF} as gp@alpha.test (remote support)" in html
    assert "Department added" not in html
    assert "Department added" in admin.get("/admin/audit/").content.decode()
    settings_html = admin.get("/admin/organisation/").content.decode()
    assert "filter on “Remote support”" in settings_html


def test_platform_staff_cannot_sign_in_on_an_organisation_host(allowing, superuser):
    client = host_client(allowing)
    response = client.post("/accounts/login/", {"login": STAFF, "password": PASSWORD})
    assert response.status_code == 200 and "not correct" in response.content.decode()
    assert not policy.can_sign_in(superuser, allowing) and policy.can_sign_in(superuser, None)
    # A platform session's cookie carried to the organisation host opens nothing there.
    platform = platform_client()
    assert platform.get("/admin/", HTTP_HOST=allowing.hostname).status_code == 302
    assert platform.get("/admin/organisations/").status_code == 200  # the platform admin works as before


def test_nothing_that_outlasts_the_session_can_be_made(allowing, superuser, secret):
    """New employees (a set-password link to an address of the staff member's choosing), API keys, single sign-on
    providers and linked sign-in identities would all outlive the time limit."""
    from accounts.models import OidcProvider
    from orgs.models import ApiKey, Membership

    client = entered(allowing, allowing.people["admin"], secret, superuser)
    for url in ("/admin/employees/new/", "/admin/api-keys/", "/admin/api-keys/new/", "/admin/sso_providers/",
                "/admin/sso_providers/new/", "/accounts/oidc/anything/login/?process=connect"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Not available during remote support" in response.content.decode(), url
    with scopes_disabled():
        before = Membership.objects.filter(organization=allowing).count()
    response = client.post("/admin/employees/new/", {"email": "helper@elsewhere.test", "first_name": "H",
                                                     "last_name": "S", "role": "org_admin"})
    assert response.status_code == 403
    response = client.post("/admin/api-keys/new/", {"name": "Lasting"})
    assert response.status_code == 403
    with scopes_disabled():
        assert Membership.objects.filter(organization=allowing).count() == before
        assert not ApiKey.objects.filter(organization=allowing).exists()
        assert not OidcProvider.objects.filter(organization=allowing).exists()


def test_the_policy_refuses_keys_and_providers_to_remote_support_too(allowing):
    from orgs import policy

    admin = allowing.people["admin"]
    assert policy.can_manage_api_keys(admin) and policy.can_manage_sign_in_providers(admin)
    admin.is_remote_support = True
    assert not policy.can_manage_api_keys(admin) and not policy.can_manage_sign_in_providers(admin)


def test_signing_out_of_the_wagtail_admin_ends_the_session_too(allowing, superuser, secret):
    client = entered(allowing, allowing.people["admin"], secret, superuser)
    response = client.post("/admin/logout/")
    assert response.status_code == 302 and response["Location"] == "/support/ended/?why=signed_out"
    assert rows(allowing, "remote_support.end")[0].changes["reason"] == "signed out"
    assert client.get("/admin/").status_code == 302

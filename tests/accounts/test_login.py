"""Staff sign-in on the organisation's subdomain. Covers F-AUTH-1, F-AUTH-5 (sessions, throttling)."""

import pytest
from django.core import mail
from django.core.cache import cache

from orgs.middleware import SESSION_ORG_KEY
from orgs.scoping import scopes_disabled
from tests.conftest import PASSWORD, host_client, signed_in_client

pytestmark = pytest.mark.django_db

INCORRECT = "The email address and/or password you specified are not correct."


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post("/accounts/login/", {"login": email, "password": password, **extra})


def test_org_admin_lands_in_admin_and_practitioner_in_portal(alpha):
    admin = host_client(alpha)
    response = sign_in(admin, "admin@alpha.test")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert admin.get("/admin/").status_code == 200

    practitioner = host_client(alpha)
    response = sign_in(practitioner, "gp@alpha.test")
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert practitioner.get("/portal/").status_code == 200


def test_session_cookie_is_host_only(alpha):
    client = host_client(alpha)
    sign_in(client, "admin@alpha.test")
    cookie = client.cookies["sessionid"]
    assert cookie["domain"] == ""  # no Domain attribute: the browser sends it to alpha.localhost only
    assert cookie["httponly"]


def test_login_on_one_organisation_does_not_open_another(alpha, beta):
    client = host_client(alpha)
    sign_in(client, "admin@alpha.test")
    assert client.get("/portal/").status_code == 200
    # Even if the cookie were presented on another host, the session is bound to alpha.
    response = client.get("/portal/", HTTP_HOST=beta.hostname)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = client.get("/admin/", HTTP_HOST=beta.hostname)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    # and the platform host
    response = client.get("/admin/", HTTP_HOST="localhost")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_employee_of_another_organisation_cannot_sign_in(alpha, beta):
    client = host_client(beta)
    response = sign_in(client, "admin@alpha.test")
    assert response.status_code == 200
    assert INCORRECT in response.content.decode()
    assert SESSION_ORG_KEY not in client.session


def test_wrong_password_and_stranger_get_the_same_message(alpha):
    for email in ("admin@alpha.test", "nobody@alpha.test"):
        response = sign_in(host_client(alpha), email, password="wrong-password")
        assert INCORRECT in response.content.decode()


def test_deactivated_employee_cannot_sign_in_and_loses_open_sessions(alpha):
    membership = alpha.people["gp"]
    client = signed_in_client(membership.user, alpha)
    assert client.get("/portal/").status_code == 200
    with scopes_disabled():
        membership.is_active = False
        membership.save()
    assert client.get("/portal/").status_code == 302
    response = sign_in(host_client(alpha), "gp@alpha.test")
    assert INCORRECT in response.content.decode()


def test_platform_staff_sign_in_on_platform_host_only_as_superuser(alpha, superuser):
    response = sign_in(host_client(None), superuser.email)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    response = sign_in(host_client(None), "admin@alpha.test")
    assert INCORRECT in response.content.decode()


def test_failed_logins_are_throttled(alpha):
    client = host_client(alpha)
    for _ in range(5):
        sign_in(client, "gp@alpha.test", password="wrong-password")
    response = sign_in(client, "gp@alpha.test")  # even the right password is refused now
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()


def test_logout(alpha):
    client = signed_in_client(alpha.people["gp"].user, alpha)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/portal/").status_code == 302


def test_password_reset_mails_only_people_of_this_organisation(alpha, beta):
    host_client(alpha).post("/accounts/password/reset/", {"email": "gp@alpha.test"})
    host_client(alpha).post("/accounts/password/reset/", {"email": "gp@beta.test"})
    assert [m.to for m in mail.outbox] == [["gp@alpha.test"]]
    assert "http://alpha.localhost/accounts/password/reset/key/" in mail.outbox[0].body
    assert "Alpha Practice" in mail.outbox[0].body


def test_signup_is_closed(alpha):
    response = host_client(alpha).get("/accounts/signup/")
    assert response.status_code == 200
    assert "Sign Up Closed" in response.content.decode()


def test_platform_staff_never_sign_in_on_an_organisation_host(alpha, superuser):
    """Covers F-ORG-10: not even where remote support is allowed; that goes through the platform admin as
    an employee (tests/orgs/test_remote_support.py)."""
    response = sign_in(host_client(alpha), superuser.email)
    assert INCORRECT in response.content.decode()
    alpha.allow_remote_support = True
    alpha.save()
    response = sign_in(host_client(alpha), superuser.email)
    assert INCORRECT in response.content.decode()
    # A superuser's session carried over from before (or forced) opens nothing on the organisation host.
    assert signed_in_client(superuser, alpha).get("/admin/").status_code == 302
    with scopes_disabled():
        from orgs.models import AuditEvent

        assert not AuditEvent.objects.filter(organization=alpha, action__startswith="remote_support").exists()


def test_the_sign_in_page_offers_no_sign_up_and_sends_patients_to_their_links(alpha):
    from tests.conftest import host_client

    alpha.client_app_enabled = True
    alpha.save()
    page = host_client(alpha).get("/accounts/login/").content.decode()
    assert "sign up" not in page.lower() and "/accounts/signup/" not in page
    assert "For employees of Alpha Practice" in page and 'href="/patient/"' in page

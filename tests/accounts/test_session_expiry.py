"""Staff sessions end after the organisation's idle minutes (issue #7 part 3; accounts/middleware_session.py)."""

import time

import pytest
import time_machine

from accounts.middleware_session import LAST_SEEN
from tests.conftest import PASSWORD, host_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()


def set_idle_minutes(org, minutes):
    org.session_idle_minutes = minutes
    org.save(update_fields=["session_idle_minutes"])


def signed_in(org, key="gp"):
    client = host_client(org)
    response = client.post("/accounts/login/", {"login": org.people[key].user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_activity_keeps_the_session_and_idleness_ends_it(alpha):
    set_idle_minutes(alpha, 20)
    start = time.time()
    with time_machine.travel(start, tick=False):
        client = signed_in(alpha)
        assert client.get("/portal/").status_code == 200
        # The cookie still ends with the browser (a shared practice computer); the server decides about idleness.
        assert client.session.get_expire_at_browser_close()
        assert client.session.get_expiry_age() > 20 * 60
    with time_machine.travel(start + 19 * 60, tick=False):
        assert client.get("/portal/").status_code == 200  # 19 minutes later: still in, and the clock restarts
    with time_machine.travel(start + 38 * 60, tick=False):
        assert client.get("/portal/").status_code == 200
    with time_machine.travel(start + 59 * 60, tick=False):
        response = client.get("/portal/")
        assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=%2Fportal%2F"  # ours
        assert "_auth_user_id" not in client.session
        page = client.get(response["Location"]).content.decode()
    assert "You were signed out after 20 minutes of inactivity." in page
    assert client.get("/portal/")["Location"].startswith("/accounts/login/")


def test_the_last_request_time_is_kept_in_the_session_not_only_in_the_cookie(alpha):
    """A session cookie that outlives its age (copied, replayed, a browser that ignores expiry) opens nothing:
    the server compares its own record of the last request."""
    set_idle_minutes(alpha, 15)
    start = time.time()
    with time_machine.travel(start, tick=False):
        client = signed_in(alpha, "admin")
        assert client.get("/admin/").status_code == 200
        session = client.session
        session.set_expiry(7 * 24 * 3600)  # as if the cookie and the stored session lived a week
        session.save()
    with time_machine.travel(start + 16 * 60, tick=False):
        response = client.get("/admin/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        assert LAST_SEEN not in client.session


def test_each_organisation_has_its_own_idle_time(alpha, beta):
    set_idle_minutes(alpha, 10)
    set_idle_minutes(beta, 60)
    start = time.time()
    with time_machine.travel(start, tick=False):
        at_alpha, at_beta = signed_in(alpha), signed_in(beta)
        at_alpha.get("/portal/")
        at_beta.get("/portal/")
    with time_machine.travel(start + 30 * 60, tick=False):
        assert at_alpha.get("/portal/").status_code == 302
        assert at_beta.get("/portal/").status_code == 200


def test_an_htmx_request_after_the_idle_time_sends_the_page_to_the_sign_in(alpha):
    set_idle_minutes(alpha, 10)
    start = time.time()
    with time_machine.travel(start, tick=False):
        client = signed_in(alpha)
        client.get("/portal/")
    with time_machine.travel(start + 11 * 60, tick=False):
        response = client.get("/portal/", HTTP_HX_REQUEST="true")
        assert response.status_code == 204 and response["HX-Redirect"] == "/accounts/login/"
        assert "_auth_user_id" not in client.session


def test_a_post_after_the_idle_time_is_not_carried_out(alpha):
    set_idle_minutes(alpha, 10)
    start = time.time()
    with time_machine.travel(start, tick=False):
        client = signed_in(alpha, "admin")
        client.get("/admin/")
    with time_machine.travel(start + 11 * 60, tick=False):
        response = client.post("/admin/organisation/", {"name": "Changed while away"})
        assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    alpha.refresh_from_db()
    assert alpha.name == "Alpha Practice"


def test_anonymous_visitors_are_left_alone(alpha):
    visitor = host_client(alpha)
    visitor.get("/accounts/login/")
    assert LAST_SEEN not in visitor.session


def test_platform_staff_on_the_platform_host_are_signed_out_after_the_platform_idle_time(settings, superuser):
    settings.PLATFORM_SESSION_IDLE_MINUTES = 30
    start = time.time()
    with time_machine.travel(start, tick=False):
        client = host_client(None)
        response = client.post("/accounts/login/", {"login": superuser.email, "password": PASSWORD})
        assert response.status_code == 302
        assert client.get("/admin/").status_code == 200
    with time_machine.travel(start + 29 * 60, tick=False):
        assert client.get("/admin/").status_code == 200
    with time_machine.travel(start + 60 * 60, tick=False):
        response = client.get("/admin/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

"""Security headers on every kind of page (issue #7 part 6; orgs/security.py, config/settings/production.py)."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from consult import links, services
from consult.models import AppointmentParticipant, Consult
from orgs.scoping import scopes_disabled
from orgs.security import NO_PERMISSIONS, ROOM_PERMISSIONS
from tests.conftest import host_client, signed_in_client
from tests.widgets.conftest import make_walk_in

pytestmark = pytest.mark.django_db


def _client(org):
    with scopes_disabled():
        return services.client_create(member=org.people["admin"], initials="R.", last_name="Verhoeven",
                                      email="rosa@example.com", department=org.departments_by_name["gp"])


def _patient_link(org, appointment):
    with scopes_disabled():
        participant = AppointmentParticipant.objects.get(appointment=appointment, role="client")
    return f"/c/{links.token_for(participant.token_nonce)}/"


def _final(client, url):
    response = client.get(url, follow=True)
    assert response.status_code == 200, (url, response.status_code, response.redirect_chain)
    return response


def pages(alpha):
    """(name, response, is_room, is_widget) for one page of each kind."""
    staff = signed_in_client(alpha.people["gp"].user, alpha)
    admin = signed_in_client(alpha.people["admin"].user, alpha)
    patient = _client(alpha)
    staff.post(f"/portal/clients/{patient.pk}/quick-consult/")
    with scopes_disabled():
        consult = Consult.objects.get()
    in_room = host_client(alpha)
    in_room.get(_patient_link(alpha, consult.appointment))
    waiting = host_client(alpha)
    with scopes_disabled():
        later = services.appointment_create(member=alpha.people["gp"], client=patient,
                                            practitioner=alpha.people["gp"],
                                            starts_at=timezone.now() + timedelta(minutes=30))
    waiting.get(_patient_link(alpha, later))
    widget = make_walk_in(alpha)
    return [
        ("platform home", _final(host_client(None), "/"), False, False),
        ("public site", _final(host_client(alpha), "/"), False, False),
        ("sign-in", _final(host_client(alpha), "/accounts/login/"), False, False),
        ("staff portal", _final(staff, "/portal/"), False, False),
        ("admin", _final(admin, "/admin/"), False, False),
        ("patient portal", _final(host_client(alpha), "/patient/"), False, False),
        ("staff room", _final(staff, f"/portal/room/{consult.appointment_id}/"), True, False),
        ("patient room", _final(in_room, "/c/room/"), True, False),
        ("waiting room", _final(waiting, "/c/"), True, False),
        ("camera check", _final(host_client(alpha), "/c/check/"), True, False),
        ("widget", _final(host_client(alpha), widget.get_absolute_url()), False, True),
    ]


def test_every_kind_of_page_sends_the_security_headers(alpha):
    for name, response, is_room, is_widget in pages(alpha):
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert response["Referrer-Policy"] == "same-origin", name
        assert "Content-Security-Policy" in response, name
        assert response["Permissions-Policy"] == (ROOM_PERMISSIONS if is_room else NO_PERMISSIONS), name
        if is_widget:
            assert "Cross-Origin-Opener-Policy" not in response, name
        else:
            assert response["Cross-Origin-Opener-Policy"] == "same-origin", name


def test_only_room_pages_may_use_the_camera_microphone_and_screen():
    assert "camera=()" in NO_PERMISSIONS and "microphone=()" in NO_PERMISSIONS
    assert "display-capture=()" in NO_PERMISSIONS and "geolocation=()" in NO_PERMISSIONS
    assert "payment=()" in NO_PERMISSIONS
    for feature in ("camera", "microphone", "display-capture"):
        assert f"{feature}=(self)" in ROOM_PERMISSIONS
    assert "geolocation=()" in ROOM_PERMISSIONS


def test_no_script_or_template_reads_the_cookies_by_their_development_names():
    """Production renames the cookies (__Host-); JavaScript takes the CSRF token from the form instead."""
    root = settings.BASE_DIR
    found = subprocess.run(
        ["grep", "-rlE", r"csrftoken|sessionid", "--include=*.js", "--include=*.html",
         *[str(root / part) for part in ("templates", "accounts", "cms", "consult", "formbuilder", "orgs",
                                         "portal", "themes", "widgets") if (root / part).exists()]],
        capture_output=True, text=True,
    ).stdout.split()
    assert found == []


PRODUCTION_CHECK = """
from django.conf import settings
import django
django.setup()
print(settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_CONTENT_TYPE_NOSNIFF)
print(settings.SESSION_COOKIE_NAME, settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_PATH,
      settings.SESSION_COOKIE_DOMAIN)
print(settings.CSRF_COOKIE_NAME, settings.CSRF_COOKIE_SECURE, settings.CSRF_COOKIE_PATH, settings.CSRF_COOKIE_DOMAIN)
print(settings.SECURE_REFERRER_POLICY, settings.SECURE_CROSS_ORIGIN_OPENER_POLICY, settings.DEBUG)
"""


def test_production_settings_send_hsts_and_use_host_prefixed_cookies(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x" * 50,
        "QUESTIONNAIRE_KEYS": "k1:" + "A" * 44,
        "DATABASE_URL": "sqlite:///" + str(tmp_path / "db.sqlite3"),
        "EMAIL_URL": "smtp://localhost:25",
        "REDIS_URL": "redis://127.0.0.1:6379/0",  # required in production (config/settings/production.py)
    }
    env.pop("SECURE_HSTS_SECONDS", None)
    result = subprocess.run([sys.executable, "-c", PRODUCTION_CHECK], env=env, cwd=settings.BASE_DIR,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.split("\n")
    assert lines[0] == "31536000 True True"
    assert lines[1] == "__Host-sessionid True / None"
    assert lines[2] == "__Host-csrftoken True / None"
    assert lines[3] == "same-origin None False"

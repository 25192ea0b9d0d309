"""The staff portal and My profile. Covers F-AUTH-2."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from orgs.models import AuditEvent
from tests.conftest import host_client, signed_in_client

pytestmark = pytest.mark.django_db


def png(size=(64, 64)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "#3366aa").save(buffer, "PNG")
    return SimpleUploadedFile("me.png", buffer.getvalue(), content_type="image/png")


def test_portal_needs_sign_in_and_exists_only_on_organisation_hosts(alpha):
    response = host_client(alpha).get("/portal/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/portal/"
    assert host_client(None).get("/portal/").status_code == 404


def test_portal_home_shows_navigation_role_departments_and_colleagues(alpha):
    html = signed_in_client(alpha.people["gp"].user, alpha).get("/portal/").content.decode()
    for text in ("Overview", "My profile", "Practitioner", "General practice", "Deptadmin Alpha", "Sign out"):
        assert text in html
    assert 'href="/admin/"' not in html  # only org admins get the admin link
    admin_html = signed_in_client(alpha.people["admin"].user, alpha).get("/portal/").content.decode()
    assert 'href="/admin/"' in admin_html


def test_strict_departments_limit_the_colleagues_shown(alpha):
    alpha.strict_departments = True
    alpha.save()
    html = signed_in_client(alpha.people["gp"].user, alpha).get("/portal/").content.decode()
    assert "Deptadmin Alpha" in html and "Physio Alpha" not in html


def test_profile_update_with_photo_is_saved_and_audited(alpha):
    user = alpha.people["gp"].user
    client = signed_in_client(user, alpha)
    response = client.post("/portal/profile/", {
        "first_name": "Eva", "last_name": "Bakker", "phone": "+31 6 1234 5678", "language": "nl", "photo": png(),
    })
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.phone == "+31 6 1234 5678" and user.language == "nl" and user.photo.name.startswith("profile-photos/")
    assert response.cookies["django_language"].value == "nl"
    event = AuditEvent.objects.with_scopes_disabled().get(action="profile.update")
    assert event.actor == user and "phone" in event.changes


def test_profile_rejects_bad_input_and_keeps_the_old_values(alpha):
    user = alpha.people["gp"].user
    client = signed_in_client(user, alpha)
    response = client.post("/portal/profile/", {"first_name": "", "last_name": "X", "language": "xx",
                                                "photo": SimpleUploadedFile("a.png", b"not an image")})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"first_name", "language", "photo"} <= set(errors)
    user.refresh_from_db()
    assert user.first_name == "Gp" and not user.photo


def test_password_change_from_the_portal(alpha):
    user = alpha.people["gp"].user
    client = signed_in_client(user, alpha)
    assert client.get("/accounts/password/change/").status_code == 200
    response = client.post("/accounts/password/change/", {
        "oldpassword": "correct-horse-battery-staple", "password1": "an-even-better-one-2026",
        "password2": "an-even-better-one-2026",
    })
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("an-even-better-one-2026")


def test_the_account_menu_shows_initials_without_a_photo(alpha):
    """On a phone the menu's name is hidden: without a photo the initials are what there is to press."""
    page = signed_in_client(alpha.people["gp"].user, alpha).get("/portal/").content.decode()
    assert '<i class="avatar avatar-initials" aria-hidden="true">GA</i>' in page

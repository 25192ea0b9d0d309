"""Languages (F-I18N-1) and security headers."""

import pytest

from tests.conftest import host_client, signed_in_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language,text", [("nl", "Wachtwoord"), ("de", "Passwort"), ("es", "Contraseña")])
def test_login_page_speaks_the_visitors_language(alpha, language, text):
    response = host_client(alpha).get("/accounts/login/", HTTP_ACCEPT_LANGUAGE=language)
    html = response.content.decode()
    assert f'<html lang="{language}">' in html and text in html


@pytest.mark.parametrize("language,text", [("nl", "Mijn profiel"), ("de", "Mein Profil"), ("es", "Mi perfil")])
def test_portal_in_each_language(alpha, language, text):
    client = signed_in_client(alpha.people["gp"].user, alpha)
    client.cookies["django_language"] = language
    assert text in client.get("/portal/").content.decode()


def test_language_switch_sets_the_choice(alpha):
    client = host_client(alpha)
    response = client.post("/i18n/setlang/", {"language": "de", "next": "/accounts/login/"})
    assert response.status_code == 302 and response.cookies["django_language"].value == "de"
    assert '<html lang="de">' in client.get("/accounts/login/").content.decode()


def test_profile_language_applies_until_the_switch_says_otherwise(alpha):
    user = alpha.people["gp"].user
    user.language = "es"
    user.save()
    client = signed_in_client(user, alpha)
    assert '<html lang="es">' in client.get("/portal/").content.decode()
    client.cookies["django_language"] = "nl"
    assert '<html lang="nl">' in client.get("/portal/").content.decode()


def test_pages_may_not_be_framed_and_scripts_need_the_nonce(alpha):
    for path in ("/", "/accounts/login/"):
        response = host_client(alpha).get(path)
        policy = response["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self' 'nonce-" in policy
        assert response["X-Frame-Options"] == "DENY"
    admin = signed_in_client(alpha.people["admin"].user, alpha).get("/admin/")
    assert "frame-ancestors 'none'" in admin["Content-Security-Policy"]

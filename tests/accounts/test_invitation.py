"""New employees get a set-password link that works once and expires. Covers F-AUTH-1."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from orgs.services import employee_create
from tests.conftest import host_client

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-much-better-password-42"


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    def invite(org, email="newdoc@alpha.test"):
        with django_capture_on_commit_callbacks(execute=True):
            employee_create(organization=org, actor=org.people["admin"].user, email=email, first_name="Noor",
                            last_name="Haddad")
        return _sent_invitation()

    return invite


def _sent_invitation():
    message = mail.outbox[-1]
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+/", message.body).group(0)
    return message, link


def follow_link(client, link):
    path = link.split("localhost:8000", 1)[1]
    response = client.get(path)
    if response.status_code == 302:  # allauth moves the key out of the URL into the session
        response = client.get(response["Location"])
    return response


def set_password(client, link):
    response = follow_link(client, link)
    assert response.status_code == 200
    return client.post(response.request["PATH_INFO"], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})


def test_invitation_is_sent_with_a_link_on_the_organisation_host(alpha, invite):
    alpha.default_language = "en"
    alpha.save()
    message, link = invite(alpha)
    assert message.to == ["newdoc@alpha.test"]
    assert "Alpha Practice" in message.subject
    assert link.startswith("http://alpha.localhost:8000/accounts/password/reset/key/")
    assert "expires in 3 days" in message.body


def test_link_sets_the_password_once_and_then_signs_in(alpha, invite):
    _, link = invite(alpha)
    client = host_client(alpha)
    response = set_password(client, link)
    assert response.status_code == 302
    login = host_client(alpha).post("/accounts/login/", {"login": "newdoc@alpha.test", "password": NEW_PASSWORD})
    assert login.status_code == 302 and login["Location"] == "/portal/"
    # used links do not work again
    again = follow_link(host_client(alpha), link)
    assert "Bad Token" in again.content.decode() or "invalid" in again.content.decode().lower()


def test_link_expires(alpha, settings, invite):
    # Margins of two hours: time_machine moves naive local time by the UTC offset.
    _, link = invite(alpha)
    timeout = timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    with time_machine.travel(timezone.now() + timeout - timedelta(hours=2)):
        assert "password1" in follow_link(host_client(alpha), link).content.decode()
    with time_machine.travel(timezone.now() + timeout + timedelta(hours=2)):
        response = follow_link(host_client(alpha), link)
        html = response.content.decode()
        assert "password1" not in html
        assert "Bad Token" in html or "invalid" in html.lower()


def test_nothing_is_sent_when_the_service_refuses(alpha, django_capture_on_commit_callbacks):
    from orgs.services import PlanLimitError

    alpha.max_users = 4
    alpha.save()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PlanLimitError):
        employee_create(organization=alpha, actor=None, email="late@alpha.test")
    assert mail.outbox == []


def test_invitation_speaks_the_organisations_language(alpha, invite):
    alpha.default_language = "de"
    alpha.save()
    message, _ = invite(alpha, email="neu@alpha.test")
    assert message.body.startswith("Hallo Noor")
    assert "Passwort" in message.body

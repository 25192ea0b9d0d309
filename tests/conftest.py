"""Shared fixtures: two organisations (alpha and beta) with departments and people, host-bound clients."""

import pytest
from django.test import Client

from orgs.middleware import SESSION_ORG_KEY, session_binding
from orgs.models import Role
from orgs.scoping import scopes_disabled
from orgs.services import department_create, employee_create, org_create

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_channel_layers():
    """Channel-layer instances of each test's own. A Redis layer remembers the event loop that receives on
    it; a test whose loop ended in the middle of a receive (async_to_sync) would leave the shared instance
    unusable for the next loop, such as the browser tests' server ("Two event loops are trying to
    receive() on one channel layer at once")."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(scope="session", autouse=True)
def _private_root():
    """Consult files of this run live in their own directory (config/settings/test.py); gone afterwards."""
    import shutil

    from django.core.files.storage import storages

    yield
    shutil.rmtree(storages["private"].location, ignore_errors=True)


@pytest.fixture(autouse=True)
def _english():
    # A request activates its visitor's language for the thread; every test starts from English.
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


def make_org(subdomain, name, max_users=10):
    org = org_create(name=name, subdomain=subdomain, max_users=max_users, default_language="en")
    with scopes_disabled():
        gp = department_create(organization=org, actor=None, name="General practice")
        physio = department_create(organization=org, actor=None, name="Physiotherapy")
        people = {}
        for key, role, departments in [
            ("admin", Role.ORG_ADMIN, []),
            ("deptadmin", Role.DEPARTMENT_ADMIN, [gp]),
            ("gp", Role.PRACTITIONER, [gp]),
            ("physio", Role.PRACTITIONER, [physio]),
        ]:
            membership = employee_create(
                organization=org, actor=None, email=f"{key}@{subdomain}.test", first_name=key.title(),
                last_name=name.split()[0], role=role, departments=departments, send_invitation=False,
            )
            membership.user.set_password(PASSWORD)
            membership.user.save()
            people[key] = membership
    org.departments_by_name = {"gp": gp, "physio": physio}
    org.people = people
    return org


@pytest.fixture
def alpha(db):
    return make_org("alpha", "Alpha Practice")


@pytest.fixture
def beta(db):
    return make_org("beta", "Beta Clinic")


@pytest.fixture
def superuser(db):
    from accounts.models import User

    return User.objects.create_superuser(email="staff@platform.test", password=PASSWORD)


def host_client(organization):
    """A test client whose every request goes to `organization`'s host (None: the platform host)."""
    host = organization.hostname if organization is not None else "localhost"
    return Client(HTTP_HOST=host)


def signed_in_client(user, organization):
    """A client signed in on `organization`'s host, as the real login would leave it."""
    client = host_client(organization)
    client.force_login(user)
    session = client.session
    session[SESSION_ORG_KEY] = session_binding(organization)
    session.save()
    return client

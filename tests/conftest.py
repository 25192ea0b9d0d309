"""Shared fixtures: two organisations (alpha and beta) with departments and people, host-bound clients."""

import copy
import itertools

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
def _restore_migrated_rows_after_each_flush():
    """A transactional test empties the database when it ends; Django restores the rows migrations made
    (Wagtail's root page, root collection, default Locale) only when the next `serialized_rollback` test
    starts. Run one after the other, pytest-django orders those tests last, so nothing notices; spread over
    pytest-xdist workers, a plain test can come next and find no Locale. So the rows come back at once."""
    from django.db import connections
    from django.db.backends.base.creation import BaseDatabaseCreation
    from django.test import TransactionTestCase

    # The saved rows include scoped ones (memberships' departments): read and write them outside any scope.
    deserialize = BaseDatabaseCreation.deserialize_db_from_string

    def deserialize_unscoped(self, data):
        with scopes_disabled():
            deserialize(self, data)

    BaseDatabaseCreation.deserialize_db_from_string = deserialize_unscoped
    flush = TransactionTestCase._fixture_teardown

    def flush_then_restore(self):
        flush(self)
        if not self.serialized_rollback:
            return
        for alias in self._databases_names(include_mirrors=False):
            connection = connections[alias]
            if hasattr(connection, "_test_serialized_contents"):
                connection.creation.deserialize_db_from_string(connection._test_serialized_contents)

    TransactionTestCase._fixture_teardown = flush_then_restore
    yield
    TransactionTestCase._fixture_teardown = flush
    BaseDatabaseCreation.deserialize_db_from_string = deserialize


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


# Built once per test database (see django_db_setup below) and found again by every test that asks.
SEEDED_ORGS = {"alpha": "Alpha Practice", "beta": "Beta Clinic"}
PEOPLE = [
    ("admin", Role.ORG_ADMIN, []),
    ("deptadmin", Role.DEPARTMENT_ADMIN, ["gp"]),
    ("gp", Role.PRACTITIONER, ["gp"]),
    ("physio", Role.PRACTITIONER, ["physio"]),
]


def make_org(subdomain, name, max_users=10):
    """The organisation `subdomain` with two departments (gp, physio) and four people (PEOPLE). A seeded
    one (alpha, beta) already exists and is only looked up: building one costs a Wagtail site tree."""
    from orgs.models import Organization

    with scopes_disabled():
        existing = Organization.objects.filter(subdomain=subdomain).first() if subdomain in SEEDED_ORGS else None
    if existing is None:
        return _build_org(subdomain, name, max_users)
    if existing.max_users != max_users:
        existing.max_users = max_users
        existing.save(update_fields=["max_users"])
    return _with_people(existing)


def _build_org(subdomain, name, max_users):
    org = org_create(name=name, subdomain=subdomain, max_users=max_users, default_language="en")
    with scopes_disabled():
        departments = {key: department_create(organization=org, actor=None, name=label)
                       for key, label in (("gp", "General practice"), ("physio", "Physiotherapy"))}
        for key, role, department_keys in PEOPLE:
            membership = employee_create(
                organization=org, actor=None, email=f"{key}@{subdomain}.test", first_name=key.title(),
                last_name=name.split()[0], role=role, departments=[departments[k] for k in department_keys],
                send_invitation=False,
            )
            membership.user.set_password(PASSWORD)
            membership.user.save()
    return _with_people(org)


def _with_people(org):
    from orgs.models import Department, Membership

    with scopes_disabled():
        by_name = {d.name: d for d in Department.objects.filter(organization=org)}
        members = {m.user.email: m for m in Membership.objects.filter(organization=org).select_related("user")}
    org.departments_by_name = {"gp": by_name["General practice"], "physio": by_name["Physiotherapy"]}
    org.people = {key: members[f"{key}@{org.subdomain}.test"] for key, _, _ in PEOPLE}
    return org


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """alpha and beta, built once per test database: most tests use them, and building an organisation
    (its Wagtail site tree, email sets, questionnaire) is what used to dominate the suite's time. Each test
    still runs in a transaction that is rolled back; transactional tests get them back after their flush,
    because the rows restored after a flush (serialized_rollback) are taken again now that they exist."""
    from django.db import connections

    with django_db_blocker.unblock():
        for subdomain, name in SEEDED_ORGS.items():
            _build_org(subdomain, name, 10)
        for connection in connections.all(initialized_only=True):
            if hasattr(connection, "_test_serialized_contents"):
                with scopes_disabled():
                    connection._test_serialized_contents = connection.creation.serialize_db_to_string()


_cache_generation = itertools.count()


@pytest.fixture(autouse=True)
def _own_cache_keys(settings):
    """Every test reads and writes cache keys of its own: the seeded organisations keep their ids and hosts
    from test to test, and a throttle counter or cached page of one test must not reach the next."""
    caches = copy.deepcopy(settings.CACHES)
    for config in caches.values():
        config["KEY_PREFIX"] = f"{config.get('KEY_PREFIX', '')}t{next(_cache_generation)}"
    settings.CACHES = caches


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

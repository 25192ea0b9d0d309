"""API fixtures: a key for alpha and one for beta, and host-bound clients that send them."""

import pytest
from django.core.cache import cache
from django.test import Client

from orgs import api_keys
from orgs.scoping import scopes_disabled


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()  # throttle counters and rate limits of one test never reach the next
    yield
    cache.clear()


def make_key(organization, name="Agenda sync"):
    with scopes_disabled():
        return api_keys.api_key_create(member=organization.people["admin"], name=name)


def api_client(organization, plain_key=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {plain_key}"} if plain_key else {}
    return Client(HTTP_HOST=organization.hostname, **headers)


@pytest.fixture
def alpha_key(alpha):
    return make_key(alpha)


@pytest.fixture
def beta_key(beta):
    return make_key(beta)


@pytest.fixture
def api(alpha, alpha_key):
    return api_client(alpha, alpha_key[1])

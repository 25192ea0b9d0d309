"""Portal tests count sign-in attempts in the cache: every test starts and ends with it empty."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()

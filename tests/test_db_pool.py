"""The PostgreSQL connection pool (config/db_pool.py): bounded per process, and a request beyond the bound
waits for a connection instead of opening one more."""

import threading

import pytest
from django.db import connection

from config.db_pool import with_pool

POSTGRES = {
    "ENGINE": "django.db.backends.postgresql", "NAME": "x", "CONN_MAX_AGE": 60, "OPTIONS": {"sslmode": "prefer"},
}


def test_pool_bounds_postgresql_and_drops_persistent_connections():
    pooled = with_pool(POSTGRES, max_size=16, timeout=10)
    assert pooled["OPTIONS"] == {"sslmode": "prefer", "pool": {"min_size": 2, "max_size": 16, "timeout": 10}}
    assert pooled["CONN_MAX_AGE"] == 0
    assert POSTGRES["CONN_MAX_AGE"] == 60  # the settings' own dict is not changed behind their back


def test_no_pool_when_off_or_on_sqlite():
    assert with_pool(POSTGRES, max_size=0, timeout=10) is POSTGRES
    sqlite = {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}
    assert with_pool(sqlite, max_size=8, timeout=10) is sqlite


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a pool exists for PostgreSQL only")
@pytest.mark.django_db
def test_threads_beyond_the_pool_wait_for_a_connection_on_postgresql():
    """Eight threads, a pool of two: PostgreSQL never sees more than two of our connections, and every thread
    gets its answer."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    settings_dict = with_pool({**connection.settings_dict, "CONN_MAX_AGE": 0}, max_size=2, timeout=20)
    tag = f"pool_test_{threading.get_ident()}"
    settings_dict["OPTIONS"] = {**settings_dict["OPTIONS"], "application_name": tag}
    seen, results, lock = [], [], threading.Lock()

    def work():
        wrapper = DatabaseWrapper(settings_dict, alias="pool_test")
        try:
            with wrapper.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [tag])
                count = cursor.fetchone()[0]
                cursor.execute("SELECT pg_sleep(0.2)")
            with lock:
                seen.append(count)
                results.append(True)
        finally:
            wrapper.close()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    DatabaseWrapper(settings_dict, alias="pool_test").close_pool()
    assert len(results) == 8
    assert max(seen) <= 2

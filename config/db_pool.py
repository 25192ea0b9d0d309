"""The PostgreSQL connection pool per process (psycopg_pool, through Django's OPTIONS["pool"]).

Under ASGI each request in flight runs its database work in a thread of its own, with a connection of its own:
an overload opened one connection per waiting request until PostgreSQL refused them all ("too many clients";
bench/load.py with 2 workers held 76 of the server's 100 and answered 500s). A pool bounds the connections of a
process; a request beyond the bound waits up to `timeout` seconds for one instead of failing at once.
"""


def with_pool(database, *, max_size, timeout):
    """`database` (a DATABASES entry) pooled with at most `max_size` connections; unchanged when max_size is 0 or
    the database is not PostgreSQL (SQLite has no server to protect)."""
    if not max_size or database["ENGINE"] != "django.db.backends.postgresql":
        return database
    return {
        **database,
        "CONN_MAX_AGE": 0,  # Django refuses persistent connections with a pool: the pool keeps them
        "OPTIONS": {**database.get("OPTIONS", {}),
                    "pool": {"min_size": min(2, max_size), "max_size": max_size, "timeout": timeout}},
    }

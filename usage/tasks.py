"""django-q2 entry points: thin, idempotent, they only call the jobs."""

from . import jobs


def nightly_rollup():
    return jobs.nightly_rollup()

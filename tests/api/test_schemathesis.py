"""Schemathesis runs every operation of /api/openapi.json against the app (WSGI, in the test's transaction)
with an alpha key on alpha's host: no server errors, only documented status codes, content types and response
bodies that match the schema. Valid data (positive) and data the schema forbids (negative) for each operation.

(schemathesis' pytest plugin does not run under pytest 9 here, so the test drives Hypothesis itself.)
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from consult.services import client_create
from orgs.scoping import organization_scope
from tests.api.conftest import make_key

pytestmark = pytest.mark.django_db

APP = get_wsgi_application()
EXAMPLES = 15  # per operation and mode: 10 operations × 2 modes take about 20 s


@pytest.fixture
def wsgi_in_test_transaction():
    # As Django's test client does: a request's end must not close the test's connection (and transaction).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_every_operation_conforms_to_the_schema(alpha, wsgi_in_test_transaction):
    with organization_scope(alpha):
        client_create(member=alpha.people["admin"], initials="J", last_name="Jansen", email="j@example.org",
                      date_of_birth="1980-02-03")
    _key, plain = make_key(alpha)
    headers = {"Host": alpha.hostname, "Authorization": f"Bearer {plain}"}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", APP, headers={"Host": alpha.hostname})
    # The key is ours, not generated; unknown extra query parameters are ignored (as most APIs do), not refused.
    schema.config.generation.update(with_security_parameters=False, allow_extra_parameters=False)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case):
                # Not positive_data_acceptance: rules no schema can state (a valid email address, a time in the
                # future, a free slot, an end after the start) rightly answer schema-valid data with a 422.
                case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

            try:
                run()
            except Unsatisfiable:
                assert mode == GenerationMode.NEGATIVE  # an operation without parameters has no invalid input
            except BaseException as error:  # collect them all, then fail with every operation's problem
                failures.append(f"{operation.label} ({mode.value}): {error}")
    assert not failures, "\n\n".join(failures)

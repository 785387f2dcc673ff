"""Schemathesis over every operation of /api/v1/openapi.json, anonymous and with a buyer's and
a seller's token, on both engines: no server error, and every response (status code, content
type, body) as the document says.

A bounded number of examples per operation (FUZZ_EXAMPLES, 25 unless MARKETPLACE_FUZZ_EXAMPLES
says otherwise) keeps it inside the suite's time; run it alone and longer with

    MARKETPLACE_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest tests/api/test_fuzz.py
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from marketplace.accounts.models import Role

FUZZ_EXAMPLES = int(os.environ.get("MARKETPLACE_FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def tokens(api, make) -> dict[str, dict]:
    """Authorization headers: none, a buyer's token, a seller staff's token (whose seller has a
    product on sale)."""
    seller = make.seller()
    make.product(seller, stock=20)
    return {"anonymous": {}, "buyer": api.user_headers(Role.buyer)[1],
            "seller": api.staff_headers(seller)[1]}


FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])


@pytest.mark.parametrize("who", ["anonymous", "buyer", "seller"])
def test_every_operation_keeps_its_contract(app, tokens, who):
    """Each operation of the document in turn (Hypothesis over Schemathesis' strategy for it;
    the pytest plugin's lazy loader does not run on this pytest); every failing operation is
    reported, not just the first."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # the in-process client does not undo Flask-Compress (test_hostile_input checks that)
    headers = {**tokens[who], "Accept-Encoding": "identity"}
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @FUZZ
        @given(case=operation.as_strategy())
        def run(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collected, reported together
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert operations >= 12
    assert not failures, "\n\n".join(failures)

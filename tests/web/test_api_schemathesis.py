"""Schemathesis against the OpenAPI document and a real server on loopback: every operation of
/api, with the document's examples and generated requests (an admin bearer token, a seeded
world), must never answer 5xx and never answer something its documented schema does not allow
(2xx bodies, and the one error envelope for 4xx). Bounded: a few generated cases per operation,
derandomized so CI is reproducible, no Hypothesis database written to disk."""
from __future__ import annotations

import time

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.support.live_server import LiveServer
from tests.web.api_helpers import PASSWORD_EVENT, api, runtime, world  # noqa: F401

MAX_EXAMPLES = 4  # per operation, on top of the document's own examples
BUDGET_SECONDS = 240  # the whole run; far below in practice (about a minute on SQLite)


@pytest.fixture
def server(app):
    with LiveServer(app) as live:
        yield live


@pytest.fixture
def seeded(world):
    """Something behind the ids the examples and generator use: events, an app, a group, a strategy
    and a stored event with its tasks."""
    world.strategy()
    world.ingest({"id": "seed-1", "event": "password_changed", "data": PASSWORD_EVENT})
    return world


CHECKS = [not_a_server_error, response_schema_conformance]


def _run_documented_example(operation, doc_op: dict, base_url: str, session: requests.Session, failures: list) -> None:
    """The document's own request example, on the seeded objects (id 1): where generated cases
    mostly meet 404s, this one reaches the 2xx answer and checks it against its schema."""
    params = {p["name"]: 1 if p["schema"]["type"] == "integer" else "1" for p in doc_op["parameters"] if p["in"] == "path"}
    body = doc_op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("example")
    kwargs = {"body": body, "media_type": "application/json"} if body is not None else {}
    case = operation.Case(path_parameters=params, **kwargs)
    try:
        response = case.call(base_url=base_url, session=session, timeout=30)
        case.validate_response(response, checks=CHECKS)
    except BaseException as exc:  # noqa: B036 - schemathesis raises a failure *group*
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        failures.append(f"{operation.method.upper()} {operation.path} (documented example): {str(exc)[:1500]}")


def _run_operation(operation, base_url: str, session: requests.Session, failures: list) -> None:
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    @given(case=operation.as_strategy())
    def check(case):
        response = case.call(base_url=base_url, session=session, timeout=30)
        case.validate_response(response, checks=CHECKS)

    try:
        check()
    except BaseException as exc:  # noqa: B036 - hypothesis raises an exception *group*; one entry per operation
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        failures.append(f"{operation.method.upper()} {operation.path}: {type(exc).__name__}: {str(exc)[:1500]}")


def test_schemathesis_finds_no_server_error_and_no_schema_violation(app, server, seeded, api):
    doc = api.get("/api/v1/openapi.json").json
    schema = schemathesis.openapi.from_dict(doc)
    session = requests.Session()
    session.headers["Authorization"] = api.headers["Authorization"]
    failures: list[str] = []
    started, operations = time.monotonic(), 0
    for result in schema.get_all_operations():
        operation = result.ok()
        _run_documented_example(operation, doc["paths"][operation.path][operation.method], server.url, session, failures)
        _run_operation(operation, server.url, session, failures)
        operations += 1
        assert time.monotonic() - started < BUDGET_SECONDS, f"over budget after {operations} operations"
    session.close()
    assert operations == len(doc_operations(doc))
    assert not failures, "\n\n".join(failures)


def doc_operations(doc: dict) -> list:
    return [(path, method) for path, ops in doc["paths"].items() for method in ops]

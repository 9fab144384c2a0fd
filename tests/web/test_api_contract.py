"""Contract checks over every documented /api/v1 route at once: the OpenAPI document is valid and
matches Flask's url_map; every bearer route answers 401 without a token and 403 (naming the
permission) to a viewer lacking it; every route with a body refuses non-objects, bad JSON and
deep nesting with a Chinese 400; every route with an id answers an unknown id with a JSON 404."""
from __future__ import annotations

import json
import re

from openapi_spec_validator import validate

from crm.people.permissions import BUILTIN_ROLES
from web.api import definitions, ingest, lead_ingest, leads, operations, scenes, strategies  # noqa: F401 - registers ROUTES
from web.api import customer_actions, customer_followups, customers, customers_search  # noqa: F401,E402
from web.api.spec import ROUTES
from tests.web.api_helpers import CHINESE, anon_api, api, assert_error, viewer_api  # noqa: F401

VIEWER = next(r for r in BUILTIN_ROLES if r.code == "viewer").permissions
BEARER = [r for r in ROUTES if r.auth == "bearer"]
WITH_BODY = [r for r in BEARER if r.body is not None]
WITH_ID = [r for r in BEARER if "<int:" in r.path]
# A body good enough to get past parsing, so the unknown id is what the answer is about.
ID_BODIES = {"put": {"name": "名称", "code": "code_x", "url": "http://example.com", "method": "POST",
                     "group_id": 1, "event_id": 1, "steps": []},
             "post": {"version": 1}}


def rid(r) -> str:
    return f"{r.method.upper()} {r.path}"


def concrete(path: str) -> str:
    return re.sub(r"<int:\w+>", "999999", path)


def test_openapi_document_is_valid_openapi_3(anon_api):
    resp = anon_api.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    doc = resp.json
    validate(doc)
    assert doc["openapi"].startswith("3.")
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert all(CHINESE.search(op["summary"]) for ops in doc["paths"].values() for op in ops.values())


def test_openapi_documents_every_api_rule_of_the_url_map(app, anon_api):
    documented = {(path, method) for path, ops in anon_api.get("/api/v1/openapi.json").json["paths"].items()
                  for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        # /api/social/* is the seed's own path for 社群 (documented in the same OpenAPI document)
        # /api/v1/docs is the HTML page showing this document, not an operation of it
        if not rule.rule.startswith(("/api/v1/", "/api/social/")) or rule.rule.startswith(("/api/v1/probe", "/api/v1/docs")):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        served |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"


def test_every_documented_permission_exists_and_path_params_are_declared(anon_api):
    from crm.people.permissions import PERMISSIONS

    for r in BEARER:
        assert r.permission in PERMISSIONS, rid(r)
    for path, ops in anon_api.get("/api/v1/openapi.json").json["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for op in ops.values():
            assert {p["name"] for p in op["parameters"] if p["in"] == "path"} == names, path


def check_each(routes, check) -> None:
    """Runs `check(route)` for every route and reports all the routes that fail, not just the first
    (one test per rule keeps the battery fast: each test builds an app and a database)."""
    failures = []
    for route in routes:
        try:
            check(route)
        except AssertionError as exc:
            failures.append(f"{rid(route)}: {exc}")
    assert not failures, "\n".join(failures)


def test_every_bearer_route_needs_a_token(anon_api):
    def check(route):
        resp = anon_api.call(route.method.upper(), concrete(route.path), {} if route.body is not None else None)
        assert_error(resp, 401, "令牌")
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        forged = anon_api.call(route.method.upper(), concrete(route.path), headers={"Authorization": "Bearer ckb_forged"})
        assert forged.status_code == 401

    check_each(BEARER, check)


def test_viewer_gets_403_naming_the_missing_permission_exactly_where_documented(viewer_api):
    def check(route):
        resp = viewer_api.call(route.method.upper(), concrete(route.path), {} if route.body is not None else None)
        if route.permission in VIEWER:
            assert resp.status_code not in (401, 403), (resp.status_code, resp.json)
        else:
            body = assert_error(resp, 403, route.permission)
            assert [d["permission"] for d in body["error"]["details"]] == [route.permission]

    check_each(BEARER, check)
    assert any(r.permission not in VIEWER for r in BEARER) and any(r.permission in VIEWER for r in BEARER)


BAD_BODIES = [
    (b"[1, 2]", ["JSON 对象"]),
    (b'"text"', ["JSON 对象"]),
    (b'{"name": ', ["JSON 格式错误"]),
    (b"[" * 40 + b"]" * 40, ["嵌套", "32"]),
    (json.dumps({"name": {"a": json.loads("[" * 31 + "]" * 31)}}).encode(), ["嵌套"]),
    (b"\xff\xfe", ["JSON"]),
    (b"[" * 100_000, ["JSON"]),
]


def test_every_body_route_refuses_bad_bodies_with_400(api):
    def check(route):
        for data, words in BAD_BODIES:
            assert_error(api.call(route.method.upper(), concrete(route.path), data=data), 400, *words)

    check_each(WITH_BODY, check)


def test_every_body_route_needs_a_body(api):
    def check(route):
        assert_error(api.call(route.method.upper(), concrete(route.path), data=b""), 400, "请求体")

    check_each([r for r in WITH_BODY if "export" not in r.path], check)


def test_oversized_bearer_body_is_400(api, settings):
    resp = api.post("/api/v1/strategy-groups", {"name": "x" * (settings.max_body_bytes + 1)})
    assert_error(resp, 400, "请求体过大", str(settings.max_body_bytes))


def test_every_route_with_an_id_answers_unknown_ids_with_json_404(api):
    def check(route):
        body = ID_BODIES.get(route.method) if route.body is not None else None
        resp = api.call(route.method.upper(), concrete(route.path), body)
        assert_error(resp, 404, "999999" if "/versions/" not in route.path else "不存在")

    check_each(WITH_ID, check)


def test_unknown_api_paths_and_methods_answer_json(api):
    assert_error(api.get("/api/v1/no-such-thing"), 404)
    assert_error(api.call("PATCH", "/api/v1/strategies"), 405)

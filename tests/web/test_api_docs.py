"""API 文档: every documented operation reads as a name, promises a 2xx schema and the one error
envelope, and carries an example; the document validates; /api/v1/docs serves the vendored
Swagger UI under the app's CSP; and /api answers every error (routing, CSRF, permissions,
validation) in the one envelope without console wording."""
from __future__ import annotations

import re

from openapi_spec_validator import validate

from web.api.openapi import ERROR_SCHEMA, STANDARD_ERRORS
from web.api.spec import ROUTES
from tests.web.api_helpers import CHINESE, anon_api, api, assert_error, viewer_api  # noqa: F401

OPERATION_ID = re.compile(r"^[a-z]+[A-Z][A-Za-z]*$")  # camelCase verb + noun: listStrategies
CONSOLE_WORDING = ("请通过页面上的按钮操作", "请刷新页面", "页面不存在", "<html", "<!doctype")


def _doc(anon_api) -> dict:
    resp = anon_api.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    return resp.json


def test_every_route_declares_an_operation_id_a_2xx_schema_and_an_example(app):
    """Parts adding routes must comply: this walks ROUTES as registered by every API module (the
    app fixture imports them all)."""
    assert len(ROUTES) > 100
    problems = []
    ids = [r.operation_id for r in ROUTES]
    for r in ROUTES:
        where = f"{r.method.upper()} {r.path}"
        if not OPERATION_ID.match(r.operation_id or ""):
            problems.append(f"{where}: operation_id {r.operation_id!r} should read as a name (listCustomers)")
        success = [code for code, resp in r.responses.items() if code.startswith("2") and isinstance(resp, dict)]
        if not success:
            problems.append(f"{where}: no 2xx response schema")
        if not any(code in r.examples for code in r.responses if code.startswith(("2", "4"))):
            problems.append(f"{where}: no response example")
        if r.body is not None and "request" not in r.examples:
            problems.append(f"{where}: a body but no request example")
        unknown = set(r.examples) - set(r.responses) - {"request"} - {code for code, _ in STANDARD_ERRORS}
        if unknown:
            problems.append(f"{where}: examples for undeclared statuses {sorted(unknown)}")
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"operation ids used twice: {duplicates}"
    assert not problems, "\n".join(problems)


def test_the_document_validates_and_renders_examples_and_the_one_error_schema(anon_api):
    doc = _doc(anon_api)
    validate(doc)
    assert doc["components"]["schemas"]["Error"] == ERROR_SCHEMA
    operations = [(path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()]
    assert len(operations) == len(ROUTES)
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        assert OPERATION_ID.match(op["operationId"]), where
        ok_codes = [c for c in op["responses"] if c.startswith("2")]
        media = {c: next(iter(op["responses"][c].get("content", {}).values()), {}) for c in op["responses"]}
        assert any("schema" in media[c] for c in ok_codes), where
        assert any("example" in m for m in media.values()), where
        for code, resp in op["responses"].items():
            if code.startswith(("4", "5")):
                assert resp["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, (where, code)
        if "requestBody" in op:
            assert "example" in op["requestBody"]["content"]["application/json"], where


def test_the_error_examples_in_the_document_are_envelopes(anon_api):
    import jsonschema

    for ops in _doc(anon_api)["paths"].values():
        for op in ops.values():
            for code, resp in op["responses"].items():
                example = resp.get("content", {}).get("application/json", {}).get("example")
                if code.startswith(("4", "5")) and example is not None:
                    jsonschema.validate(example, ERROR_SCHEMA)


def test_docs_page_serves_vendored_swagger_ui_under_the_csp(anon_api):
    resp = anon_api.get("/api/v1/docs")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)  # no inline code
    assert "//cdn" not in html and "https://" not in html
    assert 'data-spec-url="/api/v1/openapi.json"' in html
    for asset in ("/static/vendor/swagger-ui/swagger-ui-bundle.js", "/static/vendor/swagger-ui/swagger-ui.css",
                  "/static/js/api_docs.js"):
        resp = anon_api.get(asset)
        resp.close()  # a static file is streamed from disk
        assert resp.status_code == 200, asset


def assert_envelope(resp, status: int, code: str) -> dict:
    body = assert_error(resp, status)
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code and set(error) >= {"code", "message", "fields", "details"}, error
    import jsonschema
    jsonschema.validate(body, ERROR_SCHEMA)
    text = resp.get_data(as_text=True)
    assert not any(w.lower() in text.lower() for w in CONSOLE_WORDING), text
    return error


def test_api_errors_outside_views_answer_the_envelope_without_console_wording(api, anon_api):
    error = assert_envelope(api.post("/api/v1/leads", {"name": "x"}), 405, "method_not_allowed")
    assert "GET" in error["message"] and "/api/v1/leads" in error["message"]
    assert_envelope(api.get("/api/v1/no-such-thing"), 404, "not_found")
    assert_envelope(anon_api.get("/api/v1/strategies"), 401, "unauthorized")
    assert_envelope(api.call("PATCH", "/api/v1/strategies"), 405, "method_not_allowed")


def test_a_console_session_on_the_api_gets_the_envelope_not_a_page(app, admin_user, login):
    """A browser session (cookie, no bearer token) posting to /api is told in the envelope that the
    API wants a token — never the console's login redirect or 「请刷新页面」 page."""
    client = app.test_client()
    login(client)
    assert_envelope(client.post("/api/v1/strategy-groups", json={"name": "组"}), 401, "unauthorized")


def test_csrf_and_unstorable_values_under_api_answer_the_envelope(app):
    from flask_wtf.csrf import CSRFError
    from sqlalchemy.exc import DataError

    from web.auth.shell import handle_csrf_error, handle_unstorable_value

    with app.test_request_context("/api/v1/strategy-groups", method="POST"):
        resp = handle_csrf_error(CSRFError())
        assert_envelope(resp, 400, "csrf_failed")
        assert "Bearer" in resp.get_json()["error"]["message"]
        assert_envelope(handle_unstorable_value(DataError("stmt", {}, Exception("out of range"))), 400,
                        "value_out_of_range")
    with app.test_request_context("/strategies/new", method="POST"):  # the console keeps its page
        body, status, _ = handle_csrf_error(CSRFError())
        assert status == 400 and "刷新页面" in body


def test_permission_and_validation_errors_use_the_same_envelope(api, viewer_api):
    error = assert_envelope(viewer_api.post("/api/v1/strategy-groups", {"name": "组"}), 403, "forbidden")
    assert error["details"] == [{"permission": "strategies.manage", "label": error["details"][0]["label"]}]
    error = assert_envelope(api.post("/api/v1/strategy-groups", {"name": ["not", "text"]}), 422, "invalid")
    assert "name" in error["fields"]
    assert_envelope(api.get("/api/v1/strategies/999999"), 404, "not_found")
    assert_envelope(api.get("/api/v1/event-records/999999"), 404, "not_found")


def test_an_unhandled_error_under_api_is_a_500_envelope_without_a_stack(app):
    from flask import Blueprint

    bp = Blueprint("api_probe_crash", __name__, url_prefix="/api/v1/probe-crash")

    @bp.get("/boom")
    def boom():
        raise RuntimeError("secret internals: stack frame")

    app.register_blueprint(bp)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the 500 handler answers
    resp = app.test_client().get("/api/v1/probe-crash/boom")
    error = assert_envelope(resp, 500, "internal_error")
    assert "secret internals" not in resp.get_data(as_text=True) and "Traceback" not in resp.get_data(as_text=True)
    assert error["fields"] == {} and error["details"] == []

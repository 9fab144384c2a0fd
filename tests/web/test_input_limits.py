"""Hostile input at the web layer (web.input_limits): ids past INTEGER on every <int:> route and in
query strings, 10,000-deep JSON on console and API endpoints, and Allow on every 405."""
from __future__ import annotations

import pytest

from crm.people import service as people
from tests.web.conftest import get_csrf_token

HUGE_IDS = ["2147483648", "9223372036854775808", "99999999999999999999", "1" * 5000]
DEEP_JSON = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT = '{"rule":' * 10_000 + "1" + "}" * 10_000


@pytest.fixture
def admin_client(client, admin_user, login):
    login(client)
    client.environ_base["HTTP_X_CSRFTOKEN"] = get_csrf_token(client, "/")
    return client


def _int_routes(app):
    for rule in app.url_map.iter_rules():
        names = [name for name, conv in rule._converters.items() if type(conv).__name__ == "BoundedIntConverter"]
        if names:
            yield rule, names


def test_every_int_route_answers_404_for_ids_past_integer(app, admin_client):
    routes = list(_int_routes(app))
    assert len(routes) > 100  # the walk really covers the console and the API
    for rule, names in routes:
        for huge in HUGE_IDS:
            path = rule.rule
            for name in names:
                path = path.replace(f"<int:{name}>", huge)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                resp = admin_client.open(path, method=method)
                assert resp.status_code in (404, 405), (method, rule.rule, huge, resp.status_code)
                resp.close()


def test_the_largest_integer_still_reaches_the_view(admin_client):
    assert admin_client.get("/users/2147483647/edit").status_code == 404


@pytest.mark.parametrize("path", [
    "/customers?saved={n}", "/customers?page={n}", "/leads?page={n}", "/notifications?page={n}",
    "/events?page={n}", "/tasks?strategy={n}", "/history?app={n}", "/history?page={n}",
    "/strategies?group={n}", "/leads/imports?scene_id={n}",
])
def test_int_query_parameters_past_integer_read_as_absent(admin_client, path):
    for huge in ["2147483647", "9223372036854775807"] + HUGE_IDS[:3]:
        resp = admin_client.get(path.format(n=huge))
        assert resp.status_code in (200, 302, 404), (path, resp.status_code)


def test_console_ids_posted_past_integer_are_ignored(admin_client, app_db):
    resp = admin_client.post("/events/batch", data={"ids": HUGE_IDS[:3], "action": "disable"})
    assert resp.status_code in (302, 400)
    resp = admin_client.post("/notifications/read", data={"id": HUGE_IDS[:3]})
    assert resp.status_code == 302


@pytest.mark.parametrize("path", [
    "/strategies/save", "/strategies/dry-run", "/strategies/backtest", "/tags/rule/preview",
    "/message-templates/preview", "/worktasks/tasks/1/move", "/strategies/reorder",
])
def test_console_json_endpoints_refuse_deep_json_with_400(admin_client, path):
    for body in (DEEP_JSON, DEEP_OBJECT):
        resp = admin_client.post(path, data=body, content_type="application/json")
        assert resp.status_code in (400, 404), (path, resp.status_code)
        if resp.status_code == 400:
            assert "JSON 嵌套超过 32 层" in resp.get_data(as_text=True)


def test_json_in_form_fields_query_strings_and_uploads_is_bounded_too(admin_client):
    from io import BytesIO

    answers = [
        admin_client.get("/customers", query_string={"adv": DEEP_OBJECT}),
        admin_client.post("/customers/saved", data={"name": "深", "adv": DEEP_OBJECT}),
        admin_client.post("/leads/scenes/new", data={"name": "深", "tagging_rules": DEEP_JSON}),
        admin_client.post("/strategies/import", data={"bundle": (BytesIO(DEEP_JSON.encode()), "deep.json")},
                          content_type="multipart/form-data"),
    ]
    for resp in answers:
        assert resp.status_code == 400, resp.request.path
        assert "JSON 嵌套超过 32 层" in resp.get_data(as_text=True)


def test_api_refuses_deep_json_in_the_one_envelope(app, app_db, admin_user):
    token = people.create_token(app_db, "admin", "深度测试")
    resp = app.test_client().post("/api/v1/strategies", data=DEEP_JSON, content_type="application/json",
                                  headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "bad_request"
    assert "嵌套超过" in resp.get_json()["error"]["message"]


def test_405_carries_allow_on_console_and_api(client, admin_user):
    resp = client.get("/logout")
    assert resp.status_code == 405 and "POST" in resp.headers["Allow"]
    assert "不支持的请求方式" in resp.get_data(as_text=True)
    resp = client.delete("/api/v1/events")
    assert resp.status_code == 405 and "POST" in resp.headers["Allow"]
    assert resp.get_json()["error"]["code"] == "method_not_allowed"


def test_api_ids_past_integer_are_a_named_400(app, app_db, admin_user):
    token = people.create_token(app_db, "admin", "大数测试")
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    resp = api.post("/api/v1/event-definitions/copy", json={"ids": [2**31]}, headers=headers)
    assert resp.status_code == 400 and "ids" in resp.get_json()["error"]["message"]
    resp = api.get("/api/v1/leads?tags_contain_any=2147483648", headers=headers)
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "bad_request"
    resp = api.get(f"/api/v1/leads?page={2**64}", headers=headers)
    assert resp.status_code == 400

"""The 场景获客 API: POST /api/v1/leads/ingestions over real HTTP (signed like /api/v1/events: forged,
stale and replayed requests refused, nothing stored), one lead per external id, per-item batch
answers, field errors in Chinese, rate limits with Retry-After; and the bearer routes to list,
read, update and assign leads (filters, sorting, paging, masking, refused transitions)."""
from __future__ import annotations

import json

import pytest
from sqlmodel import select

from crm.leads.models import Lead, LeadLog
from events.models import EventRecord
from tests.web.api_helpers import (EMAIL, MOBILE, Api, Signer, anon_api, api, assert_error, count, token_for,  # noqa: F401
                                   viewer_api)

FORM = {"name": "张三", "email": EMAIL, "phone": "+86 138-0013-8000", "company": "某某公司",
        "message": "对产品A感兴趣，希望了解详情。"}
META = {"ip_address": "192.168.1.100", "user_agent": "Mozilla/5.0", "submission_url": "https://example.com/contact"}


def lead(ext=None, scene=None, **form) -> dict:
    body = {**({"scene_type": "WEB_FORM"} if scene is None else scene), "form_id": "contact_us_form_v1",
            "submission_data": {**FORM, **form}, "meta": META}
    if ext is not None:
        body["external_lead_id"] = ext
    return body


def person(i: int, **extra) -> dict:
    return {"name": f"客户{i}", "phone": f"1391234{i:04d}", "email": f"c{i}@example.com", **extra}


@pytest.fixture
def scene(api) -> dict:
    body = {"scene_name": "官网表单", "scene_key": "web_form", "scene_type": "WEB_FORM",
            "deduplication_strategy": "BY_PHONE_OR_EMAIL"}
    return api.ok("POST", "/api/v1/scenes/configurations", body, 201)


@pytest.fixture
def app_keys(api) -> dict:
    return api.ok("POST", "/api/v1/apps", {"name": "官网后端"}, 201)


@pytest.fixture
def signer(app_keys, scene, live_server, clock) -> Signer:
    s = Signer(live_server.url, app_keys["app_key"], app_keys["secret"], clock)
    s.url = live_server.url + "/api/v1/leads/ingestions"
    return s


# -- ingestion ----------------------------------------------------------------------------------
def test_a_lead_is_stored_with_its_log_and_event_before_202(signer, scene, app_db):
    resp = signer.post(lead("form-1"))
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["duplicate"] is False and isinstance(body["lead_id"], int)
    with app_db.read() as s:
        row = s.get(Lead, body["lead_id"])
        logs = list(s.exec(select(LeadLog.stage).where(LeadLog.lead_id == row.id)))
        events = list(s.exec(select(EventRecord.event_code)))
    assert (row.status, row.mobile, row.email, row.external_id) == ("NEW", MOBILE, EMAIL, "form-1")
    assert row.raw_data["form_id"] == "contact_us_form_v1" and row.meta["submission_url"] == META["submission_url"]
    assert row.scene_id == scene["scene_config_id"] and logs == ["received"] and events == [scene["event_code"]]


def test_the_scene_can_be_named_by_id_key_or_type(signer, scene):
    for i, selector in enumerate(({"scene_config_id": scene["scene_config_id"]}, {"scene_key": "web_form"},
                                  {"scene_type": "WEB_FORM"})):
        resp = signer.post(lead(f"sel-{i}", scene=selector))
        assert resp.status_code == 202, (selector, resp.text)


def test_the_same_external_id_is_one_lead(signer, app_db):
    first = signer.post(lead("dup-1")).json()
    again = signer.post(lead("dup-1", name="李四")).json()
    assert again == {"lead_id": first["lead_id"], "duplicate": True}
    batch = signer.post({"leads": [lead("dup-2"), lead("dup-2"), lead("dup-1")]})
    assert batch.status_code == 202, batch.text
    rows = batch.json()["results"]
    assert [r["duplicate"] for r in rows] == [False, True, True]
    assert rows[1]["lead_id"] == rows[0]["lead_id"] and rows[2]["lead_id"] == first["lead_id"]
    assert count(app_db, Lead) == 2 and count(app_db, EventRecord) == 2


def fields_of(resp) -> dict:
    return resp.json()["error"]["fields"]


INVALID = [  # (case, the field named, words of the answer)
    ("missing_submission", "submission_data", ["submission_data"]),
    ("submission_not_object", "submission_data", ["JSON 对象"]),
    ("meta_not_object", "meta", ["JSON 对象"]),
    ("external_id_list", "external_lead_id", ["128"]),
    ("channel_text", "channel_id", ["正整数"]),
    ("scene_id_text", "scene_config_id", ["正整数"]),
    ("unknown_scene", "scene_config_id", ["999999", "不存在"]),
    ("unknown_type", "scene_type", ["无效"]),
    ("no_scene", "scene_type", ["缺少场景"]),
    ("unknown_channel", "channel_id", ["渠道", "不存在"]),
    ("no_contact", "mobile", ["联系方式"]),
]


def invalid_body(case: str) -> dict:
    body = lead("bad")
    if case == "missing_submission":
        del body["submission_data"]
    elif case == "submission_not_object":
        body["submission_data"] = "张三 13800138000"
    elif case == "meta_not_object":
        body["meta"] = ["x"]
    elif case == "external_id_list":
        body["external_lead_id"] = ["a"]
    elif case == "channel_text":
        body["channel_id"] = "百度"
    elif case == "scene_id_text":
        body = {**body, "scene_config_id": "3"}
    elif case == "unknown_scene":
        body = lead("bad", scene={"scene_config_id": 999999})
    elif case == "unknown_type":
        body = lead("bad", scene={"scene_type": "CARRIER_PIGEON"})
    elif case == "no_scene":
        body = lead("bad", scene={})
    elif case == "unknown_channel":
        body["channel_id"] = 999999
    elif case == "no_contact":
        body["submission_data"] = {"name": "张三", "message": "随便看看"}
    return body


def test_invalid_leads_are_400_naming_the_field_and_store_nothing(signer, app_db):
    for case, field, words in INVALID:
        resp = signer.post(invalid_body(case))
        answer = assert_error(resp, 400, *words)
        assert answer["error"]["code"] == "invalid" and field in fields_of(resp), (case, answer)
    assert count(app_db, Lead) == 0 and count(app_db, EventRecord) == 0


def test_a_batch_answers_per_lead_and_stores_the_valid_ones(signer, app_db):
    resp = signer.post({"scene_type": "WEB_FORM", "leads": [
        {"submission_data": person(1), "external_lead_id": "b1"},
        {"submission_data": "坏数据"},
        {"submission_data": person(2), "channel_id": 999999},
        {"submission_data": person(3)},
        "not an object",
    ]})
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 0, 3)
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert "lead_id" in results[0] and "lead_id" in results[3]
    assert results[1]["error"]["details"][0]["field"] == "submission_data"
    assert "submission_data" in results[1]["error"]["fields"]
    assert results[2]["error"]["details"][0]["field"] == "channel_id" and "不存在" in results[2]["error"]["message"]
    assert "JSON 对象" in results[4]["error"]["details"][0]["message"]
    assert count(app_db, Lead) == 2


def test_a_batch_with_nothing_valid_is_400_with_the_same_results(signer, app_db):
    resp = signer.post({"leads": [{"scene_type": "WEB_FORM"}, {"scene_type": "WEB_FORM", "submission_data": []}]})
    body = assert_error(resp, 400, "均未通过")
    assert set(body) == {"error"} and [d["index"] for d in body["error"]["details"]] == [0, 1]  # the one envelope
    assert all(d["error"]["code"] == "invalid" for d in body["error"]["details"])
    assert count(app_db, Lead) == 0


def test_batch_shape_errors_are_400(signer):
    for payload, words in (({"leads": []}, ["leads", "非空数组"]), ({"leads": {"a": 1}}, ["leads", "数组"]),
                           ({"events": [{"event": "x"}]}, ["leads"])):
        assert_error(signer.post(payload), 400, *words)


def test_at_most_500_leads_per_batch(signer, app_db):
    resp = signer.post({"scene_type": "WEB_FORM", "leads": [{"submission_data": person(i)} for i in range(501)]})
    assert_error(resp, 400, "500", "501")
    assert count(app_db, Lead) == 0


def nested(depth: int):
    value = "x"
    for _ in range(depth - 1):
        value = {"k": value}
    return value


REFUSED = [("forged", 401, ["签名"]), ("wrong_secret", 401, ["签名"]), ("stale", 401, ["X-Timestamp", "300"]),
           ("future", 401, ["X-Timestamp", "300"]), ("no_key", 401, ["X-App-Key"]), ("tampered", 401, ["签名"]),
           ("too_large", 400, ["上限"]), ("too_deep", 400, ["32"]), ("malformed", 400, ["JSON 格式错误"]),
           ("not_object", 400, ["JSON 对象"]), ("empty", 400, ["为空"])]


def refused_request(signer, case: str) -> tuple[bytes, dict]:
    payload = lead("x1")
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = signer.headers(body)
    if case == "forged":
        headers["X-Signature"] = "sha256=" + "0" * 64
    elif case == "wrong_secret":
        headers = signer.headers(body, secret="not-the-secret")
    elif case in ("stale", "future"):
        headers = signer.headers(body, ts=signer.now() + (301 if case == "future" else -301))
    elif case == "no_key":
        del headers["X-App-Key"]
    elif case == "tampered":
        body = body.replace("张三".encode(), "李四".encode())
    elif case != "forged":
        body = {"too_large": json.dumps({**payload, "pad": "x" * (1024 * 1024)}).encode(),
                "too_deep": json.dumps({**payload, "submission_data": {**FORM, "x": nested(32)}}).encode(),
                "malformed": b'{"scene_type": ', "not_object": b'["WEB_FORM"]', "empty": b" "}[case]
        headers = signer.headers(body)
    return body, headers


def test_unauthenticated_or_unreadable_requests_store_nothing(signer, app_db):
    for case, status, words in REFUSED:
        assert_error(signer.post_raw(*refused_request(signer, case)), status, *words)
    assert count(app_db, Lead) == 0


def test_a_replayed_request_without_external_ids_is_refused(signer, app_db, clock):
    body = json.dumps(lead(), ensure_ascii=False).encode()
    headers = signer.headers(body)
    assert signer.post_raw(body, headers).status_code == 202
    answer = assert_error(signer.post_raw(body, headers), 401, "重放")
    assert answer["error"]["code"] == "replayed"
    assert count(app_db, Lead) == 1
    clock.advance(seconds=1)
    assert signer.post(lead()).status_code == 202  # signed anew: a second, separate submission


def test_a_replayed_request_with_external_ids_answers_the_same_lead(signer, app_db):
    body = json.dumps(lead("r-1"), ensure_ascii=False).encode()
    headers = signer.headers(body)
    first = signer.post_raw(body, headers).json()
    assert signer.post_raw(body, headers).json() == {**first, "duplicate": True}
    assert count(app_db, Lead) == 1


def test_ip_outside_the_apps_allowlist_is_403(signer, api, app_keys, app_db):
    api.ok("PUT", f"/api/v1/apps/{app_keys['id']}", {"name": "官网后端", "ip_allowlist": ["10.0.0.0/8"]})
    assert_error(signer.post(lead("ip")), 403, "127.0.0.1", "白名单")
    assert count(app_db, Lead) == 0


def test_a_scene_over_its_rate_limit_answers_429_with_retry_after(signer, api, scene, clock, app_db):
    api.ok("PUT", f"/api/v1/scenes/configurations/{scene['scene_config_id']}", {"rate_limit_per_minute": 2})
    clock.advance(seconds=60)  # a fresh window: the counters above may have started mid-minute
    assert [signer.post(lead(f"rl-{i}")).status_code for i in range(2)] == [202, 202]
    resp = signer.post(lead("rl-2"))
    assert_error(resp, 429, "官网表单", "2")
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert count(app_db, Lead) == 2
    clock.advance(seconds=61)
    assert signer.post(lead("rl-2")).status_code == 202


# -- reading and working leads ------------------------------------------------------------------
@pytest.fixture
def stored(signer, api) -> list[int]:
    """Three leads of different value; the second is worth most."""
    ids = []
    for i, value in enumerate((100, 900, 300)):
        resp = signer.post(lead(f"s-{i}", **person(i, value=value)))
        assert resp.status_code == 202, resp.text
        ids.append(resp.json()["lead_id"])
    return ids


def test_list_filters_sorts_and_pages(api, stored, scene):
    everything = api.ok("GET", "/api/v1/leads")
    assert everything["total"] == 3 and {i["lead_id"] for i in everything["items"]} == set(stored)
    by_value = api.ok("GET", "/api/v1/leads?sort_by=value&sort_order=asc&size=2")
    assert [i["lead_id"] for i in by_value["items"]] == [stored[0], stored[2]] and by_value["total"] == 3
    page2 = api.ok("GET", "/api/v1/leads?sort_by=value&sort_order=asc&size=2&page=2")
    assert [i["lead_id"] for i in page2["items"]] == [stored[1]]
    assert api.ok("GET", f"/api/v1/leads?scene_config_id={scene['scene_config_id']}&status=NEW")["total"] == 3
    assert api.ok("GET", "/api/v1/leads?status=CONVERTED")["total"] == 0
    assert api.ok("GET", "/api/v1/leads?start_date=2000-01-01&end_date=2100-12-31")["total"] == 3
    assert api.ok("GET", "/api/v1/leads?end_date=2000-01-01")["total"] == 0
    assert api.ok("GET", "/api/v1/leads?tags_contain_any=999")["total"] == 0


def test_bad_list_parameters_are_400(api):
    for query, word in (("status=WON", "status"), ("sort_by=name", "sort_by"), ("sort_order=up", "sort_order"),
                        ("size=1000", "size"), ("page=0", "page"), ("start_date=昨天", "start_date"),
                        ("tags_contain_any=a,b", "tags_contain_any"), ("channel_id=x", "channel_id")):
        assert_error(api.get(f"/api/v1/leads?{query}"), 400, word)


def test_phones_and_emails_are_masked_without_pii_view(api, app, app_db, stored):
    from crm.people import roles as role_service
    from tests.web.api_helpers import Api, token_for

    full = api.get("/api/v1/leads").get_data(as_text=True) + api.get(f"/api/v1/leads/{stored[0]}").get_data(as_text=True)
    assert "13912340000" in full and "c0@example.com" in full
    role_service.create_role(app_db, "lead_reader", "线索查看", {"leads.view", "leads.view_all"})
    reader = Api(app.test_client(), token_for(app_db, "reader1", ["lead_reader"]))
    for path in ("/api/v1/leads", f"/api/v1/leads/{stored[0]}"):
        text = reader.get(path).get_data(as_text=True)
        assert "13912340000" not in text and "c0@example.com" not in text and "139****0000" in text, path


def test_without_view_all_a_token_sees_only_its_own_leads(api, viewer_api, stored):
    assert api.ok("GET", "/api/v1/leads")["total"] == len(stored)
    assert viewer_api.ok("GET", "/api/v1/leads")["total"] == 0
    assert viewer_api.get(f"/api/v1/leads/{stored[0]}").status_code == 404


def test_detail_has_the_log_and_unknown_ids_are_404(api, stored):
    detail = api.ok("GET", f"/api/v1/leads/{stored[0]}")
    assert detail["lead_id"] == stored[0] and detail["status"] == "NEW"
    assert [log["stage"] for log in detail["logs"]] == ["received"] and detail["raw_data"]["form_id"]
    assert_error(api.get("/api/v1/leads/999999"), 404, "999999")


def test_update_status_notes_and_refused_transitions(api, stored):
    lead_id = stored[0]
    updated = api.ok("PUT", f"/api/v1/leads/{lead_id}", {"status": "QUALIFIED", "notes": "电话确认有意向"})
    assert updated["status"] == "QUALIFIED" and updated["notes"] == "电话确认有意向"
    api.ok("PUT", f"/api/v1/leads/{lead_id}", {"status": "CLOSED"})
    refused = assert_error(api.put(f"/api/v1/leads/{lead_id}", {"status": "NEW"}), 422)
    assert "NEW" in json.dumps(refused, ensure_ascii=False) or "新线索" in json.dumps(refused, ensure_ascii=False)
    assert api.ok("GET", f"/api/v1/leads/{lead_id}")["status"] == "CLOSED"


def test_bad_updates_change_nothing(api, stored):
    for body, words in (({"status": "WON"}, ["status"]), ({"owner": 1}, ["owner"]),
                        ({"related_customer_id": 999999}, ["999999"]), ({"lead_data": {"mobile": "12"}}, ["手机号"])):
        assert_error(api.put(f"/api/v1/leads/{stored[0]}", body), 422, *words)
    detail = api.ok("GET", f"/api/v1/leads/{stored[0]}")
    assert detail["status"] == "NEW" and detail["mobile"] == "13912340000"


def test_assign_to_a_user_or_a_team(api, app_db, stored):
    token_for(app_db, "sales1", ["sales"])
    from crm.people import service as people

    sales_id = people.get_user_by_username(app_db, "sales1").id
    answer = api.ok("POST", f"/api/v1/leads/{stored[0]}/assign", {"user_id": sales_id})
    assert answer["assigned_to_user_id"] == sales_id and answer["status"] == "ASSIGNED"
    assert api.ok("GET", f"/api/v1/leads?assigned_to_user_id={sales_id}")["total"] == 1
    assert_error(api.post(f"/api/v1/leads/{stored[1]}/assign", {}), 400, "user_id", "team_id")
    assert_error(api.post(f"/api/v1/leads/{stored[1]}/assign", {"user_id": "sales1"}), 400, "整数")
    assert_error(api.post("/api/v1/leads/999999/assign", {"user_id": sales_id}), 404, "999999")


def test_permissions_per_route(viewer_api, stored):
    assert viewer_api.get("/api/v1/leads").status_code == 200
    assert_error(viewer_api.put(f"/api/v1/leads/{stored[0]}", {"notes": "x"}), 403, "leads.manage")
    assert_error(viewer_api.post(f"/api/v1/leads/{stored[0]}/assign", {"user_id": 1}), 403, "leads.assign")


# -- the documented contract ----------------------------------------------------------------------
def own_routes():
    from web.api.spec import ROUTES

    return [r for r in ROUTES if r.path.startswith(("/api/v1/leads", "/api/v1/scenes", "/api/v1/channels"))]


def test_every_route_is_in_the_openapi_document_and_it_stays_valid(anon_api):
    from openapi_spec_validator import validate

    doc = anon_api.get("/api/v1/openapi.json").json
    validate(doc)
    paths = doc["paths"]
    assert paths["/api/v1/leads/ingestions"]["post"]["security"] == [{"hmac": []}]
    for route in own_routes():
        path = route.path.replace("<int:", "{").replace(">", "}")
        assert route.method in paths[path], (route.method, path)
    assert len(own_routes()) >= 12


def test_every_bearer_body_route_refuses_bad_bodies_and_unknown_ids(api):
    from tests.web.test_api_contract import BAD_BODIES, concrete

    for route in [r for r in own_routes() if r.auth == "bearer" and r.body is not None]:
        for data, words in BAD_BODIES:
            assert_error(api.call(route.method.upper(), concrete(route.path), data=data), 400, *words)
        assert_error(api.call(route.method.upper(), concrete(route.path), data=b""), 400, "请求体")
    for route in [r for r in own_routes() if r.auth == "bearer" and "<int:" in r.path]:
        body = {"user_id": 1} if route.body is not None else None
        assert_error(api.call(route.method.upper(), concrete(route.path), body), 404, "999999")


def test_unstorable_text_is_refused_naming_the_field_and_stores_nothing(signer, app_db):
    body = json.dumps(lead("bad-1", name="张\u0000三")).encode()  # ASCII JSON: "\u0000" escapes
    answer = assert_error(signer.post_raw(body), 400, "submission_data.name")
    assert any(e["field"] == "submission_data.name" for e in answer["error"]["details"])
    body = json.dumps(lead("bad-2", name="\ud800")).encode()
    assert_error(signer.post_raw(body), 400, "submission_data.name")
    assert count(app_db, Lead) == 0 and count(app_db, EventRecord) == 0


def test_bearer_json_bodies_refuse_unstorable_text(api, stored):
    lead_id = stored[0]
    resp = api.call("PUT", f"/api/v1/leads/{lead_id}", data=b'{"notes": "x\\u0000y"}')
    assert_error(resp, 422, "notes")


class _Deadlock(Exception):
    """What psycopg raises for the victim of a deadlock (SQLSTATE 40P01)."""
    sqlstate = "40P01"


def test_a_batch_chosen_as_a_deadlocks_victim_is_stored_again_whole(signer, app_db, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from crm.leads import intake
    real, calls = intake.submit_in, []

    def deadlocking_once(session, *a, **kw):
        results = real(session, *a, **kw)  # rows written, then PostgreSQL aborts the transaction
        calls.append(len(results))
        if len(calls) == 1:
            raise OperationalError("INSERT INTO lead …", {}, _Deadlock("deadlock detected"))
        return results

    monkeypatch.setattr(intake, "submit_in", deadlocking_once)
    resp = signer.post({"scene_type": "WEB_FORM", "leads": [lead(f"dl-{i}", **person(i)) for i in range(3)]})
    assert resp.status_code == 202, resp.text
    assert resp.json()["accepted"] == 3 and calls == [3, 3]
    with app_db.read() as s:  # the aborted attempt left nothing: each lead once
        assert sorted(s.exec(select(Lead.external_id)).all()) == ["dl-0", "dl-1", "dl-2"]

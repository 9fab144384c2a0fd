"""POST /api/v1/events over real HTTP (live server + requests): the ingestion contract of the
README — 202/401/403/400/422, dedupe, Idempotency-Key — and nothing half-written on failure."""
from __future__ import annotations

import json
import socket

import pytest
import requests

from engine.models import StrategyRun
from events.models import EventRecord, IdempotencyKey
from handlers.models import SmsMessage
from tests.web.api_helpers import (MOBILE, PASSWORD_EVENT, Signer, api, assert_error, count, runtime,  # noqa: F401
                                   world)


@pytest.fixture
def signer(world, live_server, clock):
    return Signer(live_server.url, world.app_key, world.secret, clock)


def event(id_="evt-1", code="password_changed", **data):
    return {"id": id_, "event": code, "data": {**PASSWORD_EVENT, **data}}


def test_single_event_is_stored_before_202(signer, app_db):
    resp = signer.post(event())
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["duplicates"] == [] and body["rejected"] == []
    [accepted] = body["accepted"]
    assert accepted["id"] == "evt-1" and isinstance(accepted["record_id"], int)
    with app_db.read() as s:
        record = s.get(EventRecord, accepted["record_id"])
    assert record.status == "accepted" and record.data["mobile"] == MOBILE and record.external_id == "evt-1"


def test_batch_answers_accepted_duplicates_rejected(signer, app_db):
    batch = {"events": [event("a"), event("b"), event("a"), {"id": "c", "event": "nope", "data": {}},
                        event("d", customerName="")]}
    resp = signer.post(batch)
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert [a["index"] for a in body["accepted"]] == [0, 1]
    assert body["duplicates"] == [{"index": 2, "id": "a", "record_id": body["accepted"][0]["record_id"]}]
    assert [(r["index"], r["reason"]) for r in body["rejected"]] == [(3, "event_unknown"), (4, "invalid")]
    assert "customerName" in json.dumps(body["rejected"][1]["errors"])
    assert count(app_db, EventRecord) == 4  # 2 accepted + 2 rejected kept for 事件历史; no row for the duplicate


@pytest.mark.parametrize("case, words", [
    ("missing_signature", ["X-Signature"]),
    ("forged_signature", ["签名"]),
    ("unknown_key", ["X-App-Key"]),
    ("missing_timestamp", ["X-Timestamp"]),
    ("future_timestamp", ["X-Timestamp", "300"]),
    ("stale_timestamp", ["X-Timestamp", "300"]),
    ("tampered_byte", ["签名"]),
    ("old_secret_wrong_app", ["签名"]),
])
def test_unauthenticated_requests_are_401_and_store_nothing(signer, app_db, case, words):
    body = json.dumps(event(), ensure_ascii=False).encode()
    headers = signer.headers(body)
    if case == "missing_signature":
        del headers["X-Signature"]
    elif case == "forged_signature":
        headers["X-Signature"] = "sha256=" + "0" * 64
    elif case == "unknown_key":
        headers["X-App-Key"] = "ak_doesnotexist"
    elif case == "missing_timestamp":
        del headers["X-Timestamp"]
    elif case == "future_timestamp":
        headers = signer.headers(body, ts=signer.now() + 301)
    elif case == "stale_timestamp":
        headers = signer.headers(body, ts=signer.now() - 301)
    elif case == "tampered_byte":  # a captured request replayed with one byte changed
        body = body.replace(b'"status": "1"', b'"status": "0"')
    elif case == "old_secret_wrong_app":
        headers = signer.headers(body, secret="not-the-secret")
    assert_error(signer.post_raw(body, headers), 401, *words)
    assert count(app_db, EventRecord) == 0


def test_timestamp_inside_tolerance_is_accepted(signer):
    for skew in (-300, 300):
        resp = signer.post(event(f"skew{skew}"), ts=signer.now() + skew)
        assert resp.status_code == 202, (skew, resp.text)


def test_disabled_app_is_403_and_recorded_with_reason(signer, world, api, app_db):
    api.ok("PUT", f"/api/v1/apps/{world.app_id}", {"name": "应用01", "enabled": False})
    body = assert_error(signer.post(event()), 403, "应用01", "禁用")
    assert body["error"]["code"] == "app_disabled"
    assert count(app_db, EventRecord, EventRecord.status == "rejected", EventRecord.reject_reason == "app_disabled") == 1
    [item] = api.ok("GET", "/api/v1/event-records")["items"]
    assert item["status"] == "rejected" and item["reject_reason"] == "app_disabled"
    assert item["outcome_label"] == "接入失败（应用已禁用）"


def test_ip_outside_allowlist_is_403_and_recorded(signer, world, api, app_db):
    api.ok("PUT", f"/api/v1/apps/{world.app_id}", {"name": "应用01", "ip_allowlist": ["10.0.0.0/8"]})
    assert_error(signer.post({"events": [event("x"), event("y")]}), 403, "127.0.0.1", "白名单")
    items = api.ok("GET", "/api/v1/event-records")["items"]
    assert [i["reject_reason"] for i in items] == ["ip_not_allowed"] * 2
    assert all("白名单" in i["outcome_note"] for i in items)
    api.ok("PUT", f"/api/v1/apps/{world.app_id}", {"name": "应用01", "ip_allowlist": ["127.0.0.1/32"]})
    assert signer.post(event("z")).status_code == 202


def nested(depth: int):
    value = "x"
    for _ in range(depth - 1):
        value = {"k": value}
    return value


@pytest.mark.parametrize("case, words", [
    ("malformed", ["JSON 格式错误"]),
    ("empty", ["为空"]),
    ("not_object", ["JSON 对象"]),
    ("too_deep", ["32"]),
    ("empty_batch", ["events", "为空"]),
    ("too_many", ["1000", "1001"]),
    ("events_not_list", ["events", "数组"]),
    ("too_large", ["上限", "1048576"]),
])
def test_bad_bodies_are_400_and_store_nothing(signer, app_db, case, words):
    body = {
        "malformed": b'{"event": "password_changed", ',
        "empty": b"  ",
        "not_object": b'["password_changed"]',
        "too_deep": json.dumps({"event": "password_changed", "data": nested(33)}).encode(),
        "empty_batch": b'{"events": []}',
        "too_many": json.dumps({"events": [event(f"e{i}") for i in range(1001)]}).encode(),
        "events_not_list": b'{"events": {"a": 1}}',
        "too_large": json.dumps({**event(), "pad": "x" * (1024 * 1024)}).encode(),
    }[case]
    assert_error(signer.post_raw(body), 400, *words)
    assert count(app_db, EventRecord) == 0


def test_depth_32_is_allowed(signer):
    ev = event()
    ev["data"]["extra"] = nested(31)  # body, data, then 30 dicts: 32 levels
    assert signer.post(ev).status_code == 202


def _raw_http(port: int, head: str, body: bytes = b"") -> tuple[int, dict]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode() + b"\r\n\r\n" + body)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])


def _head(signer, body: bytes, content_length: int) -> str:
    """A signed request head whose Content-Length says what the test wants, not what is sent."""
    lines = ["POST /api/v1/events HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {content_length}",
             "Connection: close"] + [f"{k}: {v}" for k, v in signer.headers(body).items()]
    return "\r\n".join(lines)


def test_content_length_claiming_too_much_is_refused_before_reading(signer, live_server, app_db):
    body = json.dumps(event()).encode()
    status, answer = _raw_http(live_server.port, _head(signer, body, 50 * 1024 * 1024), body)
    assert status == 400 and answer["error"]["code"] == "body_too_large" and "上限" in answer["error"]["message"]
    assert count(app_db, EventRecord) == 0


def test_content_length_shorter_than_body_fails_the_signature(signer, live_server, app_db):
    body = json.dumps(event()).encode()
    status, answer = _raw_http(live_server.port, _head(signer, body, len(body) - 10), body)
    assert status == 401 and "签名" in answer["error"]["message"]
    assert count(app_db, EventRecord) == 0


def test_chunked_bodies_are_read_up_to_the_limit(signer, app_db):
    small = json.dumps(event("chunked")).encode()
    resp = requests.post(signer.url, data=iter([small[:20], small[20:]]), headers=signer.headers(small), timeout=10)
    assert resp.request.headers.get("Transfer-Encoding") == "chunked"
    assert resp.status_code == 202, resp.text
    big = json.dumps({**event("big"), "pad": "x" * (1024 * 1024)}).encode()
    chunks = (big[i:i + 65536] for i in range(0, len(big), 65536))
    resp = requests.post(signer.url, data=chunks, headers=signer.headers(big), timeout=10)
    assert_error(resp, 400, "上限")
    assert count(app_db, EventRecord) == 1


def test_single_invalid_event_is_422_naming_each_field(signer, app_db):
    payload = {"id": "t1", "event": "customer_trade", "occurred_at": "not a time",
               "data": {"customerName": "张三", "mobile": MOBILE, "amount": "很多", "tradeTime": "昨天"}}
    body = assert_error(signer.post(payload), 422, "校验")
    fields = {d["field"]: d["message"] for d in body["error"]["details"]}
    assert set(fields) == {"occurred_at", "orderNo", "amount", "tradeTime"}
    assert "订单号" in fields["orderNo"] and "数值" in fields["amount"] and "很多" in fields["amount"]
    assert body["error"]["code"] == "invalid" and set(body) == {"error"}  # the one envelope, nothing beside it
    assert body["error"]["fields"]["amount"] == fields["amount"]
    assert count(app_db, EventRecord, EventRecord.status == "accepted") == 0


def test_single_unknown_event_is_422(signer):
    body = assert_error(signer.post({"event": "no_such_event", "data": {}}), 422, "no_such_event", "未注册")
    assert body["error"]["details"][0]["field"] == "event"


def test_repeated_id_is_acknowledged_and_processed_once(signer, world, runtime, app_db):
    world.strategy()
    first = signer.post(event("same"))
    runtime.tick()
    second = signer.post(event("same"))
    runtime.tick()
    assert first.status_code == second.status_code == 202
    record_id = first.json()["accepted"][0]["record_id"]
    assert second.json() == {"accepted": [], "duplicates": [{"index": 0, "id": "same", "record_id": record_id}],
                             "rejected": []}
    assert count(app_db, EventRecord) == 1
    assert count(app_db, StrategyRun) == 1
    assert count(app_db, SmsMessage) == 1


def test_idempotency_key_replays_the_first_answer(signer, app_db):
    first = signer.post(event("k1"), **{"Idempotency-Key": "order-42"})
    assert first.status_code == 202
    # The same body again (re-signed): the first answer comes back, nothing new is stored.
    again = signer.post(event("k1"), ts=signer.now() + 1, **{"Idempotency-Key": "order-42"})
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    # A different body under the same key is refused naming the conflict, never acknowledged.
    assert_error(signer.post(event("k2"), **{"Idempotency-Key": "order-42"}), 422, "Idempotency-Key", "order-42")
    assert count(app_db, EventRecord) == 1 and count(app_db, IdempotencyKey) == 1
    rejected = signer.post({"event": "nope"}, **{"Idempotency-Key": "bad-1"})
    replay = signer.post({"event": "nope"}, **{"Idempotency-Key": "bad-1"})
    assert rejected.status_code == replay.status_code == 422 and rejected.json() == replay.json()
    assert_error(signer.post(event("k3"), **{"Idempotency-Key": "x" * 129}), 400, "Idempotency-Key", "128")


def test_rotated_secret_keeps_the_old_one_valid_for_the_grace_period(signer, world, api, clock):
    rotated = api.ok("POST", f"/api/v1/apps/{world.app_id}/rotate-secret", {})
    assert rotated["grace_hours"] == 24 and rotated["secret"] != world.secret
    assert signer.post(event("old")).status_code == 202  # old secret still signs
    assert signer.post(event("new"), secret=rotated["secret"]).status_code == 202
    listed = api.ok("GET", "/api/v1/apps")["items"][0]
    assert listed["secret_rotating_until"].startswith("2026-11-21T02:00")
    assert "secret" not in listed
    clock.advance(hours=24, seconds=1)
    runtime_ = api.client.application.extensions["ckb"]
    runtime_.catalog.invalidate()  # another process would see it after the cache TTL
    assert_error(signer.post(event("late")), 401, "签名")
    assert signer.post(event("late2"), secret=rotated["secret"]).status_code == 202

"""The ingestion contract at the service level: auth, validation, dedupe, storage, refusals."""
from __future__ import annotations

import json

import pytest
from sqlmodel import select

from events.apps import create_app_record, rotate_secret, set_app_enabled
from events.catalog import Catalog
from events.definitions import create_definition, import_builtin
from events.errors import IngestError
from events.ingestion import IngestRequest, Ingestor
from events.models import EventRecord
from events.signature import sign


@pytest.fixture
def setup(services):
    with services.db.write() as s:
        import_builtin(s)
        app, secret = create_app_record(s, services.secret_box, {"name": "应用01", "ip_allowlist": ["127.0.0.0/8"]})
    stored = []
    ing = Ingestor(services, Catalog(services, ttl=0), on_stored=stored.extend)
    return ing, app, secret, stored


def request(services, app, secret, body, ip="127.0.0.1", ts=None, idem=None, sig=None):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    ts = ts if ts is not None else int(services.now().timestamp())
    return IngestRequest(body=raw, app_key=app.app_key, timestamp=str(ts),
                         signature=sig or sign(secret, ts, raw), client_ip=ip, idempotency_key=idem)


PW = {"event": "password_changed", "data": {"customerName": "张三", "mobile": "13800138000", "status": "1"}}


def records(services):
    with services.db.read() as s:
        return list(s.exec(select(EventRecord).order_by(EventRecord.id)))


def test_single_event_is_stored_before_202(services, setup):
    ing, app, secret, stored = setup
    res = ing.ingest(request(services, app, secret, {**PW, "id": "e1"}))
    assert res.status == 202
    assert res.payload["accepted"][0]["id"] == "e1"
    rows = records(services)
    assert len(rows) == 1 and rows[0].status == "accepted" and rows[0].dispatch_status == "pending"
    assert stored == [rows[0].id]


def test_repeated_id_is_acknowledged_not_stored_twice(services, setup):
    ing, app, secret, _ = setup
    ing.ingest(request(services, app, secret, {**PW, "id": "same"}))
    res = ing.ingest(request(services, app, secret, {**PW, "id": "same"}, ts=int(services.now().timestamp()) + 1))
    assert res.status == 202 and res.payload["accepted"] == [] and res.payload["duplicates"][0]["id"] == "same"
    assert len(records(services)) == 1


def test_exact_replay_without_id_is_not_processed_twice(services, setup):
    ing, app, secret, _ = setup
    req = request(services, app, secret, PW)
    ing.ingest(req)
    again = ing.ingest(req)
    assert again.payload["accepted"] == [] and len(again.payload["duplicates"]) == 1
    assert len(records(services)) == 1


def test_batch_with_duplicates_and_rejections(services, setup):
    ing, app, secret, _ = setup
    body = {"events": [
        {**PW, "id": "a"}, {**PW, "id": "a"},
        {"event": "password_changed", "id": "b", "data": {"mobile": "13800138000"}},
        {"event": "nope", "data": {}},
        "not an object",
    ]}
    res = ing.ingest(request(services, app, secret, body))
    assert res.status == 202
    assert [a["index"] for a in res.payload["accepted"]] == [0]
    assert [d["index"] for d in res.payload["duplicates"]] == [1]
    reasons = {r["index"]: r["reason"] for r in res.payload["rejected"]}
    assert reasons == {2: "invalid", 3: "event_unknown", 4: "bad_shape"}
    missing = [e["field"] for e in res.payload["rejected"][0]["errors"]]
    assert set(missing) == {"customerName", "status"}


def test_single_invalid_event_is_422_naming_fields(services, setup):
    ing, app, secret, _ = setup
    bad = {"event": "survey_submitted", "data": {"customerName": "李四", "email": "a@b.cn", "score": "很好", "vipLevel": 3}}
    res = ing.ingest(request(services, app, secret, bad))
    assert res.status == 422
    msg = res.payload["error"]["details"][0]["message"]
    assert "问卷评分" in msg and "数值" in msg
    assert records(services)[0].status == "rejected" and records(services)[0].reject_reason == "invalid"


@pytest.mark.parametrize("mutate,code", [
    (lambda r: setattr(r, "signature", "sha256=" + "0" * 64), "bad_signature"),
    (lambda r: setattr(r, "signature", None), "missing_signature"),
    (lambda r: setattr(r, "timestamp", "12345"), "stale_timestamp"),
    (lambda r: setattr(r, "app_key", "ak_unknown"), "unknown_app"),
    (lambda r: setattr(r, "body", r.body + b" "), "bad_signature"),
])
def test_forged_or_stale_requests_are_401_and_not_stored(services, setup, mutate, code):
    ing, app, secret, _ = setup
    req = request(services, app, secret, PW)
    mutate(req)
    with pytest.raises(IngestError) as exc:
        ing.ingest(req)
    assert exc.value.status == 401 and exc.value.code == code
    assert records(services) == []
    assert ing.unauthenticated[code] == 1


def test_disabled_app_and_ip_are_403_and_recorded(services, setup):
    ing, app, secret, _ = setup
    res = ing.ingest(request(services, app, secret, PW, ip="8.8.8.8"))
    assert res.status == 403 and res.payload["error"]["code"] == "ip_not_allowed"
    with services.db.write() as s:
        set_app_enabled(s, app.id, False)
    res = ing.ingest(request(services, app, secret, PW))
    assert res.status == 403 and res.payload["error"]["code"] == "app_disabled"
    assert [r.reject_reason for r in records(services)] == ["ip_not_allowed", "app_disabled"]


def test_rotated_secret_keeps_working_during_grace(services, setup, clock):
    ing, app, secret, _ = setup
    with services.db.write() as s:
        new = rotate_secret(s, services.secret_box, app.id, clock.now(), grace_hours=24)
    assert ing.ingest(request(services, app, secret, {**PW, "id": "old"})).status == 202
    assert ing.ingest(request(services, app, new, {**PW, "id": "new"})).status == 202
    clock.advance(hours=25)
    with pytest.raises(IngestError):
        ing.ingest(request(services, app, secret, {**PW, "id": "late"}))


@pytest.mark.parametrize("body,code", [
    (b"{not json", "malformed_json"),
    (b"[1,2]", "bad_shape"),
    (json.dumps({"events": []}).encode(), "empty_batch"),
    (json.dumps({"events": [PW] * 1001}).encode(), "batch_too_large"),
    (b'{"event":"x","data":' + b'{"a":' * 40 + b"1" + b"}" * 40 + b"}", "too_deep"),
    (b"[" * 100000 + b"]" * 100000, "too_deep"),
])
def test_malformed_bodies_are_400(services, setup, body, code):
    ing, app, secret, _ = setup
    with pytest.raises(IngestError) as exc:
        ing.ingest(request(services, app, secret, body))
    assert exc.value.status == 400 and exc.value.code == code


def test_oversized_body_is_400(services, setup):
    ing, app, secret, _ = setup
    body = json.dumps({**PW, "data": {**PW["data"], "pad": "x" * (1024 * 1024)}}).encode()
    with pytest.raises(IngestError) as exc:
        ing.ingest(request(services, app, secret, body))
    assert exc.value.code == "body_too_large"


def test_idempotency_key_replays_the_same_request_only(services, setup):
    """Stripe's contract: a retry of the same request (re-signed) gets the first answer and stores
    nothing; the same key with a different body is refused naming the conflict — never a 202 for
    an event that is not stored."""
    ing, app, secret, _ = setup
    first = ing.ingest(request(services, app, secret, PW, idem="k1"))
    ts2 = int(services.now().timestamp()) + 2
    again = ing.ingest(request(services, app, secret, PW, ts=ts2, idem="k1"))
    assert again.status == first.status == 202 and again.payload == first.payload and not again.stored_ids
    with pytest.raises(IngestError) as err:
        ing.ingest(request(services, app, secret, {**PW, "id": "different"}, ts=ts2, idem="k1"))
    assert err.value.status == 422 and err.value.code == "idempotency_key_conflict" and "k1" in err.value.message
    assert len(records(services)) == 1


def test_idempotency_key_expires_at_lookup(services, setup):
    """After 24 h the key is free again, even though the nightly purge has not run."""
    ing, app, secret, _ = setup
    ing.ingest(request(services, app, secret, {**PW, "id": "a"}, idem="k1"))
    services.clock.advance(hours=24, seconds=1)
    res = ing.ingest(request(services, app, secret, {**PW, "id": "b"}, idem="k1"))
    assert res.status == 202 and res.payload["accepted"][0]["id"] == "b"
    assert [r.external_id for r in records(services)] == ["a", "b"]
    replay = ing.ingest(request(services, app, secret, {**PW, "id": "b"}, ts=int(services.now().timestamp()) + 1,
                                idem="k1"))
    assert replay.payload == res.payload and len(records(services)) == 2


@pytest.mark.parametrize("data, field", [
    ({"customerName": "\ud800", "mobile": "13800138000", "status": "1"}, "data.customerName"),
    ({"customerName": "张\u0000三", "mobile": "13800138000", "status": "1"}, "data.customerName"),
    ({"customerName": "张三", "mobile": "13800138000", "status": "1", "extra": [1, {"x": float("nan")}]}, "data.extra[1].x"),
    ({"customerName": "张三", "mobile": "13800138000", "status": "1", "amount": 1e999}, "data.amount"),
    ({"customerName": "张三", "mobile": "13800138000", "status": "1", "k\u0000": 1}, "data.k\ufffd"),
])
def test_unstorable_text_and_numbers_are_refused_naming_the_field(services, setup, data, field):
    """NUL, lone surrogates and NaN/Infinity never reach the ledger as accepted events: 422 naming
    the field; the refusal itself is stored (scrubbed) for 事件历史, on SQLite and PostgreSQL."""
    ing, app, secret, stored = setup
    body = ('{"event": "password_changed", "id": "p1", "data": %s}' % json.dumps(data)).encode()
    res = ing.ingest(request(services, app, secret, body))
    assert res.status == 422 and stored == []
    assert field in [d["field"] for d in res.payload["error"]["details"]]
    rows = records(services)
    assert len(rows) == 1 and rows[0].status == "rejected" and rows[0].reject_reason == "invalid"
    dumped = json.dumps(rows[0].data)
    assert not [bad for bad in ("\\u0000", "\\ud800", "NaN", "Infinity") if bad in dumped]


def test_one_bad_event_in_a_batch_is_refused_alone(services, setup):
    ing, app, secret, stored = setup
    body = {"events": [{**PW, "id": str(i)} for i in range(20)]}
    body["events"][7] = {**PW, "id": "7", "data": {**PW["data"], "customerName": "\ud800"}}
    res = ing.ingest(request(services, app, secret, json.dumps(body).encode()))
    assert res.status == 202 and len(res.payload["accepted"]) == 19
    assert res.payload["rejected"][0]["index"] == 7 and res.payload["rejected"][0]["errors"][0]["field"] == "data.customerName"
    assert len(stored) == 19


def test_types_are_normalised(services, setup):
    ing, app, secret, _ = setup
    ev = {"event": "bank_withholding", "data": {"loan_type": "银行代扣", "rep_amount": "1200.50",
                                                 "is_last_period": "true", "loan_date": "2026-11-20 10:00:00"}}
    assert ing.ingest(request(services, app, secret, ev)).status == 202
    data = records(services)[0].data
    assert data["rep_amount"] == 1200.5 and data["is_last_period"] is True
    assert data["loan_date"] == "2026-11-20T02:00:00+00:00"  # naive = Asia/Shanghai

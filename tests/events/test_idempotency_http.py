"""Idempotency-Key under concurrency, over real HTTP (threads against a live server), on SQLite
and in the PostgreSQL pass: one key, ten requests at once — never an acknowledged event that is
not stored, never a 500. The lead API (POST /api/v1/leads/ingestions) keeps the same contract
through the same implementation (events.idempotency)."""
from __future__ import annotations

import json
import threading

import pytest
import requests
from sqlalchemy import func, select

from crm.leads.models import Lead
from engine.lead_scenes import save_scene
from events.apps import create_app_record
from events.definitions import import_builtin
from events.models import EventRecord, IdempotencyKey
from events.signature import sign
from tests.web.conftest import app, app_db, live_server  # noqa: F401 - the live app these tests talk to

N = 10


@pytest.fixture
def signed(app, app_db, live_server, clock):  # noqa: F811
    rt = app.extensions["ckb"]
    with app_db.write() as s:
        import_builtin(s)
        record, secret = create_app_record(s, rt.services.secret_box, {"name": "并发应用"})
        key = record.app_key
        save_scene(s, {"name": "官网表单", "scene_type": "WEB_FORM", "dedup_strategy": "BY_PHONE_OR_EMAIL"},
                   registry=rt.registry, box=rt.services.secret_box, author="test")
    rt.invalidate()

    def post(payload: dict, idem: str, ts_offset: int = 0, path: str = "/api/v1/events") -> requests.Response:
        body = json.dumps(payload, ensure_ascii=False).encode()
        ts = int(clock.now().timestamp()) + ts_offset
        return requests.post(live_server.url + path, data=body, timeout=30, headers={
            "Content-Type": "application/json", "X-App-Key": key, "X-Timestamp": str(ts),
            "X-Signature": sign(secret, ts, body), "Idempotency-Key": idem})
    return post


def event(i: int) -> dict:
    return {"id": f"evt-{i}", "event": "password_changed",
            "data": {"customerName": f"客户{i}", "mobile": "13800138000", "status": "1"}}


def at_once(calls) -> list[requests.Response]:
    """Runs the calls in threads released together."""
    gate, out = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i):
        gate.wait()
        out[i] = calls[i]()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def count(db, column) -> int:
    with db.read() as s:
        return s.execute(select(func.count(column))).scalar()


def test_one_key_different_bodies_concurrently_one_stored_nine_refused(signed, app_db):  # noqa: F811
    answers = at_once([lambda i=i: signed(event(i), "same-key") for i in range(N)])
    codes = sorted(r.status_code for r in answers)
    assert codes == [202] + [422] * (N - 1), [r.text for r in answers]
    assert all(r.json()["error"]["code"] == "idempotency_key_conflict" for r in answers if r.status_code == 422)
    # Every 202 is a stored event: exactly the one whose answer was given.
    [won] = [r.json() for r in answers if r.status_code == 202]
    assert count(app_db, EventRecord.id) == 1 and count(app_db, IdempotencyKey.id) == 1
    with app_db.read() as s:
        assert s.get(EventRecord, won["accepted"][0]["record_id"]).external_id == won["accepted"][0]["id"]


def test_one_key_same_body_concurrently_one_answer(signed, app_db):  # noqa: F811
    answers = at_once([lambda i=i: signed(event(1), "retry-key", ts_offset=i) for i in range(N)])
    assert {r.status_code for r in answers} == {202}
    assert len({json.dumps(r.json(), sort_keys=True) for r in answers}) == 1
    assert count(app_db, EventRecord.id) == 1


def lead(i: int) -> dict:
    """No external id: without the Idempotency-Key, a client's retry would be a second lead."""
    return {"scene_type": "WEB_FORM", "submission_data": {"name": f"客户{i}", "phone": f"1391234{i:04d}"}}


def test_lead_intake_keeps_the_same_contract_concurrently(signed, app_db):  # noqa: F811
    post = lambda i, offset=0: signed(lead(i), "lead-key", offset, path="/api/v1/leads/ingestions")  # noqa: E731
    answers = at_once([lambda i=i: post(i) for i in range(N)])
    assert sorted(r.status_code for r in answers) == [202] + [422] * (N - 1), [r.text for r in answers]
    [won] = [r for r in answers if r.status_code == 202]
    assert count(app_db, Lead.id) == 1
    # The winner's request retried (re-signed, same body, same key): the same answer, no second lead.
    winner = next(i for i, r in enumerate(answers) if r.status_code == 202)
    again = post(winner, 1)
    assert (again.status_code, again.json()) == (202, won.json()) and count(app_db, Lead.id) == 1

"""POST /api/v1/events under concurrency, over real HTTP: the lean path (web.api.ingest_fast) and
group commit (events.group_commit) answer each request its own result, after it is stored, with
the security headers and the one error envelope."""
from __future__ import annotations

import threading

from sqlmodel import select

from events.models import EventRecord
from tests.web.api_helpers import PASSWORD_EVENT, Signer, api, assert_error, runtime, world  # noqa: F401
from tests.web.test_api_ingest import signer  # noqa: F401 - the fixture
from web.auth.security_headers import HEADERS

N = 12


def test_concurrent_posts_each_get_their_own_stored_answer(signer, app_db):  # noqa: F811
    ids = [f"c{i}" for i in range(N - 2)] + ["same", "same"]
    answers: list = [None] * N
    start = threading.Barrier(N)

    def post(i):
        start.wait()
        answers[i] = signer.post({"id": ids[i], "event": "password_changed", "data": PASSWORD_EVENT},
                                 ts=signer.now() + i)  # distinct signatures

    threads = [threading.Thread(target=post, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in answers] == [202] * N, [r.text for r in answers]
    with app_db.read() as s:
        stored = {r.external_id: r.id for r in s.exec(select(EventRecord))}
    assert sorted(stored) == sorted(set(ids))
    for i, resp in enumerate(answers[:N - 2]):
        assert resp.json()["accepted"] == [{"index": 0, "id": ids[i], "record_id": stored[ids[i]]}]
        assert all(resp.headers.get(name) == value for name, value in HEADERS.items())
    same = [r.json() for r in answers[N - 2:]]
    assert sorted(len(b["accepted"]) for b in same) == [0, 1]
    assert [d["record_id"] for b in same for d in b["duplicates"]] == [stored["same"]]


def test_refusals_keep_the_envelope_and_headers(signer):  # noqa: F811
    resp = signer.post({"id": "x", "event": "password_changed", "data": PASSWORD_EVENT}, secret="wrong")
    assert_error(resp, 401, "签名")
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="cunkebao"'
    assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["Content-Type"] == "application/json"


def test_an_unexpected_error_answers_500_with_a_reference(signer, runtime, monkeypatch):  # noqa: F811
    def broken(_req):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(runtime.ingestor, "ingest", broken)
    resp = signer.post({"id": "y", "event": "password_changed", "data": PASSWORD_EVENT})
    body = assert_error(resp, 500)
    assert body["error"]["code"] == "internal_error" and body["error"]["reference"]
    assert "disk on fire" not in resp.text and resp.headers["X-Content-Type-Options"] == "nosniff"

"""Group commit (events.group_commit) against the real database: concurrent signed requests share
one transaction, and each is answered with its own result only after it committed."""
from __future__ import annotations

import threading
import time

import pytest
from sqlmodel import select

from events.models import EventRecord
from tests.events.test_ingestion import PW, request, setup  # noqa: F401 - the fixture

N = 8


def records(services):
    with services.db.read() as s:
        return list(s.exec(select(EventRecord).order_by(EventRecord.id)))


def held_first_group(ing, total: int):
    """Wraps the committer's store so that its first group waits until all `total` requests are
    in it or queued behind it: the queued ones then go in together, whatever the thread
    scheduling. Returns the list of group sizes stored."""
    sizes = []
    store = ing.group.store

    def gated(conn, items):
        if not sizes:
            deadline = time.monotonic() + 30  # a guard against a hang, not a measurement
            while len(items) + ing.group.pending < total and time.monotonic() < deadline:
                time.sleep(0.005)
        sizes.append(len(items))
        return store(conn, items)

    ing.group.store = gated
    return sizes


def concurrently(count: int, send):
    """send(i) from `count` threads at once; [(result or None, exception or None)] by i."""
    out: list = [None] * count
    start = threading.Barrier(count)

    def run(i):
        start.wait()
        try:
            out[i] = (send(i), None)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            out[i] = (None, exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_concurrent_requests_share_a_transaction_each_answered_its_own(services, setup):  # noqa: F811
    ing, app, secret, stored = setup
    sizes = held_first_group(ing, N)
    ids = [f"e{i}" if i < N - 2 else "shared" for i in range(N)]  # the last two send one event id
    base = int(services.now().timestamp())
    out = concurrently(N, lambda i: ing.ingest(request(services, app, secret, {**PW, "id": ids[i]}, ts=base + i)))
    assert all(exc is None for _, exc in out), out
    assert sum(sizes) == N and max(sizes) > 1  # they went in together
    rows = records(services)
    by_ext = {r.external_id: r.id for r in rows}
    assert sorted(by_ext) == sorted(set(ids)) and len(rows) == N - 1  # "shared" stored once
    for i, (res, _) in enumerate(out[:N - 2]):
        assert res.status == 202 and res.payload["accepted"] == [{"index": 0, "id": ids[i], "record_id": by_ext[ids[i]]}]
        assert res.stored_ids == [by_ext[ids[i]]]
    shared = [res.payload for res, _ in out[N - 2:]]
    assert sorted(len(p["accepted"]) for p in shared) == [0, 1]
    assert [d["record_id"] for p in shared for d in p["duplicates"]] == [by_ext["shared"]]
    assert sorted(stored) == sorted(by_ext.values())  # the dispatcher was woken for every stored row


def test_a_failing_request_fails_alone_and_the_others_are_stored(services, setup):  # noqa: F811
    ing, app, secret, stored = setup
    store = ing.group.store

    def failing(conn, items):
        if any(row["external_id"] == "bad" for rows, _single, _refusal in items for row in rows):
            raise RuntimeError("storage refused")
        return store(conn, items)

    ing.group.store = failing
    sizes = held_first_group(ing, N)  # counts every group tried, the failing ones too
    base = int(services.now().timestamp())
    ids = ["bad" if i == 3 else f"ok{i}" for i in range(N)]
    out = concurrently(N, lambda i: ing.ingest(request(services, app, secret, {**PW, "id": ids[i]}, ts=base + i)))
    assert max(sizes) > 1  # requests were grouped (the retries alone are groups of one)
    assert out[3][0] is None and isinstance(out[3][1], RuntimeError)
    ok = [res for i, (res, exc) in enumerate(out) if i != 3]
    assert all(res is not None and res.status == 202 and len(res.payload["accepted"]) == 1 for res in ok)
    rows = records(services)
    assert sorted(r.external_id for r in rows) == sorted(i for i in ids if i != "bad")  # each stored once
    assert sorted(stored) == sorted(r.id for r in rows)


def test_a_failed_commit_acknowledges_nothing(services, setup, monkeypatch):  # noqa: F811
    ing, app, secret, stored = setup
    held_first_group(ing, N)
    dialect = type(services.db.engine.dialect)

    def commit_fails(self, dbapi_connection):
        raise RuntimeError("commit failed")  # the driver's COMMIT: the transaction rolls back

    monkeypatch.setattr(dialect, "do_commit", commit_fails)
    base = int(services.now().timestamp())
    out = concurrently(N, lambda i: ing.ingest(request(services, app, secret, {**PW, "id": f"c{i}"}, ts=base + i)))
    assert all(res is None and isinstance(exc, RuntimeError) for res, exc in out)
    monkeypatch.undo()
    assert records(services) == [] and stored == []
    # The connection that failed was dropped: the next request stores on a fresh one.
    assert ing.ingest(request(services, app, secret, {**PW, "id": "after"}, ts=base + N)).status == 202
    assert [r.external_id for r in records(services)] == ["after"]


def test_idempotent_requests_still_write_alone(services, setup):  # noqa: F811
    ing, app, secret, _ = setup
    calls = []
    store = ing.group.store
    ing.group.store = lambda conn, items: calls.append(len(items)) or store(conn, items)
    first = ing.ingest(request(services, app, secret, {**PW, "id": "k1"}, idem="key-1"))
    again = ing.ingest(request(services, app, secret, {**PW, "id": "k1"}, idem="key-1"))
    assert first.status == again.status == 202 and again.payload == first.payload
    assert calls == [] and len(records(services)) == 1


@pytest.mark.parametrize("batch", [3])
def test_a_batch_with_repeated_ids_in_a_group(services, setup, batch):  # noqa: F811
    ing, app, secret, _ = setup
    held_first_group(ing, 2)
    base = int(services.now().timestamp())
    bodies = [{"events": [{**PW, "id": "x"}, {**PW, "id": f"b{i}"}, {**PW, "id": "x"}]} for i in range(2)]
    out = concurrently(2, lambda i: ing.ingest(request(services, app, secret, bodies[i], ts=base + i)))
    payloads = [res.payload for res, _ in out]
    xs = [a for p in payloads for a in p["accepted"] if a["id"] == "x"]
    assert len(xs) == 1  # stored once across both requests
    dup_ids = {d["record_id"] for p in payloads for d in p["duplicates"]}
    assert dup_ids == {xs[0]["record_id"]} and sum(len(p["duplicates"]) for p in payloads) == 3
    assert len(records(services)) == 3


def test_only_a_plain_utf8_body_skips_the_storable_walk():
    import json as _json

    from events.body import parse_events

    def plain(raw: bytes) -> bool:
        return parse_events(raw, 100_000, 16, 10).plain

    assert plain('{"event":"a","data":{"name":"张三","x":1.5}}'.encode())
    assert not plain(b'{"event":"a","data":{"name":"\\u0000"}}')
    assert not plain(b'{"event":"a","data":{"name":"\\uD800"}}')
    assert not plain(b'{"event":"a","data":{"name":"\xed\xa0\x80"}}')  # surrogate bytes
    assert not plain(b'{"event":"a","data":{"x":NaN}}') and not plain(b'{"event":"a","data":{"x":1e999}}')
    assert not plain(_json.dumps({"event": "a"}).encode("utf-16"))


def test_a_caller_inside_a_write_is_stored_without_waiting_for_the_committer(services, setup):  # noqa: F811
    ing, app, secret, stored = setup
    with services.db.write():
        # On SQLite the committer would wait for this very write turn: the request stores inline.
        res = ing.ingest(request(services, app, secret, {**PW, "id": "inside"}))
    assert res.status == 202 and [r.external_id for r in records(services)] == ["inside"] and len(stored) == 1


def test_a_leader_whose_own_request_fails_passes_the_lead_on(services, setup):  # noqa: F811
    ing, app, secret, stored = setup
    store = ing.group.store
    calls = []

    def leader_fails(conn, items):
        calls.append(len(items))
        if len(calls) == 1:  # the first group: its leader alone, while everyone else queues behind it
            deadline = time.monotonic() + 30  # a guard against a hang, not a measurement
            while ing.group.pending < N - 1 and time.monotonic() < deadline:
                time.sleep(0.005)
            raise RuntimeError("leader's storage refused")
        return store(conn, items)

    ing.group.store = leader_fails
    base = int(services.now().timestamp())
    first = threading.Thread(target=lambda: out0.append(_send(ing, services, app, secret, "lead", base)))
    out0: list = []
    first.start()
    while not calls:
        time.sleep(0.005)
    out = concurrently(N - 1, lambda i: ing.ingest(request(services, app, secret, {**PW, "id": f"f{i}"}, ts=base + 1 + i)))
    first.join()
    assert isinstance(out0[0], RuntimeError)
    assert all(exc is None and res.status == 202 for res, exc in out)
    assert calls[0] == 1 and max(calls[1:]) > 1  # the followers went in together, under a new leader
    assert sorted(r.external_id for r in records(services)) == sorted(f"f{i}" for i in range(N - 1))
    assert ing.group.pending == 0 and not ing.group._leading


def _send(ing, services, app, secret, ext, ts):
    try:
        return ing.ingest(request(services, app, secret, {**PW, "id": ext}, ts=ts))
    except Exception as exc:  # noqa: BLE001 - returned to the test
        return exc


def test_no_thread_or_connection_is_left_behind(services, setup):  # noqa: F811
    ing, app, secret, _ = setup
    before = {t.ident for t in threading.enumerate()}
    base = int(services.now().timestamp())
    out = concurrently(N, lambda i: ing.ingest(request(services, app, secret, {**PW, "id": f"t{i}"}, ts=base + i)))
    assert all(exc is None for _, exc in out)
    assert {t.ident for t in threading.enumerate()} <= before  # requests lead their own groups
    assert not ing.group._leading and ing.group.pending == 0
    assert ing.group._conn is None  # idle: the leaders' connection is back in the pool

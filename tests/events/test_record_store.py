"""Driver-level storage of event_record rows (events.record_store): what it writes reads back through
the ORM exactly as a row written by SQLAlchemy would, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select

from events.ingestion import insert_rows
from events.models import EventRecord
from events.record_store import SQLITE_CHUNKS, writer_for

UTC8 = timezone(timedelta(hours=8))


def row(key, n=0, **extra):
    now = datetime(2026, 12, 8, 10, 0, 0, 123456, tzinfo=UTC8)
    base = {"app_id": 7, "source": "api", "received_at": now, "occurred_at": now - timedelta(minutes=n),
            "client_ip": "127.0.0.1", "errors": [], "data": {"n": n, "名字": "张三", "tags": ["a"], "x": 1.5},
            "event_code": "order.paid", "external_id": key, "dedupe_key": key and f"api:7:{key}",
            "event_definition_id": 3, "status": "accepted", "reject_reason": "", "dispatch_status": "pending"}
    return base | extra


def fetch(services, where=None):
    with services.db.read() as s:
        stmt = select(EventRecord).order_by(EventRecord.id)
        return list(s.exec(stmt if where is None else stmt.where(where)).scalars())


def test_rows_read_back_as_the_orm_writes_them(services):
    ours = row("ours", 5)
    theirs = row("theirs", 5)
    with services.db.write_connection() as conn:
        writer_for(conn).insert_new(conn, [ours])
        conn.execute(insert(EventRecord.__table__), [theirs])
    a, b = fetch(services)
    for name in ("occurred_at", "received_at", "data", "errors", "app_id", "event_code", "status", "dispatch_status",
                 "matched_count", "outcome", "outcome_note", "claimed_until", "dispatched_at", "client_ip"):
        assert getattr(a, name) == getattr(b, name), name
    assert a.occurred_at == datetime(2026, 12, 8, 1, 55, 0, 123456, tzinfo=timezone.utc)
    assert a.data == {"n": 5, "名字": "张三", "tags": ["a"], "x": 1.5}


def test_every_chunk_size_is_used_and_each_row_gets_its_own_id(services):
    count = sum(SQLITE_CHUNKS) * 2 + 3  # every chunk size, more than once
    rows = [row(f"k{i}", i) for i in range(count)]
    with services.db.write_connection() as conn:
        stored = writer_for(conn).insert_new(conn, rows)
    assert sorted(key for _, key in stored) == sorted(r["dedupe_key"] for r in rows)
    by_key = {r.dedupe_key: r for r in fetch(services)}
    assert all(by_key[key].id == rid and by_key[key].data["n"] == int(key[7:]) for rid, key in stored)


def test_keys_already_stored_return_nothing_and_write_nothing(services):
    with services.db.write_connection() as conn:
        writer_for(conn).insert_new(conn, [row("a", 1)])
    with services.db.write_connection() as conn:
        stored = writer_for(conn).insert_new(conn, [row("a", 2), row("b", 3)])
    assert [key for _, key in stored] == ["api:7:b"]
    assert [(r.dedupe_key, r.data["n"]) for r in fetch(services)] == [("api:7:a", 1), ("api:7:b", 3)]


def test_refused_rows_keep_their_reason_and_repeated_keys_are_duplicates(services):
    refused = row(None, 1, status="rejected", reject_reason="invalid", dispatch_status="skipped", outcome="rejected",
                  outcome_note="字段「金额」类型应为数值", errors=[{"field": "amount", "code": "type", "message": "坏"}])
    with services.db.write_connection() as conn:
        accepted, duplicates, rejected, stored = insert_rows(conn, [row("x"), refused, row("x")])
    assert [a["index"] for a in accepted] == [0] and [d["index"] for d in duplicates] == [2]
    assert duplicates[0]["record_id"] == accepted[0]["record_id"] == stored[0]
    bad = fetch(services, EventRecord.status == "rejected")[0]
    assert bad.id == rejected[0]["record_id"] and bad.outcome == "rejected" and bad.dedupe_key is None
    assert bad.errors == [{"field": "amount", "code": "type", "message": "坏"}] and bad.outcome_note.startswith("字段")


def test_a_failed_transaction_leaves_no_row(services):
    try:
        with services.db.write_connection() as conn:
            writer_for(conn).insert_new(conn, [row("gone")])
            raise RuntimeError("later step failed")
    except RuntimeError:
        pass
    assert fetch(services) == []

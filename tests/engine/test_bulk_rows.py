"""engine.bulk_rows: the dispatcher's rows written through the DBAPI read back exactly as
SQLAlchemy's own types would have stored them, with each row's id in row order."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select

from engine.bulk_rows import RowWriter
from engine.dispatcher import ATTEMPT_ROWS, RUN_ROWS, RUNS, TASK_ROWS, TASKS
from engine.models import StepAttempt, StrategyTask
from events.models import EventRecord

NOW = datetime(2024, 6, 1, 8, 30, 15, 123456, tzinfo=timezone.utc)


def _rows(names):
    return [{"event_record_id": 7, "strategy_id": i, "strategy_name": name, "strategy_version": 1,
             "matched": True, "reason": "", "created_at": NOW} for i, name in enumerate(names)]


def test_ids_come_back_in_row_order_even_after_the_newest_rows_were_deleted(db):
    with db.write() as s:
        first = RUN_ROWS.insert(s.connection(), _rows(["a", "b", "c"]))
    with db.write() as s:  # the highest ids gone: new ones must still be read back right
        s.connection().execute(delete(RUNS).where(RUNS.c.id.in_(first[1:])))
    with db.write() as s:
        ids = RUN_ROWS.insert(s.connection(), _rows([f"n{i}" for i in range(50)]))
    assert len(set(ids)) == 50 and not set(ids) & {first[0]} and ids == sorted(ids)
    with db.read() as s:
        names = dict(s.connection().execute(select(RUNS.c.id, RUNS.c.strategy_name).where(RUNS.c.id.in_(ids))).all())
    assert [names[i] for i in ids] == [f"n{i}" for i in range(50)]


def _task(**extra) -> dict:
    return {"event_record_id": 1, "strategy_run_id": 2, "strategy_id": 3, "step_index": 0, "processor_key": "log",
            "processor_name": "写日志", "config": {"message": "你好 ${name}", "n": [1, 2.5, None]}, "timing": "immediate",
            "due_at": NOW, "status": "done", "attempts": 1, "max_attempts": 3, "lease_until": None, "lease_owner": "",
            "idempotency_key": extra.pop("key", "1:3:0"), "rendered": {}, "result": {"ok": True}, "last_error": "",
            "note": "", "created_at": NOW, "started_at": NOW.astimezone(timezone(timedelta(hours=8))),
            "finished_at": NOW + timedelta(microseconds=1), **extra}


def test_values_read_back_through_the_models_as_written(db):
    with db.write() as s:
        (task_id,) = TASK_ROWS.insert(s.connection(), [_task()])
        ATTEMPT_ROWS.insert(s.connection(), [{"task_id": task_id, "number": 1, "worker": "w", "state": "ok",
                                              "started_at": NOW, "finished_at": NOW, "ok": True, "retryable": False,
                                              "request": {"message": "𠮷 \"引号\""}, "response": {}, "error": "",
                                              "duration_ms": 3}], return_ids=False)
    with db.read() as s:
        task = s.get(StrategyTask, task_id)
        attempt = s.execute(select(StepAttempt).where(StepAttempt.task_id == task_id)).scalar_one()
        # the database's own comparisons see the same instants (the due-task sweep filters on them)
        due = s.execute(select(TASKS.c.id).where(TASKS.c.due_at <= NOW, TASKS.c.started_at >= NOW)).scalars().all()
    assert (task.config, task.rendered, task.result) == ({"message": "你好 ${name}", "n": [1, 2.5, None]}, {}, {"ok": True})
    assert (task.due_at, task.started_at, task.finished_at, task.lease_until) == (
        NOW, NOW, NOW + timedelta(microseconds=1), None)
    assert (attempt.ok, attempt.retryable, attempt.request, attempt.started_at) == (True, False, {"message": "𠮷 \"引号\""}, NOW)
    assert due == [task_id]


def test_a_naive_time_is_refused_and_the_transaction_keeps_nothing(db):
    with pytest.raises(ValueError), db.write() as s:
        TASK_ROWS.insert(s.connection(), [_task(key="a"), _task(key="b", due_at=datetime(2024, 6, 1))])
    with db.read() as s:
        assert s.execute(select(TASKS.c.id)).first() is None


def test_update_by_id_applies_only_where_the_condition_holds(db):
    events = RowWriter(EventRecord.__table__)
    with db.write() as s:
        s.add_all([EventRecord(app_id=1, event_code="x", data={}, dispatch_status=status) for status in ("claimed", "done")])
    with db.read() as s:
        ids = s.execute(select(EventRecord.id).order_by(EventRecord.id)).scalars().all()
    with db.write() as s:
        events.update(s.connection(), [{"id": i, "outcome": "matched", "dispatched_at": NOW} for i in ids],
                      where="dispatch_status = 'claimed'")
    with db.read() as s:
        rows = s.execute(select(EventRecord.outcome, EventRecord.dispatched_at).order_by(EventRecord.id)).all()
    assert rows[0] == ("matched", NOW) and rows[1][1] is None

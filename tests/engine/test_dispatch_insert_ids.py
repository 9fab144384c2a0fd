"""The dispatcher's batch inserts hand back each row's id in parameter order (engine.dispatcher
_inserted_ids): one executemany on SQLite, INSERT … RETURNING on PostgreSQL."""
from __future__ import annotations

from sqlalchemy import delete, select

from engine.dispatcher import RUNS, _RUN_INSERT, _inserted_ids


def _rows(names):
    return [{"event_record_id": 7, "strategy_id": i, "strategy_name": name, "strategy_version": 1,
             "matched": True, "reason": ""} for i, name in enumerate(names)]


def test_ids_come_back_in_parameter_order_even_after_the_newest_rows_were_deleted(db):
    with db.write() as s:
        first = _inserted_ids(s.connection(), _RUN_INSERT, _rows(["a", "b", "c"]), db.is_postgres)
    with db.write() as s:  # the highest ids gone: new ones must still be read back right
        s.connection().execute(delete(RUNS).where(RUNS.c.id.in_(first[1:])))
    with db.write() as s:
        ids = _inserted_ids(s.connection(), _RUN_INSERT, _rows([f"n{i}" for i in range(50)]), db.is_postgres)
    assert len(set(ids)) == 50 and not set(ids) & {first[0]}
    with db.read() as s:
        names = dict(s.connection().execute(select(RUNS.c.id, RUNS.c.strategy_name).where(RUNS.c.id.in_(ids))).all())
    assert [names[i] for i in ids] == [f"n{i}" for i in range(50)]

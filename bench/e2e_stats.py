"""End-to-end figures read back from the database after a run (read-only queries on SQLite, or on
PostgreSQL when the target is a database URL).

An event is *complete* when it is dispatched and every step task of it is final; its
completion time is the later of its dispatch time and its last task's finished_at. The step
latency of an immediate task is finished_at − the event's received_at.
"""
from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timezone

FINAL = ("done", "dead", "cancelled", "skipped")


def _epoch(value) -> float | None:
    if value is None:
        return None
    dt = datetime.fromisoformat(str(value))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


class _Postgres:
    """psycopg with sqlite3's `?` placeholders and `execute(...).fetchone()`, in autocommit so each
    poll sees the latest commits and holds no snapshot or lock between polls."""

    def __init__(self, url: str):
        import psycopg

        self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)

    def execute(self, sql: str, params=()):
        return self.conn.execute(sql.replace("?", "%s"), params)

    def close(self) -> None:
        self.conn.close()


def is_url(target: str) -> bool:
    return target.startswith("postgresql")


def connect(target: str, write: bool = False):
    """A connection to the run's database: `target` is the SQLite file path or a PostgreSQL URL."""
    if is_url(target):
        return _Postgres(target)
    conn = sqlite3.connect(target if write else f"file:{target}?mode=ro", uri=not write, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def incomplete(conn, lo: int, hi: int) -> int:
    pending = conn.execute("SELECT COUNT(*) FROM event_record WHERE id BETWEEN ? AND ? AND dispatch_status != 'done'",
                           (lo, hi)).fetchone()[0]
    open_tasks = conn.execute(
        f"SELECT COUNT(DISTINCT event_record_id) FROM strategy_task WHERE event_record_id BETWEEN ? AND ? "
        f"AND status NOT IN {FINAL}", (lo, hi)).fetchone()[0]
    return pending + open_tasks


def wait_drained(path: str, lo: int, hi: int, timeout: float) -> tuple[float, int]:
    """Waits until every event in [lo, hi] is complete; returns (seconds waited, still incomplete)."""
    start = time.time()
    conn = connect(path)
    try:
        left = incomplete(conn, lo, hi)
        while left and time.time() - start < timeout:
            time.sleep(0.5)
            left = incomplete(conn, lo, hi)
        return time.time() - start, left
    finally:
        conn.close()


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def analyse(path: str, ids: list[int], window: tuple[float, float] | None = None) -> dict:
    """Figures for the events `ids`; with `window` (epoch start, end) also completions inside it."""
    if not ids:
        return {"events": 0}
    lo, hi = min(ids), max(ids)
    conn = connect(path)
    try:
        events = conn.execute(
            "SELECT e.id, e.received_at, e.dispatched_at, e.dispatch_status, e.matched_count, "
            f"COUNT(t.id), SUM(CASE WHEN t.status IN {FINAL} THEN 1 ELSE 0 END), MAX(t.finished_at) "
            "FROM event_record e LEFT JOIN strategy_task t ON t.event_record_id = e.id "
            "WHERE e.id BETWEEN ? AND ? GROUP BY e.id", (lo, hi)).fetchall()
        steps = conn.execute(
            "SELECT t.finished_at, e.received_at, t.status FROM strategy_task t JOIN event_record e ON e.id = t.event_record_id "
            "WHERE e.id BETWEEN ? AND ? AND t.timing = 'immediate'", (lo, hi)).fetchall()
    finally:
        conn.close()
    wanted = set(ids)
    received, completed, matched = [], [], []
    for eid, rec_at, disp_at, status, mcount, ntasks, nfinal, last_fin in events:
        if eid not in wanted:
            continue
        received.append(_epoch(rec_at))
        matched.append(mcount or 0)
        if status == "done" and ntasks == nfinal:
            completed.append(max(_epoch(disp_at), _epoch(last_fin) or 0.0))
    lat = [(_epoch(fin) - _epoch(rec)) * 1000 for fin, rec, st in steps if fin is not None and st == "done"]
    out = {"events": len(received), "completed": len(completed), "steps_done": len(lat),
           "steps_total": len(steps), "matches_per_event": sum(matched) / len(matched) if matched else 0,
           "step_p50_ms": _pct(lat, 0.50), "step_p99_ms": _pct(lat, 0.99), "step_max_ms": max(lat) if lat else None}
    if completed:
        span = max(completed) - min(received)
        out["e2e_events_per_s"] = len(completed) / span if span > 0 else None
    if window is not None:
        a, b = window
        inside = sum(1 for c in completed if a <= c <= b)
        out["completed_in_window_per_s"] = inside / (b - a)
    return out

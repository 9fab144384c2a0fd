"""任务调度's per-second control tick: what every scheduler process pays to notice a saved schedule
(the config version) and, on the leader, 立即执行 requests — on a migrated SQLite database.

Prints microseconds per control tick (version read + pending-request read, no change), per reload
(all ~35 jobs re-read with 20 stored schedules and 20 registered jobs), and a baseline measured in
the same run on the same database: one bare `SELECT 1` read session, so the tick reads as "X bare
round trips".

    .venv/bin/python bench/cron_control.py                  # 2,000 ticks
    .venv/bin/python bench/cron_control.py --ticks 500 --time-limit 30

Bounded: each phase stops after --time-limit seconds and reports what ran.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from config.clock import ManualClock  # noqa: E402
from config.settings import Settings  # noqa: E402
from engine.cron_admin import create_custom  # noqa: E402
from engine.cron_registry import store_schedule  # noqa: E402
from engine.crm_wiring import all_cron_jobs  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from events.definitions import import_builtin  # noqa: E402
from web.migrate import upgrade  # noqa: E402


def _timed(fn, n: int, limit: float) -> tuple[float, int]:
    start, done = time.perf_counter(), 0
    while done < n and time.perf_counter() - start < limit:
        fn()
        done += 1
    return (time.perf_counter() - start) / max(done, 1) * 1e6, done


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ticks", type=int, default=2000)
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        settings = Settings(var_dir=Path(tmp), database_url=url, secret_key="bench", run_background=False)
        rt = Runtime.from_settings(settings, clock=ManualClock(datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)))
        db, now = rt.services.db, rt.services.now()
        jobs = all_cron_jobs(settings)
        with db.write() as s:
            import_builtin(s)
            for job in jobs[:20]:
                store_schedule(s, job.key, "06:10", True, "bench", now)
            for i in range(20):
                create_custom(s, rt.registry, {"name": f"任务{i}", "schedule": "*/5 * * * *", "action": "event",
                                               "target": "schedule.fired", "data": {"schedule_key": "bench"}}, settings.timezone, "bench", now)
        sched = rt.scheduler
        sched._code_jobs, sched.timing, sched.is_leader = jobs, True, True  # as start() leaves it, no thread
        sched.reload()

        def bare():
            with db.read() as s:
                s.execute(text("SELECT 1")).scalar()

        base_us, nb = _timed(bare, args.ticks, args.time_limit)
        tick_us, nt = _timed(sched.control_tick, args.ticks, args.time_limit)
        reload_us, nr = _timed(sched.reload, max(args.ticks // 10, 1), args.time_limit)
        print(f"jobs timed: {len(sched.jobs)} ({len(jobs)} in code + 20 registered, 20 stored schedules)")
        print(f"bare SELECT 1 read:  {base_us:8.1f} µs  ({nb} runs)")
        print(f"control tick:        {tick_us:8.1f} µs  ({nt} runs)  = {tick_us / base_us:.1f}× bare read")
        print(f"reload (re-time all): {reload_us:7.1f} µs  ({nr} runs)  = {reload_us / base_us:.1f}× bare read")
        rt.stop()
        db.dispose()


if __name__ == "__main__":
    main()

"""参数配置 at runtime: what live parameters cost the code that reads them, and how fast a change
made by one process reaches another.

1. `services.settings.<field>` now passes through the overlay's interval check (a monotonic-clock
   compare; a `max(id)` read at most every params_refresh_seconds). Measured against the baseline
   of the same read from the Settings object directly (what every reader did before), in the same run.
2. Pickup: process A saves 免打扰时段; process B (its own Services and Settings on the same SQLite
   file, refresh interval 0.5 s) polls `services.settings` in a loop until it sees the new value.
3. The version check alone (one `SELECT max(id)` on the change log) and a full reload of all values.

    .venv/bin/python bench/params.py              # 1,000,000 reads, 20 pickups
    .venv/bin/python bench/params.py --reads 200000 --pickups 5
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.db import Database  # noqa: E402
from config.services import Services  # noqa: E402
from config.settings import Settings  # noqa: E402
from web.migrate import upgrade  # noqa: E402


def _services(url: str, var: Path, refresh: float) -> Services:
    settings = Settings(var_dir=var, database_url=url, secret_key="bench", params_refresh_seconds=refresh)
    return Services(settings=settings, db=Database(url))


def _per_read_ns(read, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        read()
    return (time.perf_counter() - started) / count * 1e9


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--pickups", type=int, default=20)
    parser.add_argument("--time-limit", type=float, default=120.0)
    args = parser.parse_args()
    deadline = time.monotonic() + args.time_limit
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        url = f"sqlite:///{var / 'bench.db'}"
        upgrade(url)
        a = _services(url, var, 3.0)
        b = _services(url, var, 0.5)
        raw = b.settings  # the Settings object itself: the baseline reader
        b.settings.budget_quiet_hours  # noqa: B018 - first load outside the timing

        base = _per_read_ns(lambda: raw.budget_quiet_hours, args.reads)
        live = _per_read_ns(lambda: b.settings.budget_quiet_hours, args.reads)
        print(f"read a setting: baseline (Settings attribute) {base:.0f} ns, through services.settings "
              f"{live:.0f} ns — ratio {live / base:.2f}x")

        waits = []
        for i in range(args.pickups):
            if time.monotonic() > deadline:
                break
            window = f"{i % 24:02d}:00-{(i + 8) % 24:02d}:30"
            a.parameters.save("risk", {"budget_quiet_hours": window}, "bench")
            saved = time.monotonic()
            while b.settings.budget_quiet_hours != window:
                time.sleep(0.001)
            waits.append(time.monotonic() - saved)
        waits.sort()
        print(f"pickup by another process (interval 0.5 s, {len(waits)} changes): median "
              f"{waits[len(waits) // 2] * 1000:.0f} ms, max {waits[-1] * 1000:.0f} ms")

        with b.db.read() as session:
            started = time.perf_counter()
            for _ in range(1000):
                b.parameters._version(session)
            check = (time.perf_counter() - started) / 1000 * 1e6
        started = time.perf_counter()
        for _ in range(100):
            b.parameters.reload()
        reload_ms = (time.perf_counter() - started) / 100 * 1000
        print(f"version check (max id of the change log): {check:.0f} µs; full reload of all values: {reload_ms:.2f} ms")
        a.db.dispose()
        b.db.dispose()


if __name__ == "__main__":
    main()

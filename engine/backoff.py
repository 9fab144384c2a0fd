"""Retry timing for failed steps: the processor's retry schedule with jitter, or the server's Retry-After.

A schedule lists the waits after each failed attempt (config.retry_schedule); the executor
asks the registry for the step's processor's schedule. settings.retry_base_seconds, when set,
compresses the whole schedule so that its first wait is that many seconds (tests, drills),
keeping its shape. A replayed dead letter starts the schedule again from its first wait.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Optional, Sequence

from config.retry_schedule import DEFAULT_RETRY_SCHEDULE, parse_schedule

# A peer's Retry-After is obeyed up to this long; longer asks are treated as this.
MAX_RETRY_AFTER_SECONDS = 3600.0


def scheduled_wait(attempt: int, schedule: Sequence[float], base_seconds: Optional[float] = None) -> float:
    """The wait after failed attempt number `attempt` (1-based), before jitter.

    Attempts past one run of the schedule (a replayed dead letter is granted a fresh run)
    start it again, so a replay is retried soon rather than after the longest wait."""
    waits = tuple(schedule) or parse_schedule(DEFAULT_RETRY_SCHEDULE)
    index = min((max(attempt, 1) - 1) % (len(waits) + 1), len(waits) - 1)
    wait = waits[index]
    if base_seconds is not None and base_seconds > 0:
        wait *= base_seconds / waits[0]
    return wait


def next_attempt_at(now: datetime, attempt: int, base_seconds: Optional[float], retry_after: Optional[float] = None,
                    schedule: Sequence[float] = ()) -> datetime:
    if retry_after is not None and retry_after >= 0:
        delay = min(float(retry_after), MAX_RETRY_AFTER_SECONDS)
    else:
        delay = scheduled_wait(attempt, schedule, base_seconds)
        delay *= random.uniform(0.8, 1.2)  # jitter so retries of a burst don't stampede together
    return now + timedelta(seconds=delay)


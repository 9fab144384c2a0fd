"""Retry timing for failed steps: exponential with jitter, or the server's Retry-After."""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Optional

MAX_BACKOFF_SECONDS = 3600.0


def next_attempt_at(now: datetime, attempt: int, base_seconds: float, retry_after: Optional[float] = None) -> datetime:
    if retry_after is not None and retry_after >= 0:
        delay = min(float(retry_after), MAX_BACKOFF_SECONDS)
    else:
        delay = min(base_seconds * (2 ** max(attempt - 1, 0)), MAX_BACKOFF_SECONDS)
        delay *= random.uniform(0.8, 1.2)  # jitter so retries of a burst don't stampede together
    return now + timedelta(seconds=delay)

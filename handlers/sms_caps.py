"""Per-number SMS caps: how many texts one mobile may get per minute, hour and day.

SMS providers enforce such caps on their side (阿里云/腾讯云: about 1 a minute, 5 an hour,
10 a day for one number) and answer with errors past them; a runaway strategy must not text
one customer a thousand times either. Before a message goes out, the sent and reserved rows of
短信发件箱 for that number are counted over each window (sliding, so no burst at a window's
edge). Past the minute or hour cap the step is deferred until the window has room (a
retryable error with Retry-After); past the day cap it is refused. Count and reservation
happen in one write transaction (on PostgreSQL also under an advisory lock per number), so
parallel workers cannot both take the last slot; the send itself happens after it commits.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, text
from sqlmodel import select

from config.clock import as_utc
from handlers.builtin.delivery_record import FAILED, record_key
from handlers.errors import DeferStep, PermanentError
from handlers.models import SmsMessage

RESERVED = "queued"  # the row exists before the provider is called; the send outcome updates it


@dataclass(frozen=True)
class SmsCap:
    label: str  # "每分钟"
    window: timedelta
    limit: int  # 0: no cap
    defer: bool  # True: wait for room; False: refuse


def caps(settings) -> list[SmsCap]:
    return [SmsCap("每分钟", timedelta(minutes=1), settings.sms_per_number_per_minute, True),
            SmsCap("每小时", timedelta(hours=1), settings.sms_per_number_per_hour, True),
            SmsCap("每天（24 小时内）", timedelta(days=1), settings.sms_per_number_per_day, False)]


def _lock_number(session, mobile: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"sms:{mobile}".encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def _check(session, cap: SmsCap, mobile: str, key: str, now: datetime, masked: str) -> None:
    since = now - cap.window
    counted = (SmsMessage.mobile == mobile, SmsMessage.status != FAILED, SmsMessage.created_at > since,
               func.coalesce(SmsMessage.idempotency_key, "") != key)
    seen, oldest = session.exec(select(func.count(), func.min(SmsMessage.created_at)).where(*counted)).one()
    if seen < cap.limit:
        return
    reason = f"手机号 {masked} 的短信已达上限（{cap.label} {cap.limit} 条）"
    if not cap.defer:
        raise PermanentError(f"{reason}，已拒绝发送")
    wait = max(1.0, (as_utc(oldest) + cap.window - now).total_seconds() + 1)
    # Waiting for a provider's window is not the step failing: deferred without spending an attempt.
    raise DeferStep(f"{reason}，{wait:.0f} 秒后再发", delay_seconds=wait)


def reserve(db, settings, idempotency_key: str, masked: str, **row) -> None:
    """Counts the number's recent texts against every cap and reserves this one (`row`: the
    SmsMessage fields), or raises DeferStep (deferred, no attempt spent) / PermanentError
    (refused) naming the cap."""
    key, mobile, now = record_key(idempotency_key), row["mobile"], as_utc(row["created_at"])
    with db.write() as session:
        _lock_number(session, mobile)
        for cap in caps(settings):
            if cap.limit > 0:
                _check(session, cap, mobile, key, now, masked)
        existing = session.exec(select(SmsMessage).where(SmsMessage.idempotency_key == key)).first()
        reserved = existing or SmsMessage(idempotency_key=key, **row)
        reserved.status, reserved.created_at = RESERVED, now
        session.add(reserved)

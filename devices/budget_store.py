"""Where the risk budget keeps its counters, so that several worker processes share one budget.

Check-and-increment is one atomic step in both stores: with Redis configured, a Lua script
(Redis runs scripts one at a time); otherwise BudgetCounter rows locked inside the caller's
write transaction (SQLite: the transaction already holds the write lock; PostgreSQL:
INSERT … ON CONFLICT DO NOTHING then SELECT … FOR UPDATE). Either way two issuers can never
take the same pacing slot or both take the last add-friend of the day.

With Redis the counters are committed before the caller's database transaction (the decision is
taken with no transaction open, see devices.budget_plan): if that transaction then fails, the
counters are given back (`release`); should that fail too, the budget was spent for nothing —
the safe direction.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Optional

from sqlalchemy import select, update
from sqlmodel import Session

from config.clock import UTC, as_utc, to_local
from config.redis_factory import shared_redis
from config.dialect_insert import insert_for
from devices.budget_types import Allow, Defer, Reservation
from devices.models import BudgetCounter

TABLE = BudgetCounter.__table__
SLOT_DAY = date(2000, 1, 1)  # the pacing slot is not per day: one row per account on a fixed day
SLOT_KIND = "slot"
REDIS_PREFIX = "ckb:budget"


def hour_kind(local: datetime) -> str:
    return f"send_hour:{local.hour:02d}"


def hourly_reason(local_hour: datetime, limit: int) -> str:
    return f"本小时（{local_hour:%H}:00 起）发送已达上限 {limit} 条"


class DbBudgetStore:
    """BudgetCounter rows in the caller's write transaction."""

    def __init__(self, session: Session):
        self.session = session

    def _row(self, scope: str, day: date, kind: str):
        values = {"scope": scope, "day": day, "kind": kind, "count": 0}
        self.session.execute(insert_for(self.session)(TABLE).values(**values).on_conflict_do_nothing(
            index_elements=["scope", "day", "kind"]))
        return self.session.execute(select(TABLE.c.id, TABLE.c.count, TABLE.c.last_at).where(
            TABLE.c.scope == scope, TABLE.c.day == day, TABLE.c.kind == kind).with_for_update()).one()

    def _bump(self, row_id: int, now: datetime, last_at: Optional[datetime] = None, add: int = 1) -> None:
        self.session.execute(update(TABLE).where(TABLE.c.id == row_id).values(
            count=TABLE.c.count + add, last_at=last_at or now))

    def reserve(self, req: Reservation):
        now = as_utc(req.now)
        taken = []
        for cap in req.caps:
            row = self._row(cap.scope, cap.day, cap.kind)
            if cap.limit is not None and row.count >= cap.limit:
                return Defer(cap.until, cap.reason)
            taken.append(row.id)
        slot_row = hour_row = None
        not_before = now
        if req.slot is not None:
            slot = req.slot
            slot_row = self._row(slot.scope, SLOT_DAY, SLOT_KIND)
            if slot_row.last_at is not None:
                not_before = max(now, as_utc(slot_row.last_at) + timedelta(seconds=slot.gap_seconds))
            if slot.hourly_limit is not None:
                local = to_local(not_before, slot.tz).replace(minute=0, second=0, microsecond=0)
                hour_row = self._row(slot.scope, local.date(), hour_kind(local))
                if hour_row.count >= slot.hourly_limit:
                    return Defer(_next_hour(local), hourly_reason(local, slot.hourly_limit))
        for row_id in taken:
            self._bump(row_id, now)
        if slot_row is not None:
            self._bump(slot_row.id, now, last_at=not_before)
        if hour_row is not None:
            self._bump(hour_row.id, now, last_at=not_before)
        return Allow(not_before)

    def count(self, scope: str, day: date, kind: str) -> int:
        value = self.session.execute(select(TABLE.c.count).where(
            TABLE.c.scope == scope, TABLE.c.day == day, TABLE.c.kind == kind)).scalar()
        return int(value or 0)


def _next_hour(local_hour: datetime) -> datetime:
    # Add in UTC so a DST change cannot produce a non-existent local time.
    return as_utc(local_hour) + timedelta(hours=1)


# KEYS: the n cap counters, then (optionally) the slot key.
# ARGV: n, ttl, the n limits (-1 = count only), now_ms, gap_ms, hourly_limit (-1 = none),
#       hour key prefix, local offset ms, slot ttl.
_LUA = """
local n = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
for i = 1, n do
  local limit = tonumber(ARGV[2 + i])
  if limit >= 0 then
    local c = tonumber(redis.call('GET', KEYS[i]) or '0')
    if c >= limit then return {'cap', tostring(i)} end
  end
end
local t = -1
local hourkey = false
if #KEYS > n then
  local now = tonumber(ARGV[3 + n])
  local gap = tonumber(ARGV[4 + n])
  local last = redis.call('GET', KEYS[n + 1])
  t = now
  if last then t = math.max(now, tonumber(last) + gap) end
  local hl = tonumber(ARGV[5 + n])
  if hl >= 0 then
    local hour = math.floor((t + tonumber(ARGV[7 + n])) / 3600000)
    hourkey = ARGV[6 + n] .. hour
    local c = tonumber(redis.call('GET', hourkey) or '0')
    if c >= hl then return {'hour', tostring(hour)} end
  end
end
for i = 1, n do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ttl)
end
if #KEYS > n then
  redis.call('SET', KEYS[n + 1], string.format('%.0f', t), 'EX', tonumber(ARGV[8 + n]))
  if hourkey then
    redis.call('INCR', hourkey)
    redis.call('EXPIRE', hourkey, 7200)
  end
end
return {'ok', string.format('%.0f', t)}
"""


class RedisBudgetStore:
    """Counters and slots in Redis, shared by every process that points at the same server."""

    DAY_TTL = 3 * 86400
    SLOT_TTL = 86400

    def __init__(self, client, prefix: str = REDIS_PREFIX):
        self.client = client
        self.prefix = prefix
        self._script = client.register_script(_LUA)

    def key(self, scope: str, day: date, kind: str) -> str:
        return f"{self.prefix}:{scope}:{day.isoformat()}:{kind}"

    def reserve(self, req: Reservation):
        now = as_utc(req.now)
        keys = [self.key(c.scope, c.day, c.kind) for c in req.caps]
        args: list = [len(keys), self.DAY_TTL] + [(-1 if c.limit is None else c.limit) for c in req.caps]
        slot = req.slot
        offset_ms = 0
        if slot is not None:
            keys.append(f"{self.prefix}:{slot.scope}:slot")
            offset_ms = int(to_local(now, slot.tz).utcoffset().total_seconds() * 1000)
            args += [_ms(now), int(slot.gap_seconds * 1000),
                     -1 if slot.hourly_limit is None else slot.hourly_limit,
                     f"{self.prefix}:{slot.scope}:hour:", offset_ms, self.SLOT_TTL]
        status, value = self._script(keys=keys, args=args)
        if status == "cap":
            cap = req.caps[int(value) - 1]
            return Defer(cap.until, cap.reason)
        if status == "hour":
            start = datetime.fromtimestamp(int(value) * 3600 - offset_ms / 1000, UTC)
            local = to_local(start, slot.tz)
            return Defer(start + timedelta(hours=1), hourly_reason(local, slot.hourly_limit))
        held = keys[:len(req.caps)]
        if slot is not None and slot.hourly_limit is not None:
            held.append(f"{self.prefix}:{slot.scope}:hour:{(int(value) + offset_ms) // 3600000}")
        return Allow(datetime.fromtimestamp(int(value) / 1000, UTC), held=tuple(held))

    def count(self, scope: str, day: date, kind: str) -> int:
        return int(self.client.get(self.key(scope, day, kind)) or 0)


def _ms(value: datetime) -> int:
    return int(as_utc(value).timestamp() * 1000)


def redis_for(url: str):
    """One client per Redis URL per process (issue_command is called without the services object);
    short timeout, no retries, a circuit breaker (config.redis_factory)."""
    return shared_redis(url)


# KEYS: counters a reservation took; each goes back down by one (never below zero).
_RELEASE_LUA = """
for i = 1, #KEYS do
  local c = tonumber(redis.call('GET', KEYS[i]) or '0')
  if c > 0 then redis.call('DECR', KEYS[i]) end
end
return #KEYS
"""


def release(decision, settings=None, redis=None) -> None:
    """Gives back the counters of an Allow that was never used (its write transaction failed or
    took another path). The pacing slot stays taken: only a delay, the safe direction."""
    keys = list(getattr(decision, "held", ()) or ())
    if not keys:
        return
    if redis is None and getattr(settings, "redis_url", ""):
        redis = redis_for(settings.redis_url)
    if redis is not None:
        redis.eval(_RELEASE_LUA, len(keys), *keys)


def store_for(session: Session, settings=None, redis=None):
    """Redis when configured, the database otherwise."""
    if redis is None and getattr(settings, "redis_url", ""):
        redis = redis_for(settings.redis_url)
    return RedisBudgetStore(redis) if redis is not None else DbBudgetStore(session)


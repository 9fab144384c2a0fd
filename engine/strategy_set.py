"""The live strategy set: enabled strategies compiled and loaded into the matcher.

It reloads when strategies or event definitions change — at once in the process that made the
edit (`refresh(force=True)`), within a poll interval in other processes (a cheap signature
query) — so edits apply without a restart.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import func, select

from config.services import Services
from engine.matcher import CompiledStrategy
from events.models import EventDefinition
from rules.conditions import parse_conditions
from rules.models import Strategy, StrategyGroup

log = logging.getLogger("ckb.strategies")


@dataclass(frozen=True)
class LiveStrategy:
    id: int
    name: str
    version: int
    event_code: str
    order: tuple
    starts_at: Optional[datetime]
    ends_at: Optional[datetime]
    steps: tuple

    def in_window(self, at: datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= at) and (self.ends_at is None or at <= self.ends_at)


class StrategySet:
    def __init__(self, services: Services, matcher, poll_seconds: float = 2.0):
        self.services = services
        self.matcher = matcher
        self.poll_seconds = poll_seconds
        self._by_id: dict[int, LiveStrategy] = {}
        self._codes: set[str] = set()
        self._signature = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self.broken: dict[int, str] = {}  # strategy id → why it could not be loaded

    def _current_signature(self):
        with self.services.db.read() as s:
            st = s.execute(select(func.count(Strategy.id), func.max(Strategy.updated_at))).one()
            ev = s.execute(select(func.max(EventDefinition.updated_at))).scalar()
            gr = s.execute(select(func.count(StrategyGroup.id), func.sum(StrategyGroup.position))).one()
        return (tuple(st), ev, tuple(gr))

    def refresh(self, force: bool = False) -> bool:
        now = time.monotonic()
        if not force and now - self._checked < self.poll_seconds:
            return False
        self._checked = now
        signature = self._current_signature()
        if not force and signature == self._signature:
            return False
        with self._lock:
            self._load()
            self._signature = signature
        return True

    def _load(self) -> None:
        with self.services.db.read() as s:
            rows = s.execute(
                select(Strategy, StrategyGroup.position, EventDefinition)
                .join(StrategyGroup, StrategyGroup.id == Strategy.group_id)
                .join(EventDefinition, EventDefinition.id == Strategy.event_id)
                .where(Strategy.enabled.is_(True))
                .order_by(StrategyGroup.position, StrategyGroup.id, Strategy.position, Strategy.id)
            ).all()
        by_code: dict[str, list[CompiledStrategy]] = {}
        by_id: dict[int, LiveStrategy] = {}
        broken: dict[int, str] = {}
        for strategy, group_pos, definition in rows:
            if not definition.enabled:
                continue
            order = (group_pos, strategy.group_id, strategy.position, strategy.id)
            try:
                node = parse_conditions(strategy.conditions or [], definition.fields or [])
            except Exception as exc:  # noqa: BLE001 - one broken strategy must not stop the others
                broken[strategy.id] = getattr(exc, "message", str(exc))
                log.error("strategy cannot be compiled", extra={"strategy": strategy.id, "error": broken[strategy.id]})
                continue
            by_code.setdefault(definition.code, []).append(CompiledStrategy(strategy.id, order, node))
            by_id[strategy.id] = LiveStrategy(strategy.id, strategy.name, strategy.version, definition.code, order,
                                              strategy.starts_at, strategy.ends_at, tuple(strategy.steps or []))
        for code in self._codes | set(by_code):
            self.matcher.load(code, by_code.get(code, []))
        self._by_id, self._codes, self.broken = by_id, set(by_code), broken

    def get(self, strategy_id: int) -> Optional[LiveStrategy]:
        return self._by_id.get(strategy_id)

    def has_strategies(self, event_code: str) -> bool:
        return event_code in self._codes

    def match(self, event_code: str, data: dict, now: datetime) -> list[LiveStrategy]:
        if event_code not in self._codes:
            return []
        ids = self.matcher.match(event_code, data, now)
        return [self._by_id[i] for i in ids if i in self._by_id]

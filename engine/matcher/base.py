"""The matcher contract: which enabled strategies of an event type match one event.

`load` replaces the whole set for an event type (called when strategies change); `match` returns
the ids of every matching strategy, in the marketer's order. Implementations are thread-safe.
"""
from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from rules.conditions import Node, compile_predicate
from rules.conditions.predicate import Predicate


@dataclass(frozen=True)
class CompiledStrategy:
    strategy_id: int
    order: tuple        # sort key: (group position, group id, position, id)
    node: Node


class Matcher(ABC):
    backend: str = ""

    @abstractmethod
    def load(self, event_code: str, strategies: list[CompiledStrategy]) -> None:
        """Replace the strategy set of one event type (an empty list removes it)."""

    @abstractmethod
    def match(self, event_code: str, data: dict, now: datetime) -> list[int]:
        """Ids of all strategies whose conditions hold for `data` (typed), in order."""


def in_order(strategies: list[CompiledStrategy]) -> list[CompiledStrategy]:
    # The list position breaks ties so equal order keys keep the caller's order.
    ranked = sorted(enumerate(strategies), key=lambda pair: (pair[1].order, pair[0]))
    return [strategy for _, strategy in ranked]


class PythonMatcher(Matcher):
    """Compiled predicates only: the fallback where durable_rules cannot load, and the oracle."""

    backend = "python"

    def __init__(self):
        self._sets: dict[str, tuple[tuple[int, Predicate], ...]] = {}
        self._lock = threading.Lock()

    def load(self, event_code: str, strategies: list[CompiledStrategy]) -> None:
        compiled = tuple((s.strategy_id, compile_predicate(s.node)) for s in in_order(strategies))
        with self._lock:
            if compiled:
                self._sets[event_code] = compiled
            else:
                self._sets.pop(event_code, None)

    def match(self, event_code: str, data: dict, now: datetime) -> list[int]:
        with self._lock:
            compiled = self._sets.get(event_code, ())
        # Evaluated outside the lock: predicates are pure closures over immutable trees.
        return [strategy_id for strategy_id, predicate in compiled if predicate(data, now)]

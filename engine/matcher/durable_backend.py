"""DurableMatcher: live matching with durable_rules, one ruleset per event type.

How it is used, and why (all measured on durable_rules 2.0.28):
- Events are asserted as FACTS and retracted right after: an event is consumed by the first rule
  that fires, a fact lets every matching rule fire once.
- One fixed sid ("0"): all state is per call anyway, and a ruleset takes at most 1024 sids.
- Our Host subclass starts no timer threads. The stock Host polls every ruleset from two
  background threads; those would race our lock (taking actions we are waiting for) and they
  break with IndexError when a ruleset is removed from the list. We use no timers.
- A reload registers a fresh ruleset name, then deletes the old sid state and frees the old
  ruleset (durable_rules_engine.delete_ruleset) so memory stays flat across reloads.
- Actions only append the strategy id: durable swallows exceptions raised in actions.
- Strategies durable cannot express (NotExpressible) or that would exceed the ruleset budget
  (limits.DurableBudget) keep their Python predicate; so do events whose values durable would
  misread (encode_fact raises NotExpressible). Results are merged in the marketer's order.
- An assert failing in durable (error 303: an event meeting more than 64 sibling tests) is
  answered by the Python predicates and the ruleset is rebuilt, since its state is corrupt.
  After MAX_ERRORS such failures the event type stays on Python until the next load.
"""
from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

import durable_rules_engine
from durable import engine as durable_engine

from engine.matcher.base import CompiledStrategy, Matcher, in_order
from engine.matcher.limits import DurableBudget
from rules.conditions import Always, NotExpressible, compile_predicate, encode_fact, fact_plan, to_durable
from rules.conditions.predicate import Predicate

log = logging.getLogger(__name__)
SID = "0"
MAX_ERRORS = 3


class _QuietHost(durable_engine.Host):
    """A Host without the dispatch/timer threads (see the module docstring)."""

    def _run(self):
        return None


@dataclass
class _EventSet:
    ordered: tuple[tuple[int, Predicate], ...]      # every strategy, in order, with its predicate
    python_only: frozenset[int]                     # matched by predicate even when durable runs
    ruleset: str | None = None                      # durable ruleset name, None when nothing is there
    definition: dict | None = None
    plan: tuple = ()
    errors: int = 0
    hits: list = field(default_factory=list)


class DurableMatcher(Matcher):
    backend = "durable_rules"

    def __init__(self):
        self._host = _QuietHost()
        self._sets: dict[str, _EventSet] = {}
        self._lock = threading.RLock()
        self._names = itertools.count(1)
        self._fact_ids = itertools.count(1)

    # -- loading ---------------------------------------------------------------------------
    def load(self, event_code: str, strategies: list[CompiledStrategy]) -> None:
        ordered = in_order(strategies)
        definition, python_only, nodes = {}, set(), []
        budget = DurableBudget()
        for strategy in ordered:
            rule = None
            if not isinstance(strategy.node, Always):  # Always needs no engine, and would be identical rules
                try:
                    rule = to_durable(strategy.node)
                except NotExpressible as exc:
                    log.info("strategy %s matched in Python: %s", strategy.strategy_id, exc)
            if rule is None or not budget.admit(strategy.node):
                python_only.add(strategy.strategy_id)
                continue
            definition[f"s{strategy.strategy_id}"] = rule
            nodes.append(strategy.node)
        event_set = _EventSet(tuple((s.strategy_id, compile_predicate(s.node)) for s in ordered),
                              frozenset(python_only), definition=definition or None, plan=fact_plan(nodes))
        with self._lock:
            self._register(event_set)
            old = self._sets.pop(event_code, None)
            if ordered:
                self._sets[event_code] = event_set
            if old is not None:
                self._drop(old)

    def _register(self, event_set: _EventSet) -> None:
        if not event_set.definition:
            event_set.ruleset = None
            return
        name = f"ckb_{next(self._names)}"
        rules = {rule_name: {"all": [{"m": condition}], "run": self._collector(event_set.hits, rule_name)}
                 for rule_name, condition in event_set.definition.items()}
        try:
            self._host.register_rulesets({name: rules})
        except Exception:  # noqa: BLE001 - whatever durable refuses, the Python predicates still match
            log.exception("durable_rules refused a ruleset; its strategies are matched in Python")
            event_set.ruleset = None
            return
        event_set.ruleset = name

    @staticmethod
    def _collector(hits: list, rule_name: str):
        strategy_id = int(rule_name[1:])
        return lambda c: hits.append(strategy_id)

    def _drop(self, event_set: _EventSet) -> None:
        name, event_set.ruleset = event_set.ruleset, None
        if name is None:
            return
        ruleset = self._host._ruleset_directory.pop(name)
        self._host._ruleset_list.remove(ruleset)
        try:
            ruleset.delete_state(SID)
        except durable_rules_engine.error:
            pass  # error 309: the sid never saw a fact, so there is no state to free
        durable_rules_engine.delete_ruleset(ruleset._handle)

    # -- matching --------------------------------------------------------------------------
    def match(self, event_code: str, data: dict, now: datetime) -> list[int]:
        with self._lock:
            event_set = self._sets.get(event_code)
            if event_set is None:
                return []
            fired = self._fire(event_set, data, now) if event_set.ruleset else set()
        if fired is None:  # durable could not take this event: every strategy by predicate
            return [sid for sid, predicate in event_set.ordered if predicate(data, now)]
        return [sid for sid, predicate in event_set.ordered
                if sid in fired or (sid in event_set.python_only and predicate(data, now))]

    def _fire(self, event_set: _EventSet, data: dict, now: datetime) -> set[int] | None:
        try:
            fact = encode_fact(data, event_set.plan, now)
        except NotExpressible:
            return None
        fact.update(sid=SID, id=str(next(self._fact_ids)))
        event_set.hits.clear()
        try:
            try:
                self._host.assert_fact(event_set.ruleset, fact)
            except durable_engine.MessageNotHandledException:
                pass
            self._host.retract_fact(event_set.ruleset, fact)
        except Exception:  # noqa: BLE001 - e.g. error 303; the state is unusable now
            log.warning("durable_rules failed on an event; matched in Python and rebuilding", exc_info=True)
            self._recover(event_set)
            return None
        return set(event_set.hits)

    def _recover(self, event_set: _EventSet) -> None:
        self._drop(event_set)
        event_set.errors += 1
        if event_set.errors >= MAX_ERRORS:
            log.warning("durable_rules keeps failing for an event type; using Python until the next load")
            event_set.python_only = frozenset(sid for sid, _ in event_set.ordered)
            return
        self._register(event_set)

    def routes(self, event_code: str) -> dict[int, str]:
        """Which path matches each strategy: "durable_rules" or "python" (diagnostics, tests)."""
        with self._lock:
            event_set = self._sets.get(event_code)
            if event_set is None:
                return {}
            on_python = event_set.python_only if event_set.ruleset else {sid for sid, _ in event_set.ordered}
            return {sid: "python" if sid in on_python else "durable_rules" for sid, _ in event_set.ordered}

    def state_size(self) -> int:
        """Facts and rulesets held (for tests): both must stay bounded across reloads."""
        with self._lock:
            facts = sum(len(self._host.get_facts(s.ruleset, SID)) for s in self._sets.values() if s.ruleset)
            return facts + len(self._host._ruleset_list)

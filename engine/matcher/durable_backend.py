"""DurableMatcher: live matching with durable_rules, one ruleset per event type.

How it is used, and why (all measured on durable_rules 2.0.28):
- Events are asserted as FACTS and retracted right after: an event is consumed by the first rule
  that fires, a fact lets every matching rule fire once.
- One fixed sid ("0"): all state is per call anyway, and a ruleset takes at most 1024 sids.
- We drive the C engine (durable_rules_engine) directly, not durable's Python Host: the Host's
  action machinery, once several rulesets exist, corrupts memory when an old ruleset's state is
  deleted on reload (measured: segfault / "free(): invalid pointer" with two event types and one
  reload). The C calls alone are sound: assert_fact → start_action_for_state →
  complete_and_start_action until empty names every rule that fired; then retract_fact.
  The Host's timer threads are gone with it (they also broke when a ruleset was removed).
- A reload creates a fresh ruleset name, then deletes the old sid state and frees the old
  ruleset (delete_ruleset) so memory stays flat across reloads (without delete_state: +713 KB
  leaked per reload of 50 strategies; with it: flat).
- delete_state is only safe once an action has run on the state: createStateNode leaves
  context.messages/stateFact uninitialised and deleteStateNode frees them when non-NULL
  (valgrind: "conditional jump depends on uninitialised value" in deleteStateNode; in practice a
  segfault whenever a state that never fired is deleted). So every new ruleset gets a probe rule
  (PROBE_RULE) fired once right away: completing its action sets both fields to NULL.
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

import json

import durable_rules_engine

from engine.matcher.base import CompiledStrategy, Matcher, in_order
from engine.matcher.limits import DurableBudget
from rules.conditions import Always, NotExpressible, compile_predicate, encode_fact, fact_plan, to_durable
from rules.conditions.predicate import Predicate

log = logging.getLogger(__name__)
_PROCESS_NAMES = itertools.count(1)  # next() on a count is atomic under the GIL
SID = "0"
MAX_ERRORS = 3
PROBE_RULE = "probe"
PROBE_FACT = json.dumps({"ckb_probe": 1, "sid": SID, "id": "ckb-probe"})


@dataclass
class _EventSet:
    ordered: tuple[tuple[int, Predicate], ...]      # every strategy, in order, with its predicate
    python_only: frozenset[int]                     # matched by predicate even when durable runs
    ruleset: int | None = None                      # durable ruleset handle, None when nothing is there
    definition: dict | None = None
    plan: tuple = ()
    errors: int = 0
    position: dict = field(default_factory=dict)    # strategy id → its place in `ordered`

    def __post_init__(self):
        self.position = {sid: i for i, (sid, _) in enumerate(self.ordered)}

    def in_order(self, fired: set[int], data: dict, now: datetime) -> list[int]:
        """The fired strategies and the Python-only ones whose predicate holds, in the marketer's
        order: sorted by place, so the work follows the matches, not the type's strategy count."""
        hits = set(fired)
        if self.python_only:
            hits.update(sid for sid, predicate in self.ordered if sid in self.python_only and predicate(data, now))
        return sorted(hits, key=self.position.__getitem__)


class DurableMatcher(Matcher):
    backend = "durable_rules"

    def __init__(self):
        self._sets: dict[str, _EventSet] = {}
        self._lock = threading.RLock()
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
        # Names are unique per process, not per matcher: the C engine keeps one global table of
        # rulesets, and two matchers (e.g. two apps in one test process) reusing "ckb_1" segfault.
        name = f"ckb_{next(_PROCESS_NAMES)}"
        rules = {rule_name: {"all": [{"m": condition}]} for rule_name, condition in event_set.definition.items()}
        rules[PROBE_RULE] = {"all": [{"m": {"ckb_probe": 1}}]}
        try:
            handle = durable_rules_engine.create_ruleset(name, json.dumps(rules, ensure_ascii=False))
        except Exception:  # noqa: BLE001 - whatever durable refuses, the Python predicates still match
            log.exception("durable_rules refused a ruleset; its strategies are matched in Python")
            event_set.ruleset = None
            return
        self._assert_and_drain(handle, PROBE_FACT)  # see the module docstring: makes delete_state safe
        event_set.ruleset = handle

    @staticmethod
    def _assert_and_drain(handle: int, text: str) -> set[int]:
        """Asserts a fact, runs every pending action to completion, retracts it; returns fired strategy ids."""
        fired: set[int] = set()
        code, state = durable_rules_engine.assert_fact(handle, text)
        if code == 0:  # 0: actions are pending
            result = durable_rules_engine.start_action_for_state(handle, state)
            messages = result[1] if result else None
            while messages:
                fired.update(int(rule[1:]) for rule in json.loads(messages) if rule != PROBE_RULE)
                messages = durable_rules_engine.complete_and_start_action(handle, state)
        durable_rules_engine.retract_fact(handle, text)
        return fired

    def _drop(self, event_set: _EventSet) -> None:
        handle, event_set.ruleset = event_set.ruleset, None
        if handle is None:
            return
        durable_rules_engine.delete_state(handle, SID)  # primed at creation, so the state exists and is safe
        durable_rules_engine.delete_ruleset(handle)

    # -- matching --------------------------------------------------------------------------
    def match(self, event_code: str, data: dict, now: datetime) -> list[int]:
        with self._lock:
            event_set = self._sets.get(event_code)
            if event_set is None:
                return []
            if event_set.ruleset:
                fired = self._fire(event_set, data, now)
            else:  # nothing in durable, or durable refused the ruleset: its rules fall back to Python
                fired = None if event_set.definition else set()
        if fired is None:  # durable could not take this event: every strategy by predicate
            return [sid for sid, predicate in event_set.ordered if predicate(data, now)]
        return event_set.in_order(fired, data, now)

    def _fire(self, event_set: _EventSet, data: dict, now: datetime) -> set[int] | None:
        try:
            fact = encode_fact(data, event_set.plan, now)
        except NotExpressible:
            return None
        fact.update(sid=SID, id=str(next(self._fact_ids)))
        try:
            fired = self._assert_and_drain(event_set.ruleset, json.dumps(fact, ensure_ascii=False))
        except Exception:  # noqa: BLE001 - e.g. error 303; the state is unusable now
            log.warning("durable_rules failed on an event; matched in Python and rebuilding", exc_info=True)
            self._recover(event_set)
            return None
        return fired

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
            live = [s.ruleset for s in self._sets.values() if s.ruleset]
            facts = sum(len(json.loads(durable_rules_engine.get_facts(h, SID))) for h in live)
            return facts + len(live)

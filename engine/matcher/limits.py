"""Where durable_rules 2.0.28 breaks, and how we stay clear of it.

Measured here (scripts in the issue note; each number is where the failure started):
- 600 equality tests on one field in one ruleset: create_ruleset never returns (300 was fine;
  DESIGN quotes ~511);
- 256 rules with the identical condition: error 108 / crash (255 was fine);
- a fact meeting more than 64 sibling tests (e.g. 65 rules "amount > k" all true, or 40+40 on two
  fields): assert fails with error 303 and the session state is corrupt until deleted;
- a rule whose only test is "$nex" loops forever (we avoid it: every rule also tests a marker);
- a fact with more than 254 properties: error 302 (facts carry only the tested fields);
- reloading 400 times: RSS flat (+2.8 MB) only when each sid's state is deleted before the
  ruleset; +680 KB per reload otherwise.

Two kinds of protection:
- `check_limits` refuses, at save time, strategies no engine should take (messages in Chinese);
- `durable_budget` decides at load time which strategies go to durable_rules and which are
  matched by their Python predicate instead, keeping each ruleset well below the numbers above.
  Error 303 depends on the event, so the matcher also catches it per event (see durable_backend).
"""
from __future__ import annotations

import json
from collections import Counter

from rules.conditions import And, Comparison, Node, Or, comparisons

# Refused at save time.
MAX_ROWS = 50                   # rows in one strategy
MAX_LIST_VALUES = 100           # values in one 属于/不属于 row (600 hangs durable; 300 passed)
MAX_TESTS_PER_FIELD = 100       # tests one strategy makes on one field
MAX_EVENT_FIELDS = 250          # durable refuses facts with more than 254 properties
# Applied per ruleset at load time (beyond them a strategy is matched in Python).
RULESET_TESTS_PER_FIELD = 250   # half of the ~511 that hangs create_ruleset
RULESET_IDENTICAL_TESTS = 200   # 256 identical conditions crash
RULESET_MAX_RULES = 500


def _tests(leaf: Comparison) -> int:
    """How many durable tests a row becomes (a list row is one test per value)."""
    if leaf.op in ("in", "not_in"):
        return len(leaf.value)
    if leaf.op in ("between", "within_days"):
        return 2
    return 1


def _signature(leaf: Comparison) -> str:
    return json.dumps([leaf.field, leaf.op, leaf.value], default=str, ensure_ascii=False)


def _repeated(node: Node) -> list[str]:
    """Identical rows joined to each other by the same 并且/或者 say nothing new; they are refused
    (durable crashes on many identical conditions). The same row in different brackets, as in
    (A 并且 B) 或者 (A 并且 C), is legitimate and allowed."""
    problems: list[str] = []
    if isinstance(node, (And, Or)):
        first_row: dict[str, int] = {}
        for item in node.items:
            if isinstance(item, Comparison):
                signature = _signature(item)
                if signature in first_row:
                    problems.append(f"第 {item.row} 行与第 {first_row[signature]} 行的条件完全相同，请删除重复的条件")
                first_row.setdefault(signature, item.row)
            else:
                problems += _repeated(item)
    return problems


def check_limits(node: Node, fields: list[dict] | None = None) -> list[str]:
    """Reasons (Chinese, for the marketer) why this strategy must not be saved; [] means fine."""
    problems: list[str] = []
    leaves = list(comparisons(node))
    if fields is not None and len(fields) > MAX_EVENT_FIELDS:
        problems.append(f"该事件有 {len(fields)} 个字段，超过上限 {MAX_EVENT_FIELDS} 个，请精简事件字段后再配置策略")
    if len(leaves) > MAX_ROWS:
        problems.append(f"条件共 {len(leaves)} 行，最多 {MAX_ROWS} 行，请拆分为多个策略")
    problems += _repeated(node)
    per_field: Counter = Counter()
    for leaf in leaves:
        if leaf.op in ("in", "not_in") and len(leaf.value) > MAX_LIST_VALUES:
            problems.append(f"第 {leaf.row} 行：「{leaf.label}」的值列表有 {len(leaf.value)} 个值，最多 {MAX_LIST_VALUES} 个")
        per_field[(leaf.field, leaf.label)] += _tests(leaf)
    for (_, label), count in per_field.items():
        if count > MAX_TESTS_PER_FIELD:
            problems.append(f"对字段「{label}」的判断太多（{count} 项，最多 {MAX_TESTS_PER_FIELD} 项），请合并或拆分条件")
    return problems


class DurableBudget:
    """Counts what a ruleset already holds; `admit` says whether one more strategy fits."""

    def __init__(self):
        self.rules = 0
        self.per_field: Counter = Counter()
        self.identical: Counter = Counter()

    def admit(self, node: Node) -> bool:
        leaves = list(comparisons(node))
        per_field = Counter()
        for leaf in leaves:
            per_field[leaf.field] += _tests(leaf)
        signatures = Counter(_signature(leaf) for leaf in leaves)
        if self.rules + 1 > RULESET_MAX_RULES:
            return False
        if any(self.per_field[f] + n > RULESET_TESTS_PER_FIELD for f, n in per_field.items()):
            return False
        if any(self.identical[s] + n > RULESET_IDENTICAL_TESTS for s, n in signatures.items()):
            return False
        self.rules += 1
        self.per_field.update(per_field)
        self.identical.update(signatures)
        return True

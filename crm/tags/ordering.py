"""Which auto tag runs first. A rule that says 包含标签「高净值」 must see tonight's 高净值, so
tags whose rules depend on other auto tags (包含标签 / 不包含标签) run after them. A rule that
depends on itself, directly or through other rules, is refused when saved; should one slip in
(e.g. two rules edited at once), the nightly run skips the tags on the loop and says so.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select
from sqlmodel import Session

from crm.tags.models import Tag


def rule_dependencies(rule: dict | None) -> set[int]:
    rule = rule or {}
    out = set()
    for key in ("include_tags", "exclude_tags"):
        for value in rule.get(key) or []:
            if isinstance(value, int) and not isinstance(value, bool):
                out.add(value)
    for other in rule.get("alternatives") or []:  # rules 2… of the tag (crm.tags.multirule)
        out |= rule_dependencies(other) if isinstance(other, dict) else set()
    return out


def run_order(tags: Iterable[Tag]) -> tuple[list[Tag], list[Tag]]:
    """(tags in a safe order, tags on a dependency loop). Only dependencies inside `tags` order
    the run; a dependency outside it is read as it stands. Ties keep id order (stable)."""
    tags = sorted(tags, key=lambda t: t.id)
    by_id = {t.id: t for t in tags}
    deps = {t.id: rule_dependencies(t.rule) & by_id.keys() for t in tags}
    ordered: list[Tag] = []
    done: set[int] = set()
    progressed = True
    while progressed:
        progressed = False
        for tag in tags:
            if tag.id not in done and deps[tag.id] <= done:
                ordered.append(tag)
                done.add(tag.id)
                progressed = True
    return ordered, [t for t in tags if t.id not in done]


def find_cycle(session: Session, tag_id: int, rule: dict) -> list[int] | None:
    """The loop (tag ids, starting and ending at `tag_id`) that saving `rule` on `tag_id` would
    create among auto tags' rules, or None."""
    graph = {tid: rule_dependencies(r) for tid, r in
             session.execute(select(Tag.id, Tag.rule).where(Tag.kind == "auto")).all()}
    graph[tag_id] = rule_dependencies(rule)
    path: list[int] = []
    seen: set[int] = set()

    def visit(node: int) -> bool:
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt == tag_id:
                path.append(nxt)
                return True
            if nxt not in seen:
                seen.add(nxt)
                if visit(nxt):
                    return True
        path.pop()
        return False

    return path if visit(tag_id) else None

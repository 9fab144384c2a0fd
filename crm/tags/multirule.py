"""Several rules per auto tag (seed 001 标签规则 list: 添加规则 … on one tag): a customer gets the tag
when they match ANY of its rules. Rule 1 is the tag's `rule` (自定义条件 or 自定义SQL, edited as
before); rules 2… live in `rule["alternatives"]` and are 自定义条件 rules (condition rows +
包含/不包含标签) — a second custom SQL would need a second read-only connection per tag per
night, and one SQL rule can already say OR itself. Each is validated like rule 1, and the
dependencies of all of them together must not loop back to the tag.

Functions take the caller's Session and never commit.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from crm.customers import audience
from crm.errors import CrmError, NotFound
from crm.tags.models import Tag
from crm.tags.ordering import find_cycle, rule_dependencies
from crm.tags.service import get_tag, normalise_spec

MAX_RULES = 10
KEY = "alternatives"


def all_rules(tag: Tag) -> list[dict]:
    """Rule 1 then the others, each normalised (an unconfigured rule 1 is left out)."""
    rule = tag.rule or {}
    first = [normalise_spec(rule)] if (rule.get("rows") or rule.get("sql") or rule.get("include_tags")
                                       or rule.get("exclude_tags")) else []
    return first + [normalise_spec(r) for r in rule.get(KEY) or []]


def alternatives(tag: Tag) -> list[dict]:
    return [normalise_spec(r) for r in (tag.rule or {}).get(KEY) or []]


def _auto(session: Session, tag_id: int, viewer_id) -> Tag:
    tag = get_tag(session, tag_id, viewer_id)
    if tag.kind != "auto":
        raise CrmError("只能为自动标签配置规则", {"kind": "手动标签与个人标签由人工标记，没有规则"})
    return tag


def save_alternative(session: Session, tag_id: int, index: int, spec: dict, viewer_id, tz: str | None = None) -> Tag:
    """Saves rule `index + 2` (index == how many there are: a new one)."""
    tag = _auto(session, tag_id, viewer_id)
    alts = alternatives(tag)
    if not (tag.rule or {}).get("mode"):
        raise CrmError("请先配置规则 1", {"__all__": "请先保存规则 1，再添加更多规则"})
    if index < 0 or index > len(alts):
        raise NotFound("规则不存在")
    if index == len(alts) and len(alts) + 1 >= MAX_RULES:
        raise CrmError(f"一个标签最多 {MAX_RULES} 条规则", {"__all__": f"一个标签最多 {MAX_RULES} 条规则"})
    spec = normalise_spec(spec)
    if spec["mode"] != "conditions":
        raise CrmError("附加规则只能使用自定义条件", {"mode": "规则 2 起只能选择「自定义条件」；需要 SQL 时请写在规则 1 中"})
    audience.validate_spec(session, spec, tz)
    for other in rule_dependencies(spec):
        get_tag(session, other, viewer_id)  # another's personal tag is "not found"
    if tag.id in rule_dependencies(spec):
        field = "include_tags" if tag.id in spec["include_tags"] else "exclude_tags"
        raise CrmError("规则不能依赖标签自身", {field: f"规则不能包含或排除标签「{tag.name}」自身"})
    alts = alts[:index] + [spec] + alts[index + 1:]
    combined = {**(tag.rule or {}), KEY: alts}
    cycle = find_cycle(session, tag.id, combined)
    if cycle:
        names = dict(session.execute(select(Tag.id, Tag.name).where(Tag.id.in_(cycle))).all())
        loop = " → ".join(f"「{names.get(i, i)}」" for i in cycle)
        raise CrmError("规则不能依赖标签自身", {"include_tags": f"规则形成循环：{loop}"})
    tag.rule = combined  # a new dict: the JSON column sees the change
    session.add(tag)
    session.flush()
    return tag


def delete_alternative(session: Session, tag_id: int, index: int, viewer_id) -> Tag:
    tag = _auto(session, tag_id, viewer_id)
    alts = alternatives(tag)
    if index < 0 or index >= len(alts):
        raise NotFound("规则不存在")
    tag.rule = {**(tag.rule or {}), KEY: alts[:index] + alts[index + 1:]}
    session.add(tag)
    session.flush()
    return tag

"""自动打标签: a scene's tag rules (晓售 condition rows over the lead's fields — keywords with
包含, numeric ranges, source and channel) give the lead tags; the linked customer gets the same
tags, recorded in 标签历史 like any strategy's. Re-running after an update only adds."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import bindparam
from sqlmodel import Session, select

from crm.leads import rule_cache
from crm.leads.logs import write_log
from crm.leads.models import Lead, LeadScene, LeadTag
from crm.tags.apply import apply_tags
from crm.tags.models import Tag
from events.field_types import typed


# Built once: constructing a statement costs more than SQLite takes to run it.
_ENABLED_TAGS = select(Tag).where(Tag.id.in_(bindparam("ids", expanding=True)), Tag.enabled == True)  # noqa: E712
_LEAD_TAGS = select(LeadTag.tag_id).where(LeadTag.lead_id == bindparam("lead_id"))
# session.info keys a batch of leads sets (crm.leads.batch): tags by id, and its leads' tag ids.
TAG_CACHE, KNOWN_LEAD_TAGS = "ckb_lead_tag_cache", "ckb_known_lead_tags"


def matching_rules(scene: LeadScene, facts: dict, now: datetime, tz: str) -> list[dict]:
    rules = scene.tagging_rules or []
    compiled = rule_cache.compiled(scene, "tagging", rules, tz)  # rows read in the configured zone, like assignment rules
    values = typed(compiled.fields, facts, tz)
    out = []
    for index, rule in enumerate(rules):
        rows = rule.get("rows") or []
        if not rows or compiled.predicate(index)(values, now):
            out.append(rule)
    return out


def _enabled_tags(session: Session, wanted: list[int]) -> dict:
    if not wanted:
        return {}
    cache = session.info.get(TAG_CACHE)  # a batch of leads (crm.leads.batch) reads each tag once
    if cache is None:
        return {t.id: t for t in session.scalars(_ENABLED_TAGS, {"ids": wanted})}
    missing = [t for t in wanted if t not in cache]
    if missing:
        found = {t.id: t for t in session.scalars(_ENABLED_TAGS, {"ids": missing})}
        cache.update({t: found.get(t) for t in missing})
    return {t: cache[t] for t in wanted if cache[t] is not None}


def lead_tags(session: Session, lead_ids: list[int]) -> dict[int, list[int]]:
    """{lead id: its tag ids} of several leads in one query."""
    out: dict[int, list[int]] = {i: [] for i in lead_ids}
    for lead_id, tag_id in session.execute(select(LeadTag.lead_id, LeadTag.tag_id).where(LeadTag.lead_id.in_(lead_ids))):
        out[lead_id].append(tag_id)
    return out


def tag_lead(session: Session, lead: Lead, scene: LeadScene, facts: dict, now: datetime, tz: str,
            batch_of: Optional[int] = None) -> list[str]:
    """Adds the tags of every matching rule; returns the names of tags newly given to the lead.
    `batch_of`: the lead whose batch (crm.leads.batch) does this one; kept in the log line."""
    rules = matching_rules(scene, facts, now, tz)
    wanted: list[int] = []
    for rule in rules:
        wanted += [t for t in rule.get("tags") or [] if t not in wanted]
    tags = _enabled_tags(session, wanted)
    known = session.info.get(KNOWN_LEAD_TAGS) or {}  # a batch read its leads' tags in one query
    have = set(known.pop(lead.id)) if lead.id in known else set(session.scalars(_LEAD_TAGS, {"lead_id": lead.id}))
    new = [tid for tid in wanted if tid in tags and tid not in have]
    for tid in new:
        session.add(LeadTag(lead_id=lead.id, tag_id=tid, created_at=now))
    lead.tag_ids = sorted(have | set(new))
    lead.updated_at = now
    session.add(lead)
    given = [tags[t].name for t in new]
    if lead.customer_id is not None and tags:
        apply_tags(session, [lead.customer_id], list(tags), source="strategy", now=now, tz=tz)
    names = "、".join(r.get("name", "") for r in rules)
    message = (f"命中规则「{names}」，添加标签：{'、'.join(given)}" if given else
               f"命中规则「{names}」，标签均已存在" if rules else "没有命中的打标签规则")
    write_log(session, lead.id, "tagged", message, detail={"rules": [r.get("name") for r in rules], "added": given,
                                                         **({"batch": batch_of} if batch_of is not None else {})})
    return given

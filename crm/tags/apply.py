"""打标签 / 移除标签 for a set of customers: by a user (手动), an import, a strategy processor
or the nightly auto-tag pass. Set-based: the customer ids go into a scratch table once, then
each ticked tag is one INSERT … SELECT (or DELETE … WHERE) plus its history rows, so tagging
100,000 customers costs a handful of statements, not 100,000.

Rules a marketer relies on:
- an auto tag is applied only by its rule (「自动标签不能手动标记」);
- a personal tag is used only by its owner — for everyone else it does not exist;
- a disabled tag cannot be applied;
- validity: a tag with 有效期 N 自然日 applied today is removed at 00:00 (configured zone) N days
  later — 1 自然日 means it goes at the next midnight, as 晓售 documents;
- every add/remove is a 标签历史 row, and Customer.tag_score stays the sum of enabled tags;
- each touched customer gets at most one crm.tag_added / crm.tag_removed event per call; above
  EVENT_LIMIT customers no events are emitted (logged), so bulk work stays set-based.

Functions take a Session inside the caller's unit of work (`services.db.write()`). Pass
`now=services.now()` and `tz=settings.timezone` where a clock is at hand.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, delete, exists, insert, literal, select, update
from sqlmodel import Session

from config.clock import from_local, to_local, utcnow
from crm import events_out
from crm.customers.models import Customer
from crm.errors import CrmError, NotFound
from crm.tags import scores
from crm.tags.models import CustomerTag, Tag, TagCategory, TagHistory
from crm.tags.scratch import clear, count, fill_ids, fill_select, scratch
from events import ordering

log = logging.getLogger("ckb.tags")

EVENT_LIMIT = 1000
DEFAULT_TZ: str | None = None  # the configured zone (config.clock.zone)
SOURCES = ("manual", "auto", "strategy", "import", "expiry")
HISTORY_COLUMNS = ["customer_id", "tag_id", "tag_name", "action", "source", "operator_id", "created_at"]
VERSION_KIND = "customer_tag"  # events.ordering: (customer, tag) → when its add/remove happened


def expiry_for(now: datetime, validity_days: int | None, tz: str = DEFAULT_TZ) -> datetime | None:
    """00:00 (local) `validity_days` days after the local day of `now`; None = forever."""
    if not validity_days:
        return None
    day = to_local(now, tz).date() + timedelta(days=validity_days)
    return from_local(datetime(day.year, day.month, day.day), tz)


def _tags(session: Session, tag_ids, operator_id: int | None, source: str, removing: bool) -> list[Tag]:
    if source not in SOURCES:
        raise CrmError(f"未知的标签来源「{source}」")
    wanted = sorted({int(t) for t in tag_ids or []})
    tags = list(session.scalars(select(Tag).where(Tag.id.in_(wanted)))) if wanted else []
    found = {t.id: t for t in tags}
    for tag_id in wanted:
        tag = found.get(tag_id)
        if tag is None or (tag.kind == "personal" and tag.owner_id != operator_id):
            raise NotFound("标签不存在", {"tag_ids": f"标签 {tag_id} 不存在"})
        if session.get(TagCategory, tag.category_id).object_type != "customer":  # 商品/公司 tags: crm.tags.objects
            raise CrmError(f"标签「{tag.name}」不适用于客户", {"tag_ids": f"「{tag.name}」是商品或公司的标签"})
        if tag.kind == "auto" and source != "auto":
            verb = "移除" if removing else "标记"
            raise CrmError(f"自动标签不能手动{verb}", {"tag_ids": f"「{tag.name}」是自动标签，由标签规则{verb}"})
        if not tag.enabled and not removing:
            raise CrmError(f"标签「{tag.name}」已禁用", {"tag_ids": f"「{tag.name}」已禁用，启用后才能使用"})
    return [found[t] for t in wanted]


def history_rows(session: Session, ids_tbl, tag: Tag, action: str, source: str, operator_id, now) -> None:
    """标签历史 rows for every customer id in a scratch table, in one INSERT … SELECT."""
    session.execute(insert(TagHistory).from_select(HISTORY_COLUMNS, select(
        ids_tbl.c.customer_id, literal(tag.id), literal(tag.name), literal(action), literal(source),
        literal(operator_id), literal(now))))


def _ids(customer_ids) -> list[int]:
    return sorted({int(c) for c in customer_ids or []})


def _link_exists(customer_col, tag_id: int):
    return exists().where(CustomerTag.customer_id == customer_col, CustomerTag.tag_id == tag_id)


def emit_changes(session: Session, code: str, changes: dict[int, list[Tag]], source: str, operator_id, tz: str) -> None:
    """One event per customer listing the tags that changed; nothing above EVENT_LIMIT customers."""
    if not changes:
        return
    if len(changes) > EVENT_LIMIT:
        log.info("tag change touched %d customers (> %d): %s events not emitted", len(changes), EVENT_LIMIT, code)
        return
    for customer_id, tags in sorted(changes.items()):
        events_out.emit(session, code, {
            "customer_id": customer_id, "tag_ids": [t.id for t in tags], "tag_names": [t.name for t in tags],
            "tag_name": "、".join(t.name for t in tags), "source": source, "operator_id": operator_id}, tz)


def collect_changes(session: Session, tbl, tag: Tag, changes: dict[int, list[Tag]], wanted: bool) -> None:
    """Remembers (customer → tags) from a scratch table when events will be emitted."""
    if wanted:
        for customer_id in session.execute(select(tbl.c.customer_id)).scalars():
            changes.setdefault(customer_id, []).append(tag)


def claim_tags(session: Session, customer_id: int, tags: list[Tag], occurred_at: datetime,
               record_id: int | None = None) -> tuple[list[Tag], dict[int, datetime]]:
    """For a change an event made at `occurred_at`: the tags it may still set, and {tag id: time
    of the later change} for those a later add/remove already decided (skip those)."""
    fresh, later = [], {}
    for tag in tags:
        held = ordering.claim(session, VERSION_KIND, customer_id, tag.id, occurred_at, record_id=record_id)
        if held is None:
            fresh.append(tag)
        else:
            later[tag.id] = held
    return fresh, later


def _stamp(session: Session, ids_select, tag: Tag, source: str, when: datetime) -> None:
    """Marks the (customer, tag) pairs as changed at `when`, so an event that happened earlier and
    arrives late cannot undo this change. Auto tags only change by their rule, never by events."""
    if source != "auto":
        ordering.stamp_select(session, VERSION_KIND, ids_select, when, attribute=tag.id)


_ONE_CUSTOMER = select(Customer.id).where(Customer.id == bindparam("customer_id"))
_HELD = select(CustomerTag.tag_id).where(CustomerTag.customer_id == bindparam("customer_id"),
                                         CustomerTag.tag_id.in_(bindparam("tag_ids", expanding=True)))


def _apply_one(session: Session, customer_id: int, tags: list[Tag], operator_id: int | None, source: str,
               now: datetime, tz: str, occurred_at: datetime) -> int:
    """`apply_tags` for one customer (a lead, a strategy step, one detail page): the same rows,
    scores and events, without the scratch tables (creating three temp tables costs more than
    the work for one customer)."""
    if session.scalar(_ONE_CUSTOMER, {"customer_id": customer_id}) is None:
        return 0
    if source != "auto":
        for tag in tags:
            ordering.claim(session, VERSION_KIND, customer_id, tag.id, occurred_at)
    held = set(session.scalars(_HELD, {"customer_id": customer_id, "tag_ids": [t.id for t in tags]}))
    new = [t for t in tags if t.id not in held]
    expires = {t.id: expiry_for(now, t.validity_days, tz) for t in tags}
    if new:
        session.execute(insert(TagHistory.__table__), [
            {"customer_id": customer_id, "tag_id": t.id, "tag_name": t.name, "action": "add", "source": source,
             "operator_id": operator_id, "created_at": now} for t in new])
        session.execute(insert(CustomerTag.__table__), [
            {"customer_id": customer_id, "tag_id": t.id, "source": source, "added_by": operator_id, "added_at": now,
             "expires_at": expires[t.id]} for t in new])
    for tag in tags:  # re-applying a tag with a validity restarts it
        if tag.id in held and expires[tag.id] is not None:
            session.execute(update(CustomerTag).where(
                CustomerTag.tag_id == tag.id, CustomerTag.customer_id == customer_id,
                CustomerTag.expires_at.is_not(None), CustomerTag.expires_at < expires[tag.id])
                .values(expires_at=expires[tag.id]).execution_options(synchronize_session=False))
    if new:
        scores.recompute(session, select(Customer.id.label("customer_id")).where(Customer.id == customer_id)
                         .subquery())
        emit_changes(session, "crm.tag_added", {customer_id: new}, source, operator_id, tz)
    return len(new)


def apply_tags(session: Session, customer_ids, tag_ids, operator_id: int | None = None, source: str = "manual",
               *, now: datetime | None = None, tz: str = DEFAULT_TZ, occurred_at: datetime | None = None) -> int:
    """Adds the tags to the customers that do not have them yet; returns how many links were
    added. Re-applying a tag with a validity restarts its validity from today. `occurred_at` is
    when the change happened (an event's time; default now): see `claim_tags`."""
    tags, ids = _tags(session, tag_ids, operator_id, source, removing=False), _ids(customer_ids)
    if not tags or not ids:
        return 0
    now = now or utcnow()
    if len(ids) == 1:
        return _apply_one(session, ids[0], tags, operator_id, source, now, tz, occurred_at or now)
    small, changes, added = len(ids) <= EVENT_LIMIT, {}, 0
    with scratch(session, "tmp_tags_given") as given, scratch(session, "tmp_tags_new") as new, \
            scratch(session, "tmp_tags_touched") as touched:
        fill_ids(session, given, ids)
        for tag in tags:  # a few ticked tags; the customers are never looped over
            clear(session, new)
            fill_select(session, new, select(given.c.customer_id)
                        .where(given.c.customer_id.in_(select(Customer.id)),
                               ~_link_exists(given.c.customer_id, tag.id)))
            expires = expiry_for(now, tag.validity_days, tz)
            _stamp(session, select(given.c.customer_id), tag, source, occurred_at or now)
            history_rows(session, new, tag, "add", source, operator_id, now)
            session.execute(insert(CustomerTag).from_select(
                ["customer_id", "tag_id", "source", "added_by", "added_at", "expires_at"],
                select(new.c.customer_id, literal(tag.id), literal(source), literal(operator_id), literal(now),
                       literal(expires, CustomerTag.__table__.c.expires_at.type))))
            if expires is not None:
                session.execute(update(CustomerTag).where(
                    CustomerTag.tag_id == tag.id, CustomerTag.customer_id.in_(select(given.c.customer_id)),
                    CustomerTag.expires_at.is_not(None), CustomerTag.expires_at < expires)
                    .values(expires_at=expires).execution_options(synchronize_session=False))
            added += count(session, new)
            collect_changes(session, new, tag, changes, small)
            fill_select(session, touched, select(new.c.customer_id), ignore_duplicates=True)
        scores.recompute(session, touched)
    emit_changes(session, "crm.tag_added", changes, source, operator_id, tz)
    if not small and added:
        log.info("apply_tags: %d customers, %d links added; crm.tag_added not emitted (> %d)", len(ids), added,
                 EVENT_LIMIT)
    return added


def remove_tags(session: Session, customer_ids, tag_ids, operator_id: int | None = None, source: str = "manual",
                *, now: datetime | None = None, tz: str = DEFAULT_TZ, occurred_at: datetime | None = None) -> int:
    """Removes the tags from the customers that have them; returns how many links were removed.
    `occurred_at` is when the change happened (default now), as for `apply_tags`."""
    tags, ids = _tags(session, tag_ids, operator_id, source, removing=True), _ids(customer_ids)
    if not tags or not ids:
        return 0
    now, small, changes, removed = now or utcnow(), len(ids) <= EVENT_LIMIT, {}, 0
    with scratch(session, "tmp_tags_given") as given, scratch(session, "tmp_tags_gone") as gone, \
            scratch(session, "tmp_tags_touched") as touched:
        fill_ids(session, given, ids)
        for tag in tags:
            clear(session, gone)
            fill_select(session, gone, select(CustomerTag.customer_id).where(
                CustomerTag.tag_id == tag.id, CustomerTag.customer_id.in_(select(given.c.customer_id))))
            _stamp(session, select(given.c.customer_id), tag, source, occurred_at or now)
            history_rows(session, gone, tag, "remove", source, operator_id, now)
            session.execute(delete(CustomerTag).where(
                and_(CustomerTag.tag_id == tag.id, CustomerTag.customer_id.in_(select(gone.c.customer_id))))
                .execution_options(synchronize_session=False))
            removed += count(session, gone)
            collect_changes(session, gone, tag, changes, small)
            fill_select(session, touched, select(gone.c.customer_id), ignore_duplicates=True)
        scores.recompute(session, touched)
    emit_changes(session, "crm.tag_removed", changes, source, operator_id, tz)
    if not small and removed:
        log.info("remove_tags: %d customers, %d links removed; crm.tag_removed not emitted (> %d)", len(ids),
                 removed, EVENT_LIMIT)
    return removed

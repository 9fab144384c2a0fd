"""自动打标签: every enabled auto tag's rule is evaluated against all customers and the links
follow — customers who now match get the tag (source 自动), auto links of customers who no
longer match are removed — and 有效期 cleanup at 00:00 (`expire_tags`).

Everything is set-based SQL: the matching set goes into a scratch table (one
INSERT … SELECT from the rule's compiled conditions, or the sandbox's ids for 自定义SQL), and
the differences become INSERT … SELECT / DELETE … WHERE statements with their 标签历史 rows
inserted the same way. A second run over unchanged data only reads.

Functions take the Database: each tag is its own unit of work, so one broken rule never undoes
the others, and a 自定义SQL rule (read on its own connection) sees the tags run before it.
Rules that depend on other auto tags (包含标签 / 不包含标签) run after them.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Optional

from sqlalchemy import delete, exists, func, insert, literal, select, text

from config.clock import utcnow
from config.db import Database
from crm.customers.audience import audience_ids, audience_select
from crm.errors import CrmError
from crm.tags import scores
from crm.tags.apply import (DEFAULT_TZ, EVENT_LIMIT, HISTORY_COLUMNS, collect_changes, emit_changes, expiry_for,
                            history_rows)
from crm.tags.models import CustomerTag, Tag, TagHistory
from crm.tags.ordering import run_order
from crm.tags.scratch import clear, count, fill_ids, fill_select, scratch

log = logging.getLogger("ckb.tags")

Progress = Callable[[int, int], None]


@dataclass
class TagRun:
    tag_id: int
    name: str
    matched: int = 0
    added: int = 0
    removed: int = 0
    seconds: float = 0.0
    error: str = ""


@dataclass
class RunReport:
    runs: list[TagRun] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # names of tags on a dependency loop
    seconds: float = 0.0

    @property
    def added(self) -> int:
        return sum(r.added for r in self.runs)

    @property
    def removed(self) -> int:
        return sum(r.removed for r in self.runs)

    @property
    def failed(self) -> list[TagRun]:
        return [r for r in self.runs if r.error]

    def summary(self) -> str:
        text_ = (f"自动打标签：运行 {len(self.runs)} 个标签，新增 {self.added} 条、移除 {self.removed} 条，"
                 f"用时 {self.seconds:.1f} 秒")
        if self.failed:
            text_ += "；失败：" + "；".join(f"「{r.name}」{r.error}" for r in self.failed)
        if self.skipped:
            text_ += "；规则循环依赖未运行：" + "、".join(f"「{n}」" for n in self.skipped)
        return text_


def _error_text(exc: CrmError) -> str:
    details = [str(v) for v in (exc.errors or {}).values()]
    return exc.message + ("（" + "；".join(details) + "）" if details else "")


def _load(db: Database, tag_ids: Optional[list[int]]) -> list[Tag]:
    with db.read() as session:
        stmt = select(Tag).where(Tag.kind == "auto", Tag.enabled.is_(True))
        if tag_ids is not None:
            stmt = stmt.where(Tag.id.in_(list(tag_ids)))
        return list(session.scalars(stmt))


def run_tag(db: Database, tag_id: int, *, now: datetime | None = None, tz: str = DEFAULT_TZ) -> TagRun:
    """Brings one auto tag's links in line with its rule. CrmError when the rule is broken."""
    now = now or utcnow()
    started = time.perf_counter()
    with db.read() as session:
        tag = session.get(Tag, tag_id)
    if tag is None or tag.kind != "auto" or not tag.enabled:
        raise CrmError("标签不存在、不是自动标签或已禁用")
    run = TagRun(tag.id, tag.name)
    spec = tag.rule or {}
    if not spec or (spec.get("mode", "conditions") == "conditions" and not spec.get("rows")
                    and not spec.get("include_tags") and not spec.get("exclude_tags")):
        raise CrmError("标签还没有配置规则")
    sql_ids = audience_ids(db, spec, now, tz) if spec.get("mode") == "sql" else None
    with db.write() as session:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("PRAGMA temp_store=MEMORY"))
        with scratch(session, "tmp_autotag_match") as match, scratch(session, "tmp_autotag_delta") as delta:
            if sql_ids is None:
                fill_select(session, match, audience_select(session, spec, now, tz))
            else:
                fill_ids(session, match, sql_ids)
            run.matched = count(session, match)
            changes: dict[int, list[Tag]] = {}
            # Newly matching customers: history, links (source 自动), score.
            fill_select(session, delta, select(match.c.customer_id).where(~exists().where(
                CustomerTag.customer_id == match.c.customer_id, CustomerTag.tag_id == tag.id)))
            run.added = count(session, delta)
            if run.added:
                history_rows(session, delta, tag, "add", "auto", None, now)
                session.execute(insert(CustomerTag).from_select(
                    ["customer_id", "tag_id", "source", "added_by", "added_at", "expires_at"],
                    select(delta.c.customer_id, literal(tag.id), literal("auto"), literal(None), literal(now),
                           literal(expiry_for(now, tag.validity_days, tz), CustomerTag.__table__.c.expires_at.type))))
                scores.shift(session, tag.score, delta)
                collect_changes(session, delta, tag, changes, run.added <= EVENT_LIMIT)
            # Auto links of customers who no longer match (manual/imported links are left alone).
            clear(session, delta)
            fill_select(session, delta, select(CustomerTag.customer_id).where(
                CustomerTag.tag_id == tag.id, CustomerTag.source == "auto",
                CustomerTag.customer_id.not_in(select(match.c.customer_id))))
            run.removed = count(session, delta)
            if run.removed:
                history_rows(session, delta, tag, "remove", "auto", None, now)
                session.execute(delete(CustomerTag).where(
                    CustomerTag.tag_id == tag.id, CustomerTag.customer_id.in_(select(delta.c.customer_id)))
                    .execution_options(synchronize_session=False))
                scores.shift(session, -tag.score, delta)
            small = run.added + run.removed <= EVENT_LIMIT
            if small and run.removed:
                removed: dict[int, list[Tag]] = {}
                collect_changes(session, delta, tag, removed, True)
                emit_changes(session, "crm.tag_removed", removed, "auto", None, tz)
            if small:
                emit_changes(session, "crm.tag_added", changes, "auto", None, tz)
            elif run.added or run.removed:
                log.info("auto tag %s: +%d −%d customers; events not emitted (> %d)", tag.id, run.added,
                         run.removed, EVENT_LIMIT)
        session.execute(Tag.__table__.update().where(Tag.id == tag.id)
                        .values(last_run_at=now, last_run_count=run.matched))
    run.seconds = time.perf_counter() - started
    return run


def run_auto_tags(db: Database, tag_ids: Optional[list[int]] = None, *, now: datetime | None = None,
                  tz: str = DEFAULT_TZ, progress: Optional[Progress] = None) -> RunReport:
    """Runs the chosen (or all enabled) auto tags in dependency order; a broken rule is reported
    and the others still run."""
    started = time.perf_counter()
    now = now or utcnow()
    ordered, looped = run_order(_load(db, tag_ids))
    report = RunReport(skipped=[t.name for t in looped])
    for index, tag in enumerate(ordered):
        try:
            report.runs.append(run_tag(db, tag.id, now=now, tz=tz))
        except CrmError as exc:
            report.runs.append(TagRun(tag.id, tag.name, error=_error_text(exc)))
        if progress is not None:
            progress(index + 1, len(ordered))
    report.seconds = time.perf_counter() - started
    log.info("auto-tag run: %s", report.summary())
    return report


def expire_tags(db: Database, now: datetime | None = None, tz: str = DEFAULT_TZ) -> int:
    """有效期到期: removes every link whose expiry has passed (history source 过期); returns how
    many links were removed."""
    now = now or utcnow()
    due = (CustomerTag.expires_at.is_not(None)) & (CustomerTag.expires_at <= now)
    with db.write() as session:
        with scratch(session, "tmp_expired", ("customer_id", "tag_id")) as gone, \
                scratch(session, "tmp_expired_customers") as touched:
            fill_select(session, gone, select(CustomerTag.customer_id, CustomerTag.tag_id).where(due),
                        ("customer_id", "tag_id"))
            removed = int(session.execute(select(func.count()).select_from(gone)).scalar() or 0)
            if not removed:
                return 0
            session.execute(insert(TagHistory).from_select(HISTORY_COLUMNS, select(
                gone.c.customer_id, gone.c.tag_id, Tag.name, literal("remove"), literal("expiry"), literal(None),
                literal(now)).select_from(gone.join(Tag, Tag.id == gone.c.tag_id))))
            session.execute(delete(CustomerTag).where(due).execution_options(synchronize_session=False))
            fill_select(session, touched, select(gone.c.customer_id).distinct())
            scores.recompute(session, touched)
            if count(session, touched) <= EVENT_LIMIT:
                names = dict(session.execute(select(Tag.id, Tag).where(
                    Tag.id.in_(select(gone.c.tag_id)))).all())
                changes: dict[int, list[Tag]] = {}
                for customer_id, tag_id in session.execute(select(gone.c.customer_id, gone.c.tag_id)).all():
                    changes.setdefault(customer_id, []).append(names[tag_id])
                emit_changes(session, "crm.tag_removed", changes, "expiry", None, tz)
            else:
                log.info("tag expiry removed %d links; crm.tag_removed not emitted (> %d customers)", removed,
                         EVENT_LIMIT)
    return removed

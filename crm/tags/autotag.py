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

from sqlalchemy import delete, exists, func, insert, literal, or_, select

from sqlmodel import Session

from config.clock import utcnow
from config.db import Database
from crm.customers.audience import audience_ids, audience_select
from crm.errors import CrmError
from crm.tags import scores
from crm.tags.apply import (DEFAULT_TZ, EVENT_LIMIT, collect_changes, emit_changes, expiry_for,
                            history_rows)
from crm.tags.models import CustomerTag, Tag, TagHistory
from crm.tags.ordering import run_order
from crm.tags.scratch import clear, count, fill_ids, fill_select, scratch
from rules.conditions import ConditionError, NotExpressible

log = logging.getLogger("ckb.tags")

Progress = Callable[[int, int], None]
# A write transaction spans several rules until this long: committing per rule rewrote the
# link indexes' pages once per rule (measured: commits were a third of the pass), while one
# transaction for the whole pass would hold SQLite's write lock from ingestion for too long.
BATCH_SECONDS = 2.0


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


def _error_text(exc) -> str:
    message = getattr(exc, "message", None) or str(exc)
    details = [str(v) for v in (getattr(exc, "errors", None) or {}).values()]
    return message + ("（" + "；".join(details) + "）" if details else "")


def _load(db: Database, tag_ids: Optional[list[int]]) -> list[Tag]:
    with db.read() as session:
        stmt = select(Tag).where(Tag.kind == "auto", Tag.enabled.is_(True))
        if tag_ids is not None:
            stmt = stmt.where(Tag.id.in_(list(tag_ids)))
        return list(session.scalars(stmt))


def _has_rule(spec: dict) -> bool:
    if spec.get("mode") == "sql":
        return bool(str(spec.get("sql") or "").strip())
    return bool(spec.get("rows") or spec.get("include_tags") or spec.get("exclude_tags"))


def _is_sql(tag: Tag) -> bool:
    return (tag.rule or {}).get("mode") == "sql"


def _apply_rule(session: Session, tag: Tag, sql_ids: Optional[list[int]], now: datetime, tz: str) -> TagRun:
    """Brings one auto tag's links in line with its rule inside the caller's transaction
    (scores follow in `_finish`). CrmError when the rule is broken."""
    started = time.perf_counter()
    run = TagRun(tag.id, tag.name)
    spec = tag.rule or {}
    if not _has_rule(spec):
        raise CrmError("标签还没有配置规则")
    with scratch(session, "tmp_autotag_match") as match, scratch(session, "tmp_autotag_delta") as delta:
        if sql_ids is None:
            fill_select(session, match, audience_select(session, spec, now, tz))
        else:
            fill_ids(session, match, sql_ids)
        for other in spec.get("alternatives") or []:  # rules 2…: any rule matching gives the tag
            found = audience_select(session, other, now, tz).subquery()
            fill_select(session, match, select(found.c.id).where(~exists().where(match.c.customer_id == found.c.id)))
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
    run.seconds = time.perf_counter() - started
    return run


def _previous_run(db: Database) -> Optional[datetime]:
    with db.read() as session:
        return session.scalar(select(func.max(Tag.last_run_at)).where(Tag.kind == "auto"))


def _finish(db: Database, runs: list[TagRun], since: Optional[datetime], now: datetime) -> None:
    """One pass over the customers whose tags changed since the last completed run: exact
    tag_score, then each tag's last run. Deferred to here because re-scoring per tag would
    rewrite most customer rows once per rule; and because last_run_at is written only now, a
    run that dies half-way is re-scored by the next one (its history rows are newer than
    every last_run_at)."""
    with db.write() as session:
        with scratch(session, "tmp_autotag_touched") as touched:
            changed = select(TagHistory.customer_id).where(TagHistory.created_at <= now).distinct()
            if since is not None:  # this run's rows carry `now` exactly, even when a test clock stands still
                changed = changed.where(or_(TagHistory.created_at > since, TagHistory.created_at == now))
            fill_select(session, touched, changed)
            scores.recompute(session, touched)
        for run in runs:
            if not run.error:
                session.execute(Tag.__table__.update().where(Tag.id == run.tag_id)
                                .values(last_run_at=now, last_run_count=run.matched))


def run_tag(db: Database, tag_id: int, *, now: datetime | None = None, tz: str = DEFAULT_TZ) -> TagRun:
    """Runs one auto tag now (its dependencies are read as they stand)."""
    report = run_auto_tags(db, [tag_id], now=now, tz=tz)
    if not report.runs:
        raise CrmError("标签不存在、不是自动标签或已禁用")
    if report.runs[0].error:
        raise CrmError(report.runs[0].error)
    return report.runs[0]


def _run_batch(db: Database, ordered: list[Tag], start: int, report: RunReport, now: datetime, tz: str,
               progress: Optional[Progress]) -> int:
    """Runs tags from `start` in one write transaction until BATCH_SECONDS pass or a 自定义SQL
    rule comes next (it reads committed data on its own connection); returns the next index.
    Each tag has a savepoint, so a broken rule rolls back alone."""
    index, first = start, ordered[start]
    sql_ids = None
    if _is_sql(first):
        try:
            sql_ids = audience_ids(db, first.rule, now, tz)
        except CrmError as exc:
            report.runs.append(TagRun(first.id, first.name, error=_error_text(exc)))
            if progress is not None:
                progress(len(report.runs), len(ordered))
            return start + 1
    batch_started = time.perf_counter()
    with db.write() as session:
        while index < len(ordered):
            tag = ordered[index]
            if index > start and (_is_sql(tag) or time.perf_counter() - batch_started > BATCH_SECONDS):
                break
            savepoint = session.begin_nested()
            try:
                run = _apply_rule(session, tag, sql_ids if index == start else None, now, tz)
                savepoint.commit()
            except (CrmError, ConditionError, NotExpressible) as exc:
                savepoint.rollback()
                run = TagRun(tag.id, tag.name, error=_error_text(exc))
            report.runs.append(run)
            index += 1
    if progress is not None:  # after the commit: a job's progress is a write of its own
        progress(len(report.runs), len(ordered))
    return index


def run_auto_tags(db: Database, tag_ids: Optional[list[int]] = None, *, now: datetime | None = None,
                  tz: str = DEFAULT_TZ, progress: Optional[Progress] = None) -> RunReport:
    """Runs the chosen (or all enabled) auto tags in dependency order; a broken rule is reported
    and the others still run."""
    started = time.perf_counter()
    now = now or utcnow()
    ordered, looped = run_order(_load(db, tag_ids))
    report = RunReport(skipped=[t.name for t in looped])
    since = _previous_run(db)
    index = 0
    while index < len(ordered):
        index = _run_batch(db, ordered, index, report, now, tz, progress)
    _finish(db, report.runs, since, now)
    report.seconds = time.perf_counter() - started
    log.info("auto-tag run: %s", report.summary())
    return report


from crm.tags.expiry import expire_tags  # noqa: E402,F401 - part of this module's public API

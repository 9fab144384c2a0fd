"""标签过期清理 at 00:00: a tag applied with 有效期 N 自然日 is removed when its expiry passes,
with a 标签历史 row (source 过期) per link, exact tag_score for the customers who lost it, and a
crm.tag_removed event per customer when few are affected. Takes the Database (its own unit of work).
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, func, insert, literal, select

from config.clock import utcnow
from config.db import Database
from crm.tags import scores
from crm.tags.apply import DEFAULT_TZ, EVENT_LIMIT, HISTORY_COLUMNS, VERSION_KIND, emit_changes
from crm.tags.models import CustomerTag, Tag, TagHistory
from crm.tags.scratch import count, fill_select, scratch
from events import ordering

log = logging.getLogger("ckb.tags")


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
            # An add that happened before midnight and arrives late must not bring the tag back.
            ordering.stamp_select(session, VERSION_KIND, select(gone.c.customer_id, gone.c.tag_id), now)
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

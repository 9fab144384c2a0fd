"""标签 top10: the ten tags carried by the most of the customers the viewer may see (personal tags
of other people left out), each a door to the customer list filtered by that tag, drawn as a bar
chart. A 业务员's count starts from their own customers (owner index); 查看全部客户 counts every
active customer's links through the (tag_id, customer_id) index."""
from __future__ import annotations

import json

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from analytics.panels import register
from analytics.panels.base import Door, Panel, PanelContext, bar_option
from crm.customers.models import Customer
from crm.scope import customers as customer_scope
from crm.tags.models import CustomerTag, Tag

TOP = 10


def tag_door(tag_id: int) -> Door:
    return Door("customers.index", {"adv": json.dumps({"include_tags": [tag_id]})})


@register
class TagTop(Panel):
    key = "tag_top"
    title = "标签 top10"
    permission = "tags.view"
    description = "我可见的客户中人数最多的 10 个标签"

    def data(self, session: Session, ctx: PanelContext) -> dict:
        # Count links of the visible customers first (customer_tag's primary key starts with
        # customer_id), then name the few tags found: the join never fans out over tag rows.
        visible = select(Customer.id).where(Customer.status == "active", customer_scope(ctx.viewer))
        counts = dict(session.exec(select(CustomerTag.tag_id, func.count()).where(
            col(CustomerTag.customer_id).in_(visible)).group_by(CustomerTag.tag_id)).all())
        tags = session.exec(select(Tag.id, Tag.name).where(
            col(Tag.id).in_(list(counts)), Tag.enabled.is_(True),
            or_(col(Tag.owner_id).is_(None), Tag.owner_id == ctx.user_id))).all() if counts else []
        top = sorted(((int(counts[tid]), tid, name) for tid, name in tags), key=lambda r: (-r[0], r[1]))[:TOP]
        return {"rows": [{"tag_id": tid, "name": name, "count": n, "door": tag_door(tid)} for n, tid, name in top]}

    def chart(self, data: dict, link) -> dict | None:
        if not data["rows"]:
            return None
        return bar_option([(r["name"], r["count"], link(r["door"])) for r in data["rows"]], "客户数")

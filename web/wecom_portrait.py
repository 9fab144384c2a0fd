"""The sidebar's customer portrait (seed 003 PR02: 等级、消费、KOC标签 in ≤ 2 s) assembled in one call.

The customer is found by a WeChat wxid or a WeCom external_userid in ONE statement: three index
probes (wecom_contact.external_userid, customer.wechat_id, wechat_friend.wxid) under UNION ALL,
LIMIT 1, inside the object scope of the viewer. The rest are indexed reads by customer id (tags,
the five latest orders, the five latest follow-ups). It lives in web/ because it joins commerce
(orders) and integrations (contacts), which may not import each other.

等级 is the customer field with key `level` (数据结构定义; an operator defines it, e.g. an enum
普通/银卡/金卡); KOC is a tag whose name contains "KOC"."""
from __future__ import annotations

from sqlalchemy import literal, union_all
from sqlmodel import Session, col, select

from commerce.orders.models import ORDER_STATES, SalesOrder
from crm import scope
from crm.customers.models import Customer
from crm.errors import NotFound
from crm.people.models import User
from crm.sales.models import FollowUp
from crm.tags.models import CustomerTag, Tag, TagCategory
from devices.models import Friend
from integrations.wecom.models import WecomContact

RECENT = 5


def resolve(session: Session, wx_id: str, viewer) -> tuple[Customer, str]:
    probes = union_all(
        select(WecomContact.customer_id.label("cid"), literal("external_userid").label("how")).where(
            WecomContact.external_userid == wx_id, col(WecomContact.customer_id).is_not(None)),
        select(Customer.id.label("cid"), literal("wechat_id").label("how")).where(Customer.wechat_id == wx_id),
        select(Friend.customer_id.label("cid"), literal("wxid").label("how")).where(
            Friend.wxid == wx_id, col(Friend.customer_id).is_not(None)),
    ).subquery()
    row = session.exec(select(Customer, probes.c.how).join(probes, probes.c.cid == Customer.id)
                       .where(scope.customers(viewer)).limit(1)).first()
    if row is None:
        raise NotFound("未找到该微信/企业微信联系人对应的客户（或无权查看）")
    return row[0], row[1]


def _iso(value):
    return value.isoformat() if value else None


def portrait(session: Session, wx_id: str, viewer) -> dict:
    customer, how = resolve(session, wx_id, viewer)
    tags = session.exec(select(Tag.id, Tag.name, TagCategory.name).join(CustomerTag, CustomerTag.tag_id == Tag.id)
                        .join(TagCategory, TagCategory.id == Tag.category_id)
                        .where(CustomerTag.customer_id == customer.id).order_by(Tag.name)).all()
    owner = session.get(User, customer.owner_id) if customer.owner_id else None
    orders = session.exec(select(SalesOrder).where(SalesOrder.customer_id == customer.id)
                          .order_by(col(SalesOrder.created_at).desc()).limit(RECENT)).all()
    follows = session.exec(select(FollowUp, User.display_name).join(User, User.id == FollowUp.user_id, isouter=True)
                           .where(FollowUp.customer_id == customer.id)
                           .order_by(col(FollowUp.followed_at).desc()).limit(RECENT)).all()
    contact = session.exec(select(WecomContact).where(WecomContact.customer_id == customer.id,
                                                      WecomContact.deleted_at == None)).first()  # noqa: E711
    attrs = customer.attrs or {}
    return {
        "matched_by": how,
        "customer": {"id": customer.id, "name": customer.name, "mobile": customer.mobile, "city": customer.city,
                     "source": customer.source, "created_at": _iso(customer.created_at)},
        "level": attrs.get("level"),
        "spend": {"total_fen": customer.total_spent_fen, "order_count": customer.order_count,
                  "first_order_at": _iso(customer.first_order_at), "last_order_at": _iso(customer.last_order_at)},
        "koc": any("KOC" in name.upper() for _, name, _ in tags),
        "tags": [{"id": i, "name": n, "category": c} for i, n, c in tags],
        "owner": {"id": owner.id, "name": owner.display_name or owner.username} if owner else None,
        "recent_orders": [{"order_no": o.order_no, "status": o.status, "status_label": ORDER_STATES.get(o.status, o.status),
                           "total_fen": o.total_fen, "created_at": _iso(o.created_at)} for o in orders],
        "follow_ups": [{"at": _iso(f.followed_at), "user": name or "", "way": f.way, "content": f.content[:200]}
                       for f, name in follows],
        "wecom": {"external_userid": contact.external_userid,
                  "followers": [f["userid"] for f in contact.follow_users]} if contact else None,
    }

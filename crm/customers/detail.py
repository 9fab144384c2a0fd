"""客户详情: everything the detail page shows about one customer — basic info (built-in and
custom fields), tags, contact info, groups and who follows the customer there, follow-up records,
the growth record (newest first), attachments and the configured extra tabs."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import or_, select
from sqlmodel import Session

from crm.customers import attrs as attr_values
from crm.customers.attachments import list_attachments
from crm.customers.fields import enum_items_by_field, list_fields
from crm.customers.growth import growth_of
from crm.customers.models import Company, Customer
from crm.customers.service import get_customer
from crm.customers.tabs import list_tabs
from crm.groups.models import CustomerGroup, GroupLink
from crm.people.models import User
from crm.sales.models import FollowUp
from crm.scope import Viewer
from crm.tags.models import CustomerTag, Tag

WAY_LABELS = {"phone": "电话", "wechat": "微信", "visit": "拜访", "sms": "短信", "email": "邮件", "other": "其他"}
STATUS_LABELS = {"following": "跟进中", "intent": "有意向", "deal": "已成交", "invalid": "无效"}


def _user_names(session: Session, ids) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u.display_name or u.username for u in session.scalars(select(User).where(User.id.in_(ids)))}


def custom_values(session: Session, customer: Customer) -> list[dict]:
    items = enum_items_by_field(session)
    return [{"key": f.key, "label": f.label, "type": f.type, "value": (customer.attrs or {}).get(f.key),
             "display": attr_values.display(f, (customer.attrs or {}).get(f.key), items.get(f.key))}
            for f in list_fields(session)]


def customer_tags(session: Session, customer_id: int, viewer_id: Optional[int]) -> list[dict]:
    """The customer's tags; personal tags only when they belong to the viewer."""
    rows = session.execute(
        select(CustomerTag, Tag).join(Tag, Tag.id == CustomerTag.tag_id)
        .where(CustomerTag.customer_id == customer_id, or_(Tag.kind != "personal", Tag.owner_id == viewer_id))
        .order_by(Tag.name))
    return [{"id": t.id, "name": t.name, "kind": t.kind, "score": t.score, "source": ct.source,
             "added_at": ct.added_at, "expires_at": ct.expires_at} for ct, t in rows]


def group_links(session: Session, customer_id: int) -> list[dict]:
    rows = session.execute(select(GroupLink, CustomerGroup).join(CustomerGroup, CustomerGroup.id == GroupLink.group_id)
                           .where(GroupLink.customer_id == customer_id).order_by(GroupLink.grouped_at))
    rows = list(rows)
    names = _user_names(session, [link.assignee_id for link, _ in rows])
    return [{"group_id": g.id, "group": g.name, "assignee_id": link.assignee_id,
             "assignee": names.get(link.assignee_id, ""), "grouped_at": link.grouped_at,
             "assigned_at": link.assigned_at, "last_followed_at": link.last_followed_at} for link, g in rows]


def follow_ups(session: Session, customer_id: int, limit: int = 100) -> list[dict]:
    rows = list(session.scalars(select(FollowUp).where(FollowUp.customer_id == customer_id)
                                .order_by(FollowUp.followed_at.desc()).limit(limit)))
    names = _user_names(session, [r.user_id for r in rows])
    return [{"followed_at": r.followed_at, "way": WAY_LABELS.get(r.way, r.way), "content": r.content,
             "status": STATUS_LABELS.get(r.status, r.status), "maturity": r.maturity,
             "next_follow_on": r.next_follow_on, "user": names.get(r.user_id, "")} for r in rows]


def customer_detail(session: Session, customer_id: int, viewer: Viewer) -> dict:
    customer = get_customer(session, customer_id, viewer)
    viewer_id = viewer.user_id
    growth = growth_of(session, customer_id)
    names = _user_names(session, [customer.owner_id] + [g.operator_id for g in growth])
    company = session.get(Company, customer.company_id) if customer.company_id else None
    inviter = session.get(Customer, customer.invited_by_id) if customer.invited_by_id else None
    return {
        "customer": customer,
        "company": company,
        "owner": names.get(customer.owner_id, ""),
        "inviter": inviter,
        "custom": custom_values(session, customer),
        "tags": customer_tags(session, customer_id, viewer_id),
        "groups": group_links(session, customer_id),
        "follow_ups": follow_ups(session, customer_id),
        "growth": [{"created_at": g.created_at, "kind": g.kind, "summary": g.summary,
                    "operator": names.get(g.operator_id, "系统" if g.operator_id is None else "")} for g in growth],
        "attachments": list_attachments(session, customer_id),
        "tabs": list_tabs(session, enabled_only=True),
    }

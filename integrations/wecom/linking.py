"""Which customer an external contact is. The rules, in order (the first that answers wins):

1. already linked: the contact's customer still exists → keep it;
2. unionid: another WeCom contact (any corp) with the same unionid is linked → that customer
   (the same person across corps / our 公众号 binding by unionid);
3. mobile: a phone in a follower's 备注手机号 (remark_mobiles) matches exactly one customer
   (blind index, sealed phones are never compared in clear);
4. name: exactly one active customer has the contact's name AND is owned by the user mapped to
   one of the contact's followers (a bare name match across owners is too ambiguous to trust);
5. otherwise a new customer (source 企业微信) owned by the user mapped to the first follower.
"""
from __future__ import annotations

from typing import Optional

from sqlmodel import Session, col, select

from config.pii_column import blind_index
from crm.customers.models import Customer
from crm.customers.service import create_customer
from integrations.wecom.models import WecomContact, WecomMember


def member_users(session: Session, corp_pk: int, userids) -> dict[str, int]:
    """WeCom userid → our user id, for the mapped members among `userids`."""
    rows = session.exec(select(WecomMember.userid, WecomMember.user_id).where(
        WecomMember.corp_pk == corp_pk, col(WecomMember.userid).in_(list(userids)),
        col(WecomMember.user_id).is_not(None))).all()
    return {u: uid for u, uid in rows}


def _one(ids) -> Optional[int]:
    ids = list(ids)
    return ids[0] if len(ids) == 1 else None


def find_customer(session: Session, contact: WecomContact, owners: list[int]) -> tuple[Optional[int], str]:
    if contact.customer_id and session.get(Customer, contact.customer_id) is not None:
        return contact.customer_id, contact.linked_by or "existing"
    if contact.unionid:
        found = session.exec(select(WecomContact.customer_id).where(
            WecomContact.unionid == contact.unionid, col(WecomContact.customer_id).is_not(None),
            WecomContact.id != (contact.id or 0))).first()
        if found:
            return found, "unionid"
    for follow in contact.follow_users:
        for mobile in follow.get("remark_mobiles") or []:
            bidx = blind_index("mobile", str(mobile))
            if bidx:
                hit = _one(session.exec(select(Customer.id).where(Customer.mobile_bidx == bidx).limit(2)).all())
                if hit:
                    return hit, "mobile"
    if contact.name and owners:
        hit = _one(session.exec(select(Customer.id).where(
            Customer.name == contact.name, Customer.status == "active",
            col(Customer.owner_id).in_(owners)).limit(2)).all())
        if hit:
            return hit, "name"
    return None, ""


def link_customer(session: Session, contact: WecomContact) -> bool:
    """Sets contact.customer_id (creating the customer if no rule finds one); True when created."""
    followers = sorted(contact.follow_users, key=lambda f: f.get("createtime") or 0)
    users = member_users(session, contact.corp_pk, [f["userid"] for f in followers])
    owners = [users[f["userid"]] for f in followers if f["userid"] in users]
    customer_id, how = find_customer(session, contact, owners)
    created = customer_id is None
    if created:
        customer = create_customer(session, {"name": (contact.name or contact.external_userid)[:100],
                                             "source": "企业微信", "owner_id": owners[0] if owners else None},
                                   source_note="企业微信同步")
        customer_id, how = customer.id, "created"
    contact.customer_id, contact.linked_by = customer_id, how
    return created


LINKED_BY_LABELS = {"existing": "已关联", "unionid": "UnionID 相同", "mobile": "备注手机号", "name": "姓名 + 负责人",
                    "created": "自动新建客户"}


def contacts_of(session: Session, customer_id: int) -> list[WecomContact]:
    """The WeCom contacts linked to a customer (the detail page's 企业微信 section)."""
    return list(session.exec(select(WecomContact).where(WecomContact.customer_id == customer_id)
                             .order_by(WecomContact.id)).all())

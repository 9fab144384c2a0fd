"""Marking and unmarking KOCs and linking them to the groups they lead. A customer KOC also gets
the CRM tag 「KOC」 (category 社群), so the customer's portrait and tag filters show it."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Optional

from sqlmodel import Session, delete, select

from community.errors import CommunityError, CommunityNotFound
from community.koc.models import Koc, KocGroup
from crm.customers.models import Customer
from crm.people.models import User
from crm.tags.apply import apply_tags, remove_tags
from crm.tags.models import Tag, TagCategory
from devices.models import ChatGroup, Friend, WechatAccount

TAG_NAME = "KOC"
TAG_CATEGORY = "社群"


def koc_tag(session: Session) -> Tag:
    tag = session.exec(select(Tag).where(Tag.name == TAG_NAME, Tag.owner_id.is_(None))).first()
    if tag is not None:
        return tag
    category = session.exec(select(TagCategory).where(TagCategory.name == TAG_CATEGORY,
                                                      TagCategory.parent_id.is_(None))).first()
    if category is None:
        category = TagCategory(name=TAG_CATEGORY, object_type="customer")
        session.add(category)
        session.flush()
    tag = Tag(category_id=category.id, name=TAG_NAME, kind="manual")
    session.add(tag)
    session.flush()
    return tag


def _wxid_of_customer(session: Session, customer_id: int) -> str:
    friend = session.exec(select(Friend).where(Friend.customer_id == customer_id, Friend.deleted_at.is_(None))
                          .order_by(Friend.id)).first()
    return friend.wxid if friend else ""


def _wxid_of_user(session: Session, user_id: int) -> str:
    account = session.exec(select(WechatAccount).where(WechatAccount.owner_user_id == user_id)
                           .order_by(WechatAccount.id)).first()
    return account.wxid if account else ""


def mark(session: Session, *, customer_id: Optional[int] = None, user_id: Optional[int] = None, wxid: str = "",
         operator_id: Optional[int] = None, now: datetime, tz: str) -> Koc:
    """Marks a customer or a staff member KOC (again active if they were unmarked)."""
    if bool(customer_id) == bool(user_id):
        raise CommunityError("请选择一位客户或一位员工", {"who": "请选择一位客户或一位员工"})
    if customer_id:
        person = session.get(Customer, customer_id)
        if person is None:
            raise CommunityError("客户不存在", {"customer_id": "客户不存在"})
        name, found = person.name, session.exec(select(Koc).where(Koc.customer_id == customer_id)).first()
        default_wxid = _wxid_of_customer(session, customer_id)
    else:
        person = session.get(User, user_id)
        if person is None:
            raise CommunityError("员工不存在", {"user_id": "员工不存在"})
        name, found = person.display_name or person.username, session.exec(select(Koc).where(Koc.user_id == user_id)).first()
        default_wxid = _wxid_of_user(session, user_id)
    koc = found or Koc(customer_id=customer_id, user_id=user_id, name=name[:100], created_by=operator_id,
                       created_at=now, link_nonce=secrets.token_hex(8))
    koc.active, koc.name = True, name[:100] or koc.name
    koc.wxid = (wxid or "").strip()[:64] or koc.wxid or default_wxid
    session.add(koc)
    session.flush()
    if customer_id:
        apply_tags(session, [customer_id], [koc_tag(session).id], operator_id, source="manual", now=now, tz=tz)
    return koc


def unmark(session: Session, koc_id: int, operator_id: Optional[int], now: datetime, tz: str) -> Koc:
    koc = get(session, koc_id)
    koc.active = False
    koc.link_nonce = secrets.token_hex(8)  # the old H5 link stops working
    session.add(koc)
    session.exec(delete(KocGroup).where(KocGroup.koc_id == koc_id))
    if koc.customer_id:
        remove_tags(session, [koc.customer_id], [koc_tag(session).id], operator_id, source="manual", now=now, tz=tz)
    return koc


def get(session: Session, koc_id: int) -> Koc:
    koc = session.get(Koc, koc_id)
    if koc is None:
        raise CommunityNotFound("KOC 不存在")
    return koc


def set_groups(session: Session, koc_id: int, group_ids: list[int], now: datetime) -> list[int]:
    """The groups this KOC leads; a group led by another KOC is refused by name."""
    koc = get(session, koc_id)
    if not koc.active:
        raise CommunityError("该 KOC 已取消，不能关联群", {"group_ids": "该 KOC 已取消"})
    ids = sorted({int(g) for g in group_ids})
    groups = {g.id: g for g in session.exec(select(ChatGroup).where(ChatGroup.id.in_(ids)))} if ids else {}
    missing = [g for g in ids if g not in groups]
    if missing:
        raise CommunityError("群不存在", {"group_ids": f"群不存在：{missing}"})
    taken = session.exec(select(KocGroup.group_id, Koc.name).join(Koc, Koc.id == KocGroup.koc_id).where(
        KocGroup.group_id.in_(ids), KocGroup.koc_id != koc_id)).all() if ids else []
    if taken:
        names = "、".join(f"「{groups[g].name}」已由 {n} 带领" for g, n in taken)
        raise CommunityError(names, {"group_ids": names})
    session.exec(delete(KocGroup).where(KocGroup.koc_id == koc_id))
    for g in ids:
        session.add(KocGroup(koc_id=koc_id, group_id=g, created_at=now))
    session.flush()
    return ids


def group_ids(session: Session, koc_id: int) -> list[int]:
    return list(session.exec(select(KocGroup.group_id).where(KocGroup.koc_id == koc_id).order_by(KocGroup.group_id)))


def listing(session: Session) -> list[dict]:
    kocs = session.exec(select(Koc).order_by(Koc.active.desc(), Koc.id)).all()
    links = session.exec(select(KocGroup.koc_id, ChatGroup).join(ChatGroup, ChatGroup.id == KocGroup.group_id)).all()
    by_koc: dict[int, list[ChatGroup]] = {}
    for koc_id, group in links:
        by_koc.setdefault(koc_id, []).append(group)
    return [{"koc": k, "groups": by_koc.get(k.id, [])} for k in kocs]

"""好友 ↔ 客户: a WeChat friend is the same person as a CRM customer when the phone number the
device reported matches the customer's mobile, or the friend's wxid matches the customer's
微信号. Linking lets strategies and salespeople see, from either side, who is who."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import and_, bindparam, column, func, select, table, update
from sqlmodel import Session

from config.pii_column import blind_index
from crm.customers.models import Customer

# The engine may not import devices (tests/test_layout.py): the friend table by name, only the
# columns used here (devices.models.Friend is the definition).
Friend = table("wechat_friend", column("id"), column("wxid"), column("mobile"), column("customer_id"),
               column("deleted_at")).c
FRIEND_TABLE = Friend.id.table
CHUNK = 500


def link_friends_to_customers(session: Session, friend_ids: Optional[list[int]] = None) -> int:
    """Fills Friend.customer_id for friends not linked yet (a link made once is kept); the oldest
    matching customer wins, a phone match before a wxid match. Customer phones are sealed, so the
    phone match goes through their blind index (computed here for the friends' numbers, chunk by
    chunk); the wxid match is one set-based UPDATE. Returns the number of friends linked."""
    scope = [Friend.deleted_at.is_(None), Friend.customer_id.is_(None)]
    if friend_ids is not None:  # 好友详情's 自动匹配: this friend only
        scope.append(Friend.id.in_(friend_ids))
    linked = _link_by_mobile(session, scope)
    by_wxid = (select(Customer.id).where(Customer.wechat_id == Friend.wxid).order_by(Customer.id).limit(1)
               .scalar_subquery())
    result = session.execute(update(FRIEND_TABLE).where(and_(*scope, Friend.wxid != "", by_wxid.is_not(None)))
                             .values(customer_id=by_wxid).execution_options(synchronize_session=False))
    return linked + (result.rowcount or 0)


def _link_by_mobile(session: Session, scope: list) -> int:
    friends: dict[str, list[int]] = {}
    for friend_id, mobile in session.execute(select(Friend.id, Friend.mobile).where(*scope, Friend.mobile != "")):
        index = blind_index("mobile", mobile)
        if index:
            friends.setdefault(index, []).append(friend_id)
    indexes, links = list(friends), []
    for start in range(0, len(indexes), CHUNK):
        oldest = (select(Customer.mobile_bidx, func.min(Customer.id)).where(Customer.mobile_bidx.in_(
            indexes[start:start + CHUNK])).group_by(Customer.mobile_bidx))
        links += [{"fid": fid, "cid": cid} for index, cid in session.execute(oldest) for fid in friends[index]]
    if links:
        session.execute(update(FRIEND_TABLE).where(Friend.id == bindparam("fid")).values(customer_id=bindparam("cid"))
                        .execution_options(synchronize_session=False), links)
    return len(links)

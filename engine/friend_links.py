"""好友 ↔ 客户: a WeChat friend is the same person as a CRM customer when the phone number the
device reported matches the customer's mobile, or the friend's wxid matches the customer's
微信号. Linking lets strategies and salespeople see, from either side, who is who."""
from __future__ import annotations

from sqlalchemy import and_, column, select, table, update
from sqlmodel import Session

from crm.customers.models import Customer

# The engine may not import devices (tests/test_layout.py): the friend table by name, only the
# columns used here (devices.models.Friend is the definition).
Friend = table("wechat_friend", column("id"), column("wxid"), column("mobile"), column("customer_id"),
               column("deleted_at")).c
FRIEND_TABLE = Friend.id.table


def link_friends_to_customers(session: Session) -> int:
    """Fills Friend.customer_id for friends not linked yet (a link made once is kept); the oldest
    matching customer wins, a phone match before a wxid match. Two set-based UPDATEs, so it stays
    cheap on large friend lists. Returns the number of friends linked."""
    scope = [Friend.deleted_at.is_(None), Friend.customer_id.is_(None)]
    by_mobile = (select(Customer.id).where(Customer.mobile == Friend.mobile).order_by(Customer.id).limit(1)
                 .scalar_subquery())
    by_wxid = (select(Customer.id).where(Customer.wechat_id == Friend.wxid).order_by(Customer.id).limit(1)
               .scalar_subquery())
    linked = 0
    for has_key, match in ((Friend.mobile != "", by_mobile), (Friend.wxid != "", by_wxid)):
        result = session.execute(update(FRIEND_TABLE).where(and_(*scope, has_key, match.is_not(None)))
                                 .values(customer_id=match).execution_options(synchronize_session=False))
        linked += result.rowcount or 0
    return linked

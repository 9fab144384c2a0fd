"""Who a WeChat member is in the CRM: the customer with that wxid, else the one linked to the
account's friend record, else a new customer named after the member (source given), so a group
member who checks in or is invited has a points ledger even before anyone met them."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Session, func, select

from crm.customers.models import Customer
from devices.models import Friend


def find_customer(session: Session, wxid: str, account_id: Optional[int] = None) -> Optional[Customer]:
    if not wxid:
        return None
    # min(id) rather than ORDER BY id LIMIT 1, which SQLite answers by walking the primary key
    first = session.exec(select(func.min(Customer.id)).where(Customer.wechat_id == wxid)).one()
    if first is not None or account_id is None:
        return session.get(Customer, first) if first is not None else None
    linked = session.exec(select(Friend.customer_id).where(Friend.account_id == account_id, Friend.wxid == wxid)).first()
    return session.get(Customer, linked) if linked else None


def customer_for(session: Session, wxid: str, nickname: str, account_id: Optional[int], source: str,
                 now: datetime) -> Customer:
    customer = find_customer(session, wxid, account_id)
    if customer is None:
        customer = Customer(name=(nickname or wxid)[:100], wechat_id=wxid[:64], source=source[:64], created_at=now,
                            updated_at=now)
        session.add(customer)
        session.flush()
    return customer

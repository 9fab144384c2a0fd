"""今日客户动向: today's new customers I may see, new WeChat friends (the new_friends rollup: mine,
or the company's for holders of 查看全部客户), leads assigned to me today, and 待回复 — friends who
sent one of my WeChat accounts (every account with 查看全部客户) a private message today that no
send command to that friend has followed yet. Every query is bounded by today's Beijing-day range on an indexed
column, so the panel costs the same on the first day and the thousandth."""
from __future__ import annotations

import json

from datetime import datetime
from typing import Iterable

from sqlalchemy import func
from sqlmodel import Session, col, select

from analytics import rollup_store
from analytics.panels import register
from analytics.panels.base import Door, Panel, PanelContext
from config.clock import as_utc
from crm.customers.models import Customer
from crm.leads.models import Lead
from crm.scope import customers as customer_scope
from devices.budget import SEND_KINDS
from devices.models import DeviceCommand, WechatAccount
from events.models import EventRecord

# A day's messages are read newest first up to this many; beyond it the count shows as a floor.
MESSAGE_WINDOW = 5000


def _my_accounts(session: Session, ctx: PanelContext) -> list[int] | None:
    """Accounts whose chats are the viewer's to answer; None = all (查看全部客户)."""
    if ctx.viewer.has("customers.view_all"):
        return None
    return list(session.exec(select(WechatAccount.id).where(WechatAccount.owner_user_id == ctx.user_id)).all())


def waiting_replies(session: Session, ctx: PanelContext) -> tuple[int, bool]:
    """(friends waiting for an answer today, whether the day's window was cut short)."""
    start, end = ctx.day_bounds()
    mine = _my_accounts(session, ctx)
    if mine == []:
        return 0, False
    account = EventRecord.data["account_id"].as_integer()
    # Only the three fields are read (json_extract / ->>), not whole documents.
    stmt = (select(account, EventRecord.data["from_wxid"].as_string(), EventRecord.data["chatroom_id"].as_string(),
                   EventRecord.received_at)
            .where(EventRecord.received_at >= start, EventRecord.received_at < end,
                   EventRecord.event_code == "device.message", EventRecord.status == "accepted")
            .order_by(col(EventRecord.received_at).desc()).limit(MESSAGE_WINDOW))
    if mine is not None:
        stmt = stmt.where(account.in_(mine))
    records = session.exec(stmt).all()
    last_in: dict[tuple[int, str], datetime] = {}
    for account_id, wxid, room, at in records:
        if room or not wxid or account_id is None:
            continue
        last_in.setdefault((int(account_id), str(wxid)), as_utc(at))  # newest first: the latest message
    if not last_in:
        return 0, len(records) >= MESSAGE_WINDOW
    answered = _answered(session, {a for a, _ in last_in}, start)
    waiting = sum(1 for key, at in last_in.items() if not any(t >= at for t in answered.get(key, ())))
    return waiting, len(records) >= MESSAGE_WINDOW


def _answered(session: Session, account_ids: Iterable[int], since: datetime) -> dict[tuple[int, str], list[datetime]]:
    """Send commands issued today by these accounts, per (account, recipient)."""
    rows = session.exec(select(DeviceCommand.account_id, DeviceCommand.payload["to"].as_string(),
                               DeviceCommand.created_at).where(
        DeviceCommand.created_at >= since, col(DeviceCommand.account_id).in_(list(account_ids)),
        col(DeviceCommand.kind).in_(sorted(SEND_KINDS)))).all()
    out: dict[tuple[int, str], list[datetime]] = {}
    for account_id, to, at in rows:
        if to:
            out.setdefault((account_id, str(to)), []).append(as_utc(at))
    return out


@register
class CustomerMoves(Panel):
    key = "customer_moves"
    title = "今日客户动向"
    permission = "customers.view"
    page = "customers.index"
    description = "今日新增客户、新增好友、分配给我的线索与待回复消息"

    def data(self, session: Session, ctx: PanelContext) -> dict:
        start, end = ctx.day_bounds()
        new_customers = session.exec(select(func.count()).select_from(Customer).where(
            Customer.created_at >= start, Customer.created_at < end, Customer.status == "active",
            customer_scope(ctx.viewer))).one()
        dim = rollup_store.COMPANY if ctx.viewer.has("customers.view_all") else ("user", ctx.user_id)
        friends = rollup_store.totals(session, "new_friends", dim[0], ctx.today, ctx.today, [dim[1]]).get(dim[1], 0)
        leads = session.exec(select(func.count()).select_from(Lead).where(
            Lead.assignee_user_id == ctx.user_id, Lead.assigned_at >= start, Lead.assigned_at < end)).one()
        waiting, capped = waiting_replies(session, ctx)
        day = ctx.today.isoformat()  # 介于 is inclusive: the local day's first and last second
        today_rows = json.dumps({"rows": [{"field": "created_at", "op": "between",
                                           "value": [day, f"{day} 23:59:59"]}]}, ensure_ascii=False)
        return {"new_customers": int(new_customers), "new_friends": int(friends), "leads": int(leads),
                "waiting": waiting, "waiting_capped": capped,
                "customers_door": Door("customers.index", {"adv": today_rows}),
                "leads_door": Door("leads.index", {"assignee": ctx.user_id}),
                "friends_door": Door("accounts.friends", {})}

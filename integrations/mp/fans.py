"""微信粉丝: who follows each 公众号, kept current three ways — a full sync (user/get with next_openid
paging, then user/info/batchget 100 at a time for unionid and subscription), subscribe/unsubscribe
pushes (integrations.mp.inbound), and a user/info lookup after a new fan's first push.

Binding a fan to a customer (so the conversation shows the portrait and routes to the owner):
- automatically by unionid — the same person across every 公众号 (and the 开放平台's other apps)
  has one unionid: a fan without a customer is bound to the customer another fan with the same
  unionid is bound to; resolvers registered by other integrations (e.g. WeCom external contacts,
  which also carry unionid) are asked next. A fan is never re-bound automatically once bound.
- by hand from the fans page (search a customer, bind / unbind); a manual binding spreads to the
  fans with the same unionid that have no customer yet.
Network calls run outside write transactions: each page of results is written in its own short one."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, Optional

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from conversations.models import Conversation
from crm.customers.models import Customer
from crm.scope import Viewer, load
from integrations.errors import IntegrationError, IntegrationNotFound
from integrations.mp.accounts import get_account
from integrations.mp.client import MpClient
from integrations.mp.inbound import fan_for
from integrations.mp.models import MpAccount, MpFan

PER_PAGE = 20
# fn(session, unionid) -> customer id or None; other integrations add theirs (never import them here)
UnionidResolver = Callable[[Session, str], Optional[int]]
_resolvers: list[UnionidResolver] = []


def register_unionid_resolver(fn: UnionidResolver) -> None:
    if fn not in _resolvers:
        _resolvers.append(fn)


def _other_fans(session: Session, unionid: str) -> Optional[int]:
    return session.exec(select(MpFan.customer_id).where(MpFan.unionid == unionid,
                                                        col(MpFan.customer_id).is_not(None))
                        .order_by(MpFan.id)).first()


register_unionid_resolver(_other_fans)


def get_fan(session: Session, fan_id: int) -> MpFan:
    row = session.get(MpFan, fan_id)
    if row is None:
        raise IntegrationNotFound("粉丝不存在")
    return row


def list_fans(session: Session, account_id: Optional[int] = None, q: str = "", state: str = "",
              page: int = 1, per_page: int = PER_PAGE) -> tuple[list[MpFan], int]:
    where = []
    if account_id:
        where.append(MpFan.account_id == account_id)
    if q:
        like = f"%{q.strip()[:64]}%"
        where.append(or_(col(MpFan.openid).like(like), col(MpFan.unionid).like(like), col(MpFan.nickname).like(like),
                         col(MpFan.remark).like(like)))
    if state == "subscribed":
        where.append(MpFan.subscribed == True)  # noqa: E712
    elif state == "unsubscribed":
        where.append(MpFan.subscribed == False)  # noqa: E712
    elif state == "bound":
        where.append(col(MpFan.customer_id).is_not(None))
    elif state == "unbound":
        where.append(col(MpFan.customer_id).is_(None))
    total = session.exec(select(func.count()).select_from(MpFan).where(*where)).one()
    rows = session.exec(select(MpFan).where(*where).order_by(MpFan.id.desc())
                        .offset((max(page, 1) - 1) * per_page).limit(per_page)).all()
    return list(rows), int(total)


def _link_conversation(session: Session, fan: MpFan) -> None:
    """The fan's conversation follows the binding; a conversation still with the 默认客服 (or nobody)
    moves to the customer's owner."""
    conv = session.exec(select(Conversation).where(Conversation.channel == "mp", Conversation.account_id == fan.account_id,
                                                   Conversation.kind == "private",
                                                   Conversation.peer_id == fan.openid)).first()
    if conv is None:
        return
    conv.customer_id = fan.customer_id
    if fan.customer_id is not None:
        account = session.get(MpAccount, fan.account_id)
        customer = session.get(Customer, fan.customer_id)
        if customer is not None and customer.owner_id and conv.assignee_id in (None, account.default_user_id):
            conv.assignee_id = customer.owner_id
    session.add(conv)


def _bind(session: Session, fan: MpFan, customer_id: Optional[int], how: str, now: datetime) -> None:
    fan.customer_id, fan.bound_by, fan.updated_at = customer_id, how if customer_id else "", now
    session.add(fan)
    _link_conversation(session, fan)


def auto_bind(session: Session, fan: MpFan, now: datetime) -> bool:
    """Binds an unbound fan with a unionid by the rule above; True when it did."""
    if fan.customer_id is not None or not fan.unionid:
        return False
    for resolver in list(_resolvers):
        customer_id = resolver(session, fan.unionid)
        if customer_id is not None and session.get(Customer, customer_id) is not None:
            _bind(session, fan, customer_id, "unionid", now)
            return True
    return False


def bind(session: Session, viewer: Viewer, fan_id: int, customer_id, now: datetime) -> MpFan:
    fan = get_fan(session, fan_id)
    if customer_id in (None, ""):
        raise IntegrationError("请选择要绑定的客户", {"customer_id": "请选择要绑定的客户"})
    customer = load(session, viewer, Customer, customer_id)  # another's customer: not found, like an unknown id
    _bind(session, fan, customer.id, "manual", now)
    if fan.unionid:
        for other in session.exec(select(MpFan).where(MpFan.unionid == fan.unionid, MpFan.id != fan.id,
                                                      col(MpFan.customer_id).is_(None))).all():
            _bind(session, other, customer.id, "unionid", now)
    return fan


def of_customer(session: Session, customer_id: int) -> list[tuple[MpFan, str]]:
    """(fan, 公众号 name) bound to a customer, for the customer's page."""
    rows = session.exec(select(MpFan, MpAccount.name).join(MpAccount, MpAccount.id == MpFan.account_id)
                        .where(MpFan.customer_id == customer_id).order_by(MpFan.id)).all()
    return [(fan, name) for fan, name in rows]


def unbind(session: Session, fan_id: int, now: datetime) -> MpFan:
    fan = get_fan(session, fan_id)
    _bind(session, fan, None, "", now)
    return fan


def search_customers(session: Session, viewer: Viewer, q: str, limit: int = 10) -> list[Customer]:
    from crm.scope import customers as visible

    q = (q or "").strip()[:50]
    if not q:
        return []
    return list(session.exec(select(Customer).where(visible(viewer), col(Customer.name).like(f"%{q}%"))
                             .order_by(Customer.id).limit(limit)).all())


def apply_info(session: Session, account_id: int, info: dict, now: datetime) -> tuple[Optional[MpFan], bool]:
    """Writes one user/info answer onto the fan row; binds by unionid when it can (the bool)."""
    openid = str(info.get("openid") or "")
    if not openid:
        return None, False
    fan = fan_for(session, account_id, openid, now)
    fan.subscribed = bool(info.get("subscribe"))
    if fan.subscribed:
        if info.get("subscribe_time"):
            fan.subscribed_at = datetime.fromtimestamp(int(info["subscribe_time"]), tz=timezone.utc)
        fan.unionid = str(info.get("unionid") or fan.unionid)[:64]
        fan.remark = str(info.get("remark") or "")[:100]
        fan.nickname = str(info.get("nickname") or fan.nickname)[:100]  # no longer sent since 2021-12: kept if any
        fan.subscribe_scene = fan.subscribe_scene or str(info.get("subscribe_scene") or "")[:64]
    fan.synced_at = fan.updated_at = now
    session.add(fan)
    return fan, auto_bind(session, fan, now)


def lookup(services, account_id: int, openid: str) -> Optional[MpFan]:
    """One fan's user/info (after a subscribe or a first message)."""
    with services.db.read() as s:
        account = get_account(s, account_id)
    info = MpClient(services, account).user_info(openid)
    with services.db.write() as s:
        return apply_info(s, account_id, info, services.now())[0]


def sync(services, account_id: int) -> dict:
    """Full sync: every follower's info; fans no longer in the list are marked unsubscribed."""
    with services.db.read() as s:
        account = get_account(s, account_id)
    client = MpClient(services, account)
    seen: set[str] = set()
    bound = 0
    next_openid = ""
    while True:
        openids, next_openid = client.followers(next_openid)
        fresh = [o for o in openids if o not in seen]
        seen.update(fresh)
        for start in range(0, len(fresh), 100):
            infos = client.users_info(fresh[start:start + 100])
            with services.db.write() as s:
                now = services.now()
                bound += sum(apply_info(s, account_id, info, now)[1] for info in infos)
        if not openids or not next_openid:
            break
    with services.db.write() as s:
        now = services.now()
        gone = 0
        for fan in s.exec(select(MpFan).where(MpFan.account_id == account_id, MpFan.subscribed == True)).all():  # noqa: E712
            if fan.openid not in seen:
                fan.subscribed, fan.unsubscribed_at, fan.updated_at = False, now, now
                s.add(fan)
                gone += 1
        row = s.get(MpAccount, account_id)
        row.last_sync_at = now
        s.add(row)
    return {"followers": len(seen), "unsubscribed": gone, "bound": bound}

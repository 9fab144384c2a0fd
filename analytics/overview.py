"""私域运营看板: totals, conversion, GMV contribution and trends for a period and a viewer.

Definitions (shown on the page):
- 总社群数: WeChat groups of our accounts (a 业务员: of the accounts they own).
- 总用户数: people, de-duplicated: every customer is one person; a friend or a group member whose wxid is
  linked to a customer (Friend.customer_id, or the customer's wechat_id, or a member who is a linked
  friend) is that customer; any other wxid is one person however many accounts / groups it is in.
  Deleted friends and members who left are not counted. A 业务员 counts their customers and the friends
  and group members of the accounts they own.
- 活跃用户: friends who sent us a message (rollup active_friends) — the last day of the period and the
  daily average over it.
- 转化率: of the customers first contacted in the period, the share who have bought (any time).
- GMV: paid amount of orders paid in the period (rollup gmv_fen), 退款 refund_fen, contribution per
  channel / scene / staff / group from the same rollup.
Rollup figures follow the viewer: the company for 查看全公司的数据 / 查看全部客户, their departments for
查看本部门的数据, else their own (dim user). A channel / scene / staff filter reads that dimension's rows.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Callable, Optional

from sqlalchemy import String, cast, func, select, union
from sqlmodel import Session

from analytics import rollup_store, segments
from analytics.score_models import CustomerScore
from crm.customers.models import Customer
from crm.leads.models import LeadChannel, LeadScene
from crm.people.models import User, UserDepartment
from crm.scope import Viewer
from devices.models import ChatGroup, ChatGroupMember, Friend, WechatAccount

TREND_METRICS = {"gmv_fen": "成交金额", "buyers": "成交人数", "new_friends": "新增好友", "active_friends": "活跃用户",
                 "group_joins": "入群人数"}
CONTRIBUTION_DIMS = {"channel": "渠道", "scene": "获客场景", "user": "员工", "group": "微信群"}
TOP = 10


def rollup_scope(session: Session, viewer: Viewer, seg: segments.Segment) -> tuple[str, list[int]]:
    """(dim, dim ids) whose DailyMetric rows are this viewer's figures under the filter."""
    wide = viewer.has("reports.view_all") or viewer.has("customers.view_all")
    if seg.staff_id is not None and (wide or seg.staff_id == viewer.user_id):
        return "user", [seg.staff_id]
    if not wide:
        if viewer.has("reports.view_department"):
            depts = list(session.execute(select(UserDepartment.department_id)
                                         .where(UserDepartment.user_id == viewer.user_id)).scalars())
            if depts:
                return "department", depts
        return "user", [viewer.user_id or 0]
    if seg.scene_id is not None:
        return "scene", [seg.scene_id]
    if seg.channel_id is not None:
        return "channel", [seg.channel_id]
    return "company", [0]


def _accounts(viewer: Viewer):
    stmt = select(WechatAccount.id)
    if not (viewer.has("customers.view_all") or viewer.has("reports.view_all")):
        stmt = stmt.where(WechatAccount.owner_user_id == (viewer.user_id or 0))
    return stmt


def person_keys(viewer: Viewer):
    """SELECT of one key per person (see the module docstring): 'c<id>' or 'w<wxid>'."""
    visible = select(Customer.id).where(segments.customers_clause(segments.Segment(), viewer)).subquery()
    by_wechat = select(Customer.id, Customer.wechat_id).where(Customer.wechat_id.is_not(None)).subquery()
    linked = select(Friend.wxid, Friend.customer_id).where(Friend.customer_id.is_not(None)).subquery()
    friends = (select(func.coalesce(
        "c" + cast(func.coalesce(Friend.customer_id, by_wechat.c.id), String), "w" + Friend.wxid).label("k"))
        .outerjoin(by_wechat, by_wechat.c.wechat_id == Friend.wxid)
        .where(Friend.deleted_at.is_(None), Friend.account_id.in_(_accounts(viewer))))
    members = (select(func.coalesce("c" + cast(func.coalesce(by_wechat.c.id, linked.c.customer_id), String),
                                    "w" + ChatGroupMember.wxid).label("k"))
               .outerjoin(by_wechat, by_wechat.c.wechat_id == ChatGroupMember.wxid)
               .outerjoin(linked, linked.c.wxid == ChatGroupMember.wxid)
               .where(ChatGroupMember.left_at.is_(None),
                      ChatGroupMember.group_id.in_(select(ChatGroup.id).where(ChatGroup.account_id.in_(_accounts(viewer))))))
    customers = select(("c" + cast(visible.c.id, String)).label("k"))
    return union(customers, friends, members)


def totals(session: Session, viewer: Viewer) -> dict:
    """总社群数, 总用户数 (people, de-duplicated), customers and friends the viewer sees."""
    keys = person_keys(viewer).subquery()
    groups = session.execute(select(func.count()).select_from(ChatGroup)
                             .where(ChatGroup.account_id.in_(_accounts(viewer)))).scalar() or 0
    customers = session.execute(select(func.count()).select_from(Customer)
                                .where(segments.customers_clause(segments.Segment(), viewer))).scalar() or 0
    friends = session.execute(select(func.count(func.distinct(Friend.wxid)))
                              .where(Friend.deleted_at.is_(None), Friend.account_id.in_(_accounts(viewer)))).scalar() or 0
    users = session.execute(select(func.count()).select_from(keys)).scalar()
    return {"groups": int(groups), "users": int(users or 0),
            "customers": int(customers), "friends": int(friends)}


def _names(session: Session, dim: str, ids: list[int]) -> dict[int, str]:
    model, column = {"channel": (LeadChannel, LeadChannel.name), "scene": (LeadScene, LeadScene.name),
                     "user": (User, func.coalesce(func.nullif(User.display_name, ""), User.username)),
                     "group": (ChatGroup, ChatGroup.name)}[dim]
    return dict(session.execute(select(model.id, column).where(model.id.in_(ids))).all()) if ids else {}


def contribution(session: Session, viewer: Viewer, seg: segments.Segment, dim: str) -> list[dict]:
    """GMV per channel / scene / staff / group (top 10 + 其他), each linking to its buyers."""
    values = rollup_store.totals(session, "gmv_fen", dim, seg.start, seg.end)
    if not (viewer.has("reports.view_all") or viewer.has("customers.view_all")):
        values = {k: v for k, v in values.items() if dim == "user" and k == viewer.user_id}  # their own only
    ranked = sorted(((k, v) for k, v in values.items() if v), key=lambda kv: (-kv[1], kv[0]))
    names = _names(session, dim, [k for k, _ in ranked[:TOP]])
    field = {"channel": "channel_id", "scene": "scene_id", "user": "staff_id", "group": "group_id"}[dim]
    out = [{"id": k, "name": names.get(k) or f"#{k}", "value": v,
            "params": {**segments.Segment(kind="buyers", start=seg.start, end=seg.end).params(), field: k}}
           for k, v in ranked[:TOP]]
    rest = sum(v for _, v in ranked[TOP:])
    if rest:
        out.append({"id": None, "name": "其他", "value": rest, "params": None})
    return out


def conversion(session: Session, viewer: Viewer, seg: segments.Segment, tz: Optional[str]) -> dict:
    lo, hi = segments.local_bounds(seg.start, seg.end, tz)
    where = [segments.in_scope_scores(viewer), CustomerScore.first_contact_at >= lo, CustomerScore.first_contact_at < hi]
    if seg.channel_id is not None:
        where.append(CustomerScore.channel_id == seg.channel_id)
    if seg.scene_id is not None:
        where.append(CustomerScore.scene_id == seg.scene_id)
    contacted, bought = session.execute(select(func.count(), func.count(CustomerScore.first_order_at)).where(*where)).one()
    return {"contacted": int(contacted or 0), "bought": int(bought or 0),
            "rate": (bought / contacted) if contacted else None}


def compute(session: Session, viewer: Viewer, seg: segments.Segment, tz: Optional[str] = None,
            counts: Optional[Callable[[], dict]] = None) -> dict:
    """The whole 看板 for seg.start..seg.end (Beijing days) and the seg's channel / scene / staff filter;
    `counts` answers the totals (analytics.snapshot.totals: the pass's figures for a viewer who sees everyone)."""
    dim, ids = rollup_scope(session, viewer, seg)
    days = [seg.start + timedelta(days=i) for i in range((seg.end - seg.start).days + 1)]
    trends = {m: rollup_store.series(session, m, dim, ids, seg.start, seg.end) for m in TREND_METRICS}
    sums = {m: sum(rollup_store.totals(session, m, dim, seg.start, seg.end, ids).values())
            for m in ("gmv_fen", "refund_fen", "buyers", "orders_paid", "new_friends")}
    active = trends["active_friends"]
    buyer_params = segments.Segment(kind="buyers", start=seg.start, end=seg.end, channel_id=seg.channel_id,
                                    scene_id=seg.scene_id, staff_id=seg.staff_id).params()
    return {"dim": dim, "dim_ids": ids, "days": days, **(counts() if counts is not None else totals(session, viewer)), **sums,
            "active_last": active[seg.end], "active_avg": round(sum(active.values()) / len(days), 1),
            "conversion": conversion(session, viewer, seg, tz),
            "trends": {m: [trends[m][d] for d in days] for m in TREND_METRICS},
            "contribution": {d: contribution(session, viewer, seg, d) for d in CONTRIBUTION_DIMS},
            "links": {"buyers": buyer_params,
                      "contacts": segments.Segment(kind="contacts", start=seg.start, end=seg.end,
                                                   channel_id=seg.channel_id, scene_id=seg.scene_id).params(),
                      "customers": segments.Segment().params()}}



"""A month of generated activity (October 2026) written as raw rows, and an independent oracle that
counts every KPI from the generated records themselves (plain Python over the lists, Beijing days
from zoneinfo), without the metric plugins or the rollup tables."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from commerce.orders.models import OrderRefund, SalesOrder
from crm.customers.models import Customer
from crm.leads.models import Lead, LeadAssignment, LeadChannel, LeadScene
from crm.people import service as people
from crm.people.models import Department, UserDepartment
from crm.sales.models import FollowUp
from devices.models import ChatGroup, ChatGroupMember, DeviceCommand, Friend, WechatAccount
from events.models import EventRecord

BEIJING = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc
FIRST, LAST = date(2026, 10, 1), date(2026, 10, 31)
WEEK = timedelta(days=7)


def bj_day(instant: datetime) -> date:
    return instant.astimezone(BEIJING).date()


def bj(day: date, h: int, m: int = 0, s: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, h, m, s, tzinfo=BEIJING).astimezone(UTC)


@dataclass
class Seed:
    users: dict = field(default_factory=dict)  # name → id
    depts: dict = field(default_factory=dict)
    user_depts: dict = field(default_factory=dict)  # user id → dept ids incl. ancestors
    owner: dict = field(default_factory=dict)  # account id → user id
    friends: list = field(default_factory=list)  # (account, wxid, added, deleted)
    received: list = field(default_factory=list)  # (account, wxid, chatroom, when, accepted)
    sent: list = field(default_factory=list)  # (account, to, when, kind, status)
    customers: list = field(default_factory=list)  # (id, owner, created)
    assignments: list = field(default_factory=list)  # (lead, user, when)
    followups: list = field(default_factory=list)  # (user, when)
    orders: list = field(default_factory=list)  # (id, customer, user, paid_at, paid_fen)
    refunds: list = field(default_factory=list)  # (order user, when, amount)
    members: list = field(default_factory=list)  # (account, group, wxid, joined, left)


def _moment(rng: random.Random, late_ok: bool = True) -> datetime:
    day = FIRST + timedelta(days=rng.randrange(31))
    return bj(day, rng.randrange(24), rng.randrange(60), rng.randrange(60))


def seed_month(db, rng_seed: int = 7) -> Seed:
    rng = random.Random(rng_seed)
    out = Seed()
    people.ensure_builtin_roles(db)
    for name, roles in (("u1", ["sales"]), ("u2", ["sales"]), ("u3", ["sales"]), ("mgr", ["manager"])):
        out.users[name] = people.create_user(db, name, "Passw0rd!x", display_name=f"员工{name}", roles=roles).id
    u1, u2, u3, mgr = (out.users[n] for n in ("u1", "u2", "u3", "mgr"))
    with db.write() as s:
        top = Department(name="销售一部"); s.add(top); s.flush()
        sub = Department(name="营销一组", parent_id=top.id); other = Department(name="销售二部")
        s.add(sub); s.add(other); s.flush()
        out.depts = {"top": top.id, "sub": sub.id, "other": other.id}
        for uid, did in ((u1, sub.id), (u2, top.id), (mgr, top.id), (u3, other.id)):
            s.add(UserDepartment(user_id=uid, department_id=did))
        out.user_depts = {u1: {sub.id, top.id}, u2: {top.id}, mgr: {top.id}, u3: {other.id}}
        accounts = []
        for i, owner in enumerate((u1, u1, u2, u3, None)):
            acc = WechatAccount(wxid=f"acc_{i}", nickname=f"号{i}", owner_user_id=owner)
            s.add(acc); s.flush()
            accounts.append(acc.id)
            out.owner[acc.id] = owner
        pool = [f"wx_p{i}" for i in range(60)]
        # friends, with the Beijing midnight boundary on a UTC host: 23:59:59 and 00:00:00 are two days
        pairs = set()
        boundary = [(accounts[0], "wx_p0", bj(date(2026, 10, 10), 23, 59, 59)),
                    (accounts[0], "wx_p1", bj(date(2026, 10, 11), 0, 0, 0))]
        for account, wxid, added in boundary:
            pairs.add((account, wxid))
            out.friends.append((account, wxid, added, None))
        while len(out.friends) < 160:
            account, wxid = rng.choice(accounts), rng.choice(pool)
            if (account, wxid) in pairs:
                continue
            pairs.add((account, wxid))
            added = _moment(rng)
            deleted = added + timedelta(hours=rng.randrange(1, 300)) if rng.random() < 0.2 else None
            out.friends.append((account, wxid, added, deleted))
        for account, wxid, added, deleted in out.friends:
            s.add(Friend(account_id=account, wxid=wxid, nickname=wxid, added_at=added, deleted_at=deleted))
        for _ in range(700):  # messages in: private and group, a few refused by the ledger
            account, wxid = rng.choice(accounts), rng.choice(pool)
            room = "room1@chatroom" if rng.random() < 0.3 else ""
            when, accepted = _moment(rng), rng.random() > 0.05
            out.received.append((account, wxid, room, when, accepted))
            s.add(EventRecord(source="device", event_code="device.message", occurred_at=when, received_at=when,
                              status="accepted" if accepted else "rejected",
                              data={"account_id": account, "from_wxid": wxid, "chatroom_id": room,
                                    "is_group": bool(room), "text": "你好"}))
        for _ in range(600):  # sends and moments, some failed, some to a group
            account = rng.choice(accounts)
            kind = rng.choice(["send_text", "send_text", "send_link", "post_moment"])
            to = "room1@chatroom" if rng.random() < 0.1 else rng.choice(pool)
            status = "succeeded" if rng.random() > 0.15 else "failed"
            when = _moment(rng)
            out.sent.append((account, to, when, kind, status))
            payload = {"text": "上新"} if kind == "post_moment" else {"to": to, "text": "hi", "url": "https://x.test"}
            s.add(DeviceCommand(account_id=account, kind=kind, payload=payload, status=status, finished_at=when,
                                created_at=when))
        users = [u1, u2, u3, mgr, None]
        for i in range(80):
            owner, created = rng.choice(users), _moment(rng)
            c = Customer(name=f"客户{i}", owner_id=owner, created_at=created)
            s.add(c); s.flush()
            out.customers.append((c.id, owner, created))
        channel = LeadChannel(name="抖音", code="dy"); s.add(channel); s.flush()
        scene = LeadScene(name="表单", key="form", scene_type="FORM", default_channel_id=channel.id)
        s.add(scene); s.flush()
        for i in range(60):
            when = _moment(rng)
            lead = Lead(scene_id=scene.id, channel_id=channel.id, name=f"线索{i}", created_at=when)
            s.add(lead); s.flush()
            for _ in range(rng.choice([1, 1, 2])):  # sometimes reassigned (to the same or another person)
                user = rng.choice([u1, u2, u3])
                at = when + timedelta(minutes=rng.randrange(600))
                s.add(LeadAssignment(lead_id=lead.id, scene_id=scene.id, to_user_id=user, created_at=at))
                out.assignments.append((lead.id, user, at))
        customer_ids = [c[0] for c in out.customers]
        for _ in range(150):
            user, when = rng.choice([u1, u2, u3]), _moment(rng)
            s.add(FollowUp(customer_id=rng.choice(customer_ids), user_id=user, followed_at=when, content="回访"))
            out.followups.append((user, when))
        for i in range(90):
            customer, user = rng.choice(customer_ids), rng.choice([u1, u2, u3, None])
            paid = _moment(rng) if rng.random() < 0.85 else None
            fen = rng.randrange(1000, 500000)
            order = SalesOrder(order_no=f"SO{i:05d}", customer_id=customer, credited_user_id=user,
                               status="paid" if paid else "pending", goods_fen=fen, total_fen=fen,
                               paid_fen=fen if paid else 0, paid_at=paid, created_at=paid or _moment(rng))
            s.add(order); s.flush()
            if paid:
                out.orders.append((order.id, customer, user, paid, fen))
                if rng.random() < 0.25:
                    amount, at = rng.randrange(100, fen), paid + timedelta(hours=rng.randrange(1, 100))
                    s.add(OrderRefund(order_id=order.id, refund_no=f"RF{i:05d}", amount_fen=amount, created_at=at))
                    order.refunded_fen, order.status = amount, "refunded"
                    s.add(order)
                    out.refunds.append((user, at, amount))
        for account in accounts:
            group = ChatGroup(account_id=account, chatroom_id=f"g{account}@chatroom", name=f"群{account}")
            s.add(group); s.flush()
            for wxid in rng.sample(pool, 25):
                joined = _moment(rng)
                left = joined + timedelta(hours=rng.randrange(1, 200)) if rng.random() < 0.3 else None
                s.add(ChatGroupMember(group_id=group.id, wxid=wxid, joined_at=joined, left_at=left))
                out.members.append((account, group.id, wxid, joined, left))
    return out


class Oracle:
    """KPI values counted straight from the generated records."""

    def __init__(self, seed: Seed):
        self.seed = seed

    def _in(self, user, dim, dim_id) -> bool:
        if dim == "company":
            return True
        if dim == "user":
            return user == dim_id
        if dim == "department":
            return dim_id in self.seed.user_depts.get(user, set())
        raise AssertionError(dim)

    def value(self, metric: str, dim: str, dim_id: int, day: date):
        s, own = self.seed, self.seed.owner
        on = lambda when: bj_day(when) == day  # noqa: E731
        if metric == "new_friends":
            return len({w for a, w, added, _ in s.friends if on(added) and self._in(own[a], dim, dim_id)})
        if metric == "effective_friends":
            talk = {}
            for a, w, room, when, ok in s.received:
                if ok and not room:
                    talk.setdefault((a, w), []).append(when)
            for a, to, when, kind, status in s.sent:
                if kind != "post_moment" and status == "succeeded" and not to.endswith("@chatroom"):
                    talk.setdefault((a, to), []).append(when)
            return len({w for a, w, added, deleted in s.friends
                        if on(added) and self._in(own[a], dim, dim_id)
                        and (deleted is None or deleted >= added + WEEK)
                        and any(added <= t < added + WEEK for t in talk.get((a, w), []))})
        if metric == "moments_posted":
            return sum(1 for a, _t, when, kind, status in s.sent
                       if kind == "post_moment" and status == "succeeded" and on(when) and self._in(own[a], dim, dim_id))
        if metric == "reached":
            return len({to for a, to, when, kind, status in s.sent
                        if kind != "post_moment" and status == "succeeded" and not to.endswith("@chatroom")
                        and on(when) and self._in(own[a], dim, dim_id)})
        if metric == "consulted":
            return len({w for a, w, room, when, ok in s.received
                        if ok and not room and on(when) and self._in(own[a], dim, dim_id)})
        if metric == "active_friends":
            friends = {(a, w) for a, w, _x, _y in s.friends}
            return len({w for a, w, room, when, ok in s.received
                        if ok and (a, w) in friends and on(when) and self._in(own[a], dim, dim_id)})
        if metric == "buyers":
            return len({c for _o, c, u, when, _f in s.orders if on(when) and self._in(u, dim, dim_id)})
        if metric == "gmv_fen":
            return sum(f for _o, _c, u, when, f in s.orders if on(when) and self._in(u, dim, dim_id))
        if metric == "orders_paid":
            return sum(1 for _o, _c, u, when, _f in s.orders if on(when) and self._in(u, dim, dim_id))
        if metric == "refund_fen":
            return sum(amount for u, when, amount in s.refunds if on(when) and self._in(u, dim, dim_id))
        if metric == "new_customers":
            return sum(1 for _c, u, when in s.customers if on(when) and self._in(u, dim, dim_id))
        if metric == "leads_assigned":
            return len({lead for lead, u, when in s.assignments if on(when) and self._in(u, dim, dim_id)})
        if metric == "followups":
            return sum(1 for u, when in s.followups if on(when) and self._in(u, dim, dim_id))
        if metric in ("group_joins", "group_quits"):
            pick = 3 if metric == "group_joins" else 4
            return len({m[2] for m in s.members
                        if m[pick] is not None and on(m[pick]) and self._in(own[m[0]], dim, dim_id)})
        raise AssertionError(metric)


def seeded_month(db) -> Seed:
    """The month generated and rolled up for all of October (the nightly job's code path)."""
    from analytics import rollups

    seed = seed_month(db)
    with db.write() as s:
        rollups.recompute(s, FIRST, LAST)
    return seed

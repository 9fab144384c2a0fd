"""A generated population for the dashboard tests: customers, WeChat friends and group members,
leads with channels and scenes, and orders (paid, refunded in part or whole, cancelled, pending),
kept also as plain Python records so each test recomputes its figures independently of the SQL."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from commerce.orders.models import SalesOrder
from config.clock import UTC
from crm.customers.models import Customer
from crm.leads.models import Lead, LeadChannel, LeadScene
from crm.tags.models import Tag, TagCategory
from devices.models import ChatGroup, ChatGroupMember, Friend, WechatAccount

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@dataclass
class Person:
    id: int = 0
    wechat_id: str | None = None
    contacts: list = field(default_factory=list)  # instants of 加好友 / 入群
    channel_id: int | None = None
    scene_id: int | None = None
    groups: set = field(default_factory=set)
    purchases: list = field(default_factory=list)  # (paid_at, net fen), purchases only
    owner_id: int | None = None
    status: str = "active"


@dataclass
class World:
    people: list
    channels: list
    scenes: list
    groups: list
    account_id: int


def make_tag(session, name: str) -> int:
    """A manual tag (in its own category) to put a segment's customers under; returns its id."""
    cat = TagCategory(name=f"{name}分类")
    session.add(cat)
    session.flush()
    tag = Tag(category_id=cat.id, name=name)
    session.add(tag)
    session.flush()
    return tag.id


def build(db, n: int = 120, seed: int = 7, owner_ids=(None,)) -> World:
    rng = random.Random(seed)
    people: list[Person] = []
    with db.write() as s:
        channels = [LeadChannel(name=f"渠道{i}", code=f"ch{i}") for i in range(2)]
        s.add_all(channels)
        s.flush()
        scenes = [LeadScene(name=f"场景{i}", key=f"scene{i}", scene_type="form") for i in range(2)]
        s.add_all(scenes)
        account = WechatAccount(wxid="wx_ours", owner_user_id=owner_ids[0])
        s.add(account)
        s.flush()
        groups = [ChatGroup(account_id=account.id, chatroom_id=f"room{i}", name=f"群{i}") for i in range(3)]
        s.add_all(groups)
        s.flush()
        order_no = 0
        for i in range(n):
            p = Person(wechat_id=f"wx{i}" if rng.random() < 0.6 else None, owner_id=rng.choice(owner_ids),
                       status="recycled" if i % 40 == 39 else "active")
            c = Customer(name=f"客户{i}", wechat_id=p.wechat_id, owner_id=p.owner_id, status=p.status)
            s.add(c)
            s.flush()
            p.id = c.id
            base = NOW - timedelta(days=rng.randint(0, 200), seconds=rng.randint(0, 86399))
            if rng.random() < 0.5:  # a friend linked by id, or by wxid = wechat_id
                wxid = p.wechat_id if p.wechat_id and rng.random() < 0.5 else f"f{i}"
                link = None if wxid == p.wechat_id else c.id
                s.add(Friend(account_id=account.id, wxid=wxid, customer_id=link, added_at=base,
                             deleted_at=base + timedelta(days=3) if rng.random() < 0.1 else None))
                p.contacts.append(base)
                if rng.random() < 0.4:  # the friend also joins a group
                    g = rng.choice(groups)
                    when = base + timedelta(days=rng.randint(-5, 5))
                    s.add(ChatGroupMember(group_id=g.id, wxid=wxid, joined_at=when))
                    p.contacts.append(when)
                    p.groups.add(g.id)
            elif p.wechat_id and rng.random() < 0.6:  # only in a group, by wechat_id
                g = rng.choice(groups)
                s.add(ChatGroupMember(group_id=g.id, wxid=p.wechat_id, joined_at=base))
                p.contacts.append(base)
                p.groups.add(g.id)
            if rng.random() < 0.7:
                ch, sc = rng.choice(channels), rng.choice(scenes)
                s.add(Lead(scene_id=sc.id, channel_id=ch.id, customer_id=c.id, created_at=base - timedelta(hours=1)))
                s.add(Lead(scene_id=scenes[0].id, channel_id=None, customer_id=c.id, created_at=base + timedelta(days=2)))
                p.channel_id, p.scene_id = ch.id, sc.id
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 5])):
                paid_at = base + timedelta(days=rng.randint(-10, 120), hours=rng.randint(0, 23))
                if paid_at > NOW:
                    paid_at = NOW - timedelta(hours=rng.randint(1, 200))
                total = rng.randint(1, 500) * 100
                kind = rng.choice(["paid", "completed", "shipped", "part", "refunded", "cancelled", "pending"])
                order_no += 1
                o = SalesOrder(order_no=f"SO{order_no}", customer_id=c.id, total_fen=total,
                               status={"part": "completed"}.get(kind, kind), created_at=paid_at,
                               credited_user_id=p.owner_id, channel_id=p.channel_id, scene_id=p.scene_id)
                if kind != "pending" and kind != "cancelled":
                    o.paid_at, o.paid_fen = paid_at, total
                    o.refunded_fen = total if kind == "refunded" else (total // 4 if kind == "part" else 0)
                s.add(o)
                if kind in ("paid", "completed", "shipped", "part"):
                    p.purchases.append((paid_at, total - o.refunded_fen))
            people.append(p)
        world = World(people, [c.id for c in channels], [c.id for c in scenes], [g.id for g in groups], account.id)
    return world

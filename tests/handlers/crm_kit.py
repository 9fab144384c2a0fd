"""Shared pieces of the CRM processor tests: customers, staff, groups and templates written
straight to the test database, the strategy steps' outcomes, and a direct processor call with a
chosen idempotency key (to replay a step the way a crashed worker's lease expiry would)."""
from __future__ import annotations

from sqlmodel import select

from crm.customers.models import Customer, GrowthRecord
from crm.groups.models import CustomerGroup, GroupMember
from crm.people.models import User
from crm.sales.models import MessageTemplate
from crm.tags.models import Tag, TagCategory
from engine.models import StrategyTask
from handlers.base import ProcessorContext
from tests.engine.conftest import row  # noqa: F401 - re-exported for the tests

MOBILE = "13800138000"


def step(processor: str, **config) -> dict:
    return {"processor": processor, "config": config, "timing": {"mode": "immediate"}}


def add(svc, *objs):
    with svc.db.write() as s:
        s.add_all(objs)
        s.flush()
        ids = [o.id for o in objs]
    return ids[0] if len(ids) == 1 else ids


def customer(svc, name="张三", mobile=MOBILE, **fields) -> int:
    return add(svc, Customer(name=name, mobile=mobile, created_at=svc.now(), updated_at=svc.now(), **fields))


def user(svc, username: str, display_name: str = "") -> int:
    return add(svc, User(username=username, display_name=display_name or username, password_hash="x"))


def tag(svc, name: str, kind: str = "manual", score: int = 0) -> int:
    with svc.db.write() as s:
        category = s.exec(select(TagCategory)).first() or TagCategory(name="客户标签")
        s.add(category)
        s.flush()
        t = Tag(category_id=category.id, name=name, kind=kind, score=score)
        s.add(t)
        s.flush()
        return t.id


def group(svc, name: str, sales=(), managers=()) -> int:
    gid = add(svc, CustomerGroup(name=name))
    with svc.db.write() as s:
        s.add_all([GroupMember(group_id=gid, user_id=u, role="sales") for u in sales]
                  + [GroupMember(group_id=gid, user_id=u, role="manager") for u in managers])
    return gid


def template(svc, code: str, body: str, channel: str = "sms", subject: str = "") -> int:
    return add(svc, MessageTemplate(code=code, name=code, channel=channel, subject=subject, body=body))


def tasks(svc) -> list[StrategyTask]:
    with svc.db.read() as s:
        return list(s.exec(select(StrategyTask).order_by(StrategyTask.id)))


def rows(svc, model, *where):
    with svc.db.read() as s:
        return list(s.exec(select(model).where(*where)))


def growth(svc, customer_id: int) -> list[str]:
    return [g.summary for g in rows(svc, GrowthRecord, GrowthRecord.customer_id == customer_id,
                                    GrowthRecord.kind == "strategy")]


def run_direct(kit, key: str, data: dict, config: dict, idem: str = "900:1:0", dry_run: bool = False):
    """Runs the registered processor once, outside the ledger, under a fixed idempotency key."""
    ctx = ProcessorContext(event_code="test", data=data, event_record_id=900, strategy_id=1, task_id=900,
                           idempotency_key=idem, attempt=1, services=kit.svc, dry_run=dry_run,
                           processors=kit.rt.registry)
    return kit.rt.registry.get(key).run(ctx, config)

"""crm.scope: one rule for whose customers, leads, tasks and follow-ups a user may load; someone
else's row is NotFound like an unknown id, and a task follows its customer's current owner."""
from __future__ import annotations

import pytest
from sqlmodel import select

from crm.customers.models import Customer
from crm.errors import CrmError, NotFound
from crm.groups.models import CustomerGroup, GroupLink, GroupMember
from crm.leads.errors import LeadNotFound
from crm.leads.models import Lead, LeadScene
from crm.leads.service import add_note, list_leads, update_lead
from crm.people.models import User
from crm.sales.followups import record_follow_up
from crm.sales.models import FollowUp, Task
from crm.sales.tasks import create_task, set_status, update_task
from crm.scope import SYSTEM, Viewer, load, visible_ids

SALES = frozenset({"customers.view", "customers.manage", "worktasks.view", "worktasks.manage", "leads.view",
                   "leads.manage"})


@pytest.fixture
def world(db):
    with db.write() as s:
        a, b, m = (User(username=n, display_name=n, password_hash="x") for n in ("a", "b", "m"))
        s.add_all([a, b, m])
        s.flush()
        mine, theirs, pooled = Customer(name="甲客", owner_id=a.id), Customer(name="乙客", owner_id=b.id), Customer(name="组客")
        group, scene = CustomerGroup(name="一组"), LeadScene(name="表单", key="form", scene_type="WEB_FORM")
        s.add_all([mine, theirs, pooled, group, scene])
        s.flush()
        s.add_all([GroupMember(group_id=group.id, user_id=m.id, role="manager"),
                   GroupLink(group_id=group.id, customer_id=pooled.id, assignee_id=a.id)])
        lead = Lead(scene_id=scene.id, name="乙线索", status="ASSIGNED", assignee_user_id=b.id)
        stale = Task(title="旧任务", kind="follow_up", customer_id=theirs.id, owner_id=a.id, creator_id=a.id)
        s.add_all([lead, stale])
        s.flush()
        return {"a": Viewer(a.id, SALES), "b": Viewer(b.id, SALES), "m": Viewer(m.id, SALES), "mine": mine.id,
                "theirs": theirs.id, "pooled": pooled.id, "lead": lead.id, "stale": stale.id}


def test_customers_follow_owner_assignee_and_managed_groups(db, world):
    with db.read() as s:
        assert visible_ids(s, world["a"], Customer, [world["mine"], world["theirs"], world["pooled"]]) == \
            [world["mine"], world["pooled"]]
        assert visible_ids(s, world["m"], Customer, [world["mine"], world["pooled"]]) == [world["pooled"]]
        with pytest.raises(NotFound, match="客户不存在"):
            load(s, world["a"], Customer, world["theirs"])
        with pytest.raises(NotFound):
            load(s, world["a"], Customer, 2 ** 70)  # an id past BIGINT is just not found
        assert load(s, SYSTEM, Customer, world["theirs"]).name == "乙客"


def test_someone_elses_lead_is_not_found_and_not_written(db, world):
    with db.write() as s, pytest.raises(LeadNotFound):
        update_lead(s, world["lead"], {"notes": "越权"}, "a", viewer=world["a"])
    with db.write() as s, pytest.raises(LeadNotFound):
        add_note(s, world["lead"], "越权", "a", viewer=world["a"])
    with db.read() as s:
        assert s.get(Lead, world["lead"]).notes == ""
        assert list_leads(s, viewer=world["a"])[1] == 0 and list_leads(s, viewer=world["b"])[1] == 1
    with db.write() as s:  # B may, and may not link A's customer
        with pytest.raises(CrmError, match="不存在"):
            update_lead(s, world["lead"], {"related_customer_id": world["mine"]}, "b", viewer=world["b"])
        update_lead(s, world["lead"], {"notes": "本人"}, "b", viewer=world["b"])


def test_a_stale_task_follows_the_customers_current_owner(db, clock, world):
    """A's 跟进任务 on a customer now B's: A can no longer open, finish or follow up through it."""
    a = world["a"]
    with db.read() as s:
        with pytest.raises(NotFound):
            load(s, a, Task, world["stale"])
    with db.write() as s:
        with pytest.raises(NotFound):
            update_task(s, world["stale"], {"title": "改"}, now=clock.now(), viewer=a)
        assert set_status(s, [world["stale"]], "done", now=clock.now(), viewer=a) == 0
        with pytest.raises(CrmError) as err:
            record_follow_up(s, {"customer_id": world["theirs"], "content": "越权", "task_id": world["stale"]},
                             a.user_id, now=clock.now(), viewer=a)
        assert set(err.value.errors) == {"customer_id", "task_id"} and "乙客" not in err.value.message
        with pytest.raises(CrmError, match="关联客户不存在"):
            create_task(s, {"title": "越权", "owner_id": a.user_id, "customer_id": world["theirs"]}, viewer=a)
    with db.read() as s:
        assert s.get(Task, world["stale"]).status == "todo"
        assert s.exec(select(FollowUp)).all() == [] and len(s.exec(select(Task)).all()) == 1
        assert load(s, world["b"], Customer, world["theirs"]).name == "乙客"

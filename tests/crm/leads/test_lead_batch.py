"""线索批量处理 (crm.leads.batch): the 识别客户 step of the first new lead of a scene processes the
scene's other pending leads in the same transaction — dedupe inside one batch, a bad lead that
neither blocks nor loses the others, two processors racing over the same leads doing each once,
and a batch that dies half-way leaving every lead pending, never half processed."""
from __future__ import annotations

import threading

import pytest
from sqlmodel import func, select

from crm.customers.models import Customer
from crm.errors import CrmError
from crm.leads import batch
from crm.leads.intake import Submission, event_data, submit
from crm.leads.models import Lead, LeadAssignment, LeadDeadLetter, LeadLog, LeadScene
from crm.people import service as people
from handlers.base import ProcessorContext
from handlers.builtin.lead_identify import IdentifyLeadProcessor
from tests.crm.leads.test_payments import make_scene, rt  # noqa: F401 - the runtime fixture


@pytest.fixture(autouse=True)
def whole_batches(monkeypatch):
    monkeypatch.setattr(batch, "BATCH_SECONDS", 600.0)  # a loaded test machine must not cut a batch short


@pytest.fixture
def scene(rt):  # noqa: F811
    db = rt.services.db
    users = [people.create_user(db, f"s{i}", "Passw0rd1", display_name=f"销售{i}").id for i in (1, 2, 3)]
    sid = make_scene(rt, name="官网表单", key="webform", scene_type="WEB_FORM", dedup_strategy="BY_PHONE_OR_EMAIL",
                     assignment_rules={"rules": [{"name": "全部", "method": "round_robin", "user_ids": users}]})
    return {"id": sid, "users": users}


def _submit(rt, scene_id, *raws) -> list[int]:  # noqa: F811
    results = submit(rt.services.db, scene_id, [Submission(raw=raw, external_id=f"x{i}-{raw.get('mobile')}")
                                                for i, raw in enumerate(raws)])
    return [r.lead_id for r in results]


def _leads(db, ids) -> list[Lead]:
    with db.read() as s:
        return [s.get(Lead, i) for i in ids]


def _log_count(db, lead_id, stage) -> int:
    with db.read() as s:
        return s.exec(select(func.count()).select_from(LeadLog).where(LeadLog.lead_id == lead_id,
                                                                       LeadLog.stage == stage)).one()


def _batched(db, lead_id) -> bool:
    with db.read() as s:
        return any((row.detail or {}).get("batch") for row in s.exec(
            select(LeadLog).where(LeadLog.lead_id == lead_id, LeadLog.stage == "identified")))


def test_a_burst_is_processed_in_one_batch_with_dedupe_inside_it(rt, scene):  # noqa: F811
    db = rt.services.db
    ids = _submit(rt, scene["id"], {"mobile": "13800000001", "name": "甲"}, {"mobile": "13800000002", "name": "乙"},
                  {"mobile": "13800000001", "name": "甲again"}, {"email": "c@example.com", "mobile": "13800000003"},
                  {"email": "c@example.com"})
    rt.tick()
    leads = _leads(db, ids)
    assert all(l.status == "ASSIGNED" for l in leads)
    assert all(_batched(db, i) for i in ids[1:])  # done by the first lead's step, in its transaction
    # Same phone in one batch: one customer, the second lead a duplicate of the first.
    assert leads[2].customer_id == leads[0].customer_id and leads[2].duplicate_of_id == ids[0]
    assert not leads[2].customer_is_new and leads[0].customer_is_new
    assert leads[4].customer_id == leads[3].customer_id and leads[4].duplicate_of_id == ids[3]
    with db.read() as s:
        assert s.exec(select(func.count()).select_from(Customer)).one() == 3
        assert s.exec(select(func.count()).select_from(LeadAssignment)).one() == 5
    # Round robin in arrival order; a returning customer's lead stays with their owner.
    u = scene["users"]
    assert [l.assignee_user_id for l in leads] == [u[0], u[1], u[0], u[2], u[2]]
    for i in ids:  # every stage once, whoever ran it, and the lead log complete
        assert [_log_count(db, i, st) for st in ("received", "identified", "tagged", "assigned")] == [1, 1, 1, 1]


def test_a_lead_failing_in_the_batch_neither_blocks_nor_loses_the_others(rt, scene, monkeypatch):  # noqa: F811
    import crm.leads.identify as identify_module
    real = identify_module.create_customer

    def refusing(session, data, *a, **kw):
        if data.get("name") == "坏":
            raise CrmError("客户信息有误", {"name": "测试用的坏线索"})
        return real(session, data, *a, **kw)

    monkeypatch.setattr(identify_module, "create_customer", refusing)
    db = rt.services.db
    ids = _submit(rt, scene["id"], {"mobile": "13800000001"}, {"mobile": "13800000002", "name": "坏"},
                  {"mobile": "13800000003"}, {"mobile": "13800000004"})
    rt.tick()
    leads = _leads(db, ids)
    assert all(_batched(db, ids[i]) for i in (2, 3))
    # The bad lead went back to its own steps: 识别客户 failed there (error, dead letter), and
    # the steps after it ran as they always did after a permanent failure.
    assert leads[1].customer_id is None and "识别客户" in leads[1].error
    with db.read() as s:
        assert [d.lead_id for d in s.exec(select(LeadDeadLetter))] == [ids[1]]
    assert _log_count(db, ids[1], "identified") == 0 and _log_count(db, ids[1], "error") == 1
    assert all(_log_count(db, i, "identified") == 1 for i in (ids[0], ids[2], ids[3]))
    u = scene["users"]  # the batch's leads in order, then the bad one by its own step
    assert [leads[i].assignee_user_id for i in (0, 2, 3, 1)] == [u[0], u[1], u[2], u[0]]


def test_the_first_lead_failing_still_commits_its_batch(rt, scene, monkeypatch):  # noqa: F811
    import crm.leads.identify as identify_module
    real = identify_module.create_customer

    def refusing(session, data, *a, **kw):
        if data.get("name") == "坏":
            raise CrmError("客户信息有误", {"name": "测试用的坏线索"})
        return real(session, data, *a, **kw)

    monkeypatch.setattr(identify_module, "create_customer", refusing)
    db = rt.services.db
    ids = _submit(rt, scene["id"], {"mobile": "13800000001", "name": "坏"}, {"mobile": "13800000002"},
                  {"mobile": "13800000003"})
    rt.tick()
    leads = _leads(db, ids)
    assert leads[0].customer_id is None and "识别客户" in leads[0].error
    assert _batched(db, ids[1]) and _batched(db, ids[2]) and leads[1].customer_id and leads[2].customer_id
    with db.read() as s:
        assert [d.lead_id for d in s.exec(select(LeadDeadLetter))] == [ids[0]]


class _Crash(BaseException):
    """Not an Exception: nothing in the batch catches it, like a process dying mid-batch."""


def test_a_batch_dying_half_way_leaves_every_lead_pending(rt, scene, monkeypatch):  # noqa: F811
    db = rt.services.db
    ids = _submit(rt, scene["id"], *[{"mobile": f"1380000000{i}"} for i in range(1, 6)])
    real = batch._one
    seen = []

    def dying(session, lead, *a, **kw):
        seen.append(lead.id)
        if len(seen) == 3:
            raise _Crash()
        return real(session, lead, *a, **kw)

    monkeypatch.setattr(batch, "_one", dying)
    with pytest.raises(_Crash):
        _identify(rt, scene["id"], ids[0])
    for lead in _leads(db, ids):
        assert (lead.status, lead.customer_id, lead.assignee_user_id) == ("NEW", None, None)
        assert _log_count(db, lead.id, "identified") == 0
    with db.read() as s:
        assert s.exec(select(func.count()).select_from(Customer)).one() == 0
    monkeypatch.setattr(batch, "_one", real)
    batch.state_of(rt.services.db).memo.clear()
    rt.tick()  # the leads' own steps: processed once each
    assert all(l.status == "ASSIGNED" for l in _leads(db, ids))
    assert all(_log_count(db, i, "identified") == 1 for i in ids)


def _identify(rt, scene_id, lead_id):  # noqa: F811
    """The 识别客户 step of one new lead, run as the executor runs it."""
    db = rt.services.db
    with db.read() as s:
        lead, scene = s.get(Lead, lead_id), s.get(LeadScene, scene_id)
        data = event_data(lead.id, scene, dict(lead.lead_data or {}), lead.channel_id, lead.plan_id, "created", "api")
        strategy_id = scene.strategy_id
    ctx = ProcessorContext(event_code=scene.event_code, data=data, event_record_id=0, strategy_id=strategy_id,
                           task_id=0, idempotency_key=f"t{lead_id}", attempt=1, services=rt.services)
    return IdentifyLeadProcessor().run(ctx, {})


def test_two_processors_racing_over_the_same_leads_do_each_once(rt, scene):  # noqa: F811
    db = rt.services.db
    ids = _submit(rt, scene["id"], *[{"mobile": f"138000000{i:02d}"} for i in range(1, 21)],
                  {"mobile": "13800000001"}, {"mobile": "13800000002"})
    errors = []

    def processor(lead_id):
        try:
            _identify(rt, scene["id"], lead_id)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=processor, args=(i,)) for i in (ids[0], ids[1], ids[5], ids[-1])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    batch.state_of(rt.services.db).memo.clear()  # the leads' own steps must find their stages in the lead log too
    rt.tick()
    leads = _leads(db, ids)
    assert all(l.status == "ASSIGNED" for l in leads)
    for i in ids:
        assert [_log_count(db, i, st) for st in ("identified", "tagged", "assigned")] == [1, 1, 1]
    with db.read() as s:
        assert s.exec(select(func.count()).select_from(Customer)).one() == 20
        assert s.exec(select(func.count()).select_from(LeadAssignment)).one() == 22
    assert [l.duplicate_of_id for l in leads[-2:]] == ids[:2]
    # The rotation went round once per lead, in whatever order the processors took them.
    per_user = {}
    for lead in leads[:20]:
        per_user[lead.assignee_user_id] = per_user.get(lead.assignee_user_id, 0) + 1
    assert sorted(per_user.values()) == [6, 7, 7]


def test_a_batch_past_its_time_leaves_the_rest_to_their_own_steps(rt, scene, monkeypatch):  # noqa: F811
    monkeypatch.setattr(batch, "BATCH_SECONDS", 0.0)
    monkeypatch.setattr(batch, "MIN_BATCH", 2)  # two leads a batch
    db = rt.services.db
    ids = _submit(rt, scene["id"], *[{"mobile": f"1380000000{i}"} for i in range(1, 5)],
                  {"mobile": "13800000001"})
    rt.tick()
    leads = _leads(db, ids)
    assert all(l.status == "ASSIGNED" for l in leads) and leads[-1].duplicate_of_id == ids[0]
    u = scene["users"]
    assert [l.assignee_user_id for l in leads] == [u[0], u[1], u[2], u[0], u[0]]
    assert all(_log_count(db, i, "identified") == 1 for i in ids)


def test_a_customised_strategy_is_processed_lead_by_lead(rt, scene):  # noqa: F811
    from rules.models import Strategy
    db = rt.services.db
    with db.write() as s:
        strategy = s.get(Strategy, s.get(LeadScene, scene["id"]).strategy_id)
        steps = list(strategy.steps)
        steps[1], steps[2] = steps[2], steps[1]  # 分配 before 打标签: not the shape a batch may take
        strategy.steps = steps
        s.add(strategy)
    rt.invalidate()
    ids = _submit(rt, scene["id"], {"mobile": "13800000001"}, {"mobile": "13800000002"})
    rt.tick()
    assert all(l.status == "ASSIGNED" for l in _leads(db, ids))
    assert not any(_batched(db, i) for i in ids)


def test_a_batch_cut_short_makes_the_next_one_read_about_what_fits():
    state = batch._State()
    assert state.batch_hint == batch.BATCH_SIZE
    state.learn(read=batch.BATCH_SIZE, processed=12)  # cut by BATCH_SECONDS after 12 leads
    assert state.batch_hint == 18
    state.learn(read=18, processed=batch.MIN_BATCH)
    assert state.batch_hint == batch.MIN_BATCH + batch.MIN_BATCH // 2
    state.learn(read=15, processed=15)  # it all fitted: read a whole batch again
    assert state.batch_hint == batch.BATCH_SIZE

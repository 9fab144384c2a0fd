"""客户识别 is exact whatever order leads are processed in: a lead is a duplicate of a lead of the
same person identified before it, and the outcome of any processing order — a batch whose first
lead has a higher id than leads it takes, processors racing in threads (on PostgreSQL: in
separate transactions) — is the outcome of identifying the leads one by one in the order the
server recorded (bench.lead_dedupe, the model bench/leads.py checks against)."""
from __future__ import annotations

import random
import threading

import pytest
from sqlmodel import func, select

from bench.lead_dedupe import compare, replay
from crm.customers.models import Customer
from crm.leads import batch
from crm.leads.models import Lead, LeadLog
from tests.crm.leads.test_lead_batch import _identify, _leads, _submit, scene, whole_batches  # noqa: F401 - fixtures
from tests.crm.leads.test_payments import rt  # noqa: F401 - the runtime fixture


def _customers(db) -> int:
    with db.read() as s:
        return s.exec(select(func.count()).select_from(Customer)).one()


def test_a_lead_processed_before_lower_ids_of_its_person_is_the_first_not_a_duplicate(rt, scene):  # noqa: F811
    # Two leads of one person that share nothing with each other, then the lead that links them.
    db = rt.services.db
    ids = _submit(rt, scene["id"], {"mobile": "13800000001", "email": "b@example.com"},
                  {"mobile": "13800000002", "email": "a@example.com"},
                  {"mobile": "13800000001", "email": "a@example.com"})
    _identify(rt, scene["id"], ids[2])  # its step runs first: its batch takes the two lower ids after it
    first, second, linking = _leads(db, ids)
    # Identified first, it is the person's first lead: new customer, no duplicate (it was
    # marked a duplicate of the unidentified lower id AND made the customer, and the two others
    # then counted as matches: one duplicate too few).
    assert linking.duplicate_of_id is None and linking.customer_is_new
    assert first.duplicate_of_id == ids[2] and second.duplicate_of_id == ids[2]
    assert not first.customer_is_new and not second.customer_is_new
    assert first.customer_id == second.customer_id == linking.customer_id
    assert _customers(db) == 1


def _persons(n: int) -> list[dict]:
    """n persons' leads: each an original and two repeats (one by phone, one by e-mail) that share
    nothing with each other; every other person's repeats come before the original."""
    raws = []
    for p in range(n):
        original = {"mobile": f"138{p:04d}5678", "email": f"p{p}@example.com"}
        by_phone = {"mobile": original["mobile"], "email": f"p{p}-b@example.com"}
        by_email = {"mobile": f"139{p:04d}4321", "email": original["email"]}
        raws += [by_phone, by_email, original] if p % 2 else [original, by_phone, by_email]
    return raws


def _identification_order(db) -> list[int]:
    with db.read() as s:
        return list(s.exec(select(LeadLog.lead_id).where(LeadLog.stage == "identified").order_by(LeadLog.id)))


@pytest.mark.parametrize("mode", ["one_by_one", "small_batches"])
def test_racing_processors_give_the_one_by_one_outcome_of_the_recorded_order(rt, scene, monkeypatch, mode):  # noqa: F811
    if mode == "one_by_one":  # each lead's own step (a strategy a batch may not take)
        monkeypatch.setattr(batch, "batch_strategy", lambda *a: None)
    else:  # batches of three leads, each started by whichever step came first
        monkeypatch.setattr(batch, "BATCH_SECONDS", 0.0)
        monkeypatch.setattr(batch, "MIN_BATCH", 3)
    db = rt.services.db
    raws = _persons(8)
    ids = _submit(rt, scene["id"], *raws)
    contacts = {i: (raw["mobile"], raw["email"]) for i, raw in zip(ids, raws)}
    errors = []

    def processor(order):
        for lead_id in order:
            try:
                _identify(rt, scene["id"], lead_id)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    orders = [random.Random(seed).sample(ids, len(ids)) for seed in range(4)]
    threads = [threading.Thread(target=processor, args=(order,)) for order in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    order = _identification_order(db)
    assert sorted(order) == sorted(ids)  # each lead identified exactly once
    expected = replay((i, *contacts[i]) for i in order)
    stored = {l.id: (l.duplicate_of_id, l.customer_id, l.customer_is_new) for l in _leads(db, ids)}
    assert compare(expected, stored) == []
    assert _customers(db) == len({e.customer for e in expected.values()})


def test_a_lead_rolled_back_in_its_batch_leaves_no_trace_in_the_next_leads_identification(rt, scene, monkeypatch):  # noqa: F811
    real = batch.tag_stage

    def failing(session, lead, *a, **kw):  # after 识别客户 made its customer: the whole lead goes back
        if lead.name == "坏":
            raise RuntimeError("测试：打标签失败")
        return real(session, lead, *a, **kw)

    monkeypatch.setattr(batch, "tag_stage", failing)
    db = rt.services.db
    raws = [{"mobile": "13812345678", "email": "a@example.com", "name": "坏"},
            {"mobile": "13812345678", "email": "b@example.com", "name": "乙"}]
    ids = _submit(rt, scene["id"], *raws)
    rt.tick()  # the batch (the second lead identified first), then the first lead by its own steps
    bad, good = _leads(db, ids)
    assert good.duplicate_of_id is None and good.customer_is_new  # the rolled-back lead was never identified
    assert bad.duplicate_of_id == good.id and bad.customer_id == good.customer_id
    order = _identification_order(db)
    assert order == [ids[1], ids[0]]
    expected = replay((i, raw["mobile"], raw["email"]) for i, raw in sorted(zip(ids, raws), key=lambda p: order.index(p[0])))
    assert compare(expected, {l.id: (l.duplicate_of_id, l.customer_id, l.customer_is_new) for l in (bad, good)}) == []
    assert _customers(db) == 1

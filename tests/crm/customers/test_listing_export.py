"""客户档案 list: views, visibility, quick and advanced filters, sort, paging; export masking."""
from __future__ import annotations

import csv

import pytest

from crm.customers import exporting
from crm.customers.listing import ListQuery, list_customers
from crm.errors import CrmError
from crm.groups.models import CustomerGroup, GroupLink, GroupMember
from crm.jobs.runner import JobRunner, get_job
from crm.people import service as people

ALL = {"customers.view", "customers.view_all", "pii.view"}


@pytest.fixture
def world(db, custom_fields, make_customer):
    sales = people.create_user(db, "sales1", "Passw0rd!x", display_name="业务员甲")
    boss = people.create_user(db, "boss1", "Passw0rd!x", display_name="经理乙")
    own = make_customer(name="自己的", mobile="13800000001", owner_id=sales.id, attrs={"aum": 100})
    pooled = make_customer(name="公海的", mobile="13800000002", attrs={"aum": 900, "risk": "high"})
    grouped = make_customer(name="组里的", mobile="13800000003", email="g@x.cn", city="上海", attrs={"aum": 600})
    with db.write() as s:
        group = CustomerGroup(name="A组")
        s.add(group)
        s.flush()
        s.add(GroupLink(customer_id=grouped.id, group_id=group.id))
        s.add(GroupMember(group_id=group.id, user_id=boss.id, role="manager"))
    return {"sales": sales, "boss": boss, "own": own, "pooled": pooled, "grouped": grouped}


def _names(db, user_id, perms, **kw):
    with db.read() as s:
        return [c.name for c in list_customers(s, user_id, perms, ListQuery(**kw))["customers"]]


def test_views(db, world):
    uid = world["sales"].id
    assert _names(db, uid, ALL, view="all") == ["组里的", "公海的", "自己的"]
    assert _names(db, uid, ALL, view="mine") == ["自己的"]
    assert _names(db, uid, ALL, view="grouped") == ["组里的"]
    assert _names(db, uid, ALL, view="pool") == ["公海的", "自己的"]


def test_visibility_without_view_all(db, world):
    perms = {"customers.view"}
    assert _names(db, world["sales"].id, perms) == ["自己的"]
    assert _names(db, world["boss"].id, perms) == ["组里的"]


def test_quick_and_advanced_filters_and_sort(db, world):
    uid = world["sales"].id
    assert _names(db, uid, ALL, quick={"city": "上"}) == ["组里的"]
    rows = [{"field": "aum", "op": "gte", "value": "500", "join": "or"}, {"field": "name", "op": "eq", "value": "自己的"}]
    assert _names(db, uid, ALL, rows=rows, sort="aum") == ["自己的", "组里的", "公海的"]
    assert _names(db, uid, ALL, rows=rows, quick={"risk": "进取"}) == ["公海的"]
    with pytest.raises(CrmError):
        _names(db, uid, ALL, rows=[{"field": "aum", "op": "gt", "value": "很多"}])


def test_paging(db, world):
    with db.read() as s:
        page = list_customers(s, None, ALL, ListQuery(per_page=2, page=2))
    assert (page["total"], page["pages"], len(page["customers"])) == (3, 2, 1)


def _export(services, world, perms, fmt="csv"):
    job = exporting.submit_export(services.db, services.settings.var_dir, ListQuery(view="all"),
                                  ["name", "mobile", "email", "aum"], fmt, user_id=world["sales"].id,
                                  permissions=perms)
    JobRunner(services).run_pending()
    return get_job(services.db, job.id)


def test_export_masked_without_pii_view(services, world):
    job = _export(services, world, {"customers.view", "customers.view_all"})
    assert job.status == "done" and job.ok == 3, job.message
    text = (services.settings.var_dir / job.result_path).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == ["编号", "姓名", "手机号", "邮箱", "可投资资产"]
    assert "138****0003" in text and "13800000003" not in text and "g***@x.cn" in text


def test_export_full_with_pii_view_xlsx(services, world):
    from openpyxl import load_workbook

    job = _export(services, world, ALL, fmt="xlsx")
    ws = load_workbook(services.settings.var_dir / job.result_path).worksheets[0]
    values = [[c.value for c in r] for r in ws.iter_rows()]
    assert values[1][1:4] == ["组里的", "13800000003", "g@x.cn"]

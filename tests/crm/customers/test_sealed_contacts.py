"""Phones and e-mails at rest (issue 9 item 9): the customer, company and lead tables hold only
ciphertext — whether the contact came from the service, an import or lead intake — while lookups,
dedup, identification and the list filters (full number, 后四位) keep working, and partial
matches on a sealed field are refused with a message naming it."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import text
from sqlmodel import select

from crm.customers import companies, importing, service
from crm.customers.audience import audience_select, validate_spec
from crm.customers.listing import ListQuery, list_customers
from crm.customers.models import Customer
from crm.errors import CrmError
from crm.jobs.runner import JobRunner, get_job
from crm.leads.identify import identify
from crm.leads.intake import Submission, submit
from crm.leads.models import Lead, LeadScene
from crm.leads.service import list_leads
from engine.lead_scenes import save_scene
from handlers.registry import default_registry
from tests.crm.customers.conftest import csv_bytes

ALL = {"customers.view", "customers.view_all", "pii.view"}
REFUSED = "手机号已加密存储，只支持完整号码或后四位查找"


def _raw(db, sql: str) -> str:
    """Every value the database returns for `sql`, as one text (what a stolen file would show)."""
    with db.read() as s:
        return repr([tuple(r) for r in s.execute(text(sql))])


def _names(db, **kw) -> list[str]:
    with db.read() as s:
        return sorted(c.name for c in list_customers(s, None, ALL, ListQuery(**kw))["customers"])


@pytest.fixture
def three(db):
    with db.write() as s:
        for name, mobile, email in (("张三", "13800138000", "zs@example.com"), ("李四", "13900139000", None),
                                    ("王五", "13700008000", "ww@example.com")):
            service.create_customer(s, {"name": name, "mobile": mobile, "email": email})


def test_service_writes_ciphertext_and_reads_plain_text(db, three):
    with db.write() as s:
        companies.create_company(s, {"name": "星辰科技", "phone": "13600136000"})
    stored = _raw(db, "SELECT mobile, email, mobile_bidx, mobile_tail_bidx, email_bidx FROM customer")
    stored += _raw(db, "SELECT phone FROM company")
    for plain in ("13800138000", "zs@example.com", "13900139000", "13600136000", "8000"):
        assert plain not in stored
    assert stored.count("pii1:") == 6
    with db.read() as s:
        zs = s.exec(select(Customer).where(Customer.name == "张三")).one()
        assert (zs.mobile, zs.email) == ("13800138000", "zs@example.com")


def test_duplicates_are_found_through_the_blind_index(db, three):
    with db.write() as s:
        with pytest.raises(CrmError) as err:
            service.create_customer(s, {"name": "重复", "mobile": "+86 138-0013-8000"})
        assert "张三" in str(err.value.errors) or "张三" in str(err.value)
        with pytest.raises(CrmError):
            service.create_customer(s, {"name": "重复", "email": "ZS@example.com"})


def test_list_filters_by_full_number_and_last_four(db, three):
    assert _names(db, quick={"mobile": "13800138000"}) == ["张三"]
    assert _names(db, quick={"mobile": "+86 139 0013 9000"}) == ["李四"]
    assert _names(db, quick={"mobile": "8000"}) == ["张三", "王五"]
    assert _names(db, quick={"email": "WW@example.com"}) == ["王五"]
    rows = [{"field": "email", "op": "is_empty", "value": None, "join": "and"}]
    assert _names(db, rows=rows) == ["李四"]
    rows = [{"field": "mobile", "op": "in", "value": "13800138000,13900139000", "join": "and"}]
    assert _names(db, rows=rows) == ["张三", "李四"]
    rows = [{"field": "mobile", "op": "ends_with", "value": "9000", "join": "and"}]
    assert _names(db, rows=rows) == ["李四"]


@pytest.mark.parametrize("field, op, value, message", [
    ("mobile", "contains", "138", REFUSED),
    ("mobile", "starts_with", "1380", REFUSED),
    ("mobile", "regex", "^138", REFUSED),
    ("email", "contains", "example", "邮箱已加密存储，只支持完整邮箱地址查找"),
])
def test_partial_matches_on_sealed_fields_are_refused_by_name(db, three, field, op, value, message):
    with db.read() as s:
        with pytest.raises(CrmError) as err:
            validate_spec(s, {"mode": "conditions", "rows": [{"field": field, "op": op, "value": value}]})
        assert message in err.value.errors["rows"]
        with pytest.raises(CrmError) as err:
            list_customers(s, None, ALL, ListQuery(quick={field: value}) if op == "contains" else
                           ListQuery(rows=[{"field": field, "op": op, "value": value, "join": "and"}]))
        assert message in err.value.errors["rows"]


def test_import_seals_and_matches_existing_customers(services, three):
    data = csv_bytes([["姓名", "手机号", "邮箱"], ["张三新", "13800138000", ""], ["赵六", "13500135000", "zl@example.com"]])
    job = importing.submit_import(services.db, services.settings.var_dir, "客户.csv", io.BytesIO(data))
    JobRunner(services).run_pending()
    job = get_job(services.db, job.id)
    assert (job.status, job.ok, job.failed) == ("done", 2, 0), job.message
    stored = _raw(services.db, "SELECT mobile, email FROM customer")
    assert "13500135000" not in stored and "zl@example.com" not in stored
    assert _names(services.db, quick={"mobile": "13800138000"}) == ["张三新"]  # updated, not duplicated
    assert _names(services.db, quick={"mobile": "5000"}) == ["赵六"]


def test_leads_are_sealed_deduplicated_and_identified(services, three):
    with services.db.write() as s:
        scene, _ = save_scene(s, {"name": "表单", "scene_type": "WEB_FORM"}, registry=default_registry(services),
                              box=services.secret_box)
    people = [{"name": "张三", "phone": "13800138000", "message": "回电 13800138000"},
              {"name": "张三", "email": "zs@example.com"}, {"name": "钱七", "phone": "13300133000"}]
    results = submit(services.db, scene.id, [Submission(raw={"submission_data": p}) for p in people],
                     now=services.now())
    ids = [r.lead_id for r in results]
    stored = _raw(services.db, "SELECT mobile, email, lead_data, raw_data FROM lead")
    for plain in ("13800138000", "zs@example.com", "13300133000"):
        assert plain not in stored
    with services.db.write() as s:
        scene = s.get(LeadScene, scene.id)
        found = [identify(s, s.get(Lead, i), scene, services.now()) for i in ids]
    assert found[0].matched_by == "mobile" and found[1].matched_by == "email"
    assert found[0].customer_id == found[1].customer_id and found[2].created
    with services.db.read() as s:
        lead = s.get(Lead, ids[0])
        assert lead.mobile == "13800138000" and lead.raw_data["submission_data"]["message"] == "回电 13800138000"
        assert [r.id for r in list_leads(s, q="13300133000")[0]] == [ids[2]]
        assert [r.id for r in list_leads(s, q="3000")[0]] == [ids[2]]
        assert [r.id for r in list_leads(s, q="zs@example.com")[0]] == [ids[1]]


def test_rows_written_before_the_migration_still_read(db, three):
    with db.write() as s:  # a row as it was stored before migration 0013: plain text
        s.execute(text("UPDATE customer SET mobile = '13800000000' WHERE name = '李四'"))
    with db.read() as s:
        assert s.exec(select(Customer).where(Customer.name == "李四")).one().mobile == "13800000000"


@pytest.mark.parametrize("value, index", [("13800138000", "ix_customer_mobile_bidx"),
                                          ("8000", "ix_customer_mobile_tail_bidx")])
def test_phone_filters_use_the_blind_indexes(db, three, value, index):
    if db.dialect != "sqlite":
        pytest.skip("query plan check is SQLite's")
    with db.read() as s:
        stmt = audience_select(s, {"rows": [{"field": "mobile", "op": "contains", "value": value}]})
        compiled = stmt.compile(s.get_bind(), compile_kwargs={"literal_binds": True})
        plan = s.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    assert index in " ".join(str(r) for r in plan)

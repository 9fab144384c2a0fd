"""客户导入: template, error rows (row/column/reason), update by mobile then e-mail keeping
groups, target group, tags, CSV encodings."""
from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlmodel import select

from config.pii_column import blind_index
from crm.customers import importing
from crm.customers.import_columns import template_csv, template_xlsx
from crm.customers.models import Customer, GrowthRecord
from crm.groups.models import CustomerGroup, GroupLink
from crm.jobs.runner import JobRunner, get_job
from crm.tags.models import CustomerTag, Tag, TagCategory, TagHistory
from tests.crm.customers.conftest import csv_bytes, xlsx_bytes

HEADER = ["姓名", "手机号", "邮箱", "城市", "可投资资产", "风险偏好", "公司"]


def _run(services, data: bytes, filename="客户.xlsx", **kw):
    job = importing.submit_import(services.db, services.settings.var_dir, filename, io.BytesIO(data), **kw)
    JobRunner(services).run_pending()
    return get_job(services.db, job.id)


def test_template_has_builtin_and_custom_columns(db, custom_fields):
    with db.read() as s:
        wb = load_workbook(io.BytesIO(template_xlsx(s)))
        header = [c.value for c in wb.worksheets[0][1]]
        assert header[:3] == ["姓名", "手机号", "邮箱"] and "可投资资产" in header and "风险偏好" in header
        assert template_csv(s).decode("utf-8-sig").startswith("姓名,手机号,邮箱")


def test_import_with_error_rows_names_row_column_reason(services, custom_fields):
    data = xlsx_bytes([HEADER,
                       ["张三", "+86 138 0013 8000", "ZS@Example.com", "上海", 600, "进取", "星辰科技"],
                       ["李四", "12345", "", "北京", "", "", ""],
                       ["王五", "13900139000", "", "", "很多", "", ""],
                       ["赵六", "13800138000", "", "", "", "", ""],
                       ["", "13700137000", "", "", "", "稳健", ""]])
    job = _run(services, data)
    assert job.status == "done", job.message
    assert job.ok == 1 and job.failed == 4
    sheet = load_workbook(services.settings.var_dir / job.result_path).worksheets[0]
    rows = [tuple(c.value for c in r) for r in sheet.iter_rows(min_row=2)]
    assert (3, "手机号", rows[0][2]) == rows[0] and "格式不正确" in rows[0][2]
    assert rows[1][:2] == (4, "可投资资产") and "不是数字" in rows[1][2]
    assert rows[2][:2] == (5, "手机号") and "第 2 行" in rows[2][2]
    assert rows[3][:2] == (6, "姓名") and "新客户需要填写" in rows[3][2]
    with services.db.read() as s:
        c = s.exec(select(Customer).where(Customer.mobile_bidx == blind_index("mobile", "13800138000"))).one()
        assert c.email == "zs@example.com" and c.attrs == {"aum": 600, "risk": "high"} and c.company_id
        assert s.exec(select(GrowthRecord).where(GrowthRecord.customer_id == c.id)).first().kind == "import"


def test_update_by_mobile_then_email_keeps_old_values_and_groups(services, custom_fields, make_customer):
    a = make_customer(name="老张", mobile="13800138000", city="杭州", attrs={"aum": 10, "risk": "low"})
    b = make_customer(name="老李", email="li@example.com", city="苏州")
    with services.db.write() as s:
        group = CustomerGroup(name="VIP客户组")
        s.add(group)
        s.flush()
        s.add(GroupLink(customer_id=a.id, group_id=group.id, assignee_id=None))
    data = xlsx_bytes([HEADER,
                       ["", "13800138000", "", "", 700, "", ""],
                       ["李雷", "13600136000", "LI@example.com", "", "", "稳健", ""]])
    job = _run(services, data)
    assert job.status == "done" and job.ok == 2 and job.failed == 0, job.message
    with services.db.read() as s:
        a2, b2 = s.get(Customer, a.id), s.get(Customer, b.id)
        assert (a2.name, a2.city, a2.attrs) == ("老张", "杭州", {"aum": 700, "risk": "low"})
        assert (b2.name, b2.mobile, b2.city, b2.attrs) == ("李雷", "13600136000", "苏州", {"risk": "mid"})
        assert s.exec(select(GroupLink).where(GroupLink.customer_id == a.id)).one()
        assert s.exec(select(Customer)).all().__len__() == 2


def test_import_into_group_with_tags_csv_gbk(services, custom_fields):
    with services.db.write() as s:
        group = CustomerGroup(name="导入组")
        cat = TagCategory(name="兴趣")
        s.add_all([group, cat])
        s.flush()
        tag = Tag(category_id=cat.id, name="户外运动爱好者", kind="manual", score=5)
        s.add(tag)
        s.flush()
        group_id, tag_id = group.id, tag.id
    data = csv_bytes([["姓名", "手机号"], ["甲", "13500135000"], ["乙", "13500135001"]], encoding="gbk")
    job = _run(services, data, filename="a.csv", group_id=group_id, tag_ids=[tag_id])
    assert job.status == "done" and job.ok == 2, job.message
    with services.db.read() as s:
        ids = [c.id for c in s.exec(select(Customer))]
        assert len(s.exec(select(GroupLink).where(GroupLink.group_id == group_id)).all()) == 2
        assert {ct.customer_id for ct in s.exec(select(CustomerTag).where(CustomerTag.tag_id == tag_id))} == set(ids)
        assert len(s.exec(select(TagHistory)).all()) == 2
        assert {c.tag_score for c in s.exec(select(Customer))} == {5}


def test_bad_file_fails_job_with_reason(services):
    job = _run(services, b"not a zip", filename="x.xlsx")
    assert job.status == "failed" and "Excel" in job.message


def test_total_counts_rows_not_error_cells(services, custom_fields):
    """A row with three bad cells is one failed row: 共 3 行, not 共 5 行."""
    data = xlsx_bytes([HEADER,
                       ["张三", "13800138000", "", "", "", "", ""],
                       ["李四", "12345", "not-an-email", "", "很多", "", ""],
                       ["王五", "13900139000", "", "", "", "", ""]])
    job = _run(services, data)
    assert job.status == "done", job.message
    assert (job.total, job.done, job.ok, job.failed) == (3, 3, 2, 1)
    assert job.message.startswith("共 3 行") and "失败 1" in job.message
    sheet = load_workbook(services.settings.var_dir / job.result_path).worksheets[0]
    assert {r[0].value for r in sheet.iter_rows(min_row=2)} == {3} and sheet.max_row == 4  # three cells of row 3


def test_an_import_updates_only_customers_the_uploader_may_see(services, custom_fields, make_customer):
    """A 部门经理's file naming another salesperson's customer neither updates nor names it."""
    theirs = make_customer(name="李四机密", mobile="13900139000", email="ls@example.com", city="北京")
    data = xlsx_bytes([HEADER, ["改名", "13900139000", "", "上海", "", "", ""],
                       ["新人", "13700137000", "ls@example.com", "", "", "", ""],
                       ["王五", "13600136000", "", "", "", "", ""]])
    job = _run(services, data, created_by=None, permissions=["customers.import", "customers.view"])
    assert job.status == "done", job.message
    assert (job.ok, job.failed) == (1, 2)
    with services.db.read() as s:
        row = s.get(Customer, theirs.id)
        assert (row.name, row.city) == ("李四机密", "北京")
    sheet = load_workbook(services.settings.var_dir / job.result_path).worksheets[0]
    reasons = [r[2].value for r in sheet.iter_rows(min_row=2)]
    assert all("不在你的可见范围内" in r for r in reasons) and not any("李四" in r for r in reasons)


def test_digits_of_every_script_are_one_number_and_nul_is_cleaned(services, custom_fields):
    """A CSV (as some tools export) with Arabic-Indic digits, mathematical digits and a NUL: the
    numbers are stored as 11 ASCII digits (so dedup and masking see them) and the NUL is cleaned,
    never stored (PostgreSQL would refuse the whole import)."""
    data = csv_bytes([HEADER,
                      ["张\x00三", "١٣٨٠٠١٣٨٠٠٠", "", "", "", "", ""],
                      ["李四", "𝟏𝟑𝟗𝟎𝟎𝟏𝟑𝟗𝟎𝟎𝟎", "", "", "", "", ""]])
    job = _run(services, data, filename="客户.csv")
    assert job.status == "done" and (job.ok, job.failed) == (2, 0), job.message
    with services.db.read() as s:
        people = {c.mobile: c.name for c in s.exec(select(Customer))}
    assert people == {"13800138000": "张\ufffd三", "13900139000": "李四"}

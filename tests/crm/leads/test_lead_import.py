"""线索导入: CSV (UTF-8 with or without BOM, GBK) and .xlsx files become leads of the chosen scene
through the background job; headers in Chinese or English; other columns kept in raw data; the
error sheet names row, column and reason; 外部ID imported once per scene and refused twice in a
file; size and row limits refused in Chinese; a job taken over after a crash resumes."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from crm.jobs.runner import JobRunner, get_job
from crm.leads import importing
from crm.leads.errors import LeadsError
from crm.leads.models import AcquisitionPlan, Lead, LeadChannel
from engine.lead_scenes import save_scene
from handlers.registry import default_registry
from tests.crm.customers.conftest import csv_bytes, xlsx_bytes

HEADER = ["姓名", "手机号", "邮箱", "公司", "需求", "外部ID", "展位号"]


@pytest.fixture
def scene_id(services):
    with services.db.write() as s:
        scene, _ = save_scene(s, {"name": "展会名单", "key": "expo", "scene_type": "FILE_IMPORT",
                                  "dedup_strategy": "BY_PHONE"}, registry=default_registry(services),
                              box=services.secret_box)
        return scene.id


def run_file(services, scene_id, name: str, data: bytes, **kw):
    job = importing.submit_import(services.db, services.settings.var_dir, name, io.BytesIO(data),
                                  scene_id=scene_id, created_by=None, **kw)
    JobRunner(services).run_pending()
    return get_job(services.db, job.id)


def leads(services) -> list[Lead]:
    with services.db.read() as s:
        return list(s.scalars(select(Lead).order_by(Lead.id)))


def error_rows(services, job) -> list[tuple]:
    wb = load_workbook(Path(services.settings.var_dir) / job.result_path, read_only=True)
    rows = [tuple(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()
    return rows


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_every_encoding(services, scene_id, encoding):
    data = csv_bytes([HEADER, ["张三", "138-0013-8000", "ZS@Example.com", "示例科技", "要报价", "E1", "A12"]],
                     encoding=encoding)
    job = run_file(services, scene_id, "名单.csv", data)
    assert (job.status, job.ok, job.failed) == ("done", 1, 0), job.message
    lead = leads(services)[0]
    assert (lead.name, lead.mobile, lead.email, lead.external_id) == ("张三", "13800138000", "zs@example.com", "E1")
    assert lead.lead_data["company"] == "示例科技" and lead.lead_data["message"] == "要报价"
    assert lead.raw_data["展位号"] == "A12"  # unknown columns are kept for mapping rules
    assert lead.meta == {"file": "名单.csv", "row": 2}


def test_xlsx_with_english_headers_channel_and_plan(services, scene_id):
    with services.db.write() as s:
        channel = LeadChannel(name="展会", code="expo2026", channel_type="OFFLINE_EVENT")
        plan = AcquisitionPlan(name="秋季展会", scene_id=scene_id)
        s.add_all([channel, plan])
        s.flush()
        channel_id, plan_id = channel.id, plan.id
    data = xlsx_bytes([["Name", "Phone", "email", "wechat", "Region", "Value", "external_id"],
                       ["李四", 13900139000, None, "lisi_wx", "上海", 5000, "X-1"],
                       [None, None, None, None, None, None, None],  # a blank row is skipped but counted
                       ["王五", "13700137000", "ww@example.com", None, None, None, None]])
    job = run_file(services, scene_id, "list.xlsx", data, channel_id=channel_id, plan_id=plan_id)
    assert (job.status, job.ok, job.failed, job.total) == ("done", 2, 0, 2), job.message
    first, second = leads(services)
    assert (first.mobile, first.value, first.region, first.lead_data["wechat"]) == ("13900139000", 5000, "上海", "lisi_wx")
    assert (first.channel_id, first.plan_id) == (channel_id, plan_id)
    assert second.meta["row"] == 4 and second.external_id is None


def test_error_sheet_names_row_column_and_reason(services, scene_id):
    data = csv_bytes([HEADER,
                      ["好人", "13800138001", "", "", "", "A1", ""],
                      ["坏号码", "12345", "", "", "", "A2", ""],
                      ["重复单号", "13800138003", "", "", "", "A1", ""],
                      ["没联系方式", "", "", "", "", "A4", ""],
                      ["test", "13800138005", "", "", "", "A5", ""]])
    job = run_file(services, scene_id, "bad.csv", data)
    assert (job.ok, job.failed) == (1, 4)
    assert "新线索 1" in job.message and "失败 4" in job.message
    rows = error_rows(services, job)
    assert rows[0] == ("行号", "列", "原因")
    by_row = {r[0]: r for r in rows[1:]}
    assert by_row[3][1] == "手机号" and "12345" in by_row[3][2]
    assert by_row[4][1:] == ("外部ID", "与第 2 行的外部ID重复")
    assert by_row[5][1] == "手机号" and "联系方式" in by_row[5][2]
    assert by_row[6][1] == "姓名" and "测试" in by_row[6][2]
    assert [lead.external_id for lead in leads(services)] == ["A1"]


def test_external_ids_are_imported_once_per_scene(services, scene_id):
    data = csv_bytes([HEADER, ["张三", "13800138000", "", "", "", "E1", ""], ["李四", "13900139000", "", "", "", "", ""]])
    run_file(services, scene_id, "a.csv", data)
    job = run_file(services, scene_id, "a.csv", data)
    assert (job.ok, job.failed) == (2, 0)
    assert "新线索 1" in job.message and "重复（外部ID已导入过）1" in job.message
    assert [lead.external_id for lead in leads(services)] == ["E1", None, None]


def test_limits_and_bad_files_are_refused_in_chinese(services, scene_id, monkeypatch):
    var = services.settings.var_dir
    with pytest.raises(LeadsError, match="只支持 .xlsx 和 .csv"):
        importing.submit_import(services.db, var, "a.txt", io.BytesIO(b"x"), scene_id=scene_id)
    with pytest.raises(LeadsError, match="文件是空的"):
        importing.submit_import(services.db, var, "a.csv", io.BytesIO(b""), scene_id=scene_id)
    with pytest.raises(LeadsError, match="请选择导入到哪个获客场景"):
        importing.submit_import(services.db, var, "a.csv", io.BytesIO(b"x"), scene_id=None)
    with pytest.raises(LeadsError, match="渠道不存在"):
        importing.submit_import(services.db, var, "a.csv", io.BytesIO(b"x"), scene_id=scene_id, channel_id=999)
    monkeypatch.setattr(importing, "MAX_UPLOAD_BYTES", 1024)
    with pytest.raises(LeadsError, match="文件太大"):
        importing.submit_import(services.db, var, "a.csv", io.BytesIO(b"x" * 2048), scene_id=scene_id)
    assert list((Path(var) / "imports").glob("lead_upload_*")) == []  # nothing half-written
    monkeypatch.setattr(importing, "MAX_ROWS", 3)
    rows = [HEADER] + [[f"客户{n}", f"1380013{n:04d}", "", "", "", "", ""] for n in range(4)]
    job = run_file(services, scene_id, "big.csv", csv_bytes(rows))
    assert (job.status, job.message) == ("failed", "一次最多导入 3 行，请拆分文件")
    job = run_file(services, scene_id, "x.csv", csv_bytes([["甲", "乙"], ["1", "2"]]))
    assert job.status == "failed" and "表头里没有可识别的列" in job.message
    job = run_file(services, scene_id, "x.xlsx", b"not a zip")
    assert job.status == "failed" and "无法读取 Excel" in job.message
    job = run_file(services, scene_id, "x.csv", "姓名,手机号\n张三,13800138000\n".encode("utf-16"))
    assert job.status == "failed" and "编码无法识别" in job.message
    assert leads(services) == []


def test_progress_is_reported_per_batch(services, scene_id, monkeypatch):
    monkeypatch.setattr(importing, "BATCH", 2)
    seen = []
    job = importing.submit_import(services.db, services.settings.var_dir, "p.csv", io.BytesIO(csv_bytes(
        [HEADER] + [[f"客户{n}", f"1380013{n:04d}", "", "", "", "", ""] for n in range(5)])), scene_id=scene_id)
    importing.run_import(services.db, get_job(services.db, job.id), lambda *a: seen.append(a))
    assert seen == [(0, 5, 0, 0), (2, 5, 2, 0), (4, 5, 4, 0), (5, 5, 5, 0)]


def test_a_job_taken_over_after_a_crash_resumes(services, scene_id, monkeypatch):
    monkeypatch.setattr(importing, "BATCH", 2)
    data = csv_bytes([HEADER] + [[f"客户{n}", f"1380013{n:04d}", "", "", "", "", ""] for n in range(5)])
    job = importing.submit_import(services.db, services.settings.var_dir, "r.csv", io.BytesIO(data), scene_id=scene_id)
    # The first worker stored two batches and reported them, then died.
    first = get_job(services.db, job.id)
    calls = []

    def crash(done, total, ok, failed):
        calls.append(done)
        if done == 4:
            raise SystemExit("worker died")
    with pytest.raises(SystemExit):
        importing.run_import(services.db, first, crash)
    resumed = get_job(services.db, job.id)
    resumed.done, resumed.ok, resumed.params = 4, 4, {**resumed.params, "_attempts": 2}
    out = importing.run_import(services.db, resumed, lambda *a: None)
    assert out["ok"] == 5 and "从第 5 条数据继续" in out["message"]
    assert len(leads(services)) == 5


def test_templates_have_the_chinese_headers():
    wb = load_workbook(io.BytesIO(importing.template_xlsx()), read_only=True)
    header = next(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    assert list(header) == ["姓名", "手机号", "邮箱", "微信", "公司", "需求", "地区", "产品", "意向", "价值", "外部ID"]
    assert importing.template_csv().decode("utf-8-sig").splitlines()[0].startswith("姓名,手机号,邮箱")

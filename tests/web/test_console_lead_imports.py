"""线索导入 console: upload with CSRF → background job → result and error sheet on the page; bad
uploads re-render the form with a Chinese message; 订单同步记录 lists polling scenes and runs and
立即同步 pulls from a scripted platform; a browser uploads a file and sees the job finish."""
from __future__ import annotations

import io
import threading

import pytest
from sqlalchemy import select

from crm.jobs.runner import JobRunner
from crm.leads.models import Lead, PullRun
from engine.lead_scenes import save_scene
from tests.crm.customers.conftest import csv_bytes, xlsx_bytes
from tests.support.fake_http import Reply
from tests.web.conftest import get_csrf_token


@pytest.fixture
def settings(settings):
    """The scripted platform lives on loopback, which the SSRF guard refuses unless allow-listed."""
    return settings.model_copy(update={"http_allow_private_hosts": ["127.0.0.1"]})


@pytest.fixture
def signed_in(client, admin_user, login):
    login(client)
    return client


def _scene(app, data: dict) -> int:
    runtime = app.extensions["ckb"]
    with runtime.services.db.write() as s:
        scene, _ = save_scene(s, data, registry=runtime.registry, box=runtime.services.secret_box)
        return scene.id


@pytest.fixture
def scene_id(app):
    return _scene(app, {"name": "展会名单", "key": "expo", "scene_type": "FILE_IMPORT"})


def _upload(client, token, scene, data: bytes, name: str, **extra):
    return client.post("/leads/imports", data={"csrf_token": token, "scene_id": str(scene or ""),
                                               "file": (io.BytesIO(data), name), **extra},
                       content_type="multipart/form-data")


def test_upload_runs_the_job_and_shows_the_result(signed_in, app, app_db, scene_id):
    html = signed_in.get("/leads/imports").get_data(as_text=True)
    assert "线索导入" in html and "展会名单（文件导入）" in html and "下载模板（Excel）" in html
    template = signed_in.get("/leads/imports/template.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    template.close()
    token = get_csrf_token(signed_in, "/leads/imports")
    file = xlsx_bytes([["姓名", "手机号", "外部ID"], ["张三", "13600136000", "E1"], ["坏行", "123", "E2"]])
    resp = _upload(signed_in, token, scene_id, file, "名单.xlsx")
    assert resp.status_code == 302
    job_id = int(resp.location.rsplit("=", 1)[-1])
    assert signed_in.get(f"/leads/imports/jobs/{job_id}.json").get_json()["status"] == "queued"
    JobRunner(app.extensions["ckb"].services).run_pending()
    html = signed_in.get("/leads/imports").get_data(as_text=True)
    assert "新线索 1" in html and "失败 1" in html and "下载错误明细" in html
    status = signed_in.get(f"/leads/imports/jobs/{job_id}.json").get_json()
    assert (status["status"], status["percent"], status["ok"], status["failed"]) == ("done", 100, 1, 1)
    sheet = signed_in.get(status["result_url"])
    assert sheet.status_code == 200 and sheet.data[:2] == b"PK"
    sheet.close()
    with app_db.read() as s:
        assert [lead.external_id for lead in s.scalars(select(Lead))] == ["E1"]


def test_bad_uploads_rerender_the_form_in_chinese(signed_in, scene_id):
    token = get_csrf_token(signed_in, "/leads/imports")
    resp = _upload(signed_in, token, scene_id, b"x", "a.txt")
    assert resp.status_code == 400 and "只支持 .xlsx 和 .csv 文件" in resp.get_data(as_text=True)
    resp = _upload(signed_in, token, None, b"x", "a.csv")
    assert resp.status_code == 400 and "请选择导入到哪个获客场景" in resp.get_data(as_text=True)
    resp = signed_in.post("/leads/imports", data={"csrf_token": token, "scene_id": str(scene_id)},
                          content_type="multipart/form-data")
    assert resp.status_code == 400 and "请选择要导入的文件" in resp.get_data(as_text=True)
    resp = _upload(signed_in, "", scene_id, csv_bytes([["姓名"], ["张三"]]), "a.csv")
    assert resp.status_code == 400  # no CSRF token
    assert signed_in.get("/leads/imports/jobs/999.json").status_code == 404
    assert signed_in.get("/leads/imports/template.pdf").status_code == 404


def test_pull_records_and_manual_sync(signed_in, app, app_db, fake_http):
    scene = _scene(app, {"name": "有赞订单", "key": "youzan", "scene_type": "ORDER_SYNC",
                         "params": {"pull": {"enabled": True, "kind": "orders", "endpoint": fake_http.url("/orders"),
                                             "page_size": 50, "interval_minutes": 10}},
                         "credentials": {"access_token": "tok"}})
    html = signed_in.get("/leads/pulls").get_data(as_text=True)
    assert "有赞订单" in html and "订单同步" in html and "每 10 分钟" in html and "从未同步" in html
    fake_http.script("/orders", Reply(200, {"items": [{"order_no": "SO1", "buyer_name": "张三",
                                                       "buyer_phone": "13600136000"}],
                                            "next_cursor": "c1", "has_more": False}), Reply(503, {"message": "维护中"}))
    token = get_csrf_token(signed_in, "/leads/pulls")
    html = signed_in.post(f"/leads/pulls/{scene}/sync", data={"csrf_token": token},
                          follow_redirects=True).get_data(as_text=True)
    assert "同步完成：拉取 1 条，新线索 1" in html and "c1" in html
    html = signed_in.post(f"/leads/pulls/{scene}/sync", data={"csrf_token": token},
                          follow_redirects=True).get_data(as_text=True)
    assert "同步失败：平台返回 HTTP 503：维护中" in html and "连续失败 1 次，退避 1 分钟" in html
    assert fake_http.requests_to("/orders")[1].query["cursor"] == ["c1"]
    with app_db.read() as s:
        assert [r.ok for r in s.scalars(select(PullRun).order_by(PullRun.id))] == [True, False]
    assert signed_in.post("/leads/pulls/999/sync", data={"csrf_token": token}).status_code == 404
    assert signed_in.post(f"/leads/pulls/{scene}/sync").status_code == 400  # no CSRF token


@pytest.mark.browser
def test_browser_upload_shows_progress_then_result(page, app, admin_user, browser_login, scene_id, tmp_path):
    upload = tmp_path / "名单.csv"
    upload.write_bytes(csv_bytes([["姓名", "手机号"]] + [[f"客户{n}", f"1380013{n:04d}"] for n in range(30)]
                                 + [["坏行", "123"]]))
    browser_login()
    page.goto("/leads/imports")
    page.select_option("#f-scene_id", str(scene_id))
    page.set_input_files("#f-file", str(upload))
    page.click("[data-testid=lead-import-form] button[type=submit]")
    page.wait_for_load_state()
    assert "已提交线索导入任务" in page.content()
    assert page.locator("[data-testid^=job-progress-]").first.get_attribute("data-job-state") == "queued"
    # The worker thread's job, run beside the open page: its polling reloads the page when done.
    worker = threading.Thread(target=JobRunner(app.extensions["ckb"].services).run_pending)
    worker.start()
    page.wait_for_selector("text=新线索 30", timeout=15_000)
    worker.join()
    assert "失败 1" in page.content()
    assert page.locator("[data-testid^=job-result-]").first.inner_text() == "下载错误明细"

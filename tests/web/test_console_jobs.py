"""任务调度 pages: the list of every job, editing a schedule (Chinese error next to the field,
next runs), on/off and 恢复默认, 立即执行 queued once, registered jobs, permissions."""
from __future__ import annotations

from sqlmodel import select

from crm.people import service as people
from crm.people import roles as role_service
from engine.cron_models import CronRunRequest, CronSchedule, CustomCronJob
from events.definitions import import_builtin
from tests.web.conftest import get_csrf_token


def _admin(client, login, admin_user):
    assert login(client).status_code == 302
    return get_csrf_token(client, "/jobs")


def test_every_registered_job_is_listed_with_module_schedule_and_next_run(client, login, admin_user):
    _admin(client, login, admin_user)
    html = client.get("/jobs").get_data(as_text=True)
    for key, name in (("auto_tag", "自动打标签"), ("recycle", "客户回收"), ("group_rules", "自动分组"),
                      ("allocation", "自动分配"), ("resume_paused_accounts", "恢复暂停到期的微信号")):
        assert f'data-testid="job-{key}"' in html and name in html
    assert "客户中心 · 标签" in html and "05:30" in html and "2026-11-21 05:30 周六" in html  # clock: 11-20 10:00
    assert client.get("/jobs?q=回收").get_data(as_text=True).count('data-testid="job-') == 1


def test_a_bad_schedule_is_refused_beside_the_field_and_a_good_one_moves_the_next_runs(client, login, admin_user, app_db):
    token = _admin(client, login, admin_user)
    resp = client.post("/jobs/auto_tag", data={"csrf_token": token, "schedule": "25:10", "enabled": "1"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "field-error" in html and "时间「25:10」无效" in html
    with app_db.read() as s:
        assert s.exec(select(CronSchedule)).all() == []
    resp = client.post("/jobs/auto_tag", data={"csrf_token": token, "schedule": "06:10", "enabled": "1"},
                       follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "已保存「自动打标签」" in html and "2026-11-21 06:10 周六" in html and "恢复默认（05:30）" in html
    with app_db.read() as s:
        row = s.get(CronSchedule, "auto_tag")
        assert (row.schedule, row.enabled, row.updated_by) == ("06:10", True, "admin")
    html = client.get("/jobs").get_data(as_text=True)
    assert "默认 05:30" in html
    client.post("/jobs/auto_tag", data={"csrf_token": token, "schedule": "06:10"})  # unticked: disabled
    assert "停用" in client.get("/jobs?q=auto_tag").get_data(as_text=True)
    html = client.post("/jobs/auto_tag/reset", data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert "已恢复默认执行时间 05:30" in html
    assert client.get("/jobs/preview?schedule=*/15+*+*+*+*").get_json()["runs"][:2] == ["2026-11-20 10:00 周五",
                                                                                       "2026-11-20 10:15 周五"]
    assert "段" in client.get("/jobs/preview?schedule=1+2").get_json()["error"]
    assert client.get("/jobs/no_such_job").status_code == 404


def test_run_now_twice_queues_one_request(client, login, admin_user, app_db):
    token = _admin(client, login, admin_user)
    first = client.post("/jobs/recycle/run", data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    second = client.post("/jobs/recycle/run", data={"csrf_token": token}, follow_redirects=True).get_data(as_text=True)
    assert "已提交立即执行" in first and "已在排队" in second and 'data-job-live="1"' in second
    with app_db.read() as s:
        assert [(r.job_key, r.status, r.requested_by) for r in s.exec(select(CronRunRequest))] == [
            ("recycle", "pending", "admin")]


def test_an_admin_registers_edits_and_deletes_an_event_job(client, login, admin_user, app_db):
    token = _admin(client, login, admin_user)
    with app_db.write() as s:
        import_builtin(s)
    form = {"csrf_token": token, "name": "每日交易提醒", "schedule": "8点", "action": "event",
            "event_target": "customer_trade", "data.customerName": "张三", "data.mobile": "13800000000",
            "data.orderNo": "A1", "data.amount": "abc", "enabled": "1"}
    fields = client.post("/jobs/custom/new", data={**form, "reload": "1"}).get_data(as_text=True)
    assert 'name="data.amount"' in fields and "交易金额" in fields  # the event's typed fields
    resp = client.post("/jobs/custom/new", data=form)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "类型应为数值" in html and "既不是 HH:MM" in html
    resp = client.post("/jobs/custom/new", data={**form, "schedule": "08:00", "data.amount": "12"},
                       follow_redirects=True)
    assert "定时任务「每日交易提醒」已注册" in resp.get_data(as_text=True)
    with app_db.read() as s:
        job = s.exec(select(CustomCronJob)).one()
        assert job.data == {"customerName": "张三", "mobile": "13800000000", "orderNo": "A1", "amount": 12}
        assert s.get(CronSchedule, job.key).schedule == "08:00"
    html = client.get("/jobs").get_data(as_text=True)
    assert f'data-testid="job-{job.key}"' in html and "定时任务注册" in html
    edit = client.get(f"/jobs/custom/{job.id}/edit").get_data(as_text=True)
    assert 'value="12"' in edit
    client.post(f"/jobs/custom/{job.id}/edit", data={**form, "schedule": "0 9 * * 1", "data.amount": "15"})
    with app_db.read() as s:
        assert s.get(CronSchedule, job.key).schedule == "0 9 * * 1"
    assert "2026-11-23 09:00 周一" in client.get(f"/jobs/{job.key}").get_data(as_text=True)
    client.post(f"/jobs/custom/{job.id}/delete", data={"csrf_token": token})
    with app_db.read() as s:
        assert s.exec(select(CustomCronJob)).all() == [] and s.get(CronSchedule, job.key) is None


def test_viewers_see_and_cannot_change(client, login, admin_user, app_db):
    role_service.create_role(app_db, "job_viewer", "调度查看", ["jobs.view"])
    people.create_user(app_db, "ops", "Ops12345678", display_name="运维", roles=["job_viewer"])
    assert login(client, "ops", "Ops12345678").status_code == 302
    token = get_csrf_token(client, "/jobs")
    html = client.get("/jobs").get_data(as_text=True)
    assert "自动打标签" in html and "jobs/recycle/run" not in html and "注册定时任务" not in html
    assert client.post("/jobs/recycle/run", data={"csrf_token": token}).status_code == 403
    assert client.post("/jobs/auto_tag", data={"csrf_token": token, "schedule": "06:00"}).status_code == 403
    assert client.get("/jobs/custom/new").status_code == 403
    assert client.get("/jobs/auto_tag").status_code == 200


def test_the_saving_process_re_times_its_scheduler_at_once(app, client, login, admin_user):
    token = _admin(client, login, admin_user)
    scheduler = app.extensions["ckb"].scheduler
    scheduler._code_jobs, scheduler.timing = code_jobs_of(app), True  # as start() leaves it, without the thread
    scheduler.reload()
    client.post("/jobs/recycle", data={"csrf_token": token, "schedule": "0 2 * * 1-5", "enabled": "1"})
    recycle = [j for j in scheduler.jobs if j.key == "recycle"][0]
    assert recycle.cron == {"minute": "0", "hour": "2", "day_of_week": "mon-fri"}
    client.post("/jobs/recycle", data={"csrf_token": token, "schedule": "0 2 * * 1-5"})
    assert "recycle" not in {j.key for j in scheduler.jobs}


def code_jobs_of(app):
    from engine.crm_wiring import all_cron_jobs

    rt = app.extensions["ckb"]
    return all_cron_jobs(rt.settings, rt.extra_cron_jobs)


def test_failed_missed_and_overdue_jobs_stand_out(client, login, admin_user, app_db):
    from datetime import datetime, timezone

    from engine.models import CronRun

    _admin(client, login, admin_user)
    utc = timezone.utc
    with app_db.write() as s:  # clock: 2026-11-20 10:00 Beijing
        s.add(CronRun(job_key="auto_tag", job_name="自动打标签", slot_at=datetime(2026, 11, 18, 21, 30, tzinfo=utc),
                      status="done", summary="打标签 3 个"))  # 11-19 05:30; 11-20 05:30 left no record
        s.add(CronRun(job_key="recycle", job_name="客户回收", slot_at=datetime(2026, 11, 19, 17, 0, tzinfo=utc),
                      status="failed", summary="OperationalError: database is locked"))
        s.add(CronRun(job_key="tag_expiry", job_name="标签过期清理", slot_at=datetime(2026, 11, 19, 16, 0, tzinfo=utc),
                      status="done", summary="移除 0 条"))
    html = client.get("/jobs?problems=1").get_data(as_text=True)
    assert 'data-testid="job-auto_tag"' in html and "逾期未运行" in html
    assert 'data-testid="job-recycle"' in html and "database is locked" in html
    assert 'data-testid="job-tag_expiry"' not in html  # ran at 00:00 as due
    detail = client.get("/jobs/recycle").get_data(as_text=True)
    assert 'data-testid="job-run-failed"' in detail and "定时" in detail

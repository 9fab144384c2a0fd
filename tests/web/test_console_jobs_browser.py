"""Browser story (任务调度): the admin moves 自动打标签 to 06:10 and sees the next runs follow while
typing and after saving; 立即执行 on 客户回收 twice quickly runs it once on the scheduler leader
(here the one-process server) and its log shows the result."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func
from sqlmodel import select

from crm.people.models import StashedFlash
from engine.models import CronRun

SHOTS = "/tmp/ckb_shots"


@pytest.mark.browser
def test_change_the_auto_tag_time_and_see_the_next_runs(page, browser_login, admin_user):
    browser_login()
    page.goto("/jobs")
    page.click("[data-testid=job-auto_tag] >> text=编辑")
    page.wait_for_load_state()  # jobs.js (deferred) listens before we type
    runs = page.locator("[data-testid=next-runs] li")
    assert runs.first.inner_text() == "2026-11-21 05:30 周六"
    page.fill("#f-schedule", "6:61")
    page.wait_for_selector("[data-testid=next-runs] li.error-text")
    page.fill("#f-schedule", "06:10")
    page.wait_for_selector("[data-testid=next-runs] li:has-text('2026-11-21 06:10 周六')")
    page.click("form[action$='/jobs/auto_tag'] button[type=submit]")
    page.wait_for_selector("text=已保存「自动打标签」")
    assert [runs.nth(i).inner_text() for i in range(5)] == [f"2026-11-{d} 06:10 周{w}" for d, w in
                                                         (("21", "六"), ("22", "日"), ("23", "一"), ("24", "二"), ("25", "三"))]
    page.screenshot(path=f"{SHOTS}/jobs_detail.png", full_page=True)
    page.goto("/jobs")
    row = page.locator("[data-testid=job-auto_tag]")
    assert "06:10" in row.inner_text() and "默认 05:30" in row.inner_text()
    page.screenshot(path=f"{SHOTS}/jobs_index.png", full_page=True)


@pytest.mark.browser
def test_run_now_twice_quickly_runs_the_recycle_job_once(page, browser_login, admin_user, app, app_db, clock):
    rt = app.extensions["ckb"]
    clock.advance(seconds=30)  # between slots: only what is asked for runs while the scheduler is up
    rt.scheduler.start(sweep=False, cron=True)
    try:
        browser_login()
        page.goto("/jobs/recycle")
        with app_db.read() as s:
            stashed_before = s.exec(select(func.coalesce(func.max(StashedFlash.id), 0))).one()
        # Two clicks as fast as a double click sends them: both posts leave before either answers.
        # Each answer is read from its own stashed flash: the two redirects share one cookie jar,
        # so the page each fetch lands on may show the other click's message (or none).
        statuses = page.evaluate("""() => {
            const form = document.querySelector("[data-testid=run-now] form");
            const post = () => fetch(form.action, {method: "POST", body: new FormData(form), redirect: "manual"})
                .then(r => r.type);
            return Promise.all([post(), post()]);
        }""")
        assert statuses == ["opaqueredirect", "opaqueredirect"]
        with app_db.read() as s:
            answers = [" ".join(text for _, text in row.messages)
                       for row in s.exec(select(StashedFlash).where(StashedFlash.id > stashed_before))]
        said = ["已提交立即执行" in a for a in answers], [any(w in a for w in ("已在排队", "正在执行", "刚刚已执行过")) for a in answers]
        assert sorted(said[0]) == [False, True] and sorted(said[1]) == [False, True], answers
        page.goto("/jobs/recycle")
        page.wait_for_selector("[data-testid=job-run-done]", timeout=15_000)  # the page refreshes while queued
        run = page.locator("[data-testid=job-runs] tbody tr")
        assert run.count() == 1
        text = run.first.inner_text()
        assert "手动（admin）" in text and "执行回收规则 0 条" in text and "秒" in text
        page.screenshot(path=f"{SHOTS}/jobs_run_now.png", full_page=True)
        time.sleep(1.5)  # another control tick: nothing more runs
        with app_db.read() as s:
            assert [(r.job_key, r.trigger) for r in s.exec(select(CronRun))] == [("recycle", "manual")]
    finally:
        rt.scheduler.stop()


@pytest.mark.browser
def test_register_a_job_that_fires_an_event(page, browser_login, admin_user, app_db):
    from events.definitions import import_builtin

    with app_db.write() as s:
        import_builtin(s)
    browser_login()
    page.goto("/jobs")
    page.click("text=注册定时任务")
    page.wait_for_load_state()
    page.fill("#f-name", "每日交易对账")
    page.fill("#f-schedule", "0 9 * * 1-5")
    page.wait_for_selector("#next-runs li:has-text('2026-11-23 09:00 周一')")
    assert not page.is_visible("#f-http_target")
    page.select_option("#f-event_target", "customer_trade")  # the form reloads with the event's fields
    page.wait_for_selector("#f-data-amount")
    assert page.input_value("#f-name") == "每日交易对账" and page.input_value("#f-schedule") == "0 9 * * 1-5"
    page.fill("#f-data-customerName", "张三")
    page.fill("#f-data-mobile", "13800000000")
    page.fill("#f-data-orderNo", "A1")
    page.fill("#f-data-amount", "很多")
    page.click("[data-testid=custom-job-form] button.btn-primary")
    page.wait_for_selector(".field-error:has-text('类型应为数值')")
    page.fill("#f-data-amount", "12.5")
    page.screenshot(path=f"{SHOTS}/jobs_custom_form.png", full_page=True)
    page.click("[data-testid=custom-job-form] button.btn-primary")
    page.wait_for_selector("text=定时任务「每日交易对账」已注册")
    assert "定时任务注册" in page.inner_text("body") and "2026-11-23 09:00 周一" in page.inner_text("[data-testid=next-runs]")

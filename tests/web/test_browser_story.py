"""The main story in a real browser: register an event, build a strategy with bracketed
conditions and a delayed step, enable it, create an app, post a signed event over real HTTP,
run the engine, then follow the event through 事件历史 and cancel its delayed task in 策略任务.
Screenshots of every main page land in /tmp/ckb_shots/."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from events.signature import sign

SHOTS = Path("/tmp/ckb_shots")
pytestmark = pytest.mark.browser


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def register_event(page) -> None:
    page.goto("/events/new")
    page.fill("#f-name", "修改密码事件")
    page.fill("#f-code", "pwd_changed")
    rows = [("status", "修改状态", "1"), ("customerName", "用户名", "0"), ("mobile", "手机号", "1")]
    for i, (name, label, required) in enumerate(rows):
        if i:
            page.locator("[data-row-add]").nth(i - 1).click()
        page.locator('input[name="field_name"]').nth(i).fill(name)
        page.locator('input[name="field_label"]').nth(i).fill(label)
        page.locator('select[name="field_required"]').nth(i).select_option(required)
    shot(page, "02_event_form")
    page.click("button[type=submit]:has-text('保存')")
    page.wait_for_url("**/events")
    assert page.locator("text=已注册事件「修改密码事件」").is_visible()


def add_condition(page, index: int, field: str, op: str, value: str | None, lparen="0", rparen="0", join="and") -> None:
    row = page.locator("[data-conditions] tr").nth(index)
    row.locator('[data-col="lparen"]').select_option(lparen)
    row.locator('[data-col="field"]').select_option(field)
    row.locator('[data-col="op"]').select_option(op)
    if value is not None:
        row.locator('[data-value="one"]').fill(value)
    row.locator('[data-col="rparen"]').select_option(rparen)
    row.locator('[data-col="join"]').select_option(join)


def configure_step(page, index: int, processor: str, values: dict) -> None:
    row = page.locator("[data-steps] tr").nth(index)
    row.locator('[data-col="processor"]').select_option(processor)
    row.locator("[data-configure]").click()
    for name, value in values.items():
        page.fill(f"#cfg-{name}", value)
    page.click("[data-config-apply]")
    assert row.locator("text=已配置").is_visible()


def build_strategy(page) -> None:
    page.goto("/strategies")
    page.click("button[data-modal-open=group-add]")
    page.fill("#group-add-name", "密码修改")
    page.click("#group-add button[type=submit]")
    page.click(".panel-toolbar a:has-text('添加')")
    # The editor's script fills the form from its data once the page has loaded; typing before
    # that (a busy machine) would be overwritten, so wait for the load like a person would.
    page.wait_for_url("**/strategies/new*")
    page.wait_for_load_state("load")
    page.fill("#s-name", "用户修改密码提醒")
    page.select_option("#s-event", label="修改密码事件（pwd_changed）")
    # (修改状态 等于 1 或者 用户名 开头是 张) 并且 手机号 不为空
    page.click("[data-add-condition]")
    page.locator("[data-conditions] tr [data-row-add], [data-conditions] tr button[title='在下方添加一行']").first.click()
    page.locator("[data-conditions] tr button[title='在下方添加一行']").nth(1).click()
    add_condition(page, 0, "status", "eq", "1", lparen="1", join="or")
    add_condition(page, 1, "customerName", "starts_with", "张", rparen="1")
    add_condition(page, 2, "mobile", "is_not_empty", None)
    configure_step(page, 0, "sms", {"mobile": "${mobile}", "content": "您的密码已修改，如非本人操作请联系客服"})
    page.locator("[data-steps] tr button[title='在下方添加一行']").first.click()
    configure_step(page, 1, "log", {"message": "48 小时后回访 ${customerName}"})
    later = page.locator("[data-steps] tr").nth(1)
    later.locator('[data-col="mode"]').select_option("delay")
    later.locator('[data-timing="hours"]').fill("48")
    page.fill("#sample-json", json.dumps({"status": "0", "customerName": "张三", "mobile": "13800000000"}, ensure_ascii=False))
    page.click("[data-dry-run]")
    page.wait_for_selector("text=条件满足：事件接入时将执行下列操作")
    shot(page, "05_strategy_editor")
    page.locator("[data-editor-save]").first.click()
    page.wait_for_url("**/strategies?group=*")
    assert page.locator("text=新策略默认禁用").is_visible()
    page.check('input[name="ids"]')
    page.click("button[name=enabled][value='1']")
    page.wait_for_selector("text=已启用 1 条策略")
    shot(page, "04_strategies")


def create_app(page) -> tuple[str, str]:
    page.goto("/apps/new")
    page.fill("#f-name", "应用01")
    page.click(".form-actions button[type=submit]")
    secret = page.locator("[data-testid=app-secret]").inner_text().strip()
    key = page.locator("#app-key").inner_text().strip()
    shot(page, "06_app_secret")
    return key, secret


def post_event(live_server, runtime, key: str, secret: str) -> None:
    body = json.dumps({"event": "pwd_changed", "id": "evt-1",
                       "data": {"status": "0", "customerName": "张三", "mobile": "13800000000"}}).encode()
    ts = str(int(runtime.services.now().timestamp()))
    resp = requests.post(f"{live_server.url}/api/v1/events", data=body, timeout=10, headers={
        "Content-Type": "application/json", "X-App-Key": key, "X-Timestamp": ts, "X-Signature": sign(secret, ts, body)})
    assert resp.status_code == 202, resp.text
    runtime.tick()


def test_main_story(page, browser_login, live_server, app, admin_user):
    runtime = app.extensions["ckb"]
    browser_login()
    register_event(page)
    shot(page, "01_events")
    build_strategy(page)
    key, secret = create_app(page)
    page.goto("/apps")
    shot(page, "07_apps")
    post_event(live_server, runtime, key, secret)

    page.goto("/history")
    row = page.locator("[data-testid=history-row]").first
    assert "修改密码事件" in row.inner_text() and "匹配成功" in row.inner_text()
    row.click()
    detail = page.locator("[data-testid=history-detail]")
    detail.wait_for()
    run = page.locator("[data-testid=matched-run]").first
    assert "用户修改密码提醒" in run.inner_text()
    assert "已执行" in run.locator("[data-testid=step-row]").first.inner_text()
    shot(page, "08_history")

    page.goto("/tasks")
    task = page.locator("[data-testid=task-row]").first
    assert "未执行" in task.inner_text() and "用户修改密码提醒" in task.inner_text()
    shot(page, "09_tasks")
    task.locator("button:has-text('取消')").click()
    page.click("#confirm-dialog [data-confirm-ok]")
    page.wait_for_selector("text=已取消 1 个任务")
    assert "已取消" in page.locator("[data-testid=task-row]").first.inner_text()

    for path, name in [("/", "00_home"), ("/processors", "03_processors"), ("/processors/builtin/sms", "03b_processor_sms"),
                       ("/deadletters", "10_deadletters"), ("/outbox", "11_outbox"), ("/tasks?all=1", "09b_tasks_all")]:
        page.goto(path)
        shot(page, name)
    page.goto("/strategies")
    page.click("a:has-text('版本')")
    shot(page, "12_versions")

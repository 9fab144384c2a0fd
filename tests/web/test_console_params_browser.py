"""Acceptance of 参数配置 in Chromium, without restarting anything: an administrator turns on 免打扰时段
covering now, and the next chat answer to a friend is deferred by the risk budget (已延后, 免打扰时段)
instead of reaching the phone; the change log names who changed it from what to what; a secret
saved on the page never comes back in its HTML."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from config.clock import to_local
from conversations.models import Conversation
from devices.models import WechatAccount
from tests.devices.gateway.conftest import fleet, gateway, make_devices, ws_url  # noqa: F401 - the live gateway


@pytest.fixture
def phone(app_db, admin_user, make_devices, fleet):  # noqa: F811
    _device, token = make_devices(1)[0]
    sim = fleet([token], accounts=(1, 1), friends=2, groups=0)
    acc = sim.phones[0].account(0)
    with app_db.write() as s:
        s.exec(select(WechatAccount).where(WechatAccount.wxid == acc.wxid)).one().owner_user_id = admin_user.id
    return sim, acc


@pytest.mark.browser
def test_quiet_hours_set_on_the_page_defer_the_next_send_at_once(app, app_db, clock, phone, page, browser_login):
    sim, acc = phone
    friend = next(iter(acc.friends))
    sim.say(0, "你好，在吗", friend=friend)
    with app_db.read() as s:
        conv = s.exec(select(Conversation).where(Conversation.peer_id == friend)).one().id
    browser_login()

    page.goto("/params")
    assert page.locator("[data-quiet-hours=off]").is_visible()  # off by default, and said so
    page.click("text=在「风控」中设置")
    now = to_local(clock.now())
    window = f"{(now - timedelta(hours=1)):%H:%M}-{(now + timedelta(hours=2)):%H:%M}"
    page.fill("#f-budget_quiet_hours", "25:00-08:00")
    page.click("[data-save-group]")
    page.locator("[data-error-for=budget_quiet_hours]").get_by_text("超出范围").wait_for()
    assert app.extensions["ckb"].services.settings.budget_quiet_hours == ""  # nothing half-written
    page.fill("#f-budget_quiet_hours", window)
    page.click("[data-save-group]")
    page.locator("[data-quiet-hours=on]").wait_for()
    row = page.locator("[data-param=budget_quiet_hours]")
    assert row.get_attribute("data-source") == "db" and "数据库" in row.inner_text()
    page.screenshot(path="/tmp/ckb_shots/params_risk.png", full_page=True)

    page.goto(f"/chat?conversation={conv}")
    compose = page.locator(f'form[data-chat-compose][data-conversation-id="{conv}"]')
    compose.locator('textarea[name="text"]').fill("您好，今晚的活动还有名额")
    compose.locator("[data-chat-send]").click()
    status = page.locator("li.chat-msg-out").filter(has_text="今晚的活动").locator("[data-msg-status]")
    status.get_by_text("已延后").wait_for()
    assert "免打扰时段" in status.inner_text()
    assert [d for d in sim.delivered() if d[3].get("text") == "您好，今晚的活动还有名额"] == []

    page.goto("/params/changes")
    entry = page.locator("tbody tr").filter(has_text="免打扰时段").first
    assert entry.locator("[data-who]").inner_text() == "系统管理员"
    assert entry.locator("[data-old]").inner_text() == "（空）"
    assert entry.locator("[data-new]").inner_text() == window

    secret = "smtp-Pa55-word-42"
    page.goto("/params?group=mail")
    page.fill("#f-smtp_password", secret)
    page.click("[data-save-group]")
    page.locator("[data-param=smtp_password][data-source=db]").wait_for()
    assert secret not in page.content()
    assert page.get_attribute("#f-smtp_password", "placeholder") == "已设置，留空则保持不变"
    page.goto("/params/changes")
    assert secret not in page.content() and "已修改" in page.inner_text("tbody")
    page.screenshot(path="/tmp/ckb_shots/params_changes.png", full_page=True)
    page.goto("/params?group=security")
    assert page.locator("[data-param=initial_password]").get_attribute("data-source") == "default"
    page.screenshot(path="/tmp/ckb_shots/params_security.png", full_page=True)

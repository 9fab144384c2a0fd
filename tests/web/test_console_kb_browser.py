"""Browser: the 智能回复 page (try-it box with the match and its confidence, 已解决 on an answer, the
解决率), KOC 管理 with a KOC's board, and the KOC's H5 on a phone-sized screen starting a check-in
(headless Chromium, no CSP violations; screenshots under /tmp/ckb_shots)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlmodel import select

from community.kb.models import KbAnswerLog
from community.koc import roster
from community.koc.models import KocCheckin
from crm.customers.models import Customer
from devices.models import ChatGroup, ChatGroupMember, WechatAccount
from tests.community.kb_world import load_base

SHOTS = Path("/tmp/ckb_shots")


@pytest.mark.browser
def test_kb_page_try_it_and_mark(page, browser_login, app, app_db, admin_user):
    now = app.extensions["ckb"].services.now()
    load_base(app_db, now)
    with app_db.write() as s:
        s.add_all([KbAnswerLog(question="积分会过期吗", score=0.61, answer="积分有效期为获得后 12 个月", source="strategy"),
                   KbAnswerLog(question="你们老板是谁", score=0.05, handed_over=True, reason="匹配度 0.05 低于阈值 0.20",
                               source="strategy")])
    browser_login()
    page.goto("/kb?q=奶粉开罐后能放多久呀")
    decision = page.locator("[data-testid=kb-decision]")
    assert "自动回答" in decision.inner_text() and "4 周内吃完" in decision.inner_text()
    page.locator("[data-testid=kb-log] button:has-text('已解决')").first.click()
    page.wait_for_url("**/kb#answer-log")
    assert "100.0%" in page.locator("[data-testid=kb-rate]").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto("/kb?q=帮我订一张机票")
    assert "转人工" in page.locator("[data-testid=kb-decision]").inner_text()
    page.screenshot(path=str(SHOTS / "kb_index.png"), full_page=True)


@pytest.mark.browser
def test_koc_console_and_h5_on_a_phone(page, browser, live_server, browser_login, app, app_db, admin_user):
    rt = app.extensions["ckb"]
    now = rt.services.now()
    with app_db.write() as s:
        acc = WechatAccount(wxid="wx_robot", nickname="客服")
        s.add(acc)
        s.flush()
        group = ChatGroup(account_id=acc.id, chatroom_id="run@chatroom", name="宝妈辅食交流群", member_count=3)
        customer = Customer(name="小美")
        s.add_all([group, customer])
        s.flush()
        s.add_all([ChatGroupMember(group_id=group.id, wxid=f"wx_m{i}", nickname=f"宝妈{i}", joined_at=now) for i in range(3)])
        koc = roster.mark(s, customer_id=customer.id, wxid="wx_mei", now=now, tz=rt.settings.timezone)
        roster.set_groups(s, koc.id, [group.id], now)
        koc_id, group_id = koc.id, group.id
    browser_login()
    page.goto(f"/koc?koc={koc_id}")
    link = page.locator("[data-testid=koc-h5-link]").input_value()
    assert "/k/" in link
    page.screenshot(path=str(SHOTS / "koc_index.png"), full_page=True)
    phone = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844},
                                is_mobile=True, device_scale_factor=2)
    h5 = phone.new_page()
    csp = []
    h5.on("console", lambda m: csp.append(m.text) if "Content Security Policy" in m.text else None)
    h5.goto("/k/" + re.search(r"/k/(.+)$", link).group(1))
    assert "新成员" in h5.locator("[data-testid=koc-board]").inner_text()
    h5.fill("#k-keyword", "辅食打卡")
    h5.click("button:has-text('发起打卡')")
    h5.wait_for_selector("[data-testid=koc-notice]")
    assert "已在群里发起打卡「辅食打卡」" in h5.locator("[data-testid=koc-notice]").inner_text()
    h5.screenshot(path=str(SHOTS / "koc_h5.png"), full_page=True)
    phone.close()
    assert not csp
    with app_db.read() as s:
        assert [(c.group_id, c.keyword) for c in s.exec(select(KocCheckin))] == [(group_id, "辅食打卡")]

"""Browser story (headless Chromium, no CSP violations): an operator fills the campaign form (the
诱导分享 warning on top), saves, sees the dashboard with its chart after invitations arrive, and a
participant opens their H5 progress page on a phone-sized screen."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlmodel import select

from community.fission import participants
from community.fission.attribution import Arrival, attribute, person_keys
from community.fission.models import Campaign
from community.rewards import boxes
from config.clock import to_local
from crm.customers.models import Customer
from devices.models import WechatAccount

SHOTS = os.environ.get("CKB_SCREENSHOTS", "")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


@pytest.mark.browser
def test_campaign_form_dashboard_and_h5_progress(page, browser_login, app, app_db, admin_user, clock, live_server):
    with app_db.write() as s:
        s.add(WechatAccount(wxid="wx_pool", nickname="福利官小美"))
        pool = boxes.create_pool(s, "新人盲盒")
        boxes.add_prize(s, pool.id, {"name": "保温杯", "kind": "physical", "weight": "1", "stock": "10"})
        pool_id = pool.id
    tz = app.extensions["ckb"].services.settings.timezone
    browser_login()
    page.goto("/fission/new")
    assert "诱导分享" in page.locator("[data-testid=share-warning]").inner_text()
    page.fill("#f-name", "邀请好友得盲盒")
    page.fill("#f-starts_at", to_local(clock.now() - timedelta(hours=1), tz).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#f-ends_at", to_local(clock.now() + timedelta(days=7), tz).strftime("%Y-%m-%dT%H:%M"))
    page.check("input[name=account_ids]")
    page.fill("#f-stage_threshold_0", "3")
    page.fill("#f-stage_name_0", "邀请 3 人抽盲盒")
    page.select_option("#f-stage_processor_0", "rewards.draw_box")
    page.fill("#f-stage_value_0", str(pool_id))
    _shot(page, "fission-form.png")
    page.click("[data-testid=fission-form] button[type=submit]")
    page.wait_for_url("**/fission/*")
    page.click("text=开始活动")
    page.wait_for_selector("text=进行中")
    with app_db.write() as s:
        campaign = s.exec(select(Campaign)).one()
        seed = Customer(name="种子用户小红", wechat_id="wx_seed", created_at=clock.now() - timedelta(days=3))
        s.add(seed)
        s.flush()
        p, _ = participants.join(s, campaign, seed, "wx_seed", now=clock.now())
        for n in range(4):
            attribute(s, campaign, p, Arrival(channel="friend", ref=f"friend:1:wx_{n}", wxid=f"wx_{n}", name=f"好友{n}",
                                              account_id=campaign.account_ids[0], keys=person_keys(f"wx_{n}")), clock.now())
        attribute(s, campaign, p, Arrival(channel="friend", ref="friend:1:wx_seed", wxid="wx_seed", name="自己",
                                          account_id=campaign.account_ids[0], keys=person_keys("wx_seed")), clock.now())
        campaign_id, pid = campaign.id, p.id
    page.goto(f"/fission/{campaign_id}")
    page.wait_for_selector("#chart-fission-daily canvas, #chart-fission-daily svg")
    assert "邀请" in page.locator("[data-testid=fission-stats]").inner_text()
    _shot(page, "fission-dashboard.png")
    page.goto(f"/fission/{campaign_id}/participants/{pid}")
    page.wait_for_selector("[data-testid=personal-poster]")
    assert page.evaluate("document.querySelector('[data-testid=personal-poster]').naturalWidth") == 750
    link = page.locator("[data-testid=progress-link]").inner_text()
    _shot(page, "fission-participant.png")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(link.replace(link.split("/h5/")[0], live_server.url))
    assert page.locator("[data-testid=h5-progress]").inner_text() == "0"
    assert "4 位好友在考察期中" in page.locator("[data-testid=h5-stages]").inner_text()
    _shot(page, "fission-h5-progress.png")

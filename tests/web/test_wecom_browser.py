"""企业微信 in Chromium: the sidebar page opened through WeCom's OAuth shows the portrait of the
current external contact (given by ?external_userid= or the JS hook, since Tencent's jweixin script
is not vendored), and the console page shows sync status and callback counts (no CSP violations)."""
from __future__ import annotations

from pathlib import Path

import pytest

from crm.people import service as people
from integrations.wecom.corps import save_corp
from integrations.wecom.models import WecomMember
from integrations.wecom.sync import sync_all
from tests.integrations.wecom.test_sidebar import seed_portrait
from tests.support.wecom_fixtures import corp_form, fake_corp, wecom_app  # noqa: F401 - fixtures

SHOTS = Path("/tmp/ckb_shots")


@pytest.fixture
def app(wecom_app):  # the web fixtures (client, live_server) use `app`
    return wecom_app


@pytest.mark.browser
def test_sidebar_portrait_in_chromium(page, app, app_db, fake_corp):
    people.ensure_builtin_roles(app_db)
    sales = people.create_user(app_db, "sales1", "Passw0rd123", display_name="小李", roles=["sales"])
    with app_db.write() as s:
        corp_pk = save_corp(s, corp_form(fake_corp)).id
        s.add(WecomMember(corp_pk=corp_pk, userid="u01", name="小李", user_id=sales.id))
    seed_portrait(app_db, corp_pk, sales.id)
    page.set_viewport_size({"width": 420, "height": 860})
    page.goto(f"/wecom/sidebar/{fake_corp.corp_id}?code={fake_corp.oauth_code('u01')}&external_userid=wmPORTRAIT")
    page.wait_for_selector("#ws-name:has-text('王小美')")
    assert page.locator("#ws-koc").is_visible() and page.locator("#ws-level").inner_text() == "金卡"
    assert page.locator("#ws-spend").inner_text() == "¥1288.00"
    assert page.locator("#ws-owner").inner_text() == "小李"
    assert page.locator("#ws-mobile").inner_text() != "13800138000"
    assert page.locator("#ws-orders li").count() == 1 and "想要红茶礼盒" in page.locator("#ws-follows").inner_text()
    page.wait_for_selector("#ws-replies-hint:not(:empty)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "wecom_sidebar.png"), full_page=True)
    # The hook the JS-SDK path uses: another contact, one out of scope.
    page.evaluate("window.ckbSidebar.show('wxid_other')")
    page.wait_for_selector("#ws-status:has-text('未找到')")
    assert page.locator("#ws-portrait").is_hidden()
    page.evaluate("window.ckbSidebar.show('wxid_xiaomei')")
    page.wait_for_selector("#ws-name:has-text('王小美')")


@pytest.mark.browser
def test_console_page_in_chromium(page, browser_login, app, app_db, admin_user, fake_corp, clock):
    fake_corp.populate(departments=3, employees=6, contacts=20, groups=3)
    with app_db.write() as s:
        corp_pk = save_corp(s, corp_form(fake_corp)).id
    svc = app.extensions["ckb"].services
    sync_all(svc, corp_pk)
    browser_login()
    page.goto("/wecom")
    page.click("text=测试连接")
    page.wait_for_selector("[data-testid=wecom-test-results]")
    page.locator("[data-testid=sync-groups]").wait_for()
    assert "客户群 3" in page.locator("[data-testid=sync-groups]").inner_text()
    page.screenshot(path=str(SHOTS / "wecom_console.png"), full_page=True)
    page.click("text=员工映射")
    page.wait_for_selector("text=未匹配")
    page.screenshot(path=str(SHOTS / "wecom_members.png"), full_page=True)

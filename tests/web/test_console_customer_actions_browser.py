"""Browser story (seed 001 图 78, 图 69): a 业务员 ticks two customers in 客户档案, opens 短信推送, picks
the 验证码 template, types the ${code}, previews, sends and reads the per-customer result; then on
张三's detail page tags him and logs a call (headless Chromium, no CSP violations)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from crm.customers.models import Customer
from crm.people import service as people
from crm.sales.models import FollowUp, MessageTemplate
from crm.tags.models import CustomerTag, Tag, TagCategory
from events.definitions import create_definition
from handlers.models import SmsMessage

SHOTS = Path("/tmp/ckb_shots")


@pytest.mark.browser
def test_sms_push_and_detail_actions(page, browser_login, app_db):
    people.ensure_builtin_roles(app_db)
    a = people.create_user(app_db, "sales_a", "Sales12345", display_name="业务员甲", roles=["sales"]).id
    with app_db.write() as s:
        create_definition(s, {"code": "user.verify", "name": "身份验证", "fields": [
            {"name": "code", "type": "text", "label": "验证码", "required": True}]})
        tpl = MessageTemplate(code="SMS_117610140", name="验证码", channel="sms", event_code="user.verify",
                              body="${name}您好，验证码${code}，请勿告知他人！")
        cat = TagCategory(name="意向")
        zhang, wang = Customer(name="张三", mobile="13800138000", owner_id=a), Customer(name="王五", owner_id=a)
        s.add_all([tpl, cat, zhang, wang])
        s.flush()
        s.add(Tag(category_id=cat.id, name="高意向"))
        ids = zhang.id, wang.id
    browser_login("sales_a", "Sales12345")
    page.goto("/customers")
    for cid in ids:
        page.check(f"input[name=ids][value='{cid}']")
    page.click("button:has-text('短信推送')")
    page.wait_for_selector("[data-testid=sms-push-count]:has-text('已选 2 人')")
    page.select_option("#f-template_id", label="验证码 [SMS_117610140]")
    page.click("button:has-text('预览')")
    page.fill("#f-var_code", "1090")
    page.click("button:has-text('预览')")
    page.wait_for_selector("[data-testid=sms-push-preview]:has-text('张三您好，验证码1090')")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "sms_push.png"), full_page=True)
    page.click("button.btn-primary:has-text('发送')")
    page.click("[data-confirm-ok]")
    page.wait_for_selector("[data-testid=sms-push-summary]:has-text('已发送 1')")
    assert page.locator("tr:has-text('王五')").inner_text().count("客户没有手机号") == 1
    page.screenshot(path=str(SHOTS / "sms_push_report.png"), full_page=True)
    with app_db.read() as s:
        assert [m.content for m in s.exec(select(SmsMessage))] == ["张三您好，验证码1090，请勿告知他人！"]

    page.click("a:has-text('张三')")
    page.wait_for_selector("[data-testid=detail-actions]")
    page.select_option("select[name=tag_ids]", label="高意向")
    page.click("[data-testid=detail-actions] button:has-text('打标签')")
    page.wait_for_selector("button[title='移除标签「高意向」']")
    page.click("summary:has-text('记录通话')")
    page.select_option("[data-testid=detail-actions] select[name=status]", "intent")
    page.fill("[data-testid=detail-actions] textarea[name=content]", "约了周六到店")
    page.click("button:has-text('保存到跟进记录')")
    page.wait_for_selector("text=通话已记录到跟进记录")
    page.screenshot(path=str(SHOTS / "customer_detail_actions.png"), full_page=True)
    with app_db.read() as s:
        assert s.exec(select(FollowUp.content)).one() == "约了周六到店"
        assert s.exec(select(CustomerTag.customer_id)).one() == ids[0]

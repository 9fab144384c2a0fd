"""Browser stories for 快捷回复库 and 消息群发 (headless Chromium, no CSP violations): a manager adds a
reply (an unknown ${变量} is refused next to the field), a chat compose form of our own (the chat page
is another part's) gets the picker — typing finds the reply rendered for the conversation's customer
and a click fills the text box; a 群发 is set up with a live recipient count and its report opens."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import render_template_string
from sqlmodel import select

from conversations.models import Conversation
from conversations.quick_replies.models import QuickReply
from crm.customers.models import Customer
from crm.tags.models import CustomerTag, Tag, TagCategory
from devices.models import Friend, WechatAccount
from web.auth.guards import permission_required

SHOTS = Path(os.environ.get("CKB_SCREENSHOTS", "var/screenshots"))
COMPOSE = """{% extends "base.html" %}{% block title %}会话{% endblock %}{% block content %}
<form class="card card-form" data-chat-compose data-conversation-id="{{ conversation_id }}">
  <div class="field"><textarea name="text" rows="6" aria-label="消息"></textarea></div>
  {% include "quick_replies/_picker.html" %}
</form>{% endblock %}"""


@pytest.fixture
def chat_world(app_db, admin_user):
    with app_db.write() as s:
        cat = TagCategory(name="意向")
        s.add(cat)
        s.flush()
        tag = Tag(category_id=cat.id, name="双十二意向")
        s.add(tag)
        acc = WechatAccount(wxid="wx_staff", nickname="小美客服")
        s.add(acc)
        s.flush()
        ids = []
        for i, name in enumerate(["张三", "李四", "王五"]):
            customer = Customer(name=name)
            s.add(customer)
            s.flush()
            s.add(CustomerTag(customer_id=customer.id, tag_id=tag.id))
            friend = Friend(account_id=acc.id, wxid=f"wx_{i}", nickname=f"{name}的微信", customer_id=customer.id)
            s.add(friend)
            s.flush()
            conv = Conversation(account_id=acc.id, peer_id=friend.wxid, friend_id=friend.id, customer_id=customer.id)
            s.add(conv)
            s.flush()
            ids.append(conv.id)
        s.add(QuickReply(title="问候", text="${name}早上好"))
        return {"conversation": ids[0], "tag": tag.id}


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_quick_reply_library_and_picker(page, browser_login, app, app_db, chat_world):
    @permission_required("conversations.view")
    def compose(conversation_id: int):
        return render_template_string(COMPOSE, conversation_id=conversation_id)
    app.add_url_rule("/_test/compose/<int:conversation_id>", "test_compose", compose)

    browser_login()
    page.goto("/quick-replies/new")
    page.fill("#f-title", "价格咨询")
    page.fill("#f-text", "${nmae}您好")
    page.click("form.card-form button[type=submit]")
    assert "未知变量：${nmae}" in page.locator(".has-error").first.inner_text()
    _shot(page, "quick_reply_form_error")
    page.fill("#f-text", "${name}您好，这款双十二活动价 199 元，今晚截止")
    page.click("form.card-form button[type=submit]")
    page.wait_for_url("**/quick-replies")
    page.fill("input[name=q]", "活动价")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("td:has-text('价格咨询')")
    assert page.locator("td:has-text('问候')").count() == 0
    _shot(page, "quick_replies_list")

    page.goto(f"/_test/compose/{chat_world['conversation']}")
    page.fill("[data-quick-reply-search]", "价格")
    item = page.locator("[data-quick-reply-results] [data-reply-id]")
    item.first.wait_for()
    assert item.count() == 1 and "张三您好，这款双十二活动价 199 元" in item.first.inner_text()
    _shot(page, "quick_reply_picker")
    item.first.click()
    assert page.input_value("textarea[name=text]") == "张三您好，这款双十二活动价 199 元，今晚截止"
    page.wait_for_function("() => true")

    def counted():
        with app_db.read() as s:
            return s.exec(select(QuickReply.send_count).where(QuickReply.title == "价格咨询")).one() == 1
    for _ in range(50):
        if counted():
            break
        page.wait_for_timeout(100)
    assert counted()


@pytest.mark.browser
def test_broadcast_form_count_and_report(page, browser_login, chat_world):
    browser_login()
    page.goto("/broadcasts/new")
    page.fill("#f-name", "双十二活动通知")
    page.select_option("#f-tag_ids", str(chat_world["tag"]))
    page.click("[data-broadcast-preview]")
    page.wait_for_selector("[data-broadcast-count]:has-text('预计发送给 3 位好友（1 个微信号）')")
    page.check("input[name=mode][value=accounts]")
    assert page.locator("[data-mode-panel=tags]").is_hidden()
    page.check("input[name=mode][value=tags]")
    page.select_option("#f-msg_type", "link")
    assert page.locator("#f-url").is_visible() and page.locator("#f-text").is_hidden()
    page.select_option("#f-msg_type", "text")
    page.fill("#f-text", "${name}您好，双十二活动今晚 8 点开始")
    _shot(page, "broadcast_new")
    page.click("button[type=submit]:has-text('创建群发')")
    page.wait_for_url("**/broadcasts/*")
    assert page.locator("[data-state-count=queued] .stat-value").inner_text() == "3"
    _shot(page, "broadcast_report")
    page.goto("/broadcasts")
    assert page.locator("td:has-text('双十二活动通知')").count() == 1

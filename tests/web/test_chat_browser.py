"""Acceptance of 触客宝 over real sockets: a simulated phone on the device gateway, the console in
Chromium. A friend sends 价格多少 → it shows in the open chat without a reload within 1 s; the staff
member answers → the phone receives it; a second answer inside the account's send gap shows as 已延后
with its reason. And a send to a friend who deleted the account fails with the named reason."""
from __future__ import annotations

import time

import pytest
from sqlmodel import select

from conversations.models import Conversation
from crm.people import service as people
from devices.models import WechatAccount
from tests.devices.gateway.conftest import fleet, gateway, make_devices, ws_url  # noqa: F401 - the live gateway

PASSWORD = "Sales12345"


@pytest.fixture
def phone(app_db, make_devices, fleet):  # noqa: F811
    people.ensure_builtin_roles(app_db)
    staff = people.create_user(app_db, "kefu", PASSWORD, display_name="客服小美", roles=["sales"]).id
    _device, token = make_devices(1)[0]
    sim = fleet([token], accounts=(1, 1), friends=3, groups=0)
    acc = sim.phones[0].account(0)
    with app_db.write() as s:
        row = s.exec(select(WechatAccount).where(WechatAccount.wxid == acc.wxid)).one()
        row.owner_user_id = staff
    return sim, acc


def _conversation(app_db, peer: str) -> int:
    with app_db.read() as s:
        return s.exec(select(Conversation).where(Conversation.peer_id == peer)).one().id


@pytest.mark.browser
def test_a_friend_asks_the_staff_answers_and_a_fast_second_answer_is_deferred(app_db, phone, page, browser_login):
    sim, acc = phone
    friend = next(iter(acc.friends))
    sim.say(0, "你好，在吗", friend=friend)
    conv = _conversation(app_db, friend)
    browser_login("kefu", PASSWORD)
    page.goto(f"/chat?conversation={conv}")
    thread = page.locator("[data-chat-messages]")
    thread.get_by_text("你好，在吗").wait_for()
    page.wait_for_function("document.querySelector('[data-chat]').getAttribute('data-live') === 'stream'")

    started = time.monotonic()
    sim.say(0, "价格多少", friend=friend)
    thread.get_by_text("价格多少").wait_for(timeout=1000)
    assert time.monotonic() - started <= 1.0
    row = page.locator(f'[data-conversation="{conv}"]')
    assert "价格多少" in row.inner_text()

    compose = page.locator(f'form[data-chat-compose][data-conversation-id="{conv}"]')
    compose.locator('textarea[name="text"]').fill("您好，套餐 199 元，今天下单送课程")
    compose.locator('textarea[name="text"]').press("Enter")
    assert sim.wait_for(lambda: any(d[1] == friend and d[3].get("text") == "您好，套餐 199 元，今天下单送课程"
                                    for d in sim.delivered()), timeout=10)
    mine = thread.locator("li.chat-msg-out").filter(has_text="您好，套餐 199 元")
    mine.locator("[data-msg-status]").get_by_text("已发送").wait_for(timeout=5000)

    compose.locator('textarea[name="text"]').fill("另外还有老客户优惠")
    compose.locator("[data-chat-send]").click()
    second = thread.locator("li.chat-msg-out").filter(has_text="另外还有老客户优惠")
    status = second.locator("[data-msg-status]")
    status.get_by_text("已延后").wait_for()
    assert "发送间隔" in status.inner_text()
    assert [d for d in sim.delivered() if d[3].get("text") == "另外还有老客户优惠"] == []
    page.reload()  # the state is stored, not only painted
    thread.locator("li.chat-msg-out").filter(has_text="另外还有老客户优惠").get_by_text("已延后").wait_for()
    page.screenshot(path="/tmp/ckb_shots/chat_console.png", full_page=True)


def test_a_send_to_a_friend_who_deleted_the_account_fails_with_the_reason(app, app_db, phone, login):
    sim, acc = phone
    friend = list(acc.friends)[1]
    sim.say(0, "再见", friend=friend)
    sim.delete_us(0, friend)
    conv = _conversation(app_db, friend)
    client = app.test_client()
    assert login(client, "kefu", PASSWORD).status_code == 302
    from tests.web.conftest import get_csrf_token
    token = get_csrf_token(client, "/chat")
    sent = client.post(f"/chat/{conv}/send", json={"text": "在吗"}, headers={"X-CSRFToken": token})
    assert sent.status_code == 201

    def failed():
        messages = client.get(f"/chat/{conv}/messages").get_json()["messages"]
        return [m for m in messages if m["direction"] == "out" and m["status"] == "failed"]
    assert sim.wait_for(failed, timeout=10)
    shown = failed()[0]
    assert shown["status_label"] == "发送失败" and shown["reason"].startswith("对方已删除好友")
    assert sim.delivered() == []

"""发送微信消息 through the engine: strategy → step → command row, paced and checked by the risk
budget; refused sends fail the step naming the word, deferred ones succeed with when and why."""
from __future__ import annotations

import pytest
from sqlmodel import select

from config.clock import as_utc
from devices import sensitive
from devices.models import ContentItem, DeviceCommand
from engine.runtime import Runtime
from handlers.base import ProcessorContext
from tests.devices.budget.engine_kit import DeviceKit
from tests.engine.conftest import Kit, engine_services, kit, runtime  # noqa: F401 - fixtures
from tests.support import with_settings


@pytest.fixture
def dk(kit):
    return DeviceKit(kit)


def test_text_reply_to_the_friend_becomes_a_queued_command(dk):
    task = dk.run("device.send_message", {"text": "您好${nickname}，课程资料已发送"}, {"nickname": "张三"})
    [command] = dk.commands()
    assert task.status == "done", task.last_error
    assert (command.kind, command.payload, command.status) == (
        "send_text", {"to": "wxid_zhang", "text": "您好张三，课程资料已发送"}, "queued")
    assert (command.source, command.task_id, command.idempotency_key) == ("strategy", task.id, task.idempotency_key)
    assert command.customer_key == "customer:42"  # the friend is linked to a CRM customer
    assert task.result == {"command_id": command.id, "kind": "send_text", "status": "queued",
                           "not_before": command.not_before.isoformat(), "reason": ""}
    assert task.note.startswith(f"发送文字：已排队（指令 #{command.id}），最早 2026-11-20 10:00:00 发送")


def test_group_message_mentions_new_members(dk):
    dk.run("device.send_message", {"text": "欢迎新朋友", "mention": True},
           {"chatroom_id": "888@chatroom", "is_group": True, "wxids": ["wxid_a", "wxid_b"]})
    [command] = dk.commands()
    assert command.payload == {"to": "888@chatroom", "text": "欢迎新朋友", "mentions": ["wxid_a", "wxid_b"]}
    assert command.customer_key == ""


def test_sensitive_word_fails_the_step_and_the_refusal_is_recorded(dk):
    with dk.svc.db.write() as s:
        sensitive.add_words(s, ["微信转账"])
    task = dk.run("device.send_message", {"text": "请 微.信 转账 给我"})
    [command] = dk.commands()
    assert (command.status, command.result) == ("refused", {"blocked_word": "微信转账"})
    assert task.status == "dead" and task.last_error == "风控拒绝：内容含敏感词「微信转账」，已拦截"


@pytest.fixture
def quiet_kit(engine_services):  # noqa: F811 - the fixture imported above
    rt = Runtime(with_settings(engine_services, budget_quiet_hours="09:00-12:00"))  # 10:00 local is quiet
    yield Kit(rt)
    rt.stop()


def test_deferred_send_succeeds_with_when_and_why(quiet_kit):
    dk = DeviceKit(quiet_kit)
    task = dk.run("device.send_message", {"text": "早上好"})
    [command] = dk.commands()
    assert command.status == "deferred" and task.status == "done", task.last_error
    assert task.note == "发送文字：已延后至 2026-11-20 12:00:00 原因：免打扰时段（09:00-12:00），结束后执行"


def test_content_library_item_sends_text_then_each_image(dk):
    with dk.svc.db.write() as s:
        item = ContentItem(kind="image", title="开课海报", text="本周课程", material_ids=[5, 6])
        s.add(item)
        s.flush()
        item_id = item.id
    task = dk.run("device.send_message", {"content_id": str(item_id), "to": "888@chatroom"})
    commands = dk.commands()
    assert [(c.kind, c.payload) for c in commands] == [
        ("send_text", {"to": "888@chatroom", "text": "本周课程"}),
        ("send_image", {"to": "888@chatroom", "material_id": 5}),
        ("send_image", {"to": "888@chatroom", "material_id": 6})]
    assert [c.idempotency_key for c in commands] == [task.idempotency_key + s for s in ("", ":1", ":2")]
    gaps = [(as_utc(b.not_before) - as_utc(a.not_before)).total_seconds() for a, b in zip(commands, commands[1:])]
    assert all(3 <= g <= 8 for g in gaps)
    assert len(task.result["commands"]) == 3


def test_link_card_and_missing_target(dk):
    dk.run("device.send_message", {"content_type": "link", "url": "https://example.com/c", "title": "课程"})
    [command] = dk.commands()
    assert command.payload == {"to": "wxid_zhang", "url": "https://example.com/c", "title": "课程", "desc": "",
                               "thumb": ""}
    task = dk.run("device.send_message", {"text": "hi", "account": "wxid_nobody"})
    assert task.status == "dead" and task.last_error == "微信号不存在：wxid_nobody"


def test_a_replayed_step_returns_the_same_command(dk):
    task = dk.run("device.send_message", {"text": "只发一次"})
    ctx = ProcessorContext(event_code="x", data={"account_id": dk.account, "from_wxid": "wxid_zhang"},
                           event_record_id=1, strategy_id=task.strategy_id, task_id=task.id,
                           idempotency_key=task.idempotency_key, attempt=2, services=dk.svc)
    outcome = dk.kit.rt.registry.get("device.send_message").run(ctx, {"text": "只发一次"})
    assert outcome.response["command_id"] == task.result["command_id"]
    with dk.svc.db.read() as s:
        assert len(list(s.exec(select(DeviceCommand)))) == 1

"""The other device steps through the engine: 通过好友, 加好友 (capped by 健康分), 点赞/评论/发朋友圈
(one post per item per account), 建群, 邀请入群, 群公告, and 好友打标签 (server-side, no command)."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import select

from devices.models import ContentItem, Friend, MomentPost, WechatAccount
from handlers.base import ProcessorContext
from handlers.registry import default_registry
from tests.devices.budget.engine_kit import DeviceKit
from tests.engine.conftest import engine_services, kit, runtime  # noqa: F401 - fixtures

DEVICE_KEYS = ["device.accept_friend", "device.add_friend", "device.send_message", "device.like_moment",
               "device.comment_moment", "device.post_moment", "device.create_group", "device.invite_to_group",
               "device.set_announcement", "device.tag_friend"]


@pytest.fixture
def dk(kit):
    return DeviceKit(kit)


def only_command(dk):
    [command] = dk.commands()
    return command


def test_device_steps_are_registered_with_chinese_forms(services):
    listed = {p["key"]: p for p in default_registry(services).list_builtin()}
    for key in DEVICE_KEYS:
        assert listed[key]["name"] and not listed[key]["name"].isascii()
        assert listed[key]["config_fields"][0]["label"] == "微信号"


def test_accept_friend_uses_the_request_from_the_event(dk):
    task = dk.run("device.accept_friend", {}, {"request_id": "req-7"})
    command = only_command(dk)
    assert task.status == "done", task.last_error
    assert (command.kind, command.payload, command.status) == ("accept_friend",
                                                               {"wxid": "wxid_zhang", "request_id": "req-7"}, "queued")


def test_add_friend_by_phone_stops_at_the_health_cap(dk):
    with dk.svc.db.write() as s:
        account = s.get(WechatAccount, dk.account)
        account.health_score = 45  # 警告: 5 a day
        s.add(account)
    dk.kit.strategy("test.device_report", [], [{"processor": "device.add_friend", "timing": {"mode": "immediate"},
                                                 "config": {"greeting": "您好，我是课程顾问"}}])
    for i in range(7):
        dk.kit.post({"event": "test.device_report", "id": f"lead-{i}",
                     "data": {"account_id": dk.account, "mobile": f"1380013800{i}"}})
    dk.kit.rt.tick()
    commands = dk.commands()
    assert Counter(c.status for c in commands) == {"queued": 5, "deferred": 2}
    assert commands[0].payload == {"phone": "13800138000", "greeting": "您好，我是课程顾问"}
    assert commands[0].customer_key == "wxid:13800138000"
    deferred = [c for c in commands if c.status == "deferred"]
    assert deferred[0].reason == "今日加好友与通过好友合计已达上限 5 个（健康分 45），明天再执行"


def test_like_and_comment_a_moment(dk):
    dk.run("device.like_moment", {}, {"moment_id": "m-1"})
    dk.run("device.comment_moment", {"text": "${nickname}好棒"}, {"moment_id": "m-2", "nickname": "张三"})
    first, second, third = dk.commands()  # the like strategy also fires for the second report
    assert (first.kind, first.payload) == ("like_moment", {"moment_id": "m-1"})
    assert {(c.kind, tuple(sorted(c.payload.items()))) for c in (second, third)} == {
        ("like_moment", (("moment_id", "m-2"),)), ("comment_moment", (("moment_id", "m-2"), ("text", "张三好棒")))}
    task = dk.run("device.like_moment", {})
    assert task.status == "dead" and task.last_error == "未指定朋友圈：事件中没有 moment_id，步骤中也未填写"


def test_post_moment_from_the_library_once_per_account(dk):
    with dk.svc.db.write() as s:
        item = ContentItem(kind="moment", title="早安", text="早安，今天也要加油", material_ids=[3])
        s.add(item)
        s.flush()
        item_id = item.id
    config = {"content_id": str(item_id), "visibility": "include", "tags": "VIP,课程"}
    task = dk.run("device.post_moment", config)
    command = only_command(dk)
    assert task.status == "done", task.last_error
    assert command.payload == {"text": "早安，今天也要加油", "media": [], "material_ids": [3], "content_id": item_id,
                               "visibility": {"mode": "include", "tags": ["VIP", "课程"]}}
    again = dk.run("device.post_moment", config)
    assert again.status == "done" and again.note == "微信号「运营号1」已发布过这条内容，不重复发布"
    with dk.svc.db.read() as s:
        assert len(list(s.exec(select(MomentPost)))) == 1
    assert len(dk.commands()) == 1


def test_group_steps(dk):
    dk.run("device.create_group", {"name": "${nickname}的学习群", "members": "wxid_a, wxid_b"}, {"nickname": "张三"})
    dk.run("device.invite_to_group", {"chatroom_id": "888@chatroom"}, {"wxids": ["wxid_c"]})
    dk.run("device.set_announcement", {"text": "每晚八点直播"}, {"chatroom_id": "888@chatroom"})
    by_kind = {c.kind: c.payload for c in dk.commands()}
    assert by_kind["create_group"] == {"name": "张三的学习群", "members": ["wxid_a", "wxid_b"]}
    assert by_kind["invite_to_group"] == {"chatroom_id": "888@chatroom", "members": ["wxid_c"]}
    assert by_kind["set_announcement"] == {"chatroom_id": "888@chatroom", "text": "每晚八点直播"}


def test_tag_friend_updates_the_friend_without_a_command(dk):
    task = dk.run("device.tag_friend", {"tags": "课程咨询, VIP"})
    assert task.status == "done" and task.note == "已为好友「张三」添加标签：课程咨询、VIP"
    task = dk.run("device.tag_friend", {"tags": "VIP", "mode": "remove"})
    with dk.svc.db.read() as s:
        friend = s.exec(select(Friend).where(Friend.wxid == "wxid_zhang")).one()
    assert friend.tags == ["课程咨询"] and dk.commands() == []
    task = dk.run("device.tag_friend", {"tags": "x", "wxid": "wxid_stranger"})
    assert task.status == "dead" and task.last_error == "该微信号没有这个好友：wxid_stranger"


def test_dry_run_renders_without_issuing(dk):
    ctx = ProcessorContext(event_code="x", data={"account_id": dk.account, "from_wxid": "wxid_zhang"},
                           event_record_id=1, strategy_id=1, task_id=1, idempotency_key="dry:1", attempt=1,
                           services=dk.svc, dry_run=True)
    outcome = dk.kit.rt.registry.get("device.send_message").run(ctx, {"text": "试试"})
    assert outcome.request["commands"] == [{"kind": "send_text", "payload": {"to": "wxid_zhang", "text": "试试"}}]
    assert dk.commands() == []

"""Planning a 群发: by tag / label / audience / account, within the creator's scope; every send through
issue_command with broadcast:{id}:{friend} (never twice, resumable), paced per account within the
window, the weekly guard, quiet hours, cancel, and the report following the commands."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from config.clock import as_utc
from conversations.broadcast import runner, service
from conversations.broadcast.models import Broadcast, BroadcastRecipient
from conversations.errors import ConversationError, ConversationNotFound
from conversations.models import ChatMessage
from crm.scope import Viewer
from devices.models import DeviceCommand

ADMIN = Viewer(1, frozenset({"broadcasts.manage", "conversations.view_all"}))


def _create(services, viewer, target, content=None, **extra):
    with services.db.write() as s:
        row = service.create(s, {"name": "双十二活动", "target": target,
                                 "content": content or {"msg_type": "text", "text": "${name}您好，活动开始啦"},
                                 "gap_min_seconds": 3, "gap_max_seconds": 8, **extra}, viewer, services.now())
        return row.id


def _recipients(services, bid):
    with services.db.read() as s:
        return list(s.exec(select(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == bid)
                           .order_by(BroadcastRecipient.id)))


def _assert_paced(recs, commands, accounts, low=10, high=12):
    for account in accounts:
        times = sorted(as_utc(commands[r.command_id].not_before) for r in recs if r.account_id == account)
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
        assert gaps and all(low <= g <= high for g in gaps), gaps


def test_by_tag_plans_each_friend_once_paced_within_the_window(services, world):
    # the window sits above the budget's own 1:1 pacing (5–10 s), so the 群发's gap is what shows
    bid = _create(services, ADMIN, {"mode": "tags", "tag_ids": [world.tag_id], "labels": ["宝妈"]},
                  gap_min_seconds=10, gap_max_seconds=12)
    assert runner.run(services, bid) is True
    recs = _recipients(services, bid)
    # 4 tagged + 1 labelled friend on each account
    assert len(recs) == 10 and {r.status for r in recs} == {"queued"}
    with services.db.read() as s:
        commands = {c.id: c for c in s.exec(select(DeviceCommand))}
        texts = {m.command_id: m.text for m in s.exec(select(ChatMessage))}
    assert sorted(c.idempotency_key for c in commands.values()) == sorted(
        f"broadcast:{bid}:{r.friend_id}" for r in recs)
    assert all(texts[r.command_id].endswith("您好，活动开始啦") and texts[r.command_id].startswith("客户") for r in recs)
    _assert_paced(recs, commands, (world.account_a, world.account_b))
    # a second run (the cron job) plans nothing new
    assert runner.run(services, bid) is False
    with services.db.read() as s:
        assert len(s.exec(select(DeviceCommand)).all()) == 10
        assert s.get(Broadcast, bid).status == "sending"


def test_weekly_guard_skips_a_friend_with_the_reason(services, world):
    first = _create(services, ADMIN, {"mode": "accounts", "account_ids": [world.account_a]})
    runner.run(services, first)
    second = _create(services, ADMIN, {"mode": "accounts", "account_ids": [world.account_a]})
    runner.run(services, second)
    third = _create(services, ADMIN, {"mode": "tags", "tag_ids": [world.tag_id]})
    runner.run(services, third)
    recs = _recipients(services, third)
    on_a = [r for r in recs if r.account_id == world.account_a]
    on_b = [r for r in recs if r.account_id == world.account_b]
    assert {r.status for r in on_a} == {"skipped"}
    assert all("近 7 天已收到 2 次群发（上限 2 次）" in r.reason for r in on_a)
    assert {r.status for r in on_b} == {"queued"}
    # eight days later the guard has let go
    services.clock.advance(days=8)
    fourth = _create(services, ADMIN, {"mode": "accounts", "account_ids": [world.account_a]})
    runner.run(services, fourth)
    assert {r.status for r in _recipients(services, fourth)} == {"queued"}


def test_a_salesperson_reaches_only_their_accounts_friends(services, world):
    zhang = Viewer(world.zhang, frozenset({"broadcasts.manage", "conversations.view"}))
    with services.db.write() as s:
        with pytest.raises(ConversationError) as exc:
            service.create(s, {"name": "x", "target": {"mode": "accounts", "account_ids": [world.account_b]},
                               "content": {"msg_type": "text", "text": "hi"}}, zhang, services.now())
        assert "account_ids" in exc.value.errors
    bid = _create(services, zhang, {"mode": "tags", "tag_ids": [world.tag_id]})
    runner.run(services, bid)
    assert {r.account_id for r in _recipients(services, bid)} == {world.account_a}
    li = Viewer(world.li, frozenset({"broadcasts.manage", "conversations.view"}))
    with services.db.read() as s:
        with pytest.raises(ConversationNotFound):
            service.get_broadcast(s, bid, li)


def test_killed_midway_resumes_without_sending_twice(services, world, monkeypatch):
    bid = _create(services, ADMIN, {"mode": "accounts", "account_ids": [world.account_a, world.account_b]})
    monkeypatch.setattr(runner, "CHUNK", 4)
    real = runner._plan_chunk
    calls = []

    def dying(session, *args):
        calls.append(1)
        if len(calls) == 2:
            real(session, *args)
            raise KeyboardInterrupt("kill -9")  # the transaction of the second chunk never commits
        return real(session, *args)
    monkeypatch.setattr(runner, "_plan_chunk", dying)
    with pytest.raises(KeyboardInterrupt):
        runner.run(services, bid)
    states = [r.status for r in _recipients(services, bid)]
    assert states.count("queued") == 4 and states.count("pending") == 8
    monkeypatch.setattr(runner, "_plan_chunk", real)
    with services.db.read() as s:
        assert runner.due_ids(s, services.now()) == [bid]
    runner.run_due(services)
    recs = _recipients(services, bid)
    assert {r.status for r in recs} == {"queued"}
    with services.db.read() as s:
        keys = [c.idempotency_key for c in s.exec(select(DeviceCommand))]
    assert len(keys) == len(set(keys)) == 12


def test_report_follows_commands_and_closes(services, world):
    bid = _create(services, ADMIN, {"mode": "accounts", "account_ids": [world.account_a]})
    runner.run(services, bid)
    recs = _recipients(services, bid)
    with services.db.write() as s:
        for i, rec in enumerate(recs):
            cmd = s.get(DeviceCommand, rec.command_id)
            if i == 0:
                cmd.status, cmd.error = "failed", "对方已删除你为好友（friend_deleted）"
            else:
                cmd.status = "succeeded"
            s.add(cmd)
    runner.refresh_open(services)
    recs = _recipients(services, bid)
    assert recs[0].status == "failed" and "friend_deleted" in recs[0].reason
    assert {r.status for r in recs[1:]} == {"sent"}
    with services.db.read() as s:
        assert s.get(Broadcast, bid).status == "done"
        assert service.counts(s, bid) == {"pending": 0, "queued": 0, "deferred": 0, "sent": 5, "failed": 1,
                                          "skipped": 0}


def test_scheduled_waits_and_cancel_stops_the_rest(services, world):
    later = services.now() + timedelta(hours=2)
    bid = _create(services, ADMIN, {"mode": "accounts", "account_ids": [world.account_a]}, scheduled_at=later)
    assert runner.run(services, bid) is False
    services.clock.advance(hours=2)
    assert runner.run(services, bid) is True
    with services.db.write() as s:
        assert service.cancel(s, bid, ADMIN, services.now()) == 6
    with services.db.read() as s:
        assert {c.status for c in s.exec(select(DeviceCommand))} == {"cancelled"}
        assert s.get(Broadcast, bid).status == "cancelled"
    assert {(r.status, r.reason) for r in _recipients(services, bid)} == {("skipped", "群发已取消")}


def test_quiet_hours_move_sends_to_their_end(services, world):
    services.settings.budget_quiet_hours = "22:00-08:00"
    services.clock.set(services.now().replace(hour=13, minute=59, second=50))  # 21:59:50 in Beijing
    bid = _create(services, ADMIN, {"mode": "accounts", "account_ids": [world.account_a]})
    runner.run(services, bid)
    with services.db.read() as s:
        times = sorted(as_utc(c.not_before) for c in s.exec(select(DeviceCommand)))
    quiet_starts = services.now().replace(hour=14, minute=0, second=0)  # 22:00 Beijing
    before, after = [t for t in times if t < quiet_starts], [t for t in times if t >= quiet_starts]
    # How many fit in the last 10 s before 22:00 depends on the random gaps; the rest wait for 08:00 Beijing.
    assert before and after, times
    assert all(t.hour == 0 and t.date() > quiet_starts.date() for t in after), times  # 00:00 UTC the next day


def test_bad_input_is_refused_with_named_fields(services, world):
    with services.db.write() as s:
        with pytest.raises(ConversationError) as exc:
            service.create(s, {"name": "", "target": {"mode": "tags"}, "content": {"msg_type": "text", "text": "${nmae}好"},
                               "gap_min_seconds": 9, "gap_max_seconds": 2}, ADMIN, services.now())
    assert {"name", "tag_ids", "text", "gap_max_seconds"} <= set(exc.value.errors)
    assert "${nmae}" in exc.value.errors["text"]


def test_with_the_budget_in_redis_each_friend_is_planned_once(services, world, redis_url):
    from config.redis_factory import make_redis

    services.settings.redis_url = redis_url
    services.redis = make_redis(services.settings)
    bid = _create(services, ADMIN, {"mode": "accounts", "account_ids": [world.account_a, world.account_b]},
                  gap_min_seconds=10, gap_max_seconds=12)
    assert runner.run(services, bid) is True
    recs = _recipients(services, bid)
    assert len(recs) == 12 and {r.status for r in recs} == {"queued"}
    with services.db.read() as s:
        commands = {c.id: c for c in s.exec(select(DeviceCommand))}
    assert len(commands) == 12 and len({c.idempotency_key for c in commands.values()}) == 12
    _assert_paced(recs, commands, (world.account_a, world.account_b))


def test_a_quick_reply_or_content_item_is_rendered_per_friend_and_counted(services, world):
    from conversations.quick_replies.models import QuickReply
    from devices.models import ContentItem

    with services.db.write() as s:
        reply = QuickReply(title="关怀", text="${name}，天冷注意保暖")
        item = ContentItem(kind="link", title="双十二攻略", link={"url": "https://shop.example.com/1212", "desc": "省钱"})
        moment = ContentItem(kind="moment", title="朋友圈素材")
        s.add_all([reply, item, moment])
        s.flush()
        reply_id, item_id, moment_id = reply.id, item.id, moment.id
    by_reply = _create(services, ADMIN, {"mode": "accounts", "account_ids": [world.account_a]},
                       {"msg_type": "quick_reply", "quick_reply_id": reply_id})
    runner.run(services, by_reply)
    with services.db.read() as s:
        texts = sorted(m.text for m in s.exec(select(ChatMessage)))
        assert s.get(QuickReply, reply_id).send_count == 6
    assert texts == sorted(f"客户{world.account_a}-{i}，天冷注意保暖" for i in range(6))
    by_item = _create(services, ADMIN, {"mode": "accounts", "account_ids": [world.account_b]},
                      {"msg_type": "content", "content_item_id": item_id})
    runner.run(services, by_item)
    with services.db.read() as s:
        kinds = {(c.kind, c.payload.get("url")) for c in s.exec(select(DeviceCommand).where(DeviceCommand.account_id == world.account_b))}
    assert kinds == {("send_link", "https://shop.example.com/1212")}
    with services.db.write() as s:
        with pytest.raises(ConversationError) as exc:
            service.create(s, {"name": "x", "target": {"mode": "accounts", "account_ids": [world.account_a]},
                               "content": {"msg_type": "content", "content_item_id": moment_id}}, ADMIN, services.now())
    assert "content_item_id" in exc.value.errors


def test_the_scheduler_job_starts_a_due_broadcast(services, world):
    from types import SimpleNamespace

    from engine.crm_wiring import all_cron_jobs

    job = {j.key: j for j in all_cron_jobs(services.settings)}["broadcasts"]
    assert job.cron == {"minute": "*"}
    bid = _create(services, ADMIN, {"mode": "accounts", "account_ids": [world.account_a]},
                  scheduled_at=services.now() + timedelta(minutes=5))
    assert job.run(SimpleNamespace(services=services)) == "群发：启动或续发 0 个，更新投递状态 0 个"
    services.clock.advance(minutes=5)
    assert job.run(SimpleNamespace(services=services)) == "群发：启动或续发 1 个，更新投递状态 1 个"
    assert {r.status for r in _recipients(services, bid)} == {"queued"}


def test_an_inline_run_stops_at_its_time_budget_and_the_scheduler_finishes(services, world, monkeypatch):
    monkeypatch.setattr(runner, "CHUNK", 3)
    bid = _create(services, ADMIN, {"mode": "accounts", "account_ids": [world.account_a, world.account_b]})
    assert runner.run(services, bid, max_seconds=0) is True
    states = Counter(r.status for r in _recipients(services, bid))
    assert states == {"queued": 3, "pending": 9}
    with services.db.read() as s:
        assert s.get(Broadcast, bid).status == "running"
    runner.run_due(services)
    assert {r.status for r in _recipients(services, bid)} == {"queued"}

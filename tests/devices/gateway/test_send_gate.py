"""The send gate: checked as each command leaves for the phone, not only when it was queued.

A group gap of exactly 3.0 s planned at issue arrived at the phone as ~3.0 s (poll and latency
eat into it) and WeChat flagged 操作过于频繁; delivery now holds the next paced command of an
account until a floor strictly above that threshold (3.5 s + jitter) has passed since the last
one really went out. An account whose 健康分 falls below 30 while its commands wait sends none.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from config.clock import as_utc
from devices.commands import issue_command
from devices.models import DeviceCommand, WechatAccount
from events.models import EventRecord
from tests.devices.gateway.test_commands import poll

ACCOUNT = {"wxid": "wxid_sales01", "nickname": "小王"}
ROOM = "5566@chatroom"
PLATFORM_THRESHOLD = 3.0  # the simulated phone's (and WeChat's) 操作过于频繁 gap


def _issue_group_sends(app, app_db, clock, account_id, count):
    settings = app.extensions["ckb"].services.settings.model_copy(
        update={"budget_group_gap_min_seconds": PLATFORM_THRESHOLD, "budget_group_gap_max_seconds": PLATFORM_THRESHOLD})
    with app_db.write() as s:
        return [issue_command(s, account_id, "send_text", {"to": ROOM, "text": f"第{i}条"}, source="manual",
                              now=clock.now(), settings=settings).id for i in range(count)]


def _two_sends_first_delivered(app, raw_phone, make_devices, app_db, clock):
    """A phone online, two group sends queued 3.0 s apart, the first one received."""
    [(_device_id, token)] = make_devices()
    phone = raw_phone()
    account_id = phone.login(token, [ACCOUNT])["accounts"][ACCOUNT["wxid"]]
    first_id, second_id = _issue_group_sends(app, app_db, clock, account_id, 2)
    assert phone.next_command()["id"] == first_id
    return phone, account_id, first_id, second_id


def _no_command(phone, seconds=0.4):
    with pytest.raises(TimeoutError):
        phone.next_command(timeout=seconds)


def test_the_gap_is_enforced_when_the_command_leaves_not_only_when_queued(app, raw_phone, make_devices, app_db, clock):
    phone, _account_id, first_id, second_id = _two_sends_first_delivered(app, raw_phone, make_devices, app_db, clock)
    first_at = clock.now()
    clock.advance(seconds=PLATFORM_THRESHOLD)  # the gap planned at issue has passed…
    _no_command(phone)  # …but not the floor above the platform's threshold
    with app_db.read() as s:
        held = s.get(DeviceCommand, second_id)
    assert held.status == "queued" and as_utc(held.not_before) >= first_at + timedelta(seconds=3.5)
    clock.set(as_utc(held.not_before))
    assert phone.next_command()["id"] == second_id
    with app_db.read() as s:
        sent = [as_utc(s.get(DeviceCommand, c).sent_at) for c in (first_id, second_id)]
    assert (sent[1] - sent[0]).total_seconds() > PLATFORM_THRESHOLD + 0.4


def test_an_account_that_fell_below_30_sends_nothing_more(app, raw_phone, make_devices, app_db, clock):
    phone, account_id, first_id, second_id = _two_sends_first_delivered(app, raw_phone, make_devices, app_db, clock)
    with app_db.write() as s:
        account = s.get(WechatAccount, account_id)
        account.health_score = 25
        s.add(account)
    clock.advance(seconds=10)

    def refused():
        with app_db.read() as s:
            return s.get(DeviceCommand, second_id).status == "refused"
    assert poll(refused)
    _no_command(phone)
    with app_db.read() as s:
        cmd = s.get(DeviceCommand, second_id)
        assert cmd.reason.startswith("下发前拦截：健康分 25（危险，低于 30），按运营规范停止使用该微信号")
        event = s.exec(select(EventRecord).where(EventRecord.event_code == "device.command_result")).one()
        assert event.data["command_id"] == second_id and event.data["ok"] is False


def test_a_paused_accounts_queue_waits_for_the_pause_to_end(app, raw_phone, make_devices, app_db, clock):
    [(_device_id, token)] = make_devices()
    phone = raw_phone()
    account_id = phone.login(token, [ACCOUNT])["accounts"][ACCOUNT["wxid"]]
    with app_db.write() as s:
        account = s.get(WechatAccount, account_id)
        account.status, account.paused_until = "paused", clock.now() + timedelta(seconds=60)
        s.add(account)
        cmd = DeviceCommand(account_id=account_id, kind="send_text", payload={"to": ROOM, "text": "hi"},
                            status="queued", created_at=clock.now())  # queued before the pause began
        s.add(cmd)
        s.flush()
        command_id = cmd.id
    _no_command(phone)
    with app_db.read() as s:
        assert as_utc(s.get(DeviceCommand, command_id).not_before) == clock.now() + timedelta(seconds=60)
    clock.advance(seconds=60)  # (within three heartbeats: the phone stays online)
    assert phone.next_command()["id"] == command_id


def test_the_floor_follows_the_live_settings_unless_set_by_hand():
    from config.settings import Settings
    from devices.send_gate import SendGate

    settings = Settings(budget_delivery_floor_seconds=3.5, budget_delivery_jitter_seconds=0)
    gate = SendGate(settings)
    assert gate.gap(1) == timedelta(seconds=3.5)
    settings.budget_delivery_floor_seconds = 6.0  # what 参数配置 does to the live object
    assert gate.gap(1) == timedelta(seconds=6.0)
    gate.floor = 0
    assert gate.gap(1) == timedelta(0)

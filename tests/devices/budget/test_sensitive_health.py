"""敏感词 on every outgoing text (full-width, case and inserted punctuation do not hide a word)
and 健康分: risk signals lower the score, pause the account and log it; clean weeks earn it back."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from config.clock import as_utc
from devices import sensitive
from devices.commands import issue_command
from devices.health import apply_risk_signal, resume_due, reward_clean_weeks
from devices.models import DeviceLog, HealthEvent, SensitiveWord, WechatAccount
from tests.devices.budget.conftest import make_account


@pytest.fixture
def words(services):
    with services.db.write() as s:
        sensitive.add_words(s, ["微信转账", "VX", "刷单"])
        sensitive.add_words(s, ["最便宜"], list_name="广告", level="warn")


@pytest.mark.parametrize("text,word", [("加我微信转账给你", "微信转账"), ("微 信-转*账", "微信转账"),
                                       ("私聊ＶＸ", "VX"), ("加v x：abc", "VX"), ("兼职刷　单日结", "刷单"),
                                       ("加我ｖ．Ｘ", "VX")])
def test_blocked_words_are_found_through_disguises(services, words, text, word):
    with services.db.read() as s:
        assert sensitive.check_text(s, text) == (word, [])


def test_clean_and_warning_texts(services, words):
    with services.db.read() as s:
        assert sensitive.check_text(s, "今天的课程九点开始") == (None, [])
        assert sensitive.check_text(s, "全网最便宜") == (None, ["最便宜"])
        assert sensitive.check_text(s, "") == (None, [])


def test_a_blocked_send_is_refused_naming_the_word_and_warnings_are_noted(services, words):
    account = make_account(services)
    with services.db.write() as s:
        refused = issue_command(s, account, "send_text", {"to": "f", "text": "加ｖｘ领红包"}, now=services.now())
        greeting = issue_command(s, account, "add_friend", {"wxid": "w", "greeting": "刷 单兼职"}, now=services.now())
        warned = issue_command(s, account, "send_text", {"to": "f", "text": "全网最便宜"}, now=services.now())
    assert (refused.status, refused.reason, refused.result) == ("refused", "内容含敏感词「VX」，已拦截",
                                                                {"blocked_word": "VX"})
    assert (greeting.status, greeting.reason) == ("refused", "内容含敏感词「刷单」，已拦截")
    assert (warned.status, warned.reason) == ("queued", "（含提示词：最便宜）")


def test_list_changes_take_effect_at_once(services, words):
    with services.db.write() as s:
        assert sensitive.check_text(s, "返现") == (None, [])
        sensitive.add_words(s, ["返现"])
    with services.db.write() as s:
        assert sensitive.check_text(s, "下单返现")[0] == "返现"
        row = s.exec(select(SensitiveWord).where(SensitiveWord.word == "返现")).one()
        row.enabled = False  # edited behind the module's back (another process): the signature changes
        s.add(row)
    with services.db.read() as s:
        assert sensitive.check_text(s, "下单返现") == (None, [])


def test_too_frequent_pauses_the_account_for_a_day_and_logs_it(services, clock):
    account_id = make_account(services, score=95)
    with services.db.write() as s:
        apply_risk_signal(s, account_id, "too_frequent", clock.now(), text="操作过于频繁，请稍后再试")
    with services.db.read() as s:
        account = s.get(WechatAccount, account_id)
        events = list(s.exec(select(HealthEvent).where(HealthEvent.account_id == account_id)))
        logs = list(s.exec(select(DeviceLog).where(DeviceLog.device_id == account.device_id)))
    assert (account.health_score, account.status) == (80, "paused")
    assert as_utc(account.paused_until) == clock.now() + timedelta(hours=24)
    assert [(e.delta, e.score_after) for e in events] == [(-15, 80)]
    assert logs[0].kind == "alert" and "操作过于频繁" in logs[0].message and "已暂停至 2026-11-21 10:00" in logs[0].message
    with services.db.write() as s:
        command = issue_command(s, account_id, "add_friend", {"wxid": "w"}, now=clock.now())
    assert command.status == "deferred" and as_utc(command.not_before) == as_utc(account.paused_until)
    clock.advance(hours=25)
    with services.db.write() as s:
        assert resume_due(s, clock.now()) == 1
        assert s.get(WechatAccount, account_id).status == "normal"


@pytest.mark.parametrize("kind,delta,paused", [("complaint", -20, True), ("verification", -10, False),
                                               ("deleted_by_friend", -2, False)])
def test_each_signal_moves_the_score(services, clock, kind, delta, paused):
    account_id = make_account(services, score=90)
    with services.db.write() as s:
        account = apply_risk_signal(s, account_id, kind, clock.now())
    assert account.health_score == 90 + delta and (account.status == "paused") is paused


def test_banned_signal_refuses_further_commands(services, clock):
    account_id = make_account(services)
    with services.db.write() as s:
        apply_risk_signal(s, account_id, "banned", clock.now())
        command = issue_command(s, account_id, "send_text", {"to": "f", "text": "hi"}, now=clock.now())
    assert command.status == "refused"


def test_a_clean_week_earns_five_points_up_to_100(services, clock):
    account_id = make_account(services, score=97, clean_since=clock.now())
    with services.db.write() as s:
        assert reward_clean_weeks(s, clock.now() + timedelta(days=6)) == 0
        assert reward_clean_weeks(s, clock.now() + timedelta(days=7)) == 1
        assert reward_clean_weeks(s, clock.now() + timedelta(days=14)) == 0  # already 100
        assert s.get(WechatAccount, account_id).health_score == 100
        assert [e.delta for e in s.exec(select(HealthEvent))] == [3]

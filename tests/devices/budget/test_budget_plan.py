"""devices.budget_plan.write_with_budget with the budget in a real Redis: each command's decision
is taken once, before the write transaction (the body runs again with it), and reservations the
final pass did not use — or all of them when the transaction fails — are given back."""
from __future__ import annotations

from datetime import timedelta

import pytest

from devices.budget import usage
from devices.budget_plan import give_back, write_with_budget
from devices.commands import cancel_command, decide_deferred, issue_command, recheck_deferred
from devices.models import DeviceCommand, WechatAccount
from tests.devices.budget.conftest import make_account
from tests.support import with_settings


def _send(s, account, to, key):
    return issue_command(s, account, "send_text", {"to": to, "text": "您好"}, idempotency_key=key)


def _used(svc, account) -> int:
    with svc.db.read() as s:
        return usage(s, s.get(WechatAccount, account), svc.now(), svc.settings)["send"]["used"]


@pytest.mark.redis
def test_decisions_are_taken_once_and_unused_ones_given_back(services, redis_url):
    svc = with_settings(services, redis_url=redis_url)
    account = make_account(svc)
    passes = []

    def body(s):  # the first pass also sends to f2; the data "changed" before the second
        passes.append(len(passes))
        sent = [_send(s, account, "f1", "plan:f1")]
        if len(passes) == 1:
            sent.append(_send(s, account, "f2", "plan:f2"))
        return [c.status for c in sent]

    assert write_with_budget(svc.db, body, settings=svc.settings, now=svc.now()) == ["queued"]
    assert passes == [0, 1] and _used(svc, account) == 1  # f2's reservation went back


@pytest.mark.redis
def test_a_failed_transaction_gives_its_reservations_back(services, redis_url):
    svc = with_settings(services, redis_url=redis_url)
    account = make_account(svc)

    def body(s):
        _send(s, account, "f1", "fail:f1")
        s.flush()
        if s.info.get("ckb_budget_plan").decisions:
            raise RuntimeError("写入失败")

    with pytest.raises(RuntimeError):
        write_with_budget(svc.db, body, settings=svc.settings, now=svc.now())
    assert _used(svc, account) == 0


@pytest.mark.redis
def test_a_recheck_gives_back_the_decision_of_a_command_cancelled_meanwhile(services, redis_url):
    svc = with_settings(services, redis_url=redis_url)
    account = make_account(svc)
    with svc.db.write() as s:
        command = DeviceCommand(account_id=account, kind="send_text", payload={"to": "f1", "text": "您好"},
                                status="deferred", not_before=svc.now() - timedelta(minutes=1), created_at=svc.now())
        s.add(command)
    decisions = decide_deferred(svc.db, svc.now(), settings=svc.settings)
    assert _used(svc, account) == 1
    with svc.db.write() as s:
        cancel_command(s, command.id)
        assert recheck_deferred(s, svc.now(), settings=svc.settings, decisions=decisions) == {}
    assert list(decisions) == [command.id]
    give_back(decisions.values(), svc.settings, None)
    assert _used(svc, account) == 0

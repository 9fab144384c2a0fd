"""Risk-budget fixtures: a phone with one WeChat account on the test database, and settings
with the budget knobs a test wants (quiet hours, caps, gaps)."""
from __future__ import annotations

import pytest

from devices.models import Device, WechatAccount


def make_account(svc, wxid="wxid_acc1", score=100, **fields) -> int:
    with svc.db.write() as s:
        device = Device(name="手机1", token_hash=f"hash-{wxid}", token_prefix="tok")
        s.add(device)
        s.flush()
        account = WechatAccount(device_id=device.id, wxid=wxid, nickname=f"运营号{wxid[-1]}", health_score=score,
                                **fields)
        s.add(account)
        s.flush()
        return account.id


@pytest.fixture
def account(services):
    return make_account(services)


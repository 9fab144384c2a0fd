"""A frozen Redis under the device layer's own budget calls: re-checking deferred commands and
auto-accepting friend requests ask Redis before the write transaction opens — other writers are
not held up for the socket timeout — and an outage leaves the work for later, with a reason,
instead of raising out of the delivery loop."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlmodel import select

from devices.auto_accepting import auto_accept
from devices.connections import ConnectionRegistry
from devices.delivery import Delivery
from devices.models import AutoAcceptRule, DeviceCommand, DeviceLog, FriendRequest
from tests.devices.budget.conftest import make_account
from tests.support.frozen_redis import frozen_redis, other_writer

TIMEOUT = 1.5


@pytest.fixture
def frozen_services(services):
    with frozen_redis(TIMEOUT) as client:
        yield dataclasses.replace(services, redis=client)


def test_rechecking_deferred_commands_waits_on_redis_outside_the_write_lock(frozen_services):
    svc = frozen_services
    account_id = make_account(svc)
    with svc.db.write() as s:
        cmd = DeviceCommand(account_id=account_id, kind="send_text", payload={"to": "wxid_f", "text": "您好"},
                            status="deferred", not_before=svc.now() - timedelta(minutes=1), created_at=svc.now())
        s.add(cmd)
        s.flush()
        command_id = cmd.id
    delivery = Delivery(svc, None, ConnectionRegistry())
    with other_writer(svc.db) as waits:
        delivery.recheck_deferred()  # must not raise out of the delivery loop
    assert waits and max(waits) < TIMEOUT / 2, max(waits)
    with svc.db.read() as s:
        assert s.get(DeviceCommand, command_id).status == "deferred"  # looked at again next round


def test_auto_accept_waits_on_redis_outside_the_write_lock_and_leaves_the_request_pending(frozen_services):
    svc = frozen_services
    account_id = make_account(svc)
    with svc.db.write() as s:
        s.add(AutoAcceptRule(name="全部通过"))
        request = FriendRequest(account_id=account_id, from_wxid="wxid_lead", greeting="你好", created_at=svc.now())
        s.add(request)
        s.flush()
        request_id = request.id
    with other_writer(svc.db) as waits:
        assert auto_accept(svc, request_id, svc.settings.timezone) is None
    assert waits and max(waits) < TIMEOUT / 2, max(waits)
    with svc.db.read() as s:
        assert s.get(FriendRequest, request_id).status == "pending"
        assert s.exec(select(DeviceCommand)).first() is None
        [entry] = s.exec(select(DeviceLog).where(DeviceLog.kind == "error")).all()
    assert "Redis" in entry.message and "手动通过" in entry.message

"""A frozen Redis (accepts connections, never answers) under a device step: the step waits on
Redis outside the database write transaction — other writers are not held up — and is deferred
without spending an attempt instead of failing towards a dead letter."""
from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import select

from engine.models import StepAttempt
from engine.runtime import Runtime
from tests.devices.budget.engine_kit import DeviceKit
from tests.engine.conftest import Kit, engine_services  # noqa: F401 - fixtures
from tests.support.frozen_redis import frozen_redis, other_writer

REDIS_TIMEOUT = 1.5


@pytest.fixture
def frozen_client():
    with frozen_redis(REDIS_TIMEOUT) as client:
        yield client


def test_a_frozen_redis_neither_holds_the_write_lock_nor_spends_attempts(engine_services, frozen_client):
    svc = dataclasses.replace(engine_services, redis=frozen_client)
    dk = DeviceKit(Kit(Runtime(svc)))
    with other_writer(svc.db) as waits:
        task = dk.run("device.send_message", {"text": "您好"})
    assert max(waits) < REDIS_TIMEOUT / 2, max(waits)
    assert task.status == "pending" and task.attempts == 0, (task.status, task.last_error)
    assert "Redis" in task.note and dk.commands() == []
    with svc.db.read() as s:
        states = [a.state for a in s.exec(select(StepAttempt).where(StepAttempt.task_id == task.id))]
    assert states == ["deferred"]

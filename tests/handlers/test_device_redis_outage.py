"""A frozen Redis (accepts connections, never answers) under a device step: the step waits on
Redis outside the database write transaction — other writers are not held up — and is deferred
without spending an attempt instead of failing towards a dead letter."""
from __future__ import annotations

import dataclasses
import socket
import threading
import time

import pytest
import redis
from sqlmodel import select

from engine.models import StepAttempt
from engine.runtime import Runtime
from tests.devices.budget.engine_kit import DeviceKit
from tests.engine.conftest import Kit, engine_services  # noqa: F401 - fixtures

REDIS_TIMEOUT = 1.5


@pytest.fixture
def frozen_redis():
    """A TCP peer that takes every connection and never says a word (a Redis stopped with SIGSTOP)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    client = redis.Redis(host="127.0.0.1", port=listener.getsockname()[1], socket_timeout=REDIS_TIMEOUT,
                         socket_connect_timeout=REDIS_TIMEOUT, decode_responses=True)
    yield client
    stop.set()
    thread.join(5)
    client.close()
    for conn in held:
        conn.close()
    listener.close()


def test_a_frozen_redis_neither_holds_the_write_lock_nor_spends_attempts(engine_services, frozen_redis):
    svc = dataclasses.replace(engine_services, redis=frozen_redis)
    dk = DeviceKit(Kit(Runtime(svc)))
    waits, done = [], threading.Event()

    def other_writer():  # stands for ingestion: one short write transaction after another
        while not done.is_set():
            t0 = time.monotonic()
            with svc.db.write() as s:
                s.connection()
            waits.append(time.monotonic() - t0)
            time.sleep(0.05)

    writer = threading.Thread(target=other_writer, daemon=True)
    writer.start()
    try:
        task = dk.run("device.send_message", {"text": "您好"})
    finally:
        done.set()
        writer.join(10)
    assert max(waits) < REDIS_TIMEOUT / 2, max(waits)
    assert task.status == "pending" and task.attempts == 0, (task.status, task.last_error)
    assert "Redis" in task.note and dk.commands() == []
    with svc.db.read() as s:
        states = [a.state for a in s.exec(select(StepAttempt).where(StepAttempt.task_id == task.id))]
    assert states == ["deferred"]

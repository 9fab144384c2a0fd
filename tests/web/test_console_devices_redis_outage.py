"""Console actions whose risk check needs Redis while it is frozen: 通过 a friend request answers
503 with a Chinese reason at once (the check runs before the write transaction, nothing is
written, the request stays pending) — never a 500, never a hang holding the database."""
from __future__ import annotations

import time

from sqlmodel import select

from devices.models import DeviceCommand, FriendRequest
from tests.devices.console.fixtures import admin, device_permissions, world  # noqa: F401 - fixtures
from tests.support.frozen_redis import frozen_redis

TIMEOUT = 1.0


def test_accepting_a_friend_request_with_redis_frozen_answers_503(app, client, admin, app_db, world):
    svc = app.extensions["ckb"].services
    with app_db.read() as s:
        pending = s.exec(select(FriendRequest).where(FriendRequest.status == "pending")).one()
    settings = svc.settings
    with frozen_redis(TIMEOUT) as client_redis:
        port = client_redis.connection_pool.connection_kwargs["port"]
        svc.redis = client_redis
        svc.settings = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{port}/0"})
        try:
            t0 = time.monotonic()
            resp = client.post(f"/accounts/requests/{pending.id}/accept", data={"csrf_token": admin})
            took = time.monotonic() - t0
        finally:
            svc.redis, svc.settings = None, settings
    body = resp.get_data(as_text=True)
    assert resp.status_code == 503 and "风控服务（Redis）暂时不可用，请稍后再试" in body, (resp.status_code, body[:300])
    assert resp.headers["Retry-After"] == "30" and took < 3 * TIMEOUT
    with app_db.read() as s:
        assert s.get(FriendRequest, pending.id).status == "pending"
        assert s.exec(select(DeviceCommand)).all() == []

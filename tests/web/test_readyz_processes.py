"""/readyz against real processes: a web app with no dispatcher of its own is ready while a
`cunkebao worker` and a `cunkebao scheduler` beat; kill -9 the worker and it turns unavailable
within three heartbeats; start a new worker and it is ready again."""
from __future__ import annotations

import signal

import pytest

from tests.engine.test_crash_recovery import _log, _wait, _worker

pytestmark = pytest.mark.slow
BEAT = {"CKB_PROCESS_HEARTBEAT_SECONDS": "0.5"}


@pytest.fixture
def real_clock_app(settings):
    from web import create_app

    app = create_app(settings)  # the system clock: heartbeats are written by real processes
    app.config.update(TESTING=True)
    yield app
    app.extensions["ckb"].services.db.dispose()


def _status(client) -> int:
    return client.get("/readyz").status_code


def test_readyz_follows_a_killed_and_restarted_worker(real_clock_app):
    client = real_clock_app.test_client()
    svc = real_clock_app.extensions["ckb"].services
    assert _status(client) == 503  # nothing runs yet
    scheduler = _worker(svc, "scheduler", "scheduler", **BEAT)
    worker = _worker(svc, "worker", **BEAT)
    second = None
    try:
        assert _wait(lambda: _status(client) == 200, 60), (client.get("/readyz").json, _log(svc, "worker"))
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert _wait(lambda: _status(client) == 503, 20), client.get("/readyz").json
        body = client.get("/readyz").json
        assert not body["checks"]["workers"]["ok"] and body["checks"]["leader"]["ok"], body
        second = _worker(svc, "worker2", **BEAT)
        assert _wait(lambda: _status(client) == 200, 60), (client.get("/readyz").json, _log(svc, "worker2"))
    finally:
        for proc in (worker, second, scheduler):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except Exception:  # noqa: BLE001 - never leave a process behind
                    proc.kill()
                    proc.wait(10)

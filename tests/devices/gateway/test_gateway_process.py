"""`cunkebao gateway` as a real process on the test database: simulated phones connect over real
WebSockets, a command issued in this process reaches a phone (NOTIFY on PostgreSQL, the poll on
SQLite), is acknowledged and its result stored; a bad token is refused with the flask-sock
endpoint's close code; SIGTERM closes the phones, records their disconnect and marks the
process stopped in 系统监控."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest
from sqlmodel import select
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from devices.commands import issue_command
from devices.models import Device, DeviceCommand, Friend, WechatAccount
from devices.registry import add_device
from devices.simulator import PhoneConfig, SimulatedFleet
from engine.process_models import ProcessHeartbeat
from tests.engine.test_crash_recovery import _wait

pytestmark = pytest.mark.slow
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def gateway_process(services):
    port = _free_port()
    settings = services.settings
    env = {**os.environ, "CKB_DATABASE_URL": settings.resolved_database_url(), "CKB_SECRET_KEY": "test-secret-key",
           "CKB_VAR_DIR": str(settings.var_dir), "CKB_PROCESS_HEARTBEAT_SECONDS": "1"}
    log_path = settings.var_dir / "gateway.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "web.cli", "gateway", "--port", str(port), "--threads", "4"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert _wait(lambda: _listening(port) or proc.poll() is not None, 60) and proc.poll() is None, \
            log_path.read_text(errors="replace")[-3000:]
        proc.port = port
        proc.url = f"ws://127.0.0.1:{port}/devices/ws"
        proc.log_text = lambda: log_path.read_text(errors="replace")[-3000:]
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_phones_get_commands_through_the_gateway_process_and_sigterm_stops_it(services, gateway_process):
    with services.db.write() as s:
        device, token, _qr = add_device(s, "网关手机", "127.0.0.1")
        device_id = device.id
    fleet = SimulatedFleet(gateway_process.url, [token], PhoneConfig(accounts=(1, 1), friends=2, groups=0))
    fleet.start(timeout=60)
    try:
        assert fleet.stats()["connected"] == 1, fleet.refused()
        with services.db.read() as s:
            account = s.exec(select(WechatAccount).where(WechatAccount.device_id == device_id)).one()
            friend = s.exec(select(Friend.wxid).where(Friend.account_id == account.id)).first()
            assert s.get(Device, device_id).online
        with services.db.write() as s:
            cmd = issue_command(s, account.id, "send_text", {"to": friend, "text": "网关进程的指令"}, source="manual",
                                idempotency_key="gateway-process:1")
            command_id = cmd.id
        assert cmd.status == "queued"

        def finished():
            with services.db.read() as s:
                return s.get(DeviceCommand, command_id).status == "succeeded"

        assert _wait(finished, 30), gateway_process.log_text()
        with services.db.read() as s:
            done = s.get(DeviceCommand, command_id)
            assert done.acked_at is not None and done.result.get("msg_id")
        assert fleet.delivered() == [(account.wxid, friend, "send_text", {"to": friend, "text": "网关进程的指令"})]

        # The process's own probe on the same port, and its heartbeat row as a gateway with its phone.
        with urllib.request.urlopen(f"http://127.0.0.1:{gateway_process.port}/healthz", timeout=10) as answer:
            assert answer.status == 200

        def beacon():
            with services.db.read() as s:
                return s.exec(select(ProcessHeartbeat).where(ProcessHeartbeat.pid == gateway_process.pid)).first()

        assert _wait(lambda: beacon() is not None and (beacon().info or {}).get("gateway_connections") == 1, 15)
        assert beacon().kind == "gateway" and beacon().roles == ["gateway"]

        # A bad token: the same error frame and close code as the flask-sock endpoint.
        with connect(gateway_process.url, open_timeout=10, close_timeout=2) as ws:
            ws.send(json.dumps({"type": "hello", "id": "h1", "token": "ckbd_not-a-real-token"}))
            answer = json.loads(ws.recv(timeout=10))
            assert answer["type"] == "error" and answer["code"] == "auth_failed"
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
            assert closed.value.rcvd.code == 4001 and closed.value.rcvd.reason == "设备令牌无效"

        gateway_process.send_signal(signal.SIGTERM)
        assert gateway_process.wait(40) == 0, gateway_process.log_text()
        assert _wait(fleet.phones[0].closed.is_set, 10)
        with services.db.read() as s:
            assert not s.get(Device, device_id).online
            row = s.exec(select(ProcessHeartbeat).where(ProcessHeartbeat.pid == gateway_process.pid)).one()
            assert row.stopped_at is not None
    finally:
        fleet.stop()

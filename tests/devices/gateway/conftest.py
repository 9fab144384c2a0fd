"""Gateway fixtures: the live app with a device gateway on short timings, devices with tokens,
a raw protocol client over a real WebSocket, and simulated fleets stopped after each test."""
from __future__ import annotations

import json

import pytest
from websockets.sync.client import connect

from devices.gateway import Gateway
from devices.registry import add_device
from devices.simulator import PhoneConfig, SimulatedFleet
from tests.web.conftest import admin_user, app, app_db, live_server  # noqa: F401 - the live app these tests talk to
from web.devices_ws import configure


@pytest.fixture
def gateway(app):
    runtime = app.extensions["ckb"]
    gw = configure(Gateway(runtime.services, runtime.ingestor, poll_seconds=0.05))
    app.extensions["ckb_devices"] = gw
    yield gw
    gw.stop()


@pytest.fixture
def ws_url(gateway, live_server):
    return live_server.url.replace("http://", "ws://") + "/devices/ws"


@pytest.fixture
def make_devices(app_db):
    def make(count: int = 1, prefix: str = "测试手机") -> list[tuple[int, str]]:
        out = []
        with app_db.write() as s:
            for i in range(count):
                device, token, _qr = add_device(s, f"{prefix}{i + 1}", "127.0.0.1:5000")
                out.append((device.id, token))
        return out
    return make


class RawPhone:
    """A hand-driven phone: every frame written by the test, every answer read back."""

    def __init__(self, url: str):
        self.ws = connect(url, open_timeout=5, close_timeout=2, max_size=8 * 1024 * 1024).__enter__()

    def send(self, frame) -> None:
        self.ws.send(frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False))

    def recv(self, timeout: float = 5.0) -> dict:
        return json.loads(self.ws.recv(timeout=timeout))

    def request(self, frame: dict, timeout: float = 5.0) -> dict:
        """Sends a frame and returns the answer with its id (commands in between are kept)."""
        self.send(frame)
        while True:
            answer = self.recv(timeout)
            if answer.get("id") == frame["id"]:
                return answer
            self.inbox.append(answer)

    inbox: list

    def login(self, token: str, accounts: list[dict] | None = None) -> dict:
        self.inbox = []
        welcome = self.request({"type": "hello", "id": "h1", "token": token})
        assert welcome["type"] == "welcome", welcome
        if accounts is not None:
            answer = self.request({"type": "accounts", "id": "a1", "accounts": accounts})
            assert answer["type"] == "ack", answer
            welcome["accounts"] = answer["accounts"]
        return welcome

    def next_command(self, timeout: float = 5.0) -> dict:
        for i, frame in enumerate(self.inbox):
            if frame["type"] == "command":
                return self.inbox.pop(i)
        while True:
            frame = self.recv(timeout)
            if frame["type"] == "command":
                return frame
            self.inbox.append(frame)

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def raw_phone(ws_url):
    phones = []

    def open_phone() -> RawPhone:
        phone = RawPhone(ws_url)
        phones.append(phone)
        return phone
    yield open_phone
    for phone in phones:
        phone.close()


@pytest.fixture
def fleet(ws_url):
    fleets = []

    def start(tokens: list[str], **config) -> SimulatedFleet:
        f = SimulatedFleet(ws_url, tokens, PhoneConfig(**config))
        fleets.append(f)
        return f.start(timeout=60)
    yield start
    for f in fleets:
        f.stop()

"""Shared helpers of the /api/v1 contract tests: bearer-token clients per role, a signed
ingestion poster speaking real HTTP, a small world (events, app, group, strategy) built through
the API itself, and the checks every error answer must pass.

The fixtures here are imported by the test modules that use them (`from tests.web.api_helpers
import api, world`), which is how pytest shares fixtures outside a conftest.
"""
from __future__ import annotations

import json
import re

import pytest
import requests
from sqlalchemy import func, select

from crm.people import service as people
from events.signature import sign

CHINESE = re.compile(r"[\u4e00-\u9fff]")
MOBILE = "13800138000"
EMAIL = "zhangsan@example.com"
PASSWORD = "Passw0rd123"


def assert_error(resp, status: int, *words: str) -> dict:
    """A JSON error answer with a Chinese message that names the problem (each of `words`)."""
    assert resp.status_code == status, (resp.status_code, _text(resp))
    assert resp.headers["Content-Type"].startswith("application/json"), resp.headers["Content-Type"]
    body = resp.json() if callable(resp.json) else resp.json
    error = body["error"]
    assert CHINESE.search(error["message"]), error
    everything = json.dumps(body, ensure_ascii=False)
    for word in words:
        assert word in everything, (word, body)
    return body


def _text(resp) -> str:
    return resp.text if hasattr(resp, "text") else resp.get_data(as_text=True)


def count(db, model, *where) -> int:
    with db.read() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar()


class Api:
    """A Flask test client that sends one bearer token (or none) with every request."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, json_body=None, data=None, **kw):
        if json_body is not None and data is None:
            data = json.dumps(json_body, ensure_ascii=False)
        headers = {**self.headers, **kw.pop("headers", {})}
        if data is not None:
            headers.setdefault("Content-Type", "application/json")
        return self.client.open(path, method=method, data=data, headers=headers, **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    def ok(self, method: str, path: str, body=None, status: int = 200) -> dict:
        resp = self.call(method, path, body)
        assert resp.status_code == status, (method, path, resp.status_code, resp.get_data(as_text=True))
        return resp.json


def token_for(app_db, username: str, roles: list[str], is_admin: bool = False) -> str:
    people.ensure_builtin_roles(app_db)
    people.create_user(app_db, username, PASSWORD, roles=roles, is_admin=is_admin)
    return people.create_token(app_db, username, "测试脚本")


@pytest.fixture
def api(app, app_db, admin_user):
    """The admin's token (every permission, pii.view included)."""
    return Api(app.test_client(), people.create_token(app_db, "admin", "管理脚本"))


@pytest.fixture
def viewer_api(app, app_db, admin_user):
    return Api(app.test_client(), token_for(app_db, "viewer1", ["viewer"]))


@pytest.fixture
def anon_api(app):
    return Api(app.test_client(), None)


@pytest.fixture
def runtime(app):
    return app.extensions["ckb"]


class World:
    """Built-in events, an app 应用01, a group 默认组 and helpers to add strategies — via the API."""

    def __init__(self, api: Api, runtime):
        self.api, self.rt = api, runtime
        api.ok("POST", "/api/v1/event-definitions/import-builtin")
        defs = api.ok("GET", "/api/v1/event-definitions")["items"]
        self.events = {d["code"]: d for d in defs}
        created = api.ok("POST", "/api/v1/apps", {"name": "应用01"}, 201)
        self.app_id, self.app_key, self.secret = created["id"], created["app_key"], created["secret"]
        self.group_id = api.ok("POST", "/api/v1/strategy-groups", {"name": "默认组"}, 201)["id"]

    def event_id(self, code: str = "password_changed") -> int:
        return self.events[code]["id"]

    def strategy_body(self, name="改密短信", code="password_changed", conditions=None, steps=None, **extra) -> dict:
        return {"name": name, "group_id": self.group_id, "event_id": self.event_id(code),
                "conditions": conditions if conditions is not None else [row("status", "eq", "1")],
                "steps": steps or [SMS_STEP], **extra}

    def strategy(self, enabled: bool = True, **kw) -> dict:
        created = self.api.ok("POST", "/api/v1/strategies", self.strategy_body(**kw), 201)
        if enabled:
            self.api.ok("POST", "/api/v1/strategies/enable", {"ids": [created["id"]], "enabled": True})
        return created

    def ingest(self, events: list[dict] | dict):
        """Stores events through the real ingestion service (no HTTP), returns the answer."""
        from events.ingestion import IngestRequest

        raw = json.dumps(events, ensure_ascii=False).encode()
        ts = int(self.rt.services.now().timestamp())
        return self.rt.ingestor.ingest(IngestRequest(body=raw, app_key=self.app_key, timestamp=str(ts),
                                                     signature=sign(self.secret, ts, raw), client_ip="127.0.0.1"))


def row(field, op, value, lparen=0, rparen=0, join="and") -> dict:
    return {"lparen": lparen, "field": field, "op": op, "value": value, "rparen": rparen, "join": join}


SMS_STEP = {"processor": "sms", "config": {"mobile": "${mobile}", "content": "${customerName}，您的密码已修改"}}
DELAYED_SMS = {**SMS_STEP, "timing": {"mode": "delay", "hours": 48}}
PASSWORD_EVENT = {"customerName": "张三", "mobile": MOBILE, "email": EMAIL, "status": "1"}


@pytest.fixture
def world(api, runtime):
    return World(api, runtime)


class Signer:
    """Posts signed bodies to the live server with `requests` (real HTTP, real sockets)."""

    def __init__(self, base_url: str, app_key: str, secret: str, clock):
        self.url = base_url + "/api/v1/events"
        self.app_key, self.secret, self.clock = app_key, secret, clock

    def now(self) -> int:
        return int(self.clock.now().timestamp())

    def headers(self, body: bytes, ts: int | None = None, secret: str | None = None, **extra) -> dict:
        ts = self.now() if ts is None else ts
        return {"Content-Type": "application/json", "X-App-Key": self.app_key, "X-Timestamp": str(ts),
                "X-Signature": sign(secret or self.secret, ts, body), **extra}

    def post_raw(self, body: bytes, headers: dict | None = None, **kw) -> requests.Response:
        return requests.post(self.url, data=body, headers=self.headers(body) if headers is None else headers,
                             timeout=10, **kw)

    def post(self, payload, **header_kw) -> requests.Response:
        body = json.dumps(payload, ensure_ascii=False).encode()
        return requests.post(self.url, data=body, headers=self.headers(body, **header_kw), timeout=10)

"""The 企业微信 server API: access_token handling, retries with backoff, errcode → PlatformError.

One client per (corp, secret): the 客户联系 secret for externalcontact/*, the app secret for the
org, JS-SDK tickets and OAuth. Requests go to `settings.wecom_api_base` (qyapi.weixin.qq.com; the
tests point it at the loopback fake). A token rejected as expired/invalid (40014, 42001) is dropped
and fetched again once; system busy (-1), 5xx and network errors are retried with backoff."""
from __future__ import annotations

import time
from typing import Any, Callable, Optional

import requests

from integrations.errors import PlatformError
from integrations.wecom.tokens import CACHE, TokenCache

TOKEN_ERRORS = {40014, 42001}  # invalid / expired access_token
BUSY = {-1, 45009, 45033}  # system busy, API frequency limits: worth another try
SECRET_ERRORS = {40001: "Secret 错误", 40013: "企业 ID（CorpID）错误", 40091: "Secret 错误", 40056: "AgentID 错误"}


class WecomClient:
    def __init__(self, api_base: str, corp_id: str, secret: str, *, cache: TokenCache = CACHE,
                 timeout: float = 10.0, attempts: int = 3, backoff: float = 0.3,
                 sleep: Callable[[float], None] = time.sleep, http: Optional[requests.Session] = None):
        self.api_base = api_base.rstrip("/")
        self.corp_id, self.secret = corp_id, secret
        self.cache, self.timeout, self.attempts, self.backoff, self.sleep = cache, timeout, attempts, backoff, sleep
        self.http = http or requests.Session()

    # -- tokens -------------------------------------------------------------------------------
    def _token_key(self, kind: str = "access_token") -> tuple:
        return self.cache.key(self.api_base, self.corp_id, self.secret, kind)

    def access_token(self) -> str:
        key = self._token_key()
        token = self.cache.get(key)
        if token:
            return token
        if not self.corp_id or not self.secret:
            raise PlatformError("企业微信未配置 CorpID 或 Secret")
        data = self._call("GET", "/cgi-bin/gettoken", {"corpid": self.corp_id, "corpsecret": self.secret}, None)
        self.cache.put(key, data["access_token"], int(data.get("expires_in") or 7200))
        return data["access_token"]

    def ticket(self, kind: str) -> str:
        """jsapi_ticket ('jsapi': the corp's, for wx.config) or 'agent_config' (for wx.agentConfig)."""
        key = self._token_key("ticket:" + kind)
        value = self.cache.get(key)
        if value:
            return value
        if kind == "jsapi":
            data = self.get("/cgi-bin/get_jsapi_ticket")
        else:
            data = self.get("/cgi-bin/ticket/get", {"type": "agent_config"})
        self.cache.put(key, data["ticket"], int(data.get("expires_in") or 7200))
        return data["ticket"]

    # -- calls --------------------------------------------------------------------------------
    def get(self, path: str, params: Optional[dict] = None) -> dict:
        return self._authed("GET", path, params or {}, None)

    def post(self, path: str, body: dict, params: Optional[dict] = None) -> dict:
        return self._authed("POST", path, params or {}, body)

    def _authed(self, method: str, path: str, params: dict, body: Optional[dict]) -> dict:
        for fresh in (False, True):
            token = self.access_token()
            try:
                return self._call(method, path, {**params, "access_token": token}, body)
            except PlatformError as exc:
                if exc.errcode in TOKEN_ERRORS and not fresh:
                    self.cache.drop(self._token_key())
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _call(self, method: str, path: str, params: dict, body: Optional[dict]) -> dict:
        last: Optional[PlatformError] = None
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.backoff * (2 ** (attempt - 1)))
            try:
                response = self.http.request(method, self.api_base + path, params=params, json=body,
                                             timeout=self.timeout)
            except requests.RequestException as exc:
                last = PlatformError(f"无法连接企业微信服务器：{type(exc).__name__}")
                continue
            if response.status_code >= 500:
                last = PlatformError(f"企业微信服务器错误（HTTP {response.status_code}）")
                continue
            try:
                data: Any = response.json()
            except ValueError:
                raise PlatformError(f"企业微信返回了无法解析的应答（HTTP {response.status_code}）") from None
            if not isinstance(data, dict):
                raise PlatformError("企业微信返回了无法解析的应答")
            errcode = int(data.get("errcode") or 0)
            if errcode == 0:
                return data
            message = SECRET_ERRORS.get(errcode) or str(data.get("errmsg") or "")
            last = PlatformError(f"企业微信错误 {errcode}：{message}", errcode)
            if errcode not in BUSY:
                raise last
        raise last  # type: ignore[misc]

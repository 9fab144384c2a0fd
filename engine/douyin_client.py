"""抖音开放平台 over HTTP (through the SSRF guard): the authorize URL, exchanging the consent's code for
tokens, refreshing the access token, the account's profile, and one page of its fans.

Answers follow the platform's envelope {"data": {..., "error_code": 0, "description": ""}, "message"};
a non-zero error_code becomes DouyinError with the platform's code, so callers can tell an expired
access token (refresh and retry), a revoked authorisation (the account is marked 已撤销) and an expired
refresh token (the user must authorise again) apart."""
from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from crm.leads.douyin_accounts import TokenSet
from handlers.errors import PermanentError, RetryableError
from handlers.net_guard import fetch

SCOPES = "user_info,fans.list"
ACCESS_EXPIRED = {2190008, 10008}
REVOKED = {2190002, 2190004, 10002}
REFRESH_EXPIRED = {10010}
MAX_BYTES = 4 * 1024 * 1024


class DouyinError(Exception):
    def __init__(self, message: str, code: int = 0):
        super().__init__(message)
        self.message, self.code = message, code

    @property
    def access_expired(self) -> bool:
        return self.code in ACCESS_EXPIRED

    @property
    def revoked(self) -> bool:
        return self.code in REVOKED

    @property
    def refresh_expired(self) -> bool:
        return self.code in REFRESH_EXPIRED


@dataclass
class FansPage:
    fans: list
    cursor: str
    has_more: bool


def _base(settings) -> str:
    return settings.douyin_api_base.rstrip("/")


def configured(settings) -> bool:
    return bool(settings.douyin_client_key and settings.douyin_client_secret)


def authorize_url(settings, state: str, redirect_uri: str) -> str:
    if not configured(settings):
        raise DouyinError("未配置抖音开放平台应用（CKB_DOUYIN_CLIENT_KEY / CKB_DOUYIN_CLIENT_SECRET）")
    query = urlencode({"client_key": settings.douyin_client_key, "response_type": "code", "scope": SCOPES,
                       "redirect_uri": redirect_uri, "state": state})
    return f"{_base(settings)}/platform/oauth/connect/?{query}"


def _call(settings, method: str, path: str, *, form: dict | None = None, params: dict | None = None,
          headers: dict | None = None) -> dict:
    body = urlencode(form).encode() if form is not None else None
    sent = {**({"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}), **(headers or {})}
    try:
        answer = fetch(settings, method, _base(settings) + path, params=params, headers=sent, body=body,
                       max_bytes=MAX_BYTES)
    except (RetryableError, PermanentError) as exc:
        raise DouyinError(f"连接抖音开放平台失败：{exc}") from None
    try:
        envelope = json.loads(answer.body)
    except ValueError:
        raise DouyinError(f"抖音开放平台返回的内容不是 JSON（HTTP {answer.status}）") from None
    data = envelope.get("data") if isinstance(envelope, dict) else None
    if not isinstance(data, dict):
        raise DouyinError(f"抖音开放平台返回格式不正确（HTTP {answer.status}）")
    code = data.get("error_code", 0)
    if code not in (0, None):
        raise DouyinError(f"抖音开放平台拒绝：{str(data.get('description') or '未说明原因')[:200]}（错误码 {code}）",
                          int(code) if str(code).lstrip("-").isdigit() else -1)
    if answer.status >= 400:
        raise DouyinError(f"抖音开放平台返回 HTTP {answer.status}")
    return data


def _tokens(data: dict) -> TokenSet:
    try:
        return TokenSet(open_id=str(data["open_id"]), access_token=str(data["access_token"]),
                        refresh_token=str(data["refresh_token"]), expires_in=int(data.get("expires_in") or 0),
                        refresh_expires_in=int(data.get("refresh_expires_in") or 0), scope=str(data.get("scope") or ""))
    except (KeyError, TypeError, ValueError):
        raise DouyinError("抖音开放平台返回的令牌不完整") from None


def exchange_code(settings, code: str) -> TokenSet:
    return _tokens(_call(settings, "POST", "/oauth/access_token/", form={
        "client_key": settings.douyin_client_key, "client_secret": settings.douyin_client_secret,
        "code": code, "grant_type": "authorization_code"}))


def refresh(settings, refresh_token: str) -> TokenSet:
    return _tokens(_call(settings, "POST", "/oauth/refresh_token/", form={
        "client_key": settings.douyin_client_key, "grant_type": "refresh_token", "refresh_token": refresh_token}))


def user_info(settings, open_id: str, access_token: str) -> dict:
    data = _call(settings, "POST", "/oauth/userinfo/", form={"open_id": open_id, "access_token": access_token})
    return {"nickname": str(data.get("nickname") or ""), "avatar": str(data.get("avatar") or "")}


def fans_page(settings, open_id: str, access_token: str, cursor: str, count: int) -> FansPage:
    data = _call(settings, "GET", "/fans/list/", params={"open_id": open_id, "cursor": cursor or "0", "count": count},
                 headers={"access-token": access_token})
    fans = data.get("list")
    if not isinstance(fans, list):
        raise DouyinError("抖音开放平台返回格式不正确：缺少 list")
    next_cursor = str(data.get("cursor", cursor) or "")
    has_more = data.get("has_more") is True
    if has_more and next_cursor == (cursor or "0"):
        raise DouyinError("抖音开放平台返回 has_more=true 但游标没有前进，已停止以免重复拉取")
    return FansPage(fans, next_cursor, has_more)

"""The 公众号 API client: access_token fetched with the AppSecret, cached sealed on the account until
shortly before it expires and fetched again when the platform says it is invalid (40001/42001/40014,
e.g. another system refreshed it); every errcode becomes a PlatformError with a Chinese reason.

No method here runs inside a database write transaction: the token cache is read before the call and
written in its own short transaction after it (house rule: no write lock across a network call)."""
from __future__ import annotations

from datetime import timedelta
import json as jsonlib
import threading
from typing import Any, Optional

import requests

from config.clock import as_utc
from integrations.errors import PlatformError
from integrations.mp.accounts import get_account, open_secret
from integrations.mp.models import MpAccount

TIMEOUT = 5.0
_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


def _token_lock(account_id: int) -> threading.Lock:
    """One token fetch per account at a time in this process (the others then read the cache)."""
    with _locks_guard:
        return _locks.setdefault(account_id, threading.Lock())
TOKEN_MARGIN = timedelta(minutes=5)
TOKEN_ERRORS = {40001, 40014, 42001}
REASONS = {
    -1: "微信系统繁忙，请稍后再试", 40001: "access_token 无效（AppSecret 错误或已被其他系统刷新）",
    40002: "grant_type 不合法", 40003: "OpenID 不正确或不属于该公众号", 40004: "媒体文件类型不合法",
    40007: "媒体文件 ID 不合法或已过期", 40008: "消息类型不合法", 40013: "AppID 不正确",
    40014: "access_token 不合法", 40125: "AppSecret 不正确", 40164: "调用接口的 IP 不在公众号的白名单中",
    41005: "缺少媒体文件", 42001: "access_token 已过期", 43004: "粉丝已取消关注公众号",
    45015: "超过48小时客服消息窗口（粉丝 48 小时内未与公众号互动），无法回复",
    45047: "客服消息下行条数超过上限（粉丝互动后 48 小时内最多 5 条）", 45032: "一次最多查询 100 个粉丝",
    48001: "公众号未获得该接口权限（需认证的服务号）", 50002: "公众号被封禁或接口被限制",
}


def reason(errcode: Optional[int], errmsg: str = "") -> str:
    return REASONS.get(errcode, f"微信接口返回错误 {errcode}：{errmsg}".strip("："))


class MpClient:
    """One account's API. `services` gives settings (mp_api_base), db, secret_box and clock."""

    def __init__(self, services, account: MpAccount, http: Optional[requests.Session] = None):
        self.services = services
        self.account_id = account.id
        self.appid = account.appid
        self._account = account
        self.http = http or requests.Session()
        self.base = services.settings.mp_api_base.rstrip("/")

    # token
    def _cached_token(self) -> Optional[str]:
        with self.services.db.read() as s:
            account = get_account(s, self.account_id)
        if account.access_token_sealed and account.access_token_expires_at is not None \
                and as_utc(account.access_token_expires_at) - TOKEN_MARGIN > self.services.now():
            return self.services.secret_box.open(account.access_token_sealed)
        return None

    def fetch_token(self, force: bool = False) -> str:
        """The access_token from stable_token (the same token to every caller while it is valid, so
        two processes fetching at once do not invalidate each other's), cached on the account;
        `force` asks for a new one after the platform rejected ours."""
        with _token_lock(self.account_id):
            if not force and (cached := self._cached_token()):
                return cached
            return self._fetch(force)

    def check(self) -> str:
        """测试连接: asks the platform (never the cache) with the stored AppID and AppSecret."""
        with _token_lock(self.account_id):
            return self._fetch(False)

    def _fetch(self, force: bool) -> str:
        with self.services.db.read() as s:
            secret = open_secret(self.services.secret_box, get_account(s, self.account_id))
        data = self._call("POST", "/cgi-bin/stable_token", json={"grant_type": "client_credential", "appid": self.appid,
                                                                 "secret": secret, "force_refresh": force}, token=False)
        token = str(data.get("access_token") or "")
        if not token:
            raise PlatformError("微信接口没有返回 access_token")
        expires = self.services.now() + timedelta(seconds=int(data.get("expires_in") or 7200))
        with self.services.db.write() as s:
            account = get_account(s, self.account_id)
            account.access_token_sealed = self.services.secret_box.seal(token)
            account.access_token_expires_at = expires
            s.add(account)
        return token

    def token(self) -> str:
        return self._cached_token() or self.fetch_token()

    # calls
    def _call(self, method: str, path: str, *, params: Optional[dict] = None, json: Any = None,
              files: Optional[dict] = None, token: bool = True) -> dict:
        params = dict(params or {})
        if token:
            params["access_token"] = self.token()
        try:
            resp = self.http.request(method, self.base + path, params=params, timeout=TIMEOUT, files=files,
                                     data=None if json is None else _json_bytes(json),
                                     headers={} if json is None else {"Content-Type": "application/json"})
            data = resp.json()
        except requests.RequestException as exc:
            raise PlatformError(f"无法连接微信接口：{type(exc).__name__}") from None
        except ValueError:
            raise PlatformError(f"微信接口返回了无法解析的内容（HTTP {resp.status_code}）") from None
        if not isinstance(data, dict):
            raise PlatformError("微信接口返回了无法解析的内容")
        code = int(data.get("errcode") or 0)
        if code:
            raise PlatformError(reason(code, str(data.get("errmsg") or "")), code)
        return data

    def call(self, method: str, path: str, **kwargs) -> dict:
        """An API call with the account's token; a token the platform rejects is fetched again once."""
        try:
            return self._call(method, path, **kwargs)
        except PlatformError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            self.fetch_token(force=True)
            return self._call(method, path, **kwargs)

    # the API
    def send_custom(self, body: dict) -> None:
        self.call("POST", "/cgi-bin/message/custom/send", json=body)

    def upload_image(self, filename: str, content: bytes, mimetype: str = "image/jpeg") -> str:
        data = self.call("POST", "/cgi-bin/media/upload", params={"type": "image"},
                         files={"media": (filename, content, mimetype)})
        return str(data.get("media_id") or "")

    def followers(self, next_openid: str = "") -> tuple[list[str], str]:
        data = self.call("GET", "/cgi-bin/user/get", params={"next_openid": next_openid} if next_openid else {})
        return list((data.get("data") or {}).get("openid") or []), str(data.get("next_openid") or "")

    def user_info(self, openid: str) -> dict:
        return self.call("GET", "/cgi-bin/user/info", params={"openid": openid, "lang": "zh_CN"})

    def users_info(self, openids: list[str]) -> list[dict]:
        body = {"user_list": [{"openid": o, "lang": "zh_CN"} for o in openids[:100]]}
        return list(self.call("POST", "/cgi-bin/user/info/batchget", json=body).get("user_info_list") or [])


def _json_bytes(value: Any) -> bytes:
    # The platform wants UTF-8 text, not \\u escapes (they count against the content limits).
    return jsonlib.dumps(value, ensure_ascii=False).encode("utf-8")

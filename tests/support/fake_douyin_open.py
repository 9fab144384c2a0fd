"""A fake 抖音开放平台 on 127.0.0.1 speaking the real OAuth and data paths, for 抖音授权 tests:

    GET  /platform/oauth/connect/   consent page (a 同意授权 link back to redirect_uri with code and state)
    POST /oauth/access_token/       code → access_token (15 days), refresh_token (30 days), open_id
    POST /oauth/refresh_token/      refresh_token → a new access_token
    POST /oauth/userinfo/           the account's nickname and avatar
    GET  /fans/list/                fans by cursor (header access-token)

Answers use the platform's envelope {"data": {..., "error_code", "description"}, "message"} and its
error codes: 2190008 access_token expired, 2190002 access_token invalid (revoked), 10010 refresh_token
expired, 10007 code invalid. Tests steer it: `expire_access(open_id)`, `revoke(open_id)`, fans to page.
Token lifetimes follow the shared test clock, like the server under test."""
from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

CLIENT_KEY, CLIENT_SECRET = "aw_fake_client", "fake-client-secret-不要泄露"
ACCESS_LIFE, REFRESH_LIFE = timedelta(days=15), timedelta(days=30)


@dataclass
class FakeUser:
    open_id: str
    nickname: str
    fans: list = field(default_factory=list)
    revoked: bool = False


class FakeDouyinOpen:
    def __init__(self, clock, user: FakeUser | None = None):
        self.clock = clock
        self.user = user or FakeUser("ou_fake_001", "美妆小店官方号")
        self.codes: dict[str, str] = {}  # code → open_id (single use)
        self.access: dict[str, tuple[str, object]] = {}  # token → (open_id, expires)
        self.refresh_tokens: dict[str, tuple[str, object]] = {}
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server = None

    # ---- steering ---------------------------------------------------------------------------------
    def add_fans(self, count: int, start: int = 1) -> None:
        self.user.fans += [{"open_id": f"fan_{n:05d}", "union_id": f"un_{n:05d}", "nickname": f"粉丝{n}",
                            "avatar": "", "gender": n % 2, "city": "杭州"} for n in range(start, start + count)]

    def expire_access(self) -> None:
        with self._lock:
            for token, (open_id, _exp) in list(self.access.items()):
                self.access[token] = (open_id, self.clock.now() - timedelta(seconds=1))

    def revoke(self) -> None:
        self.user.revoked = True

    def consent_url_for(self, authorize_url: str) -> str:
        """What pressing 同意授权 on the consent page leads to (for tests without a browser)."""
        query = parse_qs(urlsplit(authorize_url).query)
        code = self._issue_code()
        return f"{query['redirect_uri'][0]}?{urlencode({'code': code, 'state': query['state'][0]})}"

    # ---- the platform ------------------------------------------------------------------------------
    def _issue_code(self) -> str:
        code = "code_" + secrets.token_hex(8)
        with self._lock:
            self.codes[code] = self.user.open_id
        return code

    def _tokens(self, open_id: str, refresh_token: str | None = None) -> dict:
        now = self.clock.now()
        access = "act." + secrets.token_hex(12)
        with self._lock:
            self.access[access] = (open_id, now + ACCESS_LIFE)
            if refresh_token is None:
                refresh_token = "rft." + secrets.token_hex(12)
                self.refresh_tokens[refresh_token] = (open_id, now + REFRESH_LIFE)
            refresh_left = int((self.refresh_tokens[refresh_token][1] - now).total_seconds())
        return {"access_token": access, "expires_in": int(ACCESS_LIFE.total_seconds()), "open_id": open_id,
                "refresh_token": refresh_token, "refresh_expires_in": refresh_left, "scope": "user_info,fans.list",
                "error_code": 0, "description": ""}

    @staticmethod
    def _error(code: int, text: str) -> dict:
        return {"error_code": code, "description": text}

    def _access_check(self, token: str) -> tuple[str, dict | None]:
        entry = self.access.get(token)
        if entry is None or self.user.revoked:
            return "", self._error(2190002, "access_token无效")
        if entry[1] <= self.clock.now():
            return "", self._error(2190008, "access_token过期")
        return entry[0], None

    def answer(self, method: str, path: str, query: dict, form: dict, headers) -> tuple[int, str, bytes]:
        route = urlsplit(path).path
        self.calls.append((method, route))
        if route == "/platform/oauth/connect/":
            if query.get("client_key") != CLIENT_KEY:
                return 400, "text/html", "<p>client_key 无效</p>".encode()
            target = f"{query['redirect_uri']}?{urlencode({'code': self._issue_code(), 'state': query.get('state', '')})}"
            page = (f"<html><body><h1>抖音授权</h1><p>「{escape(self.user.nickname)}」将授权给应用</p>"
                    f"<a id='agree' href='{escape(target)}'>同意授权</a></body></html>")
            return 200, "text/html; charset=utf-8", page.encode()
        if route == "/oauth/access_token/":
            if form.get("client_key") != CLIENT_KEY or form.get("client_secret") != CLIENT_SECRET:
                data = self._error(10013, "client_key或client_secret错误")
            else:
                with self._lock:
                    open_id = self.codes.pop(form.get("code", ""), None)
                data = self._tokens(open_id) if open_id else self._error(10007, "授权码无效或已使用")
        elif route == "/oauth/refresh_token/":
            entry = self.refresh_tokens.get(form.get("refresh_token", ""))
            if self.user.revoked:
                data = self._error(2190002, "授权已被用户取消")
            elif entry is None or entry[1] <= self.clock.now():
                data = self._error(10010, "refresh_token过期")
            else:
                data = self._tokens(entry[0], form["refresh_token"])
        elif route == "/oauth/userinfo/":
            _open_id, problem = self._access_check(form.get("access_token", ""))
            data = problem or {"open_id": self.user.open_id, "nickname": self.user.nickname, "avatar": "",
                               "error_code": 0, "description": ""}
        elif route == "/fans/list/":
            _open_id, problem = self._access_check(headers.get("access-token", ""))
            if problem:
                data = problem
            else:
                start, count = int(query.get("cursor") or 0), min(int(query.get("count") or 20), 50)
                page = self.user.fans[start:start + count]
                end = start + len(page)
                data = {"list": page, "cursor": end, "has_more": end < len(self.user.fans),
                        "total": len(self.user.fans), "error_code": 0, "description": ""}
        else:
            return 404, "application/json", b'{"message": "not found"}'
        return 200, "application/json; charset=utf-8", json.dumps({"data": data, "message": "success"},
                                                                   ensure_ascii=False).encode()

    # ---- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> "FakeDouyinOpen":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, method: str) -> None:
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()} if length else {}
                status, ctype, body = fake.answer(method, self.path, query, form, self.headers)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._reply("GET")

            def do_POST(self):
                self._reply("POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

"""A fake 公众号 platform over loopback HTTP, both halves of it:

- the API (FakeMpServer, a FakeHttpServer answering by path): /cgi-bin/token and /cgi-bin/stable_token,
  /cgi-bin/message/custom/send (45015 when the fan's 48 h window is closed, 40003 for an unknown openid,
  40001/42001 for a bad or expired access_token), /cgi-bin/user/get (next_openid paging),
  /cgi-bin/user/info and /cgi-bin/user/info/batchget (unionid, subscribe), /cgi-bin/media/upload;
- the pusher (MpPusher): builds the requests WeChat sends to our server URL, with its own signing
  code path (integrations.wxcrypto, the one published algorithm) — plain mode (signature, timestamp,
  nonce in the query, XML body) and safe mode (encrypt_type=aes, msg_signature, <Encrypt>), retries of
  the same message (same MsgId, new nonce) and events (subscribe / unsubscribe / CLICK).

    server = FakeMpServer(clock).start();  server.add_app("wx123", "secret")
    server.add_fan("wx123", "o_abc", unionid="u_1")
    push = MpPusher("wx123", token, aes_key, clock, mode="safe", path="/mp/callback/<key>")
    push.text("o_abc", "价格多少", msg_id=1001).post(client)   # fan's window opens on the server too

The server keeps its own record of what each fan last sent (the pusher tells it), so the 48 h rule is
the platform's, not a copy of ours.
"""
from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Optional
from urllib.parse import urlencode

from integrations import wxcrypto
from tests.support.fake_http import FakeHttpServer, RecordedRequest, Reply
from tests.support.fake_platforms import Delivery

WINDOW = timedelta(hours=48)


@dataclass
class FakeFan:
    openid: str
    unionid: str = ""
    subscribed: bool = True
    subscribe_time: int = 0
    remark: str = ""
    scene: str = "ADD_SCENE_QR_CODE"
    last_message_at: Optional[datetime] = None


@dataclass
class FakeApp:
    appid: str
    secret: str
    tokens: dict = field(default_factory=dict)  # access_token → expiry
    fans: dict = field(default_factory=dict)  # openid → FakeFan
    sent: list = field(default_factory=list)  # customer-service messages accepted
    media: dict = field(default_factory=dict)  # media_id → bytes


def _error(code: int, msg: str) -> Reply:
    return Reply(200, {"errcode": code, "errmsg": msg})


class FakeMpServer(FakeHttpServer):
    page_size = 10000  # user/get's page; tests lower it to exercise next_openid

    def __init__(self, clock, **kwargs):
        super().__init__(**kwargs)
        self.clock = clock
        self.apps: dict[str, FakeApp] = {}
        self.token_issues = 0
        self._request = threading.local()

    # platform state
    def add_app(self, appid: str, secret: str) -> FakeApp:
        self.apps[appid] = FakeApp(appid, secret)
        return self.apps[appid]

    def add_fan(self, appid: str, openid: str, unionid: str = "", subscribed: bool = True, **kw) -> FakeFan:
        fan = FakeFan(openid, unionid, subscribed, int(self.clock.now().timestamp()), **kw)
        self.apps[appid].fans[openid] = fan
        return fan

    def fan_messaged(self, appid: str, openid: str) -> None:
        app = self.apps.get(appid)
        if app is not None:
            fan = app.fans.get(openid) or self.add_fan(appid, openid)
            fan.last_message_at = self.clock.now()

    def expire_tokens(self, appid: str) -> None:
        self.apps[appid].tokens.clear()

    def sent_to(self, appid: str) -> list[dict]:
        with self._lock:
            return list(self.apps[appid].sent)

    # FakeHttpServer calls _record then _next_reply on the handler thread: keep the request for it.
    def _record(self, request: RecordedRequest) -> None:
        super()._record(request)
        self._request.current = request

    def _next_reply(self, path: str) -> Reply:
        request = self._request.current
        route = {"/cgi-bin/token": self._token, "/cgi-bin/stable_token": self._stable_token,
                 "/cgi-bin/message/custom/send": self._custom_send, "/cgi-bin/user/get": self._user_get,
                 "/cgi-bin/user/info": self._user_info, "/cgi-bin/user/info/batchget": self._batchget,
                 "/cgi-bin/media/upload": self._media_upload}.get(path)
        if route is None:
            return Reply(404, {"errcode": 404, "errmsg": "not found"})
        with self._lock:
            return route(request)

    def _arg(self, request: RecordedRequest, name: str) -> str:
        return (request.query.get(name) or [""])[0]

    def _issue(self, appid: str, secret: str, stable: bool = False, force: bool = False) -> Reply:
        app = self.apps.get(appid)
        if app is None:
            return _error(40013, "invalid appid")
        if secret != app.secret:
            return _error(40125, "invalid appsecret")
        now = self.clock.now()
        if stable and not force:  # stable_token: the valid token again, whoever asks
            for token, expiry in app.tokens.items():
                if token.startswith("ST_") and expiry > now:
                    return Reply(200, {"access_token": token, "expires_in": int((expiry - now).total_seconds())})
        token = ("ST_" if stable else "AT_") + secrets.token_hex(16)
        app.tokens[token] = self.clock.now() + timedelta(seconds=7200)
        self.token_issues += 1
        return Reply(200, {"access_token": token, "expires_in": 7200})

    def _token(self, request):
        if self._arg(request, "grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        return self._issue(self._arg(request, "appid"), self._arg(request, "secret"))

    def _stable_token(self, request):
        body = request.json()
        if body.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        return self._issue(body.get("appid", ""), body.get("secret", ""), stable=True,
                           force=bool(body.get("force_refresh")))

    def _app_of(self, request) -> tuple[Optional[FakeApp], Optional[Reply]]:
        token = self._arg(request, "access_token")
        for app in self.apps.values():
            if token in app.tokens:
                if app.tokens[token] <= self.clock.now():
                    return None, _error(42001, "access_token expired")
                return app, None
        return None, _error(40001, "invalid credential, access_token is invalid or not latest")

    def _custom_send(self, request):
        app, err = self._app_of(request)
        if err:
            return err
        body = json.loads(request.body.decode("utf-8"))
        fan = app.fans.get(body.get("touser", ""))
        if fan is None:
            return _error(40003, "invalid openid")
        if not fan.subscribed:
            return _error(43004, "require subscribe")
        if fan.last_message_at is None or self.clock.now() - fan.last_message_at > WINDOW:
            return _error(45015, "response out of time limit or subscription is canceled")
        msgtype = body.get("msgtype")
        if msgtype not in ("text", "image", "news", "link", "miniprogrampage"):
            return _error(40008, "invalid message type")
        if msgtype == "image" and body.get("image", {}).get("media_id") not in app.media:
            return _error(40007, "invalid media_id")
        app.sent.append(body)
        return _error(0, "ok")

    def _user_get(self, request):
        app, err = self._app_of(request)
        if err:
            return err
        ids = sorted(o for o, f in app.fans.items() if f.subscribed)
        after = self._arg(request, "next_openid")
        start = ids.index(after) + 1 if after in ids else 0
        page = ids[start:start + self.page_size]
        return Reply(200, {"total": len(ids), "count": len(page), "data": {"openid": page} if page else {},
                           "next_openid": page[-1] if page else ""})

    def _info(self, app: FakeApp, openid: str) -> dict:
        fan = app.fans.get(openid)
        if fan is None or not fan.subscribed:
            return {"subscribe": 0, "openid": openid}
        out = {"subscribe": 1, "openid": openid, "language": "zh_CN", "subscribe_time": fan.subscribe_time,
               "remark": fan.remark, "groupid": 0, "tagid_list": [], "subscribe_scene": fan.scene,
               "qr_scene": 0, "qr_scene_str": ""}
        if fan.unionid:
            out["unionid"] = fan.unionid
        return out

    def _user_info(self, request):
        app, err = self._app_of(request)
        if err:
            return err
        openid = self._arg(request, "openid")
        if openid not in app.fans:
            return _error(40003, "invalid openid")
        return Reply(200, self._info(app, openid))

    def _batchget(self, request):
        app, err = self._app_of(request)
        if err:
            return err
        wanted = request.json().get("user_list") or []
        if len(wanted) > 100:
            return _error(45032, "user_list size out of limit")
        return Reply(200, {"user_info_list": [self._info(app, u.get("openid", "")) for u in wanted]})

    def _media_upload(self, request):
        app, err = self._app_of(request)
        if err:
            return err
        if self._arg(request, "type") not in ("image", "voice", "video", "thumb"):
            return _error(40004, "invalid media type")
        if b"filename=" not in request.body:
            return _error(41005, "media data missing")
        media_id = "MEDIA_" + secrets.token_hex(8)
        app.media[media_id] = request.body
        return Reply(200, {"type": "image", "media_id": media_id, "created_at": int(self.clock.now().timestamp())})


def _cdata(value) -> str:
    return f"<![CDATA[{value}]]>"


class MpPusher:
    """Pushes to our callback URL as WeChat does. `server` (optional) learns each fan message so its
    customer-service window opens like the real platform's."""

    def __init__(self, appid: str, token: str, aes_key: str, clock, *, path: str, mode: str = "plain",
                 server: Optional[FakeMpServer] = None, gh_id: str = "gh_fake0001", skew_seconds: int = 0):
        self.appid, self.token, self.aes_key, self.clock = appid, token, aes_key, clock
        self.path, self.mode, self.server, self.gh_id = path, mode, server, gh_id
        self.skew_seconds = skew_seconds

    def now(self) -> int:
        return int(self.clock.now().timestamp()) + self.skew_seconds

    def xml(self, openid: str, msg_type: str, fields: dict, create_time: Optional[int] = None) -> str:
        parts = [f"<ToUserName>{_cdata(self.gh_id)}</ToUserName>", f"<FromUserName>{_cdata(openid)}</FromUserName>",
                 f"<CreateTime>{create_time or self.now()}</CreateTime>", f"<MsgType>{_cdata(msg_type)}</MsgType>"]
        for name, value in fields.items():
            parts.append(f"<{name}>{value if isinstance(value, int) else _cdata(value)}</{name}>")
        return "<xml>" + "".join(parts) + "</xml>"

    def deliver(self, xml: str, *, aes_key: Optional[str] = None, appid: Optional[str] = None,
                token: Optional[str] = None) -> Delivery:
        """Signs `xml` for the mode (the keyword arguments forge: another key, receiver or token)."""
        ts, nonce = str(self.now()), secrets.token_hex(5)
        token = token or self.token
        query = {"signature": wxcrypto.sha1_signature(token, ts, nonce), "timestamp": ts, "nonce": nonce,
                 "openid": self._from(xml)}
        body = xml
        if self.mode in ("safe", "compatible"):
            cipher, msg_signature = wxcrypto.sign_and_encrypt(token, aes_key or self.aes_key, appid or self.appid,
                                                              xml, ts, nonce)
            query.update(encrypt_type="aes", msg_signature=msg_signature)
            envelope = f"<xml><ToUserName>{_cdata(self.gh_id)}</ToUserName><Encrypt>{_cdata(cipher)}</Encrypt></xml>"
            # Compatible mode carries both the plaintext and <Encrypt>; safe mode only the latter.
            body = envelope if self.mode == "safe" else xml.replace("</xml>", f"<Encrypt>{_cdata(cipher)}</Encrypt></xml>")
        return Delivery(f"{self.path}?{urlencode(query)}", {}, body.encode("utf-8"), "text/xml")

    @staticmethod
    def _from(xml: str) -> str:
        start = xml.find("<FromUserName><![CDATA[") + len("<FromUserName><![CDATA[")
        return xml[start:xml.find("]]>", start)]

    def message(self, openid: str, msg_type: str, fields: dict, msg_id: int, **forge) -> Delivery:
        if self.server is not None:
            self.server.fan_messaged(self.appid, openid)
        return self.deliver(self.xml(openid, msg_type, {**fields, "MsgId": msg_id}), **forge)

    def text(self, openid: str, content: str, msg_id: int, **forge) -> Delivery:
        return self.message(openid, "text", {"Content": content}, msg_id, **forge)

    def image(self, openid: str, msg_id: int) -> Delivery:
        return self.message(openid, "image", {"PicUrl": "https://mmbiz.qpic.cn/fake.jpg", "MediaId": "m_img"}, msg_id)

    def location(self, openid: str, msg_id: int) -> Delivery:
        return self.message(openid, "location", {"Location_X": "23.134521", "Location_Y": "113.358803",
                                                 "Scale": 20, "Label": "广州市天河区"}, msg_id)

    def link(self, openid: str, msg_id: int) -> Delivery:
        return self.message(openid, "link", {"Title": "公众平台官网链接", "Description": "官网",
                                             "Url": "https://mp.weixin.qq.com"}, msg_id)

    def event(self, openid: str, event: str, event_key: str = "", create_time: Optional[int] = None) -> Delivery:
        fields = {"Event": event}
        if event_key:
            fields["EventKey"] = event_key
        return self.deliver(self.xml(openid, "event", fields, create_time))

    def verify_url(self, echostr: str = "", token: Optional[str] = None) -> str:
        """The GET WeChat sends when the operator saves the server URL."""
        ts, nonce = str(self.now()), secrets.token_hex(5)
        echostr = echostr or secrets.token_hex(8)
        query = {"signature": wxcrypto.sha1_signature(token or self.token, ts, nonce), "timestamp": ts,
                 "nonce": nonce, "echostr": echostr}
        return f"{self.path}?{urlencode(query)}"

"""A fake 企业微信 over loopback HTTP: the real API paths and answer shapes, and a driver that posts
encrypted callbacks (integrations.wxcrypto, the real WXBizMsgCrypt scheme) to our endpoint.

    corp = FakeWecom().start()                      # a corp with secrets, token and EncodingAESKey
    corp.populate(departments=3, employees=20, contacts=500, groups=30)
    settings.wecom_api_base = corp.base_url
    delivery = corp.add_external_contact("u01", "wm_new", name="王五", state="spring", welcome_code="WC1")
    delivery.post(client, corp_id)                  # the encrypted callback, as WeCom sends it
    corp.welcome_messages                           # what send_welcome_msg received

It reuses the plumbing of tests/support/fake_http.py (a threaded server on 127.0.0.1) but answers
from its own state instead of scripts. Tokens expire (42001) or are unknown (40014) like the real
ones; `expire_tokens()` makes every issued token stale so the client's refresh path runs.
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field, replace
from typing import Optional
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from integrations import wxcrypto
from tests.support.fake_http import FakeHttpServer, RecordedRequest, Reply, _Handler

DEFAULT_TAG_GROUPS = {"客户等级": ["重要客户", "普通客户"], "来源": ["线下门店", "直播间"]}


def _ok(**data) -> Reply:
    return Reply(200, {"errcode": 0, "errmsg": "ok", **data})


def _err(code: int, message: str) -> Reply:
    return Reply(200, {"errcode": code, "errmsg": message})


@dataclass(frozen=True)
class Callback:
    """One encrypted callback, ready to be posted (and re-posted byte for byte: a replay)."""

    query: dict
    body: bytes

    def path(self, corp_id: str) -> str:
        return f"/wecom/callback/{corp_id}?" + urlencode(self.query)

    def post(self, client, corp_id: str):
        return client.post(self.path(corp_id), data=self.body, content_type="text/xml")

    def post_http(self, base_url: str, corp_id: str) -> requests.Response:
        return requests.post(base_url + self.path(corp_id), data=self.body, timeout=10,
                             headers={"Content-Type": "text/xml"})

    def with_query(self, **changes) -> "Callback":
        return replace(self, query={**self.query, **changes})


class _WecomHandler(_Handler):  # answers from FakeWecom.answer instead of a script
    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = RecordedRequest(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), body)
        owner: FakeWecom = self.server.owner
        owner._record(request)
        try:
            self._write(owner.answer(request))
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST = _handle


class FakeWecom(FakeHttpServer):
    """The lifecycle, recording and `requests_to` of FakeHttpServer; answers from the corp's state."""

    handler_class = _WecomHandler

    def __init__(self, corp_id: str = "ww0123456789abcdef", agent_id: str = "1000002", clock=None):
        super().__init__()
        self.corp_id, self.agent_id = corp_id, agent_id
        self.contact_secret = "contact-" + secrets.token_hex(8)
        self.app_secret = "app-" + secrets.token_hex(8)
        self.callback_token = "tok" + secrets.token_hex(6)
        self.encoding_aes_key = wxcrypto.new_aes_key()
        self.clock = clock  # the app's clock (ManualClock), so callback timestamps agree with the server's
        self.departments: list[dict] = [{"id": 1, "name": "总部", "parentid": 0, "order": 1}]
        self.users: dict[str, dict] = {}
        self.contacts: dict[str, dict] = {}  # external_userid → {"external_contact": …, "follow_user": [...]}
        self.tag_groups: list[dict] = []
        self.chats: dict[str, dict] = {}
        self.welcome_messages: list[dict] = []
        self.marked: list[dict] = []
        self.oauth_codes: dict[str, str] = {}
        self.tokens: dict[str, float] = {}  # token → expiry (time.time())
        self.fail_next: list[Reply] = []  # served before the normal answer (e.g. system busy)
        self._seq = 0

    def expire_tokens(self) -> None:
        with self._lock:
            self.tokens = {t: 0.0 for t in self.tokens}

    # -- corp data ----------------------------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}{self._seq:05d}"

    def add_department(self, name: str, parent: int = 1) -> int:
        dept_id = max(d["id"] for d in self.departments) + 1
        self.departments.append({"id": dept_id, "name": name, "parentid": parent, "order": dept_id})
        return dept_id

    def add_user(self, userid: str, name: str, departments: list[int], status: int = 1) -> dict:
        self.users[userid] = {"userid": userid, "name": name, "department": list(departments), "status": status,
                              "main_department": departments[0]}
        return self.users[userid]

    def add_tag_group(self, group_name: str, names: list[str]) -> dict:
        group = {"group_id": self.next_id("et_g"), "group_name": group_name, "create_time": int(time.time()),
                 "order": len(self.tag_groups) + 1, "deleted": False,
                 "tag": [{"id": self.next_id("et_t"), "name": n, "create_time": int(time.time()), "order": i,
                          "deleted": False} for i, n in enumerate(names)]}
        self.tag_groups.append(group)
        return group

    def tag_id(self, name: str) -> str:
        return next(t["id"] for g in self.tag_groups for t in g["tag"] if t["name"] == name)

    def add_contact(self, external_userid: str, name: str, userid: str, *, unionid: str = "", state: str = "",
                    tags: tuple = (), remark_mobiles: tuple = (), createtime: Optional[int] = None) -> dict:
        contact = self.contacts.setdefault(external_userid, {
            "external_contact": {"external_userid": external_userid, "name": name, "type": 1, "gender": 1,
                                 "avatar": "", **({"unionid": unionid} if unionid else {})},
            "follow_user": []})
        contact["external_contact"]["name"] = name
        contact["follow_user"] = [f for f in contact["follow_user"] if f["userid"] != userid]
        contact["follow_user"].append({
            "userid": userid, "remark": "", "description": "", "createtime": createtime or int(time.time()),
            "tags": [{"group_name": self._tag_group_of(t), "tag_name": self._tag_name(t), "tag_id": t, "type": 1}
                     for t in tags],
            "remark_mobiles": list(remark_mobiles), "add_way": 1, "oper_userid": external_userid,
            **({"state": state} if state else {})})
        return contact

    def _tag_name(self, tag_id: str) -> str:
        return next(t["name"] for g in self.tag_groups for t in g["tag"] if t["id"] == tag_id)

    def _tag_group_of(self, tag_id: str) -> str:
        return next(g["group_name"] for g in self.tag_groups for t in g["tag"] if t["id"] == tag_id)

    def add_chat(self, chat_id: str, name: str, owner: str, member_ids: list[str]) -> dict:
        now = int(time.time())
        self.chats[chat_id] = {"chat_id": chat_id, "name": name, "owner": owner, "create_time": now, "notice": "",
                               "member_list": [{"userid": m, "type": 2 if m.startswith("wm") else 1, "join_time": now,
                                                "join_scene": 1} for m in member_ids],
                               "admin_list": [], "status": 0}
        return self.chats[chat_id]

    def populate(self, departments: int = 3, employees: int = 20, contacts: int = 500, groups: int = 30) -> None:
        """A corp of the acceptance size: `departments` under 总部, employees spread over them,
        contacts spread over employees (every 10th also followed by a second employee), tags, groups."""
        dept_ids = [self.add_department(f"销售{i + 1}部") for i in range(departments - 1)]
        dept_ids = [1] + dept_ids
        for i in range(employees):
            self.add_user(f"u{i + 1:02d}", f"员工{i + 1:02d}", [dept_ids[i % len(dept_ids)]])
        for group, names in DEFAULT_TAG_GROUPS.items():
            self.add_tag_group(group, names)
        userids = list(self.users)
        vip = self.tag_id("重要客户")
        for i in range(contacts):
            ext = f"wm{i + 1:06d}"
            self.add_contact(ext, f"客户{i + 1:03d}", userids[i % len(userids)], unionid=f"oU{i + 1:06d}",
                             tags=(vip,) if i % 5 == 0 else (), createtime=1_700_000_000 + i)
            if i % 10 == 0:
                self.add_contact(ext, f"客户{i + 1:03d}", userids[(i + 1) % len(userids)], createtime=1_700_100_000 + i)
        exts = list(self.contacts)
        for i in range(groups):
            members = [userids[i % len(userids)]] + exts[i * 5:i * 5 + 8]
            self.add_chat(f"wr{i + 1:04d}", f"客户群{i + 1:02d}", userids[i % len(userids)], members)

    # -- callbacks ----------------------------------------------------------------------------
    def _now(self) -> int:
        return int(self.clock.now().timestamp()) if self.clock is not None else int(time.time())

    def callback(self, fields: dict, *, timestamp: Optional[int] = None, receiver: Optional[str] = None,
                 aes_key: Optional[str] = None, token: Optional[str] = None) -> Callback:
        """The encrypted POST WeCom sends for `fields` (ToUserName and CreateTime are filled in);
        receiver/aes_key/token let a test forge one the way an attacker could."""
        created = timestamp if timestamp is not None else self._now()
        inner = {"ToUserName": self.corp_id, "FromUserName": "sys", "CreateTime": created, "MsgType": "event",
                 **fields}
        xml = "<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in inner.items()) + "</xml>"
        ts, nonce = str(created), secrets.token_hex(8)
        ciphertext, signature = wxcrypto.sign_and_encrypt(token or self.callback_token, aes_key or self.encoding_aes_key,
                                                          receiver or self.corp_id, xml, ts, nonce)
        body = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><Encrypt><![CDATA[{ciphertext}]]>"
                f"</Encrypt><AgentID><![CDATA[{self.agent_id}]]></AgentID></xml>").encode()
        return Callback({"msg_signature": signature, "timestamp": ts, "nonce": nonce}, body)

    def verify_url(self, echo: str = "echo-1234") -> dict:
        """The GET WeCom sends when an admin saves the callback URL: the echostr is encrypted."""
        ts, nonce = str(self._now()), secrets.token_hex(8)
        echostr, signature = wxcrypto.sign_and_encrypt(self.callback_token, self.encoding_aes_key, self.corp_id,
                                                       echo, ts, nonce)
        return {"msg_signature": signature, "timestamp": ts, "nonce": nonce, "echostr": echostr}

    def add_external_contact(self, userid: str, external_userid: str, *, name: str = "新客户", state: str = "",
                             welcome_code: str = "", **contact) -> Callback:
        self.add_contact(external_userid, name, userid, state=state, **contact)
        fields = {"Event": "change_external_contact", "ChangeType": "add_external_contact", "UserID": userid,
                  "ExternalUserID": external_userid}
        if state:
            fields["State"] = state
        if welcome_code:
            fields["WelcomeCode"] = welcome_code
            with self._lock:
                self.oauth_codes.setdefault("_welcome:" + welcome_code, userid)
        return self.callback(fields)

    def edit_external_contact(self, userid: str, external_userid: str, **changes) -> Callback:
        for follow in self.contacts[external_userid]["follow_user"]:
            if follow["userid"] == userid:
                follow.update(changes)
        return self.callback({"Event": "change_external_contact", "ChangeType": "edit_external_contact",
                              "UserID": userid, "ExternalUserID": external_userid})

    def remove_follow(self, userid: str, external_userid: str, change_type: str) -> Callback:
        """del_external_contact (the employee deleted the customer) or del_follow_user (the customer
        deleted the employee): the relation is gone on WeCom's side."""
        contact = self.contacts[external_userid]
        contact["follow_user"] = [f for f in contact["follow_user"] if f["userid"] != userid]
        if not contact["follow_user"]:
            del self.contacts[external_userid]
        return self.callback({"Event": "change_external_contact", "ChangeType": change_type, "UserID": userid,
                              "ExternalUserID": external_userid})

    def change_chat(self, chat_id: str, change_type: str = "update", update_detail: str = "add_member",
                    **changes) -> Callback:
        if change_type == "dismiss":
            self.chats.pop(chat_id, None)
        elif chat_id in self.chats:
            self.chats[chat_id].update(changes)
        return self.callback({"Event": "change_external_chat", "ChatId": chat_id, "ChangeType": change_type,
                              "UpdateDetail": update_detail})

    # -- the API ------------------------------------------------------------------------------
    def answer(self, request: RecordedRequest) -> Reply:
        with self._lock:
            if self.fail_next:
                return self.fail_next.pop(0)
        query = {k: v[0] for k, v in request.query.items()}
        if request.path == "/cgi-bin/gettoken":
            return self._gettoken(query)
        route = ROUTES.get(request.path)
        if route is None:
            return Reply(404, "not found")
        token = query.get("access_token", "")
        with self._lock:
            expiry = self.tokens.get(token)
        if expiry is None:
            return _err(40014, "invalid access_token")
        if expiry < time.time():
            return _err(42001, "access_token expired")
        try:
            body = json.loads(request.body) if request.body else {}
        except ValueError:
            return _err(47001, "data format error")
        return route(self, query, body)

    def _gettoken(self, query: dict) -> Reply:
        if query.get("corpid") != self.corp_id:
            return _err(40013, "invalid corpid")
        if query.get("corpsecret") not in (self.contact_secret, self.app_secret):
            return _err(40001, "invalid credential")
        token = secrets.token_hex(16)
        with self._lock:
            self.tokens[token] = time.time() + 7200
        return _ok(access_token=token, expires_in=7200)

    def _departments(self, query, body) -> Reply:
        return _ok(department=[dict(d) for d in self.departments])

    def _user_list(self, query, body) -> Reply:
        dept = int(query.get("department_id") or 0)
        if not any(d["id"] == dept for d in self.departments):
            return _err(60003, "department not found")
        wanted = {dept}
        if query.get("fetch_child") == "1":
            changed = True
            while changed:
                before = len(wanted)
                wanted |= {d["id"] for d in self.departments if d["parentid"] in wanted}
                changed = len(wanted) != before
        return _ok(userlist=[dict(u) for u in self.users.values() if set(u["department"]) & wanted])

    def _follow_user_list(self, query, body) -> Reply:
        followers = {f["userid"] for c in self.contacts.values() for f in c["follow_user"]}
        return _ok(follow_user=sorted(followers))

    def _batch_get_by_user(self, query, body) -> Reply:
        userids = body.get("userid_list") or []
        limit = int(body.get("limit") or 50)
        if not userids or len(userids) > 100:
            return _err(40003, "invalid userid_list")
        if limit > 100 or limit < 1:
            return _err(40058, "invalid limit, must be 1..100")
        rows = [{"external_contact": dict(c["external_contact"]),
                 "follow_info": {**{k: v for k, v in f.items() if k != "tags"},
                                 "tag_id": [t["tag_id"] for t in f["tags"]]}}
                for ext, c in sorted(self.contacts.items()) for f in c["follow_user"] if f["userid"] in userids]
        start = int(body.get("cursor") or 0)
        page = rows[start:start + limit]
        next_cursor = str(start + limit) if start + limit < len(rows) else ""
        return _ok(external_contact_list=page, next_cursor=next_cursor)

    def _contact_get(self, query, body) -> Reply:
        contact = self.contacts.get(query.get("external_userid", ""))
        if contact is None:
            return _err(84061, "not external contact")
        return _ok(external_contact=dict(contact["external_contact"]),
                   follow_user=[dict(f) for f in contact["follow_user"]], next_cursor="")

    def _tag_list(self, query, body) -> Reply:
        return _ok(tag_group=[{**g, "tag": [dict(t) for t in g["tag"]]} for g in self.tag_groups])

    def _add_tag(self, query, body) -> Reply:
        names = [t.get("name", "") for t in body.get("tag") or []]
        if not names or not all(names):
            return _err(40071, "invalid tag name")
        group = next((g for g in self.tag_groups if g["group_id"] == body.get("group_id")
                      or g["group_name"] == body.get("group_name")), None)
        if group is None:
            if not body.get("group_name"):
                return _err(40068, "invalid tag group")
            group = self.add_tag_group(body["group_name"], [])
        existing = {t["name"] for t in group["tag"]}
        if existing & set(names):
            return _err(40071, "tag name exists")
        new = [{"id": self.next_id("et_t"), "name": n, "create_time": int(time.time()), "order": 0, "deleted": False}
               for n in names]
        group["tag"].extend(new)
        return _ok(tag_group={"group_id": group["group_id"], "group_name": group["group_name"], "tag": new})

    def _mark_tag(self, query, body) -> Reply:
        contact = self.contacts.get(body.get("external_userid", ""))
        follow = next((f for f in (contact or {}).get("follow_user", []) if f["userid"] == body.get("userid")), None)
        if follow is None:
            return _err(84061, "not external contact")
        known = {t["id"] for g in self.tag_groups for t in g["tag"]}
        add, remove = body.get("add_tag") or [], body.get("remove_tag") or []
        if not set(add) | set(remove) <= known:
            return _err(40068, "invalid tagid")
        current = [t for t in follow["tags"] if t["tag_id"] not in remove]
        for tag in add:
            if tag not in {t["tag_id"] for t in current}:
                current.append({"group_name": self._tag_group_of(tag), "tag_name": self._tag_name(tag),
                                "tag_id": tag, "type": 1})
        follow["tags"] = current
        self.marked.append(body)
        return _ok()

    def _chat_list(self, query, body) -> Reply:
        limit = int(body.get("limit") or 0)
        if not 1 <= limit <= 1000:
            return _err(40058, "invalid limit, must be 1..1000")
        ids = sorted(self.chats)
        start = int(body.get("cursor") or 0)
        next_cursor = str(start + limit) if start + limit < len(ids) else ""
        return _ok(group_chat_list=[{"chat_id": c, "status": self.chats[c]["status"]} for c in ids[start:start + limit]],
                   next_cursor=next_cursor)

    def _chat_get(self, query, body) -> Reply:
        chat = self.chats.get(body.get("chat_id", ""))
        if chat is None:
            return _err(701008, "chat not found")
        return _ok(group_chat={k: v for k, v in chat.items() if k != "status"})

    def _welcome(self, query, body) -> Reply:
        code = body.get("welcome_code", "")
        with self._lock:
            userid = self.oauth_codes.pop("_welcome:" + code, None)
        if userid is None:
            return _err(41051, "invalid welcome_code")  # unknown, used, or older than 20 s
        self.welcome_messages.append(body)
        return _ok()

    def _ticket(self, kind: str) -> Reply:
        return _ok(ticket=f"{kind}-ticket-" + secrets.token_hex(6), expires_in=7200)

    def _getuserinfo(self, query, body) -> Reply:
        with self._lock:
            userid = self.oauth_codes.pop(query.get("code", ""), None)
        if userid is None:
            return _err(40029, "invalid code")
        return _ok(userid=userid)

    def oauth_code(self, userid: str) -> str:
        code = secrets.token_hex(8)
        with self._lock:
            self.oauth_codes[code] = userid
        return code


ROUTES = {
    "/cgi-bin/department/list": FakeWecom._departments,
    "/cgi-bin/user/list": FakeWecom._user_list,
    "/cgi-bin/externalcontact/get_follow_user_list": FakeWecom._follow_user_list,
    "/cgi-bin/externalcontact/batch/get_by_user": FakeWecom._batch_get_by_user,
    "/cgi-bin/externalcontact/get": FakeWecom._contact_get,
    "/cgi-bin/externalcontact/get_corp_tag_list": FakeWecom._tag_list,
    "/cgi-bin/externalcontact/add_corp_tag": FakeWecom._add_tag,
    "/cgi-bin/externalcontact/mark_tag": FakeWecom._mark_tag,
    "/cgi-bin/externalcontact/groupchat/list": FakeWecom._chat_list,
    "/cgi-bin/externalcontact/groupchat/get": FakeWecom._chat_get,
    "/cgi-bin/externalcontact/send_welcome_msg": FakeWecom._welcome,
    "/cgi-bin/get_jsapi_ticket": lambda self, q, b: self._ticket("jsapi"),
    "/cgi-bin/ticket/get": lambda self, q, b: (self._ticket("agent") if q.get("type") == "agent_config"
                                               else _err(40097, "invalid type")),
    "/cgi-bin/auth/getuserinfo": FakeWecom._getuserinfo,
}

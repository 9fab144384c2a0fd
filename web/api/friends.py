"""/api/v1/friends and /api/v1/chat-groups: the WeChat friends and groups of the accounts over the
API — friends searched by nickname / remark / wxid / phone, WeChat label, account and whether a CRM
customer is linked; one friend as 好友详情 shows them (linked customer only when the caller may see
it, its tags, groups in common, the conversation); 发消息 to a friend as 触客宝 sends (risk budget,
client_key idempotent); linking a friend to a customer, unlinking, and the automatic match by phone
/ 微信号; groups with their members. Scope as 好友详情: without accounts.manage or
conversations.view_all a token sees only the friends and groups of the accounts assigned to its
user; phones are masked unless the caller holds pii.view."""
from __future__ import annotations

from flask import Blueprint, g, request

from conversations import account_scope, chat_thread, friend_profile, friend_send
from crm import scope
from crm.customers.models import Customer
from devices import accounts as service
from devices.models import ChatGroup
from engine.friend_links import link_friends_to_customers
from web.api.common import BadRequest, int_arg, iso, json_body, masked, ok
from web.api.conversations import MESSAGE_OUT, SEND_IN
from web.api.fields import checked
from web.api.lookups import budgeted, found, register_errors
from web.api.orders import _json
from web.api.spec import BOOL, INT, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services
from web.input_limits import INT_MAX

bp = Blueprint("api_friends", __name__, url_prefix="/api/v1")
register_errors(bp)
VIEW, MANAGE = "accounts.view", "accounts.manage"
TAG = "设备与微信号"

FRIEND_EXAMPLE = {"id": 88, "account_id": 3, "wxid": "wxid_lead01", "nickname": "陈女士", "remark": "抖音-陈",
                  "mobile": "138****8000", "tags": ["意向客户"], "source": "search", "customer_id": 12,
                  "added_at": "2026-12-01T02:00:00+00:00", "deleted_at": None}
FRIEND_OUT = {**obj({"id": INT, "account_id": INT, "wxid": STR, "nickname": STR, "remark": STR,
                     "mobile": {**STR, "description": "无 pii.view 时脱敏"},
                     "tags": {"type": "array", "items": STR, "description": "微信标签"}, "source": STR,
                     "customer_id": {**INT, "nullable": True, "description": "关联的客户（无权查看时为 null）"},
                     "added_at": STR, "deleted_at": {**STR, "nullable": True}}), "example": FRIEND_EXAMPLE}
DETAIL_EXAMPLE = {**FRIEND_EXAMPLE, "account": {"id": 3, "wxid": "wxid_sales01", "nickname": "小美（客服1）"},
                  "customer": {"id": 12, "name": "陈女士"}, "customer_hidden": False,
                  "customer_tags": [{"id": 9, "name": "VIP"}], "groups": [{"id": 5, "name": "宝妈福利群"}],
                  "conversation_id": 41}
DETAIL_OUT = {**obj({**FRIEND_OUT["properties"], "account": obj({"id": INT, "wxid": STR, "nickname": STR}),
                     "customer": {**obj({"id": INT, "name": STR}), "nullable": True},
                     "customer_hidden": {**BOOL, "description": "关联了你无权查看的客户"},
                     "customer_tags": {"type": "array", "items": obj({"id": INT, "name": STR})},
                     "groups": {"type": "array", "items": obj({"id": INT, "name": STR})},
                     "conversation_id": {**INT, "nullable": True}}), "example": DETAIL_EXAMPLE}
LINK_IN = {**obj({"customer_id": INT}, ("customer_id",)), "additionalProperties": False, "example": {"customer_id": 12}}
GROUP_EXAMPLE = {"id": 5, "account_id": 3, "chatroom_id": "12345@chatroom", "name": "宝妈福利群", "owner_wxid": "wxid_sales01",
                 "member_count": 186, "announcement": "每晚 8 点福利", "created_at": "2026-11-21T02:00:00+00:00"}
GROUP_OUT = {**obj({"id": INT, "account_id": INT, "chatroom_id": STR, "name": STR, "owner_wxid": STR,
                    "member_count": INT, "announcement": STR, "created_at": STR}), "example": GROUP_EXAMPLE}
MEMBER_OUT = obj({"wxid": STR, "nickname": STR, "joined_at": STR, "friend_id": {**INT, "nullable": True}})


def _friend_dict(f, customer_id=None) -> dict:
    return {"id": f.id, "account_id": f.account_id, "wxid": f.wxid, "nickname": f.nickname, "remark": masked(f.remark),
            "mobile": masked(f.mobile or ""), "tags": f.tags or [], "source": f.source, "customer_id": customer_id,
            "added_at": iso(f.added_at), "deleted_at": iso(f.deleted_at)}


def _profile_dict(p: friend_profile.FriendProfile) -> dict:
    out = _friend_dict(p.friend, p.customer.id if p.customer else None)
    a = p.account
    out.update({"account": {"id": a.id, "wxid": a.wxid, "nickname": a.nickname} if a else None,
                "customer": {"id": p.customer.id, "name": p.customer.name} if p.customer else None,
                "customer_hidden": p.customer_hidden,
                "customer_tags": [{"id": t.id, "name": t.name} for t in p.customer_tags],
                "groups": [{"id": grp.id, "name": grp.name} for grp, _member in p.groups],
                "conversation_id": p.conversation.id if p.conversation else None})
    return out


def _group_dict(grp: ChatGroup) -> dict:
    return {"id": grp.id, "account_id": grp.account_id, "chatroom_id": grp.chatroom_id, "name": grp.name,
            "owner_wxid": grp.owner_wxid, "member_count": grp.member_count, "announcement": masked(grp.announcement),
            "created_at": iso(grp.created_at)}


def _friend(session, friend_id: int):
    return found(lambda: friend_profile.load_friend(session, current_viewer(), friend_id), "好友", friend_id)


def _profile(session, friend_id: int) -> dict:
    return _profile_dict(found(lambda: friend_profile.friend_profile(session, current_viewer(), friend_id), "好友",
                               friend_id))


@api_route(bp, "/friends", "GET", "好友列表（昵称 / 备注 / wxid / 手机号搜索，微信标签、微信号、是否已关联客户筛选），分页", TAG,
           permission=VIEW, operation_id="listFriends",
           query=[("q", "string", "昵称、备注、wxid 或手机号的片段"), ("account_id", "integer", "微信号"),
                  ("tag", "string", "微信标签"), ("linked", "string", "yes 已关联客户 / no 未关联"),
                  ("page", "integer", "页码"), ("per_page", "integer", "每页条数（最多 200）")],
           responses={"200": {**obj({"items": {"type": "array", "items": FRIEND_OUT}, "total": INT, "page": INT,
                                     "per_page": INT}),
                              "example": {"items": [FRIEND_EXAMPLE], "total": 1, "page": 1, "per_page": 20}}},
           examples={"200": {"items": [FRIEND_EXAMPLE], "total": 1, "page": 1, "per_page": 20}})
@api_auth(VIEW)
def list_friends():
    linked = request.args.get("linked") or ""
    if linked not in ("", "yes", "no"):
        raise BadRequest("查询参数 linked 应为 yes 或 no", {"linked": "linked 取值无效"})
    q = service.FriendQuery(account_id=int_arg("account_id", maximum=INT_MAX),
                            keyword=(request.args.get("q") or "").strip()[:64],
                            tag=(request.args.get("tag") or "")[:64], linked=linked)
    page, per_page = int_arg("page", 1), int_arg("per_page", 20, maximum=200)
    viewer = current_viewer()
    with services().db.read() as s:
        rows, total = account_scope.search_friends(s, viewer, q, page, per_page)
        # The linked customer's id only when the caller may see that customer (as 好友详情 shows it).
        shown = set(scope.visible_ids(s, viewer, Customer, [f.customer_id for f in rows if f.customer_id]))
        items = [_friend_dict(f, f.customer_id if f.customer_id in shown else None) for f in rows]
    return ok({"items": items, "total": total, "page": page, "per_page": per_page})


@api_route(bp, "/friends/<int:friend_id>", "GET", "好友详情（关联客户及其标签、共同群、会话）", TAG, permission=VIEW,
           operation_id="getFriend", responses={"200": DETAIL_OUT, "404": "好友不存在（或不属于你的微信号）"},
           examples={"200": DETAIL_EXAMPLE})
@api_auth(VIEW)
def get_friend(friend_id):
    with services().db.read() as s:
        return ok(_profile(s, friend_id))


@api_route(bp, "/friends/<int:friend_id>/messages", "POST", "给好友发消息（同触客宝：经风控预算，过快则延后并注明原因；client_key 幂等）",
           TAG, body=SEND_IN, permission="conversations.view", operation_id="sendFriendMessage",
           responses={"201": MESSAGE_OUT, "404": "好友不存在（或不属于你的微信号）", "422": "内容无效（附字段名）",
                      "503": "风控服务暂不可用"},
           examples={"request": SEND_IN["example"], "201": MESSAGE_OUT["example"]})
@api_auth("conversations.view")
def send_friend_message(friend_id):
    raw = json_body()
    svc, viewer = services(), current_viewer()
    with svc.db.read() as s:
        _friend(s, friend_id)
    data = checked(raw, SEND_IN)
    name = g.user.display_name or g.user.username
    message = budgeted(lambda s: friend_send.send_to_friend(
        s, viewer, friend_id, data, user_id=viewer.user_id, sender_name=name, now=svc.now(), settings=svc.settings))
    with svc.db.read() as s:
        shown = chat_thread.load_messages(s, [message.id], svc.now())[0]
    return ok(masked(_json(shown)), 201)


@api_route(bp, "/friends/<int:friend_id>/link", "POST", "把好友关联到客户档案（只能选你可见的客户）", TAG, body=LINK_IN,
           permission="customers.manage", operation_id="linkFriendCustomer",
           responses={"200": DETAIL_OUT, "404": "好友不存在（或无权查看）", "422": "客户不存在或无权查看（customer_id）"},
           examples={"request": LINK_IN["example"], "200": DETAIL_EXAMPLE})
@api_auth(VIEW, "customers.manage")
def link_friend_customer(friend_id):
    raw = json_body()
    with services().db.write() as s:
        _friend(s, friend_id)
        data = checked(raw, LINK_IN)
        friend_profile.link_customer(s, current_viewer(), friend_id, data["customer_id"])
        return ok(_profile(s, friend_id))


@api_route(bp, "/friends/<int:friend_id>/unlink", "POST", "解除好友与客户档案的关联", TAG, permission="customers.manage",
           operation_id="unlinkFriendCustomer", responses={"200": DETAIL_OUT, "404": "好友不存在（或无权查看）"},
           examples={"200": {**DETAIL_EXAMPLE, "customer_id": None, "customer": None, "customer_tags": []}})
@api_auth(VIEW, "customers.manage")
def unlink_friend_customer(friend_id):
    with services().db.write() as s:
        found(lambda: friend_profile.unlink_customer(s, current_viewer(), friend_id), "好友", friend_id)
        return ok(_profile(s, friend_id))


@api_route(bp, "/friends/<int:friend_id>/match", "POST", "按手机号 / 微信号自动关联客户档案（同「关联客户档案」）", TAG,
           permission=MANAGE, operation_id="matchFriendCustomer",
           responses={"200": {**obj({"linked": {**BOOL, "description": "是否新关联了客户"}, "friend": DETAIL_OUT}),
                              "example": {"linked": True, "friend": DETAIL_EXAMPLE}}, "404": "好友不存在"},
           examples={"200": {"linked": True, "friend": DETAIL_EXAMPLE}})
@api_auth(MANAGE)
def match_friend_customer(friend_id):
    with services().db.write() as s:
        friend = _friend(s, friend_id)
        linked = link_friends_to_customers(s, friend_ids=[friend.id])
        friend_profile.follow_links(s, friend.id)
        s.expire_all()  # the match is a set-based UPDATE: reload the friend it changed
        return ok({"linked": bool(linked), "friend": _profile(s, friend.id)})


@api_route(bp, "/friends/match-all", "POST", "关联客户档案：按手机号 / 微信号把尚未关联的好友批量关联到客户", TAG,
           permission=MANAGE, operation_id="matchAllFriendCustomers",
           responses={"200": {**obj({"linked": {**INT, "description": "新关联的好友数"}}), "example": {"linked": 12}}},
           examples={"200": {"linked": 12}})
@api_auth(MANAGE)
def match_all_friend_customers():
    with services().db.write() as s:
        return ok({"linked": link_friends_to_customers(s)})


@api_route(bp, "/chat-groups", "GET", "微信群列表（按微信号、群名 / 群号筛选）", TAG, permission=VIEW, operation_id="listChatGroups",
           query=[("account_id", "integer", "微信号"), ("q", "string", "群名或群号的片段")],
           responses={"200": {**obj({"items": {"type": "array", "items": GROUP_OUT}}), "example": {"items": [GROUP_EXAMPLE]}}},
           examples={"200": {"items": [GROUP_EXAMPLE]}})
@api_auth(VIEW)
def list_chat_groups():
    with services().db.read() as s:
        rows = account_scope.list_groups(s, current_viewer(), int_arg("account_id", maximum=INT_MAX),
                                         (request.args.get("q") or "").strip()[:64])
        return ok({"items": [_group_dict(grp) for grp in rows]})


@api_route(bp, "/chat-groups/<int:chat_group_id>", "GET", "微信群详情（在群成员；是你可见的好友时附好友编号）", TAG,
           permission=VIEW, operation_id="getChatGroup",
           responses={"200": {**obj({**GROUP_OUT["properties"], "members": {"type": "array", "items": MEMBER_OUT}}),
                              "example": {**GROUP_EXAMPLE, "members": [{"wxid": "wxid_lead01", "nickname": "陈女士",
                                                                        "joined_at": "2026-11-22T02:00:00+00:00",
                                                                        "friend_id": 88}]}},
                      "404": "群不存在（或不属于你的微信号）"}, examples={"200": GROUP_EXAMPLE})
@api_auth(VIEW)
def get_chat_group(chat_group_id):
    viewer = current_viewer()
    with services().db.read() as s:
        grp = found(lambda: account_scope.load(s, viewer, ChatGroup, chat_group_id), "群", chat_group_id)
        members = service.group_members(s, grp.id)
        links = friend_profile.friend_links(s, viewer, [(grp.account_id, m.wxid) for m in members])
        out = _group_dict(grp)
        out["members"] = [{"wxid": m.wxid, "nickname": m.nickname, "joined_at": iso(m.joined_at),
                           "friend_id": links.get((grp.account_id, m.wxid))} for m in members]
    return ok(out)

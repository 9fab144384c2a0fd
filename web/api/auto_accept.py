"""/api/v1/auto-accept-rules: 自动通过规则 over the API, as 微信号管理's rule pages keep them — greeting
keywords, sources, daily cap, time window (HH:MM, overnight allowed), the accounts it covers (none =
every account), on/off; list, create, read, update (only what the request names), delete. Read with
accounts.view, change with accounts.manage."""
from __future__ import annotations

from flask import Blueprint

from devices import friend_requests_admin as service
from web.api.common import json_body, ok
from web.api.fields import checked
from web.api.lookups import found, register_errors
from web.api.spec import BOOL, INT, INT_LIST, STR, api_route, obj
from web.auth.guards import api_auth
from web.extensions import services

bp = Blueprint("api_auto_accept", __name__, url_prefix="/api/v1")
register_errors(bp)
VIEW, MANAGE = "accounts.view", "accounts.manage"
TAG = "设备与微信号"
FIELDS = ("name", "keywords", "sources", "daily_cap", "start_time", "end_time", "account_ids", "enabled")

EXAMPLE = {"id": 1, "name": "课程咨询自动通过", "keywords": ["课程", "报名"], "sources": ["search", "qrcode"], "daily_cap": 20,
           "start_time": "09:00", "end_time": "21:00", "account_ids": [3], "enabled": True, "position": 1}
RULE_OUT = {**obj({"id": INT, "name": STR, "keywords": {"type": "array", "items": STR, "description": "招呼语含任一关键词即通过；空为不限"},
                   "sources": {"type": "array", "items": {**STR, "enum": list(service.SOURCE_LABELS)}},
                   "daily_cap": INT, "start_time": STR, "end_time": STR,
                   "account_ids": {**INT_LIST, "description": "适用的微信号；空为全部"}, "enabled": BOOL,
                   "position": INT}), "example": EXAMPLE}
RULE_IN = {**obj({"name": {**STR, "maxLength": 100}, "keywords": {"type": "array", "items": STR},
                  "sources": {"type": "array", "items": {**STR, "enum": list(service.SOURCE_LABELS)}},
                  "daily_cap": {**INT, "minimum": 0, "maximum": service.MAX_DAILY_CAP},
                  "start_time": {**STR, "description": "HH:MM"}, "end_time": {**STR, "description": "HH:MM（可写 24:00）"},
                  "account_ids": INT_LIST, "enabled": BOOL}, ("name", "daily_cap", "start_time", "end_time")),
           "additionalProperties": False,
           "example": {k: v for k, v in EXAMPLE.items() if k not in ("id", "position")}}


def _dict(r) -> dict:
    return {"id": r.id, "name": r.name, "keywords": r.keywords or [], "sources": r.sources or [], "daily_cap": r.daily_cap,
            "start_time": r.start_time, "end_time": r.end_time, "account_ids": r.account_ids or [], "enabled": r.enabled,
            "position": r.position}


def _rule(session, rule_id: int):
    return found(lambda: service.get_rule(session, rule_id), "自动通过规则", rule_id)


@api_route(bp, "/auto-accept-rules", "GET", "自动通过规则（按顺序）", TAG, permission=VIEW, operation_id="listAutoAcceptRules",
           responses={"200": {**obj({"items": {"type": "array", "items": RULE_OUT}}), "example": {"items": [EXAMPLE]}}},
           examples={"200": {"items": [EXAMPLE]}})
@api_auth(VIEW)
def list_auto_accept_rules():
    with services().db.read() as s:
        return ok({"items": [_dict(r) for r in service.list_rules(s)]})


@api_route(bp, "/auto-accept-rules", "POST", "新建自动通过规则", TAG, body=RULE_IN, permission=MANAGE,
           operation_id="createAutoAcceptRule", responses={"201": RULE_OUT, "422": "字段无效（附字段名）"},
           examples={"request": RULE_IN["example"], "201": EXAMPLE})
@api_auth(MANAGE)
def create_auto_accept_rule():
    data = checked(json_body(), RULE_IN)
    with services().db.write() as s:
        return ok(_dict(service.create_rule(s, data)), 201)


@api_route(bp, "/auto-accept-rules/<int:rule_id>", "GET", "自动通过规则详情", TAG, permission=VIEW,
           operation_id="getAutoAcceptRule", responses={"200": RULE_OUT, "404": "规则不存在"}, examples={"200": EXAMPLE})
@api_auth(VIEW)
def get_auto_accept_rule(rule_id):
    with services().db.read() as s:
        return ok(_dict(_rule(s, rule_id)))


@api_route(bp, "/auto-accept-rules/<int:rule_id>", "PUT", "修改自动通过规则（只改提交的字段；含启用 / 停用）", TAG,
           body={k: v for k, v in RULE_IN.items() if k != "required"}, permission=MANAGE,
           operation_id="updateAutoAcceptRule", responses={"200": RULE_OUT, "404": "规则不存在", "422": "字段无效（附字段名）"},
           examples={"request": {"enabled": False}, "200": {**EXAMPLE, "enabled": False}})
@api_auth(MANAGE)
def update_auto_accept_rule(rule_id):
    raw = json_body()
    with services().db.write() as s:
        current = _dict(_rule(s, rule_id))
        data = {**{k: current[k] for k in FIELDS}, **checked(raw, RULE_IN, partial=True)}
        return ok(_dict(service.update_rule(s, rule_id, data)))


@api_route(bp, "/auto-accept-rules/<int:rule_id>", "DELETE", "删除自动通过规则", TAG, permission=MANAGE,
           operation_id="deleteAutoAcceptRule",
           responses={"200": {**obj({"deleted": INT}), "example": {"deleted": 1}}, "404": "规则不存在"},
           examples={"200": {"deleted": 1}})
@api_auth(MANAGE)
def delete_auto_accept_rule(rule_id):
    with services().db.write() as s:
        service.delete_rule(s, _rule(s, rule_id).id)
    return ok({"deleted": rule_id})

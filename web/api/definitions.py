"""/api/v1/event-definitions and /api/v1/apps."""
from __future__ import annotations

from flask import Blueprint

from engine.impact import definition_change_impact, strategies_using_event
from events import apps as app_service
from events import definitions as service
from web.api import serializers as ser
from web.api.common import bool_field, error_envelope, ids_arg, json_body, list_field, ok, write_and_reload
from web.api.examples import definitions as ex
from web.api.spec import BOOL, DELETED, IDS, INT, INT_LIST, NSTR, OBJ_LIST, STR, api_route, items_of, obj
from web.auth.guards import api_auth
from web.extensions import runtime, services

bp = Blueprint("api_definitions", __name__, url_prefix="/api/v1")
FIELD = obj({"name": STR, "type": {"enum": ["text", "number", "boolean", "datetime", "list"]}, "label": STR,
             "required": BOOL, "remark": STR}, ("name", "type"))
DEFINITION = obj({"code": STR, "name": STR, "enabled": BOOL, "remark": STR,
                  "fields": {"type": "array", "items": FIELD}}, ("code", "name"))
APP = obj({"name": STR, "ip_allowlist": {"type": "array", "items": STR}, "enabled": BOOL, "remark": STR}, ("name",))
DEFINITION_OUT = obj({"id": INT, "code": STR, "name": STR, "enabled": BOOL, "remark": NSTR, "fields": OBJ_LIST,
                      "builtin_key": NSTR, "version": INT, "created_at": NSTR, "updated_at": NSTR}, ("id", "code", "name"))
APP_OUT = obj({"id": INT, "name": STR, "app_key": STR, "ip_allowlist": {"type": "array", "items": STR}, "enabled": BOOL,
               "remark": NSTR, "secret_rotating_until": NSTR, "created_at": NSTR, "updated_at": NSTR}, ("id", "name", "app_key"))


@api_route(bp, "/event-definitions", "GET", "事件定义列表", "事件注册中心", permission="events.view",
           operation_id="listEventDefinitions",
           responses={"200": items_of(DEFINITION_OUT)},
           examples=ex.LIST_EVENT_DEFINITIONS)
@api_auth("events.view")
def list_definitions():
    with services().db.read() as s:
        return ok({"items": [ser.definition(d) for d in service.list_definitions(s)]})


@api_route(bp, "/event-definitions", "POST", "注册事件", "事件注册中心", body=DEFINITION, permission="events.manage",
           operation_id="createEventDefinition",
           responses={"201": DEFINITION_OUT},
           examples=ex.CREATE_EVENT_DEFINITION)
@api_auth("events.manage")
def create_definition():
    data = json_body()
    return ok(ser.definition(write_and_reload(lambda s: service.create_definition(s, data))), 201)


@api_route(bp, "/event-definitions/<int:definition_id>", "GET", "事件定义详情", "事件注册中心", permission="events.view",
           operation_id="getEventDefinition", responses={"200": DEFINITION_OUT}, examples=ex.GET_EVENT_DEFINITION)
@api_auth("events.view")
def get_definition(definition_id):
    with services().db.read() as s:
        return ok(ser.definition(service.get_definition(s, definition_id)))


@api_route(bp, "/event-definitions/<int:definition_id>", "PUT", "修改事件定义", "事件注册中心", body=DEFINITION,
           permission="events.manage",
           operation_id="updateEventDefinition",
           responses={"200": DEFINITION_OUT, "409": "修改会影响已启用的策略（details 列出策略）：确认后带 confirm=true 重新提交"},
           examples=ex.UPDATE_EVENT_DEFINITION)
@api_auth("events.manage")
def update_definition(definition_id):
    data = json_body()
    fields = data.get("fields", [])
    impact = None
    if isinstance(fields, list) and all(isinstance(f, dict) for f in fields):  # else validation answers 422
        with services().db.read() as s:
            impact = definition_change_impact(s, definition_id, fields, runtime().registry)
    if impact and not data.get("confirm"):
        return error_envelope(409, "breaks_strategies", "修改会影响已启用的策略，确认后请带 confirm=true 重新提交",
                              details=impact)
    return ok(ser.definition(write_and_reload(lambda s: service.update_definition(s, definition_id, data))))


@api_route(bp, "/event-definitions/<int:definition_id>", "DELETE", "删除事件定义", "事件注册中心", permission="events.manage",
           operation_id="deleteEventDefinition",
           responses={"200": DELETED, "409": "事件被策略使用（details 列出策略）"},
           examples=ex.DELETE_EVENT_DEFINITION)
@api_auth("events.manage")
def delete_definition(definition_id):
    with services().db.read() as s:
        users = strategies_using_event(s, definition_id)
    if users:
        return error_envelope(409, "in_use", f"事件被 {len(users)} 条策略使用，不能删除", details=users)
    write_and_reload(lambda s: service.delete_definition(s, definition_id))
    return ok({"deleted": definition_id})


@api_route(bp, "/event-definitions/import-builtin", "POST", "导入内置事件", "事件注册中心", permission="events.manage",
           operation_id="importBuiltinEventDefinitions",
           responses={"200": obj({"created": {"type": "array", "items": STR}, "skipped": {"type": "array", "items": STR}})},
           examples=ex.IMPORT_BUILTIN_EVENT_DEFINITIONS)
@api_auth("events.manage")
def import_builtin():
    return ok(write_and_reload(lambda s: service.import_builtin(s)))


@api_route(bp, "/event-definitions/enable", "POST", "批量启用/禁用事件", "事件注册中心",
           body=obj({"ids": INT_LIST, "enabled": BOOL}, ("ids", "enabled")), permission="events.manage",
           operation_id="enableEventDefinitions",
           responses={"200": obj({"changed": INT})},
           examples=ex.ENABLE_EVENT_DEFINITIONS)
@api_auth("events.manage")
def enable_definitions():
    data = json_body()
    ids, enabled = ids_arg(data), bool_field(data, "enabled")
    return ok({"changed": write_and_reload(lambda s: service.set_enabled(s, ids, enabled))})


@api_route(bp, "/event-definitions/copy", "POST", "复制事件", "事件注册中心", body=IDS, permission="events.manage",
           operation_id="copyEventDefinitions",
           responses={"200": items_of(DEFINITION_OUT)},
           examples=ex.COPY_EVENT_DEFINITIONS)
@api_auth("events.manage")
def copy_definitions():
    ids = ids_arg(json_body())
    return ok({"items": [ser.definition(d) for d in write_and_reload(lambda s: service.copy_definitions(s, ids))]}, 201)


def _app_body() -> dict:
    data = json_body()
    list_field(data, "ip_allowlist", "IP 白名单应为字符串数组，如 [\"10.0.0.0/8\"]")
    return data


@api_route(bp, "/apps", "GET", "应用列表", "应用管理", permission="apps.view",
           operation_id="listApps", responses={"200": items_of(APP_OUT)}, examples=ex.LIST_APPS)
@api_auth("apps.view")
def list_apps():
    with services().db.read() as s:
        return ok({"items": [ser.app(a) for a in app_service.list_apps(s)]})


@api_route(bp, "/apps", "POST", "创建应用（返回一次性密钥）", "应用管理", body=APP, permission="apps.manage",
           operation_id="createApp",
           responses={"201": {**APP_OUT, "properties": {**APP_OUT["properties"], "secret": STR}}},
           examples=ex.CREATE_APP)
@api_auth("apps.manage")
def create_app():
    data = _app_body()
    app, secret = write_and_reload(lambda s: app_service.create_app_record(s, services().secret_box, data))
    return ok({**ser.app(app), "secret": secret}, 201)


@api_route(bp, "/apps/<int:app_id>", "PUT", "修改应用", "应用管理", body=APP, permission="apps.manage",
           operation_id="updateApp", responses={"200": APP_OUT}, examples=ex.UPDATE_APP)
@api_auth("apps.manage")
def update_app(app_id):
    data = _app_body()
    return ok(ser.app(write_and_reload(lambda s: app_service.update_app_record(s, app_id, data))))


@api_route(bp, "/apps/<int:app_id>", "DELETE", "删除应用", "应用管理", permission="apps.manage",
           operation_id="deleteApp", responses={"200": DELETED}, examples=ex.DELETE_APP)
@api_auth("apps.manage")
def delete_app(app_id):
    write_and_reload(lambda s: app_service.delete_app_record(s, app_id))
    return ok({"deleted": app_id})


@api_route(bp, "/apps/<int:app_id>/rotate-secret", "POST", "轮换密钥（旧密钥在宽限期内仍有效）", "应用管理",
           permission="apps.manage",
           operation_id="rotateAppSecret",
           responses={"200": obj({"secret": STR, "grace_hours": INT})},
           examples=ex.ROTATE_APP_SECRET)
@api_auth("apps.manage")
def rotate_secret(app_id):
    svc = services()
    secret = write_and_reload(lambda s: app_service.rotate_secret(s, svc.secret_box, app_id, svc.now(),
                                                        svc.settings.secret_rotation_grace_hours))
    return ok({"secret": secret, "grace_hours": svc.settings.secret_rotation_grace_hours})

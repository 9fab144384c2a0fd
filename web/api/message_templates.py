"""/api/v1/message-templates: 消息模板管理 over the API — SMS and e-mail templates with ${变量}
(list by channel, create, read, update, delete; a template a 定向营销 plan uses cannot be deleted,
only disabled), the variables a template may use, and 预览: a template (saved or not) rendered for a
customer the token's user may see (another's is 404 like an unknown id), else the newest one they
see, else a sample customer. The rendered text is masked unless the caller holds pii.view."""
from __future__ import annotations

from flask import Blueprint, request

from crm.sales import templates as service
from web.api.common import BadRequest, iso, json_body, masked, ok
from web.api.fields import checked, invalid
from web.api.lookups import found, register_errors
from web.api.spec import BOOL, INT, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services

bp = Blueprint("api_message_templates", __name__, url_prefix="/api/v1")
register_errors(bp)
MANAGE = "templates.manage"
TAG = "消息模板"

EXAMPLE = {"id": 6, "code": "birthday", "name": "生日祝福", "channel": "sms", "subject": "",
           "body": "${name}您好，祝您生日快乐！", "enabled": True, "created_at": "2026-12-01T02:00:00+00:00"}
TEMPLATE_OUT = {**obj({"id": INT, "code": STR, "name": STR, "channel": {**STR, "enum": list(service.CHANNELS)},
                       "subject": STR, "body": STR, "enabled": BOOL, "created_at": STR}), "example": EXAMPLE}
TEMPLATE_IN = {**obj({"code": {**STR, "description": "以字母开头，字母、数字、_ 或 -，最多 64 位"},
                      "name": {**STR, "maxLength": 100}, "channel": {**STR, "enum": list(service.CHANNELS)},
                      "subject": {**STR, "maxLength": 200, "description": "邮件主题（邮件模板必填）"},
                      "body": {**STR, "description": "正文，可用 ${变量}"}, "enabled": BOOL}, ("code", "name", "body")),
               "additionalProperties": False,
               "example": {"code": "birthday", "name": "生日祝福", "channel": "sms", "body": "${name}您好，祝您生日快乐！"}}
PREVIEW_IN = {**obj({"template_id": {**INT, "description": "预览已保存的模板（其余字段覆盖其内容）"},
                     "channel": {**STR, "enum": list(service.CHANNELS)}, "subject": STR, "body": STR,
                     "customer_id": {**INT, "description": "按此客户渲染；不填为最近的可见客户"}}),
              "additionalProperties": False, "example": {"body": "${name}您好，您的手机号 ${mobile} 已登记", "customer_id": 12}}
PREVIEW_OUT = {**obj({"subject": STR, "body": STR, "customer": obj({"id": {**INT, "nullable": True}, "name": STR})}),
               "example": {"subject": "", "body": "张三您好，您的手机号 138****8000 已登记",
                           "customer": {"id": 12, "name": "张三"}}}
NOT_FOUND = "模板不存在"


def _dict(t) -> dict:
    return {"id": t.id, "code": t.code, "name": t.name, "channel": t.channel, "subject": t.subject, "body": t.body,
            "enabled": t.enabled, "created_at": iso(t.created_at)}


def _template(session, template_id: int):
    return found(lambda: service.get_template(session, template_id), "消息模板", template_id)


@api_route(bp, "/message-templates", "GET", "消息模板列表（可按类型筛选）", TAG, permission=MANAGE,
           operation_id="listMessageTemplates", query=[("channel", "string", "sms 短信 / email 邮件")],
           responses={"200": {**obj({"items": {"type": "array", "items": TEMPLATE_OUT}}), "example": {"items": [EXAMPLE]}}},
           examples={"200": {"items": [EXAMPLE]}})
@api_auth(MANAGE)
def list_message_templates():
    channel = request.args.get("channel") or None
    if channel is not None and channel not in service.CHANNELS:
        raise BadRequest("查询参数 channel 应为 sms / email 之一", {"channel": "channel 取值无效"})
    with services().db.read() as s:
        return ok({"items": [_dict(t) for t in service.list_templates(s, channel)]})


@api_route(bp, "/message-templates/variables", "GET", "模板可用的 ${变量}（客户字段、线索字段、商品字段）", TAG,
           permission=MANAGE, operation_id="listTemplateVariables",
           responses={"200": {**obj({"items": {"type": "array", "items": obj({"name": STR, "label": STR})}}),
                              "example": {"items": [{"name": "name", "label": "姓名"}, {"name": "mobile", "label": "手机号"}]}}},
           examples={"200": {"items": [{"name": "name", "label": "姓名"}]}})
@api_auth(MANAGE)
def list_template_variables():
    with services().db.read() as s:
        return ok({"items": service.variable_names(s)})


@api_route(bp, "/message-templates", "POST", "新建消息模板（变量须是客户档案中存在的字段）", TAG, body=TEMPLATE_IN,
           permission=MANAGE, operation_id="createMessageTemplate",
           responses={"201": TEMPLATE_OUT, "422": "字段无效（附字段名）；编码重复；未知变量"},
           examples={"request": TEMPLATE_IN["example"], "201": EXAMPLE})
@api_auth(MANAGE)
def create_message_template():
    data = checked(json_body(), TEMPLATE_IN)
    with services().db.write() as s:
        return ok(_dict(service.create_template(s, data)), 201)


@api_route(bp, "/message-templates/<int:template_id>", "GET", "消息模板详情", TAG, permission=MANAGE,
           operation_id="getMessageTemplate", responses={"200": TEMPLATE_OUT, "404": NOT_FOUND}, examples={"200": EXAMPLE})
@api_auth(MANAGE)
def get_message_template(template_id):
    with services().db.read() as s:
        return ok(_dict(_template(s, template_id)))


@api_route(bp, "/message-templates/<int:template_id>", "PUT", "修改消息模板（只改提交的字段）", TAG,
           body={k: v for k, v in TEMPLATE_IN.items() if k != "required"}, permission=MANAGE,
           operation_id="updateMessageTemplate",
           responses={"200": TEMPLATE_OUT, "404": NOT_FOUND, "422": "字段无效（附字段名）；营销计划使用中不能改类型"},
           examples={"request": {"enabled": False}, "200": {**EXAMPLE, "enabled": False}})
@api_auth(MANAGE)
def update_message_template(template_id):
    raw = json_body()
    with services().db.write() as s:
        t = _template(s, template_id)
        data = checked(raw, TEMPLATE_IN, partial=True)
        merged = {"code": t.code, "name": t.name, "channel": t.channel, "subject": t.subject, "body": t.body,
                  "enabled": t.enabled, **data}
        return ok(_dict(service.update_template(s, t.id, merged)))


@api_route(bp, "/message-templates/<int:template_id>", "DELETE", "删除消息模板（被营销计划引用时不能删除，可停用）", TAG,
           permission=MANAGE, operation_id="deleteMessageTemplate",
           responses={"200": {**obj({"deleted": INT}), "example": {"deleted": 6}}, "404": NOT_FOUND,
                      "422": "模板被营销计划引用"}, examples={"200": {"deleted": 6}})
@api_auth(MANAGE)
def delete_message_template(template_id):
    with services().db.write() as s:
        service.delete_template(s, _template(s, template_id).id)
    return ok({"deleted": template_id})


@api_route(bp, "/message-templates/preview", "POST", "预览：按客户渲染模板（未保存的内容也可以）", TAG, body=PREVIEW_IN,
           permission=MANAGE, operation_id="previewMessageTemplate",
           responses={"200": PREVIEW_OUT, "404": "模板或客户不存在（或无权查看）", "422": "未知变量或模板语法错误"},
           examples={"request": PREVIEW_IN["example"], "200": PREVIEW_OUT["example"]})
@api_auth(MANAGE)
def preview_message_template():
    data = checked(json_body(), PREVIEW_IN)
    svc = services()
    with svc.db.read() as s:
        if data.get("template_id") is not None:
            t = _template(s, data["template_id"])
            data = {"channel": t.channel, "subject": t.subject, "body": t.body, **data}
        if not (data.get("body") or "").strip():
            raise invalid("body", "请填写模板内容或 template_id")
        customer_id = data.get("customer_id")
        out = found(lambda: service.preview(s, data, customer_id, svc.settings.timezone, viewer=current_viewer()),
                    "客户", customer_id)
    return ok({"subject": masked(out["subject"]), "body": masked(out["body"]), "customer": out["customer"]})

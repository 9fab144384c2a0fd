"""GET /api/v1/openapi.json — generated from the same declarations that register the routes
(web/api/spec.api_route): one operation per route with its operationId, its 2xx schema, the one
error envelope ($ref components/schemas/Error) for every 4xx/5xx, and its examples."""
from __future__ import annotations

import re

from flask import Blueprint

from web.api.common import ok
from web.api.examples import openapi as ex
from web.api.spec import ANY_OBJ, ROUTES, STR, api_route, obj

bp = Blueprint("api_openapi", __name__, url_prefix="/api/v1")
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def _path(rule: str) -> tuple[str, list]:
    params = [{"name": name, "in": "path", "required": True,
               "schema": {"type": "integer" if conv == "int" else "string"}} for conv, name in _PARAM.findall(rule)]
    return _PARAM.sub(lambda m: "{" + m.group(2) + "}", rule), params


ERROR = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object", "required": ["error"], "additionalProperties": False,
    "description": "所有 /api 错误应答的唯一格式（信封）。code 为稳定的英文代码，客户端据此分支；message 供人阅读。",
    "properties": {"error": {
        "type": "object", "required": ["code", "message", "fields", "details"], "additionalProperties": False,
        "properties": {
            "code": {"type": "string", "description": "稳定的英文错误代码，如 invalid、not_found、unauthorized、forbidden、"
                                                      "method_not_allowed、rate_limited、internal_error"},
            "message": {"type": "string", "description": "错误说明"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "请求字段 → 该字段的问题（无则为空对象）"},
            "details": {"type": "array", "items": {"type": "object", "additionalProperties": True},
                        "description": "结构化明细：批量中被拒绝的事件/线索（index …）、缺少的权限（permission, label）、"
                                       "受影响的策略等（无则为空数组）"},
            "reference": {"type": "string", "description": "仅 500：异常日志中的编号，联系管理员时提供"}}}},
    "example": {"error": {"code": "invalid", "message": "策略名称不能为空", "fields": {"name": "策略名称不能为空"},
                          "details": []}},
}
STANDARD_ERRORS = (("400", "请求格式错误"), ("401", "未认证"), ("403", "无权限"), ("404", "不存在"), ("405", "不支持的请求方法"),
                   ("422", "校验不通过"), ("500", "服务器内部错误（附 reference）"))


def _json(schema, example=None) -> dict:
    content = {"schema": schema}
    if example is not None:
        content["example"] = example
    # A file download (a call recording) is bytes of its own type, not JSON.
    return {"*/*" if schema.get("format") == "binary" else "application/json": content}


def _responses(r) -> dict:
    out = {}
    for code, resp in (r.responses or {"200": "成功"}).items():
        if code.startswith(("4", "5")):  # every error answers the one envelope
            out[code] = {"description": resp if isinstance(resp, str) else "出错", "content": _json(ERROR, r.examples.get(code))}
        elif isinstance(resp, dict):
            out[code] = {"description": "成功", "content": _json(resp, r.examples.get(code))}
        else:
            out[code] = {"description": resp}
    for code, text in STANDARD_ERRORS:
        out.setdefault(code, {"description": text, "content": _json(ERROR, r.examples.get(code))})
    return out


def build_document() -> dict:
    paths: dict = {}
    for r in ROUTES:
        path, params = _path(r.path)
        op = {"summary": r.summary, "tags": [r.tag], "operationId": r.operation_id or f"{r.method}_{path}",
              "parameters": params + [{"name": n, "in": "query", "required": False, "schema": {"type": t}, "description": d}
                                      for n, t, d in r.query],
              "security": {"hmac": [{"hmac": []}], "none": []}.get(r.auth, [{"bearer": []}]),
              "responses": _responses(r)}
        if r.permission:
            op["description"] = f"需要权限：{r.permission}"
        if r.body is not None:
            op["requestBody"] = {"required": True, "content": _json(r.body, r.examples.get("request"))}
        paths.setdefault(path, {})[r.method] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "存客宝 API", "version": "1.0.0",
                 "description": "事件接入使用 HMAC-SHA256 签名（X-App-Key、X-Timestamp、X-Signature）；其余接口使用 Bearer 令牌。\n\n"
                                "所有错误应答（4xx/5xx）使用同一格式：`{\"error\": {\"code\", \"message\", \"fields\", "
                                "\"details\"[, \"reference\"]}}`，见 components/schemas/Error。"},
        "servers": [{"url": "/"}],
        "components": {"schemas": {"Error": ERROR_SCHEMA}, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "hmac": {"type": "apiKey", "in": "header", "name": "X-Signature",
                     "description": "sha256=<hex HMAC-SHA256(secret, \"{X-Timestamp}.{原始请求体}\")>"}}},
        "paths": paths,
    }


@api_route(bp, "/openapi.json", "GET", "本 OpenAPI 3 文档", "文档", auth="none",
           operation_id="getOpenApiDocument",
           responses={"200": obj({"openapi": STR, "info": ANY_OBJ, "paths": ANY_OBJ, "components": ANY_OBJ},
                                 ("openapi", "info", "paths"))},
           examples=ex.GET_OPEN_API_DOCUMENT)
def openapi_document():
    return ok(build_document())

"""GET /api/v1/openapi.json — generated from the same declarations that register the routes."""
from __future__ import annotations

import re

from flask import Blueprint

from web.api.common import ok
from web.api.spec import ROUTES, api_route

bp = Blueprint("api_openapi", __name__, url_prefix="/api/v1")
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def _path(rule: str) -> tuple[str, list]:
    params = [{"name": name, "in": "path", "required": True,
               "schema": {"type": "integer" if conv == "int" else "string"}} for conv, name in _PARAM.findall(rule)]
    return _PARAM.sub(lambda m: "{" + m.group(2) + "}", rule), params


def build_document() -> dict:
    paths: dict = {}
    for r in ROUTES:
        path, params = _path(r.path)
        op = {"summary": r.summary, "tags": [r.tag], "operationId": r.operation_id or f"{r.method}_{path}",
              "parameters": params + [{"name": n, "in": "query", "required": False, "schema": {"type": t}, "description": d}
                                      for n, t, d in r.query],
              "security": {"hmac": [{"hmac": []}], "none": []}.get(r.auth, [{"bearer": []}]),
              "responses": {}}
        if r.permission:
            op["description"] = f"需要权限：{r.permission}"
        if r.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": r.body}}}
        for code, resp in (r.responses or {"200": "成功"}).items():
            op["responses"][code] = ({"description": "成功", "content": {"application/json": {"schema": resp}}}
                                     if isinstance(resp, dict) else {"description": resp})
        for code, text in (("400", "请求格式错误"), ("401", "未认证"), ("403", "无权限"), ("404", "不存在"),
                           ("422", "校验不通过")):
            op["responses"].setdefault(code, {"description": text})
        paths.setdefault(path, {})[r.method] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "存客宝 API", "version": "1.0.0",
                 "description": "事件接入使用 HMAC-SHA256 签名（X-App-Key、X-Timestamp、X-Signature）；其余接口使用 Bearer 令牌。"},
        "servers": [{"url": "/"}],
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "hmac": {"type": "apiKey", "in": "header", "name": "X-Signature",
                     "description": "sha256=<hex HMAC-SHA256(secret, \"{X-Timestamp}.{原始请求体}\")>"}}},
        "paths": paths,
    }


@api_route(bp, "/openapi.json", "GET", "本 OpenAPI 3 文档", "文档", auth="none")
def openapi_document():
    return ok(build_document())

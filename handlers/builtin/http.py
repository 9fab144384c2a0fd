"""HTTP 请求: call a webhook or an API with ${变量} filled from the event (the 晓售 processor).

GET/DELETE send the parameters as the query string; POST/PUT send them as the query string
too (晓售's "request 参数") plus the JSON body. Every request carries an Idempotency-Key
that stays the same across retries of one step, so a careful receiver can drop duplicates.
"""
from __future__ import annotations

import json
from typing import Any, Optional
from urllib.parse import urlencode

from events.placeholders import PlaceholderError, find_variables, render_text
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin.http_response import MASK, is_secret_name, raise_for_status, redact_headers, summarize_response
from handlers.errors import PermanentError, ProcessorError
from handlers.net_guard import fetch
from handlers.url_template import PLACEHOLDER_RE, UrlTemplateError, header_value_problem, render_url, url_template_problem

METHODS = ("GET", "POST", "PUT", "DELETE")
BODY_METHODS = ("POST", "PUT")
DRY_RUN_NOTE = "试运行：只渲染，未实际执行"


def json_template_problem(template: str) -> Optional[str]:
    """A Chinese message if the body cannot be JSON whatever the variables hold, else None."""
    if not (template or "").strip():
        return None
    try:
        find_variables(template)
    except PlaceholderError as exc:
        return str(exc)
    # A placeholder stands for a number, a quoted string's content or an object's JSON:
    # `0` is valid in all three positions, so it is the dummy value.
    try:
        json.loads(PLACEHOLDER_RE.sub("0", template))
    except ValueError as exc:
        return f"请求体不是合法的 JSON（第 {getattr(exc, 'lineno', 1)} 行）"
    return None


def _json_fragment(value: str, in_string: bool) -> str:
    if in_string:
        return json.dumps(value, ensure_ascii=False)[1:-1]
    try:
        json.loads(value)  # numbers, true/false, objects and lists stand as they are
        return value
    except ValueError:
        return json.dumps(value, ensure_ascii=False)  # a bare text value becomes a JSON string


def render_json_body(template: str, data: dict) -> str:
    """Fills ${var} in a JSON body so that the result stays JSON whatever the values hold.

    Inside a JSON string a value is escaped (quotes or newlines in a customer's name must not
    break the body); in a bare position an object or number stands as JSON and text is quoted.
    """
    if not (template or "").strip():
        return ""
    out, i, in_string = [], 0, False
    while i < len(template):
        if template.startswith("${", i) and not template.startswith("${%", i) and not template.startswith("${#", i):
            end = template.find("}", i)
            if end < 0:
                raise PermanentError("请求体中的 ${ 没有闭合")
            out.append(_json_fragment(render_text(template[i:end + 1], data), in_string))
            i = end + 1
            continue
        char = template[i]
        if in_string and char == "\\":
            out.append(template[i:i + 2])
            i += 2
            continue
        if char == '"':
            in_string = not in_string
        out.append(char)
        i += 1
    text = "".join(out)
    try:
        json.loads(text)
    except ValueError as exc:
        raise PermanentError("请求体替换变量后不是合法的 JSON，请检查模板") from exc
    return text


def pairs(value: Any) -> list[tuple[str, str]]:
    """[{name, value}, …] or {name: value} → [(name, value)], skipping rows without a name."""
    if isinstance(value, dict):
        return [(str(k), "" if v is None else str(v)) for k, v in value.items()]
    result = []
    for row in value or []:
        name = str(row.get("name", "")).strip() if isinstance(row, dict) else ""
        if name:
            raw = row.get("value")
            result.append((name, "" if raw is None else str(raw)))
    return result


class HttpProcessor(Processor):
    key = "http"
    name = "HTTP 请求"
    description = "向指定地址发送 HTTP 请求（GET/POST/PUT/DELETE），参数、请求头和 JSON 请求体都可使用 ${变量}。"
    config_fields = (
        ConfigField("method", "请求方式", kind="select", required=True, choices=METHODS,
                    default="POST", templated=False),
        ConfigField("url", "请求地址", required=True,
                    help="以 http:// 或 https:// 开头；${变量} 只能用在路径和查询参数值中，协议和主机须固定"),
        ConfigField("params", "请求参数", kind="keyvalue", help="作为查询参数（request 参数）发送"),
        ConfigField("headers", "请求头", kind="keyvalue"),
        ConfigField("body", "JSON 请求体", kind="json", help="仅 POST/PUT 发送；对象类型的变量会转成 JSON"),
        ConfigField("timeout_seconds", "超时（秒）", kind="number", templated=False,
                    help="留空使用系统默认值"),
    )

    def validate_config(self, config: dict) -> list[str]:
        errors = super().validate_config(config)
        method = str(config.get("method") or "POST").upper()
        if method not in METHODS:
            errors.append(f"「请求方式」只能是 {'/'.join(METHODS)}")
        url = str(config.get("url") or "").strip()
        if url and (problem := url_template_problem(url)):
            errors.append(f"「请求地址」{problem}")
        problem = json_template_problem(config.get("body") or "")
        if problem and method in BODY_METHODS:
            errors.append(f"「JSON 请求体」{problem}")
        timeout = config.get("timeout_seconds")
        if timeout not in (None, ""):
            try:
                if not 1 <= float(timeout) <= 60:
                    errors.append("「超时（秒）」须在 1–60 之间")
            except (TypeError, ValueError):
                errors.append("「超时（秒）」必须是数字")
        return errors

    def http_config(self, config: dict) -> dict:
        """The plain HTTP configuration; user-registered processors build theirs from a definition."""
        return config

    def _spec(self, ctx: ProcessorContext, config: dict) -> dict:
        config = self.http_config(config)
        method = str(config.get("method") or "POST").upper()
        if method not in METHODS:
            raise PermanentError(f"不支持的请求方式：{method}")
        if not str(config.get("url") or "").strip():
            raise PermanentError("请求地址为空")
        try:
            url = render_url(str(config.get("url")), ctx.data)
            params = [(k, render_text(v, ctx.data)) for k, v in pairs(config.get("params"))]
            headers = {k: render_text(v, ctx.data) for k, v in pairs(config.get("headers"))}
            body = render_json_body(config.get("body") or "", ctx.data) if method in BODY_METHODS else ""
        except UrlTemplateError as exc:
            raise PermanentError(f"请求地址不安全，已拒绝：{exc}") from exc
        except PlaceholderError as exc:
            raise PermanentError(f"变量替换失败：{exc}") from exc
        for name, value in headers.items():
            if problem := header_value_problem(name, value):
                raise PermanentError(problem)
        if body:
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        headers["Idempotency-Key"] = ctx.idempotency_key
        timeout = config.get("timeout_seconds")
        return {"method": method, "url": url, "params": params, "headers": headers, "body": body,
                "timeout": float(timeout) if timeout not in (None, "") else None}

    def gone(self, ctx: ProcessorContext, request: dict, response: dict) -> PermanentError:
        """410 Gone: the receiver says the endpoint is gone for good, so retrying is pointless.
        A registered processor (custom_http) is also disabled; a URL typed into one step has
        nothing to disable beyond the step itself."""
        return PermanentError("对方返回 410 Gone（地址已永久失效），不再重试", request=request, response=response)

    @staticmethod
    def _shown(spec: dict) -> dict:
        query = urlencode([(k, MASK if is_secret_name(k) else v) for k, v in spec["params"]])
        url = spec["url"] + (("&" if "?" in spec["url"] else "?") + query if query else "")
        body: Any = spec["body"]
        try:
            body = json.loads(body) if body else ""
        except ValueError:
            pass
        return {"method": spec["method"], "url": url, "headers": redact_headers(spec["headers"]),
                "body": body}

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        return self._shown(self._spec(ctx, config))

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        spec = self._spec(ctx, config)
        shown = self._shown(spec)
        if ctx.dry_run:
            return Outcome(request=shown, note=DRY_RUN_NOTE)
        services = ctx.services
        try:
            result = fetch(services.settings, spec["method"], spec["url"], params=spec["params"] or None,
                           headers=spec["headers"], body=spec["body"].encode("utf-8") or None,
                           timeout=spec["timeout"])
        except ProcessorError as exc:  # refused or unreachable: history shows what was tried
            exc.request = exc.request or shown
            raise
        if result.status == 410:
            raise self.gone(ctx, shown, summarize_response(result))
        response = raise_for_status(result, shown, services.clock.now())
        note = f"HTTP {result.status}"
        if result.truncated:
            note += f"；响应超过 {services.settings.http_max_response_bytes} 字节，已截断"
        return Outcome(request=shown, response=response, note=note)

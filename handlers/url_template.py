"""Request URLs with ${变量}: event data fills path segments and query values, nothing else.

A processor's stored headers (a bearer token, a signature secret) go to the host its URL
names, so that host must come from whoever configured the processor, never from an event:
`http://${v}/hook` with v = "evil.example:80" or "@evil.example/" would hand the secret to
someone else. Here the scheme and host (with port and user-info) must be literal text, fixed
when the processor is saved; a variable may stand only in the path or in a query value, and
its value is percent-encoded there, so "../", "&admin=1", "/" or a line break stay data.
"""
from __future__ import annotations

import re
from typing import Optional
from urllib.parse import quote, urlsplit

from events.placeholders import PlaceholderError, find_variables, render_text

PLACEHOLDER_RE = re.compile(r"\$\{[^}]*\}")
_AUTHORITY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")
_DOT_SEGMENTS = (".", "..")
# Line breaks, NUL and other controls in a header value would split or corrupt the request.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class UrlTemplateError(ValueError):
    """A URL template or a value filled into it is refused (message in Chinese)."""


def _sections(template: str) -> list[tuple[str, str]]:
    """(literal or placeholder text, where it stands) pieces; where: authority/path/query-name/query-value/fragment."""
    head = _AUTHORITY_RE.match(PLACEHOLDER_RE.sub(lambda m: "x" * len(m.group()), template))
    authority_end = head.end() if head else 0
    pieces, where, pos = [], "authority" if head else "path", 0
    for match in list(PLACEHOLDER_RE.finditer(template)) + [None]:
        end = match.start() if match else len(template)
        for index in range(pos, end):
            char = template[index]
            if index >= authority_end and where == "authority":
                where = "path"
            if where == "path" and char == "?":
                where = "query-name"
            elif where.startswith("query") and char == "&":
                where = "query-name"
            elif where == "query-name" and char == "=":
                where = "query-value"
            elif char == "#" and where != "authority":
                where = "fragment"
        if end > pos:
            pieces.append((template[pos:end], "literal"))
        if match is None:
            break
        if match.start() >= authority_end and where == "authority":
            where = "path"
        pieces.append((match.group(), where))
        pos = match.end()
    return pieces


_PLACES = {"authority": "协议和主机（含端口）", "query-name": "查询参数名", "fragment": "# 之后的片段"}


def url_template_problem(template: str) -> Optional[str]:
    """A Chinese message when the URL cannot be used as a request template, else None."""
    template = (template or "").strip()
    if not template:
        return "请求地址不能为空"
    if len(template) > 2000:
        return "请求地址不能超过 2000 个字符"
    if "${%" in template or "${#" in template:
        return "请求地址中只能使用 ${变量}，不能使用模板语句"
    if re.search(r"[\x00-\x20\x7f]", PLACEHOLDER_RE.sub("x", template)):
        return "请求地址不能包含空格、换行或控制字符"
    try:
        find_variables(template)
    except PlaceholderError:
        return "请求地址格式不正确"
    for text, where in _sections(template):
        if where in _PLACES:
            return f"请求地址的{_PLACES[where]}不能使用变量 {text}：变量只能用在路径和查询参数值中"
    try:
        parts = urlsplit(PLACEHOLDER_RE.sub("x", template))
        parts.port  # noqa: B018 — raises on a malformed port
    except ValueError:
        return "请求地址格式不正确"
    if parts.scheme.lower() not in ("http", "https"):
        return "请求地址必须以 http:// 或 https:// 开头"
    if not parts.hostname:
        return "请求地址格式不正确，缺少主机名"
    return None


def render_url(template: str, data: dict) -> str:
    """Fills the template: each variable's value percent-encoded where it stands.

    Raises UrlTemplateError for a template that puts a variable where it may not stand (one
    saved before this rule) or a value that would make a path segment "." or "..".
    """
    template = (template or "").strip()
    problem = url_template_problem(template)
    if problem:
        raise UrlTemplateError(problem)
    out = []
    for text, where in _sections(template):
        if where == "literal":
            out.append(text)
            continue
        value = render_text(text, data)
        out.append(quote(str(value), safe=""))
    url = "".join(out)
    _check_dot_segments(template, url)
    return url


def _path_segments(url: str) -> list[str]:
    return urlsplit(url).path.split("/")


def _check_dot_segments(template: str, url: str) -> None:
    # requests un-escapes %2E (an unreserved character) and then drops "." and ".." segments,
    # so a value that makes a whole segment of dots would still climb the path.
    literal = _path_segments(PLACEHOLDER_RE.sub("x", template))
    for index, segment in enumerate(_path_segments(url)):
        plain = segment.replace("%2E", ".").replace("%2e", ".")
        if plain in _DOT_SEGMENTS and (index >= len(literal) or literal[index] != segment):
            raise UrlTemplateError("变量值不能构成路径中的 . 或 .. 段")


def header_value_problem(name: str, value: str) -> Optional[str]:
    """A Chinese message when a header value carries a line break or a control character."""
    if _CONTROL_RE.search(value or ""):
        return f"请求头「{name}」的值包含换行或控制字符，已拒绝（可能是请求头注入）"
    return None

"""Form posts to the console and the public pages, and query strings everywhere, refuse what no
database stores — NUL and lone surrogates (a "%00", as a scanner sends it) — with the field
named, before any view runs: the same rule the JSON APIs, platform webhooks and phone reports apply (events.safe_json).
On PostgreSQL such a value would otherwise end the request with a 500 half-way through a view.

Only url-encoded forms are read here: JSON bodies are checked by their parsers, multipart uploads
are streamed by their views under a size cap (reading them here would defeat it), and /api/ and
/webhooks/ read their raw bodies themselves (signatures are over the exact bytes).
"""
from __future__ import annotations

from flask import Flask, abort, request

from events.safe_json import problems

FORM = "application/x-www-form-urlencoded"
RAW_BODY_PREFIXES = ("/api/", "/webhooks/")


def refuse_unstorable_form():
    found = problems(request.args.to_dict(flat=False))  # query strings reach searches on every route
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype == FORM \
            and not request.path.startswith(RAW_BODY_PREFIXES):
        found += problems(request.form.to_dict(flat=False))
    if found:
        fields = "、".join(sorted({p["field"].split("[")[0] for p in found}))
        abort(400, description=f"提交的内容有误：字段 {fields} 含有无法保存的字符（空字符或无效的 Unicode 字符），请删除后重试。")
    return None


def register(app: Flask) -> None:
    app.before_request(refuse_unstorable_form)

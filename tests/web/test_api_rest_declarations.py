"""The issue-14 /api/v1 areas (companies, tags, customer groups, message templates, users and
departments, devices, WeChat accounts, friends, auto-accept rules) declare every operation fully:
an operationId that reads as a name, a 2xx response schema, an example of that answer, and an
example request body wherever the operation takes one."""
from __future__ import annotations

import re

from web.api import (auto_accept, companies, customer_groups, devices, friends, message_templates, people, tags,
                     wechat_accounts)
from web.api.spec import ROUTES

MODULES = (auto_accept, companies, customer_groups, devices, friends, message_templates, people, tags, wechat_accounts)
NAME = re.compile(r"^[a-z]+[A-Z][A-Za-z]+$")


def _routes():
    prefixes = {m.bp.name for m in MODULES}
    from flask import Flask

    app = Flask(__name__)
    for m in MODULES:
        app.register_blueprint(m.bp, name=m.bp.name)
    served = {(re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", r.rule), m.lower()) for r in app.url_map.iter_rules()
              if r.endpoint.split(".")[0] in prefixes for m in r.methods - {"HEAD", "OPTIONS"}}
    return [r for r in ROUTES if (re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", r.path), r.method) in served]


def test_every_operation_is_named_answered_and_exemplified():
    routes = _routes()
    assert len(routes) >= 50
    ids = [r.operation_id for r in routes]
    assert len(ids) == len(set(ids)) and all(NAME.match(i) for i in ids), ids
    for r in routes:
        ok = {code: schema for code, schema in r.responses.items() if code.startswith("2")}
        assert ok and all(isinstance(s, dict) and s.get("type") == "object" for s in ok.values()), r.path
        assert set(ok) & set(r.examples), (r.method, r.path)
        if r.body is not None:
            assert "request" in r.examples and r.body.get("additionalProperties") is False, (r.method, r.path)

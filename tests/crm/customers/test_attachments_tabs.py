"""Attachments (size cap, safe names, blocked types, kept inside var/attachments) and detail tabs."""
from __future__ import annotations

import io
import time

import pytest

from crm.customers import attachments, tabs
from crm.customers.detail import customer_detail
from crm.errors import CrmError
from crm.scope import SYSTEM


def test_attachment_saved_safely_and_capped(services, make_customer):
    c = make_customer(name="甲", mobile="13800138000")
    var = services.settings.var_dir
    with services.db.write() as s:
        row = attachments.save_attachment(s, var, c.id, "../../etc/合同 v1.pdf", io.BytesIO(b"%PDF-1"), None, viewer=SYSTEM)
    assert row.filename == "合同 v1.pdf" and row.size == 6
    with services.db.read() as s:
        meta, path = attachments.attachment_path(s, var, c.id, row.id, viewer=SYSTEM)
    assert (var / "attachments").resolve() in path.parents and path.read_bytes() == b"%PDF-1"
    with services.db.write() as s, pytest.raises(CrmError, match="文件太大"):
        attachments.save_attachment(s, var, c.id, "big.bin", io.BytesIO(b"x" * 11), None, max_bytes=10, viewer=SYSTEM)
    with services.db.write() as s, pytest.raises(CrmError, match="不允许"):
        attachments.save_attachment(s, var, c.id, "x.html", io.BytesIO(b"<script>"), None, viewer=SYSTEM)
    assert len(list((var / "attachments" / str(c.id)).iterdir())) == 1
    with services.db.read() as s:
        d = customer_detail(s, c.id, SYSTEM)
    assert [a.filename for a in d["attachments"]] == ["合同 v1.pdf"]
    assert d["growth"][0]["summary"] == "上传附件「合同 v1.pdf」"


def test_tabs_validate_and_render_in_sandbox(db):
    with db.write() as s, pytest.raises(CrmError):
        tabs.create_tab(s, {"name": "x", "kind": "url", "content": "javascript:alert(1)"})
    with db.write() as s:
        t = tabs.create_tab(s, {"name": "t", "kind": "template", "content": "{{ customer.name }}{{ ''.__class__ }}",
                                "enabled": "1"})
    html = tabs.render_template_tab(t, {"name": "<i>甲</i>", "attrs": {}})
    assert "&lt;i&gt;甲" in html and "class" not in html.replace("field-error", "")


def test_tab_templates_have_a_budget_at_save_and_at_render(db):
    nested = "{% for i in range(1000) %}{% for j in range(1000) %}{{ i }}{% endfor %}{% endfor %}"
    with db.write() as s, pytest.raises(CrmError) as exc:
        tabs.create_tab(s, {"name": "慢", "kind": "template", "content": nested})
    assert exc.value.errors["content"].startswith("模板渲染超出限制：")
    # A template that only runs away with real data (saved before the budget existed, or data-driven).
    with db.write() as s:
        t = tabs.create_tab(s, {"name": "数据", "kind": "template", "enabled": "1",
                                "content": "{{ customer.name * attrs.get('times', 1) }}"})
    started = time.monotonic()
    html = tabs.render_template_tab(t, {"name": "甲", "attrs": {"times": 100_000_000}})
    assert time.monotonic() - started < 1
    assert "模板渲染超出限制" in html and len(html) < 500

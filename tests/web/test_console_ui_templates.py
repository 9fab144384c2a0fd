"""UI 模板管理 (seed 001 §3.1.1.3): add a template of 客户档案 (list columns in order with width,
sorting and fixed column; 编辑模板; 查询模板), refuse unknown fields / bad widths / a duplicate 模板编号
/ a display template over its budget, 查询 by code or name, and show a customer through it on a
客户详情TABS page that names its 模板编号 (sandboxed, masked as the page is)."""
from __future__ import annotations

from sqlmodel import select

from crm.customers.models import Customer, DetailTab
from crm.customers.ui_template_models import UiTemplate
from tests.web.conftest import get_csrf_token


def _form(token, **extra):
    data = {"csrf_token": token, "code": "customer_brief", "name": "客户概要", "enabled": "1", "body": "",
            "col_mobile": "1", "pos_mobile": "2", "lbl_mobile": "手机", "w_mobile": "130", "s_mobile": "1",
            "col_name": "1", "pos_name": "1", "lbl_name": "", "w_name": "190", "fx_name": "left",
            "form_name": "1", "form_mobile": "1", "query_city": "1"}
    data.update(extra)
    return data


def test_define_query_and_show_on_a_detail_tab(client, admin_user, login, app_db):
    login(client)
    token = get_csrf_token(client, "/ui-templates")
    assert client.get("/ui-templates/new").status_code == 200
    resp = client.post("/ui-templates/new", data=_form(token))
    assert resp.status_code == 302
    with app_db.read() as s:
        row = s.exec(select(UiTemplate)).one()
    assert [c["field"] for c in row.columns] == ["name", "mobile"]
    assert row.columns[0]["fixed"] == "left" and row.columns[1] == {"field": "mobile", "label": "手机", "width": 130,
                                                                     "sortable": True, "fixed": ""}
    assert row.form_fields == ["name", "mobile"] and row.query_fields == ["city"]
    page = client.get(f"/ui-templates/{row.id}").get_data(as_text=True)
    assert 'data-testid="ui-template-preview"' in page and "示例客户" in page

    for bad, message in ((_form(token), "已被使用"), (_form(token, code="x2", w_mobile="5"), "宽度应为"),
                         (_form(token, code="x4", body="{% for i in range(10**6) %}{% endfor %}"), "模板渲染超出限制"),
                         (_form(token, code="9bad"), "模板编号以字母开头")):
        resp = client.post("/ui-templates/new", data=bad)
        assert resp.status_code == 400 and message in resp.get_data(as_text=True), message
    assert "客户概要" in client.get("/ui-templates?q=brief").get_data(as_text=True)
    assert "没有找到 UI 模板" in client.get("/ui-templates?q=nothing").get_data(as_text=True)

    resp = client.post(f"/ui-templates/{row.id}", data=_form(token, body="<b>{{ customer.name }}</b>来自{{ customer.city }}"))
    assert resp.status_code == 302
    with app_db.write() as s:
        c = Customer(name="张三<script>", city="上海", mobile="13800138000")
        s.add(c)
        s.add(DetailTab(name="概要", kind="ui", content="customer_brief"))
        s.flush()
        cid = c.id
    html = client.get(f"/customers/{cid}").get_data(as_text=True)
    assert "<b>张三&lt;script&gt;</b>来自上海" in html
    delete = client.post(f"/ui-templates/{row.id}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "正被客户详情页签「概要」使用" in delete.get_data(as_text=True)
    tab = client.post("/modeling/tabs/new", data={"csrf_token": token, "name": "坏", "kind": "ui", "content": "不是编号",
                                                  "position": "0", "enabled": "1"})
    assert tab.status_code == 400 and "模板编号" in tab.get_data(as_text=True)


def test_unknown_fields_are_refused_by_the_service(app_db):
    import pytest
    from crm.customers import ui_templates
    from crm.errors import CrmError

    with app_db.write() as s:
        with pytest.raises(CrmError) as exc:
            ui_templates.create_template(s, {"code": "t1", "name": "t", "columns": [{"field": "nope"}],
                                             "query_fields": ["also_nope"]})
    assert "nope" in exc.value.errors["columns"] and "also_nope" in exc.value.errors["query_fields"]

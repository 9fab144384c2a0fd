"""/api/v1/message-templates: CRUD (unknown ${变量} refused when saving, a template a 定向营销 plan uses
kept), the variables list, 预览 for a customer the caller may see (another's is 404) with the number
masked unless pii.view, refusals naming the field with nothing written, templates.manage required."""
from __future__ import annotations

from crm.customers.models import Customer
from crm.people import service as people
from crm.sales.models import MessageTemplate
from tests.web.api_helpers import Api, api, assert_error, count, token_for, viewer_api  # noqa: F401 - fixtures

BODY = {"code": "birthday", "name": "生日祝福", "channel": "sms", "body": "${name}您好，您的号码 ${mobile}"}


def test_crud_variables_and_preview(api, app_db):  # noqa: F811
    created = api.ok("POST", "/api/v1/message-templates", BODY, 201)
    tid = created["id"]
    assert created["enabled"] is True and created["subject"] == ""
    assert [t["code"] for t in api.ok("GET", "/api/v1/message-templates?channel=sms")["items"]] == ["birthday"]
    assert api.ok("GET", "/api/v1/message-templates?channel=email")["items"] == []
    assert {"name", "mobile"} <= {v["name"] for v in api.ok("GET", "/api/v1/message-templates/variables")["items"]}
    assert api.ok("PUT", f"/api/v1/message-templates/{tid}", {"enabled": False})["enabled"] is False
    with app_db.write() as s:
        customer = Customer(name="张三", mobile="13800138000")
        s.add(customer)
        s.flush()
        cid = customer.id
    shown = api.ok("POST", "/api/v1/message-templates/preview", {"template_id": tid, "customer_id": cid})
    assert shown["body"] == "张三您好，您的号码 13800138000" and shown["customer"] == {"id": cid, "name": "张三"}
    unsaved = api.ok("POST", "/api/v1/message-templates/preview", {"body": "${name}，生日快乐"})
    assert unsaved["body"] == "张三，生日快乐"  # the newest customer the caller sees
    assert api.ok("DELETE", f"/api/v1/message-templates/{tid}") == {"deleted": tid}
    assert_error(api.get(f"/api/v1/message-templates/{tid}"), 404, str(tid))


def test_refusals_name_the_field_and_write_nothing(api, app_db, viewer_api):  # noqa: F811
    api.ok("POST", "/api/v1/message-templates", BODY, 201)
    cases = [({**BODY, "code": "9x"}, "code"), ({**BODY, "code": "other", "body": "${nmae}您好"}, "body"),
             ({**BODY, "code": "birthday"}, "code"), ({**BODY, "code": "mail", "channel": "email"}, "subject"),
             ({**BODY, "code": "other", "channel": "fax"}, "channel"), ({**BODY, "code": "o2", "enabled": "no"}, "enabled"),
             ({**BODY, "code": "o3", "body": ["x"]}, "body"), ({"name": "缺编码", "body": "x"}, "code")]
    for body, field in cases:
        assert field in assert_error(api.post("/api/v1/message-templates", body), 422, field)["error"]["fields"], body
    assert count(app_db, MessageTemplate) == 1
    assert_error(api.post("/api/v1/message-templates/preview", {"body": "${nmae}"}), 422, "body")
    assert_error(api.post("/api/v1/message-templates/preview", {"customer_id": 1}), 422, "body")
    assert_error(api.post("/api/v1/message-templates/preview", {"template_id": 999999}), 404, "999999")
    assert_error(api.get("/api/v1/message-templates?channel=fax"), 400, "channel")
    assert_error(viewer_api.get("/api/v1/message-templates"), 403, "templates.manage")


def test_preview_is_scoped_and_masked(api, app, app_db):  # noqa: F811
    people.ensure_builtin_roles(app_db)
    people.create_role(app_db, "writer", "文案", {"templates.manage", "customers.view"})
    token = token_for(app_db, "writer1", ["writer"])
    writer_id = people.get_user_by_username(app_db, "writer1").id
    with app_db.write() as s:
        mine, theirs = Customer(name="自己的客户", mobile="13800138000", owner_id=writer_id), Customer(name="李四机密")
        s.add_all([mine, theirs])
        s.flush()
        mine_id, theirs_id = mine.id, theirs.id
    writer = Api(app.test_client(), token)
    assert_error(writer.post("/api/v1/message-templates/preview", {"body": "${name}", "customer_id": theirs_id}),
                 404, str(theirs_id))
    shown = writer.ok("POST", "/api/v1/message-templates/preview", {"body": "${name} ${mobile}", "customer_id": mine_id})
    assert shown["body"] == "自己的客户 138****8000"

"""登录日志, 操作日志 and 异常日志 recorded by the running app: sign-in outcomes, a console and an
API write with masked before/after, a refused write as one request-level row, and an unhandled error shown as
a reference id whose stack lands only in 异常日志."""
from __future__ import annotations

from sqlmodel import select

from crm.audit.masking import REDACTED
from crm.audit.models import ErrorLog, LoginLog, OperationLog
from crm.customers.models import Customer
from crm.people import service as people
from tests.web.conftest import ADMIN_PASSWORD, get_csrf_token


def _rows(app_db, model, *where):
    with app_db.read() as s:
        return list(s.exec(select(model).where(*where).order_by(model.id)).all())


def test_every_sign_in_outcome_is_logged_without_the_password(app, app_db, admin_user, login):
    off = people.create_user(app_db, "off", "Offline1234", roles=[])
    with app_db.write() as s:
        s.get(type(off), off.id).enabled = False
    client = app.test_client()
    login(client, "admin", "wrong-password-1")
    login(client, "13800138000", "whatever-1")
    login(client, "off", "Offline1234")
    login(client, "admin", ADMIN_PASSWORD)
    client.post("/logout", data={"csrf_token": get_csrf_token(client, "/login")})
    rows = _rows(app_db, LoginLog)
    assert [r.result for r in rows] == ["bad_password", "unknown_user", "disabled", "success", "logout"]
    assert rows[0].user_id == admin_user.id and rows[1].user_id is None
    assert rows[1].username == "138****8000"
    assert all(r.ip == "127.0.0.1" for r in rows)
    assert not any("wrong-password" in (r.detail + r.username) for r in rows)


def test_throttled_sign_in_is_logged(app, app_db, admin_user, login, settings):
    client = app.test_client()
    for _ in range(settings.login_max_failures + 2):
        resp = login(client, "admin", "bad-bad-bad-1")
    assert resp.status_code == 429
    assert "throttled" in [r.result for r in _rows(app_db, LoginLog)]


def test_console_write_logs_masked_before_and_after(app, app_db, admin_user, login):
    with app_db.write() as s:
        c = Customer(name="张三", mobile="13900139000")
        s.add(c)
        s.flush()
        cid = c.id
    client = app.test_client()
    login(client)
    token = get_csrf_token(client, "/customers")
    resp = client.post(f"/customers/{cid}/edit", data={"name": "张三丰", "mobile": "13700137000", "email": "",
                                                        "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    rows = _rows(app_db, OperationLog, OperationLog.table_name == "customer", OperationLog.object_id == str(cid))
    assert rows, _rows(app_db, OperationLog)
    change = rows[-1].changes
    assert change["name"] == ["张三", "张三丰"]
    assert change["mobile"] == [REDACTED, REDACTED]
    assert rows[-1].username == "admin" and rows[-1].endpoint == "customers.edit" and rows[-1].via == "console"
    assert "13700137000" not in str([r.changes for r in _rows(app_db, OperationLog)])


def test_unhandled_error_shows_a_reference_and_logs_the_stack(app, app_db, admin_user, login, monkeypatch):
    from web.console import customers as view

    def explode(*_a, **_k):
        raise RuntimeError("boom for 13900139000")

    monkeypatch.setattr(view, "render_template", explode)
    client = app.test_client()
    login(client)
    resp = client.get("/customers")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500
    [row] = _rows(app_db, ErrorLog)
    assert row.reference in body and "参考编号" in body
    assert "Traceback" not in body and "boom" not in body
    assert "RuntimeError: boom for 139****9000" in row.stack and row.endpoint == "customers.index"


def test_log_pages_filter_and_export(app, app_db, admin_user, login):
    client = app.test_client()
    login(client, "admin", "wrong-password-1")
    login(client)
    token = get_csrf_token(client, "/customers")
    client.post("/customers/new", data={"name": "导出客户", "mobile": "13900139000", "csrf_token": token})
    page = client.get("/system/logs/logins?result=bad_password").get_data(as_text=True)
    assert "密码错误" in page and "成功</span>" not in page
    ops = client.get("/system/logs/operations?table_name=customer").get_data(as_text=True)
    assert "导出客户" in ops and "13900139000" not in ops
    csv = client.get("/system/logs/operations?table_name=customer&export=csv")
    assert csv.mimetype == "text/csv" and "导出客户" in csv.get_data().decode("utf-8-sig")
    xlsx = client.get("/system/logs/logins?export=xlsx")
    assert xlsx.data[:2] == b"PK"
    request_id = _rows(app_db, OperationLog, OperationLog.table_name == "customer")[0].request_id
    assert "导出客户" in client.get(f"/system/logs/operations/{request_id}").get_data(as_text=True)
    assert client.get("/system/logs/errors").status_code == 200
    assert client.get("/system/logs/errors/NOPE").status_code == 404


def _lead(app_db) -> int:
    from crm.leads.models import Lead, LeadScene

    with app_db.write() as s:
        scene = LeadScene(name="官网", key="site", scene_type="WEB_FORM")
        s.add(scene)
        s.flush()
        lead = Lead(scene_id=scene.id, name="线索甲", mobile="13700137000", status="NEW")
        s.add(lead)
        s.flush()
        return lead.id


def test_bearer_api_write_is_logged_as_api(app, app_db, admin_user):
    lead_id = _lead(app_db)
    token = people.create_token(app_db, "admin", "audit")
    resp = app.test_client().put(f"/api/v1/leads/{lead_id}", json={"notes": "回访 13700137000"},
                                 headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    rows = _rows(app_db, OperationLog, OperationLog.table_name == "lead")
    assert rows and {r.via for r in rows} == {"api"} and rows[0].method == "PUT"
    assert rows[0].endpoint == "api_leads.update_lead_put" and rows[0].username == "admin"
    assert "13700137000" not in repr([r.changes for r in rows])


def test_api_refusal_leaves_a_request_level_row(app, app_db, admin_user):
    token = people.create_token(app_db, "admin", "audit")
    resp = app.test_client().put("/api/v1/leads/999999", json={"notes": "x"},
                                 headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 404
    [row] = _rows(app_db, OperationLog)
    assert row.action == "request" and row.status_code == 404 and row.path == "/api/v1/leads/999999"


def test_api_unhandled_error_answers_json_with_the_reference(app, app_db, admin_user, monkeypatch):
    from web.api import leads as api_leads

    def explode(*_a, **_k):
        raise ValueError("secret state")

    monkeypatch.setattr(api_leads, "ok", explode)
    token = people.create_token(app_db, "admin", "audit")
    resp = app.test_client().get("/api/v1/leads", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 500
    body = resp.get_json()
    [row] = _rows(app_db, ErrorLog)
    assert body["error"]["code"] == "internal_error" and body["error"]["reference"] == row.reference
    assert "secret state" not in resp.get_data(as_text=True) and "ValueError: secret state" in row.stack

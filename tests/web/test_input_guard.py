"""Console and public form posts refuse NUL before any view runs, naming the field (on PostgreSQL
the value would end the request with a 500; on SQLite it would be stored)."""
from __future__ import annotations

from sqlmodel import select

from crm.customers.models import Customer
from tests.web.conftest import get_csrf_token


def test_a_form_field_with_nul_is_refused_naming_it_and_nothing_is_stored(client, admin_user, login, app_db):
    login(client)
    token = get_csrf_token(client, "/customers/new")
    resp = client.post("/customers/new", data={"csrf_token": token, "name": "王\x00五", "mobile": "13700137000"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "name" in html and "空字符" in html
    with app_db.read() as s:
        assert s.exec(select(Customer)).all() == []
    ok = client.post("/customers/new", data={"csrf_token": token, "name": "王五", "mobile": "13700137000"})
    assert ok.status_code == 302


def test_a_query_string_with_nul_is_refused_on_pages_and_api(client, admin_user, login):
    login(client)
    page = client.get("/customers?q=%00")
    assert page.status_code == 400 and "q" in page.get_data(as_text=True)
    api = client.get("/api/v1/leads?q=%00")
    assert api.status_code == 400 and api.json["error"]["code"] == "bad_request" and "q" in api.json["error"]["message"]

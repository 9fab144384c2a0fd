"""企业微信 console: save the authorisation (secrets sealed, never shown back, bad input named next
to the field), test the connection, 立即同步 per kind, callback counts, member mapping by hand."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import select

from crm.people import service as people
from events.models import EventDefinition
from integrations.wecom.models import WecomContact, WecomMember
from tests.support.wecom_fixtures import corp_form, fake_corp, wecom_app  # noqa: F401 - fixtures
from tests.web.conftest import get_csrf_token


@pytest.fixture
def app(wecom_app):  # the web fixtures (client, live_server) use `app`
    return wecom_app


def form(fake, **changes):
    return {**corp_form(fake), **changes}


def test_settings_sync_and_mapping(client, admin_user, login, app_db, fake_corp):
    fake_corp.populate(departments=3, employees=5, contacts=12, groups=2)
    login(client)
    assert client.get("/wecom").status_code == 200
    token = get_csrf_token(client, "/wecom")
    bad = client.post("/wecom/settings", data={**form(fake_corp, encoding_aes_key="short", agent_id="abc"), "csrf_token": token})
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "EncodingAESKey 应为 43 个字符" in html and "AgentId 应为数字" in html
    assert fake_corp.app_secret not in html
    assert client.post("/wecom/settings", data={**form(fake_corp), "csrf_token": token}).status_code == 302
    with app_db.engine.connect() as conn:
        stored = conn.execute(text("SELECT app_secret, encoding_aes_key FROM wecom_corp")).one()
    assert fake_corp.app_secret not in stored[0] and stored[1].startswith("pii1:")  # sealed at rest
    with app_db.read() as s:  # the events are there for strategies before the first callback
        assert {"wecom.contact_added", "wecom.chat_changed"} <= {d.code for d in s.exec(select(EventDefinition))}
    page = client.get("/wecom").get_data(as_text=True)
    assert fake_corp.app_secret not in page and f"/wecom/callback/{fake_corp.corp_id}" in page
    # Re-saving with blank secrets keeps them.
    assert client.post("/wecom/settings", data={**form(fake_corp, app_secret="", contact_secret=""),
                                                "csrf_token": token}).status_code == 302
    tested = client.post("/wecom/test", data={"csrf_token": token}).get_data(as_text=True)
    assert tested.count("连接成功") == 2
    for kind in ("org", "tags", "contacts", "groups"):
        done = client.post(f"/wecom/sync/{kind}", data={"csrf_token": token}, follow_redirects=True)
        assert "同步完成" in done.get_data(as_text=True), kind
    assert client.post("/wecom/sync/nothing", data={"csrf_token": token}).status_code == 404
    people.ensure_builtin_roles(app_db)
    user = people.create_user(app_db, "li", "Passw0rd123", display_name="小李", roles=["sales"])
    with app_db.read() as s:
        member = s.exec(select(WecomMember).where(WecomMember.userid == "u03")).one()
    assert "未匹配" in client.get("/wecom/members").get_data(as_text=True)
    mapped = client.post(f"/wecom/members/{member.id}/map", data={"user_id": user.id, "csrf_token": token},
                         follow_redirects=True)
    assert "已映射员工" in mapped.get_data(as_text=True)
    with app_db.read() as s:
        assert s.get(WecomMember, member.id).user_id == user.id
    assert client.post("/wecom/members/999999/map", data={"user_id": user.id, "csrf_token": token}).status_code == 404
    assert "重要客户" in client.get("/wecom/tags").get_data(as_text=True)
    # A callback counted on the page; the customer's detail page shows its WeCom contact.
    fake_corp.add_external_contact("u01", "wm_cb", name="回调客户", state="poster7").post(client, fake_corp.corp_id)
    with app_db.read() as s:
        customer_id = s.exec(select(WecomContact).where(WecomContact.external_userid == "wm_cb")).one().customer_id
    detail = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "wm_cb" in detail and "渠道 poster7" in detail and "自动新建客户" in detail
    fake_corp.callback({"Event": "x"}, token="forgedtoken").post(client, fake_corp.corp_id)
    counts = client.get("/wecom").get_data(as_text=True)
    assert "已接收" in counts and "签名错误 1" in counts


def test_sales_cannot_manage_wecom(client, admin_user, login, app_db):
    people.create_user(app_db, "s1", "Passw0rd123", roles=["sales"])
    login(client, "s1", "Passw0rd123")
    assert client.get("/wecom").status_code == 403

"""The sidebar: JS-SDK signatures with cached tickets, the OAuth-backed sidebar session, and
GET /api/crm/customers/<wxId> (by external_userid, wechat_id or friend wxid; scoped; masked)."""
from __future__ import annotations

from datetime import datetime

from config.clock import UTC

from commerce.orders.models import SalesOrder
from crm.customers.models import Customer
from crm.people import service as people
from crm.sales.models import FollowUp
from crm.tags.models import CustomerTag, Tag, TagCategory
from devices.models import Friend
from integrations.wecom.models import WecomContact, WecomMember
from integrations.wecom.sidebar import COOKIE, signature
from tests.web.conftest import get_csrf_token


def test_jssdk_signature_matches_the_documented_example():
    # The worked example of the JS-SDK documentation (附录1).
    ticket = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
    assert signature(ticket, "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com?params=value#frag") == \
        "0f9de62fce790f9a083d5c99e95740ceb90c27ed"


def _login(client, username, password="Passw0rd123"):
    token = get_csrf_token(client, "/login")
    assert client.post("/login", data={"username": username, "password": password, "csrf_token": token}).status_code == 302


def seed_portrait(db, corp_pk, owner_id):
    with db.write() as s:
        c = Customer(name="王小美", mobile="13800138000", owner_id=owner_id, total_spent_fen=128800, order_count=3,
                     attrs={"level": "金卡"})
        other = Customer(name="别人的客户", owner_id=None, wechat_id="wxid_other")
        s.add_all([c, other])
        s.flush()
        cat = TagCategory(name="身份")
        s.add(cat)
        s.flush()
        koc, vip = Tag(category_id=cat.id, name="KOC达人"), Tag(category_id=cat.id, name="高意向")
        s.add_all([koc, vip])
        s.flush()
        s.add_all([CustomerTag(customer_id=c.id, tag_id=koc.id), CustomerTag(customer_id=c.id, tag_id=vip.id),
                   WecomContact(corp_pk=corp_pk, external_userid="wmPORTRAIT", name="王小美", customer_id=c.id,
                                follow_users=[{"userid": "u01"}]),
                   Friend(account_id=1, wxid="wxid_xiaomei", customer_id=c.id),
                   SalesOrder(order_no="SO1", customer_id=c.id, status="paid", goods_fen=68800, total_fen=68800,
                              created_at=datetime(2026, 11, 1, tzinfo=UTC)),
                   FollowUp(customer_id=c.id, user_id=owner_id, content="想要红茶礼盒", way="wechat",
                            followed_at=datetime(2026, 11, 2, tzinfo=UTC))])
        return c.id, other.id


def test_portrait_by_any_id_scoped_and_masked(wecom_app, app_corp_pk, fake_corp):
    db = wecom_app.extensions["ckb"].services.db
    people.ensure_builtin_roles(db)
    sales = people.create_user(db, "sales1", "Passw0rd123", display_name="小李", roles=["sales"])
    cid, other_id = seed_portrait(db, app_corp_pk, sales.id)
    client = wecom_app.test_client()
    anonymous = client.get("/api/crm/customers/wmPORTRAIT")
    assert anonymous.status_code == 401 and anonymous.get_json()["error"]["code"] == "unauthorized"
    _login(client, "sales1")
    for wx_id, how in (("wmPORTRAIT", "external_userid"), ("wxid_xiaomei", "wxid")):
        body = client.get(f"/api/crm/customers/{wx_id}").get_json()
        assert body["matched_by"] == how and body["customer"]["id"] == cid
    assert body["level"] == "金卡" and body["koc"] is True
    assert body["spend"] == {"total_fen": 128800, "order_count": 3, "first_order_at": None, "last_order_at": None}
    assert [t["name"] for t in body["tags"]] == ["KOC达人", "高意向"]
    assert body["owner"] == {"id": sales.id, "name": "小李"}
    assert body["recent_orders"][0]["order_no"] == "SO1" and body["follow_ups"][0]["content"] == "想要红茶礼盒"
    assert body["customer"]["mobile"] != "13800138000" and body["customer"]["mobile"].endswith("8000")
    # Another's customer is 404 like an unknown id, in the one envelope.
    for unknown in ("wxid_other", "nobody"):
        answer = client.get(f"/api/crm/customers/{unknown}")
        assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"


def test_sidebar_session_from_wecom_oauth(wecom_app, app_corp_pk, fake_corp):
    db = wecom_app.extensions["ckb"].services.db
    people.ensure_builtin_roles(db)
    sales = people.create_user(db, "sales1", "Passw0rd123", display_name="小李", roles=["sales"])
    seed_portrait(db, app_corp_pk, sales.id)
    with db.write() as s:
        s.add(WecomMember(corp_pk=app_corp_pk, userid="u01", name="小李", user_id=sales.id))
        s.add(WecomMember(corp_pk=app_corp_pk, userid="u99", name="未映射"))
    client = wecom_app.test_client()
    page = f"/wecom/sidebar/{fake_corp.corp_id}"
    assert client.get(page).status_code == 401
    assert client.get(page + "?code=forged").status_code == 403
    assert client.get(page + "?code=" + fake_corp.oauth_code("u99")).status_code == 403  # not mapped to a user
    answer = client.get(page + "?code=" + fake_corp.oauth_code("u01") + "&external_userid=wmPORTRAIT")
    assert answer.status_code == 302 and "code=" not in answer.headers["Location"]
    assert COOKIE in answer.headers["Set-Cookie"]
    from sqlmodel import select

    from crm.audit.models import LoginLog  # 登录日志: the sidebar's OAuth sign-ins, refused and accepted
    with db.read() as s:
        logged = [(r.result, r.channel, r.user_id) for r in s.exec(select(LoginLog).order_by(LoginLog.id))]
    assert logged == [("rejected", "wecom_sidebar", None)] * 2 + [("success", "wecom_sidebar", sales.id)]
    html = client.get(page + "?external_userid=wmPORTRAIT").get_data(as_text=True)
    assert 'data-external-userid="wmPORTRAIT"' in html and "小李" in html
    assert client.get("/api/crm/customers/wmPORTRAIT").get_json()["customer"]["name"] == "王小美"
    # JS-SDK config: both signatures over the page URL; tickets fetched once and cached.
    url = "http://127.0.0.1/wecom/sidebar/x?external_userid=1"
    first = client.get(f"{page}/jssdk", query_string={"url": url}).get_json()
    second = client.get(f"{page}/jssdk", query_string={"url": url + "#frag"}).get_json()
    assert first["corpid"] == fake_corp.corp_id and first["agentid"] == fake_corp.agent_id
    assert first["signature"] != first["agentSignature"]
    assert len(fake_corp.requests_to("/cgi-bin/get_jsapi_ticket")) == 1
    assert len(fake_corp.requests_to("/cgi-bin/ticket/get")) == 1
    ticket_call = fake_corp.requests_to("/cgi-bin/ticket/get")[0]
    assert ticket_call.query["type"] == ["agent_config"]
    assert second["timestamp"] == first["timestamp"]
    assert client.get(f"{page}/jssdk", query_string={"url": "javascript:alert(1)"}).status_code == 422
    # A forged sidebar cookie opens nothing.
    client.set_cookie(COOKIE, "tampered", domain="localhost")
    assert client.get("/api/crm/customers/wmPORTRAIT").status_code == 401

"""公众号 console pages: 微信授权 (validation next to the field, the secret sealed and never shown,
测试连接), the overview with the callback URL and counts, 微信粉丝 (sync, bind by search, unbind), a
业务员 refused; and in Chromium the settings and fans pages as an operator sees them."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from crm.customers.models import Customer
from crm.people import service as people
from integrations.mp.models import MpAccount, MpFan
from tests.integrations.mp.conftest import APPID, SECRET, fake_mp, mp_app  # noqa: F401 - shared fixtures
from tests.support.fake_mp import MpPusher
from tests.web.conftest import get_csrf_token

AES = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
def app(mp_app):  # the conftest's app, with the 公众号 API on the fake platform
    return mp_app


def _form(**over):
    return {"name": "晓售智能营销平台", "appid": APPID, "secret": SECRET, "token": "ckbToken2026", "aes_key": AES,
            "mode": "safe", "default_user_id": "1", "enabled": "1", **over}


def _create(client, **over):
    return client.post("/mp/new", data={**_form(**over), "csrf_token": get_csrf_token(client, "/mp")})


def test_settings_validate_seal_and_test_the_connection(client, login, admin_user, app_db, fake_mp):
    assert login(client).status_code == 302
    bad = _create(client, appid="abc", token="x", aes_key="short", secret="")
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    for text in ("AppID 以 wx 开头", "Token 为 3–32 位字母或数字", "EncodingAESKey 应为 43 个字符", "请填写 AppSecret"):
        assert text in html
    with app_db.read() as s:
        assert s.exec(select(MpAccount)).all() == []
    assert _create(client).status_code == 302
    with app_db.read() as s:
        account = s.exec(select(MpAccount)).one()
    assert SECRET not in account.secret_sealed
    page = client.get(f"/mp/{account.id}/settings").get_data(as_text=True)
    assert SECRET not in page and f"/mp/callback/{account.callback_key}" in page and "已保存（加密存储" in page
    token = get_csrf_token(client, "/mp")
    ok = client.post(f"/mp/{account.id}/test", data={"csrf_token": token}, follow_redirects=True)
    assert "连接成功" in ok.get_data(as_text=True)
    fake_mp.apps[APPID].secret = "rotatedSecret0000000000000000000"
    failed = client.post(f"/mp/{account.id}/test", data={"csrf_token": token}, follow_redirects=True)
    assert "连接失败：AppSecret 不正确" in failed.get_data(as_text=True)
    # An edit with a blank secret keeps the stored one.
    assert client.post(f"/mp/{account.id}/settings", data={**_form(secret="", name="改名"), "csrf_token": token}).status_code == 302
    with app_db.read() as s:
        again = s.get(MpAccount, account.id)
    assert again.name == "改名" and again.secret_sealed == account.secret_sealed


def test_overview_shows_the_callback_url_and_counts(client, login, admin_user, app, app_db, clock, fake_mp):
    login(client)
    _create(client)
    with app_db.read() as s:
        account = s.exec(select(MpAccount)).one()
    push = MpPusher(APPID, "ckbToken2026", AES, clock, mode="safe", server=fake_mp,
                    path=f"/mp/callback/{account.callback_key}")
    anon = app.test_client()
    assert push.text("o_fan_1", "你好", msg_id=1).post(anon).status_code == 200
    assert push.text("o_fan_1", "伪造", msg_id=2, token="forged123").post(anon).status_code == 403
    html = client.get("/mp").get_data(as_text=True)
    assert f"http://localhost/mp/callback/{account.callback_key}" in html
    assert "已接收 <strong>1</strong>" in html and "签名错误 1" in html


def test_fans_sync_bind_and_unbind_in_the_console(client, login, admin_user, app_db, fake_mp):
    login(client)
    _create(client)
    with app_db.write() as s:
        s.add(Customer(name="张三丰"))
    fake_mp.add_fan(APPID, "o_fan_a", unionid="u_a")
    fake_mp.add_fan(APPID, "o_fan_b")
    with app_db.read() as s:
        account_id = s.exec(select(MpAccount.id)).one()
    token = get_csrf_token(client, "/mp/fans")
    done = client.post("/mp/fans/sync", data={"account_id": str(account_id), "csrf_token": token}, follow_redirects=True)
    assert "同步完成：关注中 2 人" in done.get_data(as_text=True)
    with app_db.read() as s:
        fan = s.exec(select(MpFan).where(MpFan.openid == "o_fan_a")).one()
        customer_id = s.exec(select(Customer.id)).one()
    panel = client.get(f"/mp/fans?bind={fan.id}&cq=张三").get_data(as_text=True)
    assert 'data-testid="bind-candidate"' in panel and "张三丰" in panel
    assert client.post(f"/mp/fans/{fan.id}/bind", data={"customer_id": "999999", "csrf_token": token},
                       follow_redirects=True).status_code == 200
    with app_db.read() as s:
        assert s.get(MpFan, fan.id).customer_id is None
    client.post(f"/mp/fans/{fan.id}/bind", data={"customer_id": str(customer_id), "csrf_token": token})
    with app_db.read() as s:
        assert s.get(MpFan, fan.id).customer_id == customer_id
    assert "张三丰" in client.get("/mp/fans?state=bound").get_data(as_text=True)
    detail = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert 'data-testid="customer-mp-fans"' in detail and "手工绑定" in detail
    client.post(f"/mp/fans/{fan.id}/unbind", data={"csrf_token": token})
    with app_db.read() as s:
        assert s.get(MpFan, fan.id).customer_id is None
    assert client.post("/mp/fans/424242/unbind", data={"csrf_token": token}).status_code == 404


def test_a_salesperson_cannot_open_the_mp_pages(client, login, app_db):
    people.ensure_builtin_roles(app_db)
    people.create_user(app_db, "sales", "Sales12345", roles=["sales"])
    login(client, "sales", "Sales12345")
    for path in ("/mp", "/mp/new", "/mp/fans"):
        assert client.get(path).status_code == 403


@pytest.mark.browser
def test_settings_and_fans_pages_in_chromium(page, browser_login, app, app_db, admin_user, fake_mp):
    with app_db.write() as s:
        s.add(Customer(name="李小龙"))
    fake_mp.add_fan(APPID, "oFanChromium0000000000000001", unionid="u_chromium")
    fake_mp.add_fan(APPID, "oFanChromium0000000000000002")
    browser_login()
    page.goto("/mp")
    page.click("text=添加公众号")
    page.fill("#f-name", "晓售智能营销平台")
    page.fill("#f-appid", APPID)
    page.fill("#f-secret", SECRET)
    page.fill("#f-token", "ckbToken2026")
    page.select_option("#f-default_user_id", str(admin_user.id))
    page.click("button:has-text('添加公众号')")
    page.wait_for_selector("[data-testid=mp-callback-url]")
    assert "/mp/callback/" in page.inner_text("[data-testid=mp-callback-url]")
    page.click("button:has-text('测试连接')")
    page.wait_for_selector("text=连接成功")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "mp_settings.png"), full_page=True)
    page.goto("/mp/fans")
    page.click("button:has-text('同步粉丝')")
    page.wait_for_selector("text=同步完成：关注中 2 人")
    page.locator("a:has-text('绑定客户')").first.click()
    page.fill("input[name=cq]", "李小")
    page.click("button:has-text('搜索客户')")
    page.click("[data-testid=bind-candidate] button:has-text('绑定到此客户')")
    page.wait_for_selector("text=已将粉丝")
    assert page.locator("td:has-text('李小龙')").count() == 1
    page.screenshot(path=str(SHOTS / "mp_fans.png"), full_page=True)
    page.goto("/mp")
    page.screenshot(path=str(SHOTS / "mp_index.png"), full_page=True)


def test_a_safe_mode_push_over_a_real_socket(live_server, app_db, app, clock, fake_mp):
    from integrations.mp import accounts

    svc = app.extensions["ckb"].services
    with app_db.write() as s:
        account = accounts.save_account(s, svc.secret_box, _form(default_user_id=""))
    push = MpPusher(APPID, account.token, AES, clock, mode="safe", server=fake_mp,
                    path=f"/mp/callback/{account.callback_key}")
    resp = push.text("o_socket", "走真实连接", msg_id=31).post_http(live_server.url)
    assert (resp.status_code, resp.text) == (200, "success")
    assert push.text("o_socket", "走真实连接", msg_id=31).post_http(live_server.url).text == "success"
    with app_db.read() as s:
        assert accounts.counts(s)[account.id] == {"accepted": 1, "duplicate": 1}

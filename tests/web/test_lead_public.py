"""The public pages behind poster and payment QR codes, as a visitor's phone sees them: a scan is
counted, the 留资 form becomes a lead with the poster's channel and plan and counts an add (once,
however often 提交 is tapped), and bots are refused in Chinese — honeypot, an expired or forged
form token, too many submissions from one address."""
from __future__ import annotations

import re

import pytest
from sqlmodel import select

from crm.leads import payments, posters
from crm.leads.models import AcquisitionPlan, Lead, LeadChannel, PaymentCode, QrCode, QrScan
from tests.crm.leads.test_payments import make_scene
from web import lead_public

TOKEN_RE = re.compile(r'name="form_token" value="([^"]+)"')


@pytest.fixture
def poster(app, app_db):
    scene_id = make_scene(app.extensions["ckb"], name="海报获客", key="poster", scene_type="QR_CODE_SCAN")
    with app_db.write() as s:
        channel = LeadChannel(name="地铁广告", code="metro", channel_type="OFFLINE_EVENT")
        s.add(channel)
        s.flush()
        plan = AcquisitionPlan(name="春季海报", scene_id=scene_id)
        s.add(plan)
        s.flush()
        code = posters.create_code(s, {"scene_id": scene_id, "channel_id": channel.id, "plan_id": plan.id,
                                       "title": "扫码领取试听课", "subtitle": "名额有限", "color": "#0f172a",
                                       "target_url": "https://work.weixin.qq.com/ca/abc"})
        return {"token": code.token, "id": code.id, "channel": channel.id, "plan": plan.id, "scene": scene_id}


def _code(app_db, code_id) -> QrCode:
    with app_db.read() as s:
        return s.get(QrCode, code_id)


def _leads(app_db) -> list[Lead]:
    with app_db.read() as s:
        return list(s.exec(select(Lead).order_by(Lead.id)))


def _form_token(client, token) -> str:
    html = client.get(f"/s/{token}").get_data(as_text=True)
    return TOKEN_RE.search(html).group(1)


def test_scan_is_counted_and_the_form_becomes_a_lead_with_the_channel(client, app_db, poster):
    response = client.get(f"/s/{poster['token']}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "扫码领取试听课" in html and "名额有限" in html and 'name="mobile"' in html
    assert "<script" not in html and "style=" not in html  # the CSP allows neither
    assert "pub-hero-light" in html  # white text on the dark poster colour
    assert _code(app_db, poster["id"]).scans == 1
    form_token = TOKEN_RE.search(html).group(1)
    data = {"form_token": form_token, "name": "李雷", "mobile": "139-0013-9000", "message": "想了解周末班", "website": ""}
    response = client.post(f"/s/{poster['token']}", data=data, headers={"User-Agent": "MicroMessenger/8.0"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "提交成功" in html and "https://work.weixin.qq.com/ca/abc" in html
    [lead] = _leads(app_db)
    assert (lead.mobile, lead.name, lead.channel_id, lead.plan_id) == ("13900139000", "李雷", poster["channel"], poster["plan"])
    assert lead.meta["qr_token"] == poster["token"] and lead.meta["user_agent"] == "MicroMessenger/8.0"
    assert lead.meta["ip_address"] == "127.0.0.1" and lead.lead_data["message"] == "想了解周末班"
    code = _code(app_db, poster["id"])
    assert (code.scans, code.adds) == (1, 1)
    with app_db.read() as s:
        assert [(r.kind, r.lead_id) for r in s.exec(select(QrScan).order_by(QrScan.id))] == [("scan", None), ("add", lead.id)]
    # 提交 tapped twice (the same rendered form): one lead, one add, and the page says it was already received.
    again = client.post(f"/s/{poster['token']}", data=data)
    assert again.status_code == 200 and "已收到您的信息" in again.get_data(as_text=True)
    assert "<h1>提交成功" not in again.get_data(as_text=True)
    assert len(_leads(app_db)) == 1 and _code(app_db, poster["id"]).adds == 1
    # The used form sent with other details: not "提交成功" over nothing stored — a fresh form says so.
    changed = client.post(f"/s/{poster['token']}", data={**data, "mobile": "13700137000"})
    html = changed.get_data(as_text=True)
    assert changed.status_code == 409 and "还没有保存" in html and "提交成功" not in html
    assert TOKEN_RE.search(html).group(1) != form_token and 'value="13700137000"' in html
    assert len(_leads(app_db)) == 1


def test_invalid_details_re_render_the_form_in_chinese(client, app_db, poster):
    token = _form_token(client, poster["token"])
    response = client.post(f"/s/{poster['token']}", data={"form_token": token, "name": "韩梅梅", "mobile": ""})
    assert response.status_code == 400 and "请填写手机号" in response.get_data(as_text=True)
    response = client.post(f"/s/{poster['token']}", data={"form_token": token, "name": "韩梅梅", "mobile": "12345"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "手机号" in html and 'value="韩梅梅"' in html
    assert _leads(app_db) == [] and _code(app_db, poster["id"]).adds == 0


def test_honeypot_expired_and_forged_tokens_are_refused(client, app_db, poster, clock):
    token = _form_token(client, poster["token"])
    ok = {"form_token": token, "name": "张三", "mobile": "13800138000"}
    response = client.post(f"/s/{poster['token']}", data={**ok, "website": "http://spam.example"})
    assert response.status_code == 400 and "安全校验" in response.get_data(as_text=True)
    response = client.post(f"/s/{poster['token']}", data={**ok, "form_token": token[:-2] + "xx"})
    assert response.status_code == 400 and "页面校验失败" in response.get_data(as_text=True)
    clock.advance(hours=1, minutes=1)
    response = client.post(f"/s/{poster['token']}", data=ok)
    assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)
    assert _leads(app_db) == []


def test_a_token_of_another_poster_is_refused(client, app_db, poster):
    with app_db.write() as s:
        other = posters.create_code(s, {"scene_id": poster["scene"], "title": "另一张海报"}).token
    token = _form_token(client, other)
    response = client.post(f"/s/{poster['token']}", data={"form_token": token, "mobile": "13800138000"})
    assert response.status_code == 400 and "页面校验失败" in response.get_data(as_text=True)


def test_submissions_and_scans_are_rate_limited_per_ip(client, app_db, poster):
    token = _form_token(client, poster["token"])
    for _ in range(lead_public.FORM_LIMIT[0]):
        assert client.post(f"/s/{poster['token']}", data={"form_token": token, "website": "bot"}).status_code == 400
    response = client.post(f"/s/{poster['token']}", data={"form_token": token, "mobile": "13800138000"})
    assert response.status_code == 429 and "提交过于频繁" in response.get_data(as_text=True)
    assert _leads(app_db) == []
    for _ in range(lead_public.SCAN_LIMIT[0] + 5):
        assert client.get(f"/s/{poster['token']}").status_code == 200  # the page still opens
    assert _code(app_db, poster["id"]).scans == lead_public.SCAN_LIMIT[0]  # the burst is not counted


def test_unknown_codes_answer_in_chinese(client):
    for path in ("/s/nope", "/pay/nope"):
        response = client.get(path)
        assert response.status_code == 404 and "二维码无效或已失效" in response.get_data(as_text=True)
    assert client.post("/s/nope", data={"mobile": "13800138000"}).status_code == 404


def test_payment_landing_page(app, app_db, client):
    scene_id = make_scene(app.extensions["ckb"], name="付款码获客", key="pay", scene_type="PAYMENT_CODE")
    with app_db.write() as s:
        wechat = payments.create_code(s, {"scene_id": scene_id, "title": "9.9 元体验课", "provider": "wechat_pay",
                                          "amount": "9.9"})
        alipay = payments.create_code(s, {"scene_id": scene_id, "title": "随意付", "provider": "alipay"})
        stopped = payments.create_code(s, {"scene_id": scene_id, "title": "旧码", "provider": "alipay"})
        stopped.is_active = False
        ids, tokens = (wechat.id, alipay.id), (wechat.token, alipay.token, stopped.token)
    html = client.get(f"/pay/{tokens[0]}").get_data(as_text=True)
    assert "9.9 元体验课" in html and "9.90" in html and "请使用微信扫码支付" in html and "微信支付" in html
    html = client.get(f"/pay/{tokens[1]}").get_data(as_text=True)
    assert "请使用支付宝扫码支付" in html and "金额由您在支付时输入" in html
    response = client.get(f"/pay/{tokens[2]}")
    assert response.status_code == 410 and "已停用" in response.get_data(as_text=True)
    with app_db.read() as s:
        assert [s.get(PaymentCode, i).scans for i in ids] == [1, 1]

"""付款码 console: generate a code (bad input re-renders in Chinese, nothing written; CSRF
required), the list and detail with counts, the QR PNG that carries the /pay/<token> link, the
支付记录 with payer and mobile masked for a user without 查看完整手机号, and 停用 refusing
further payments."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlmodel import func, select

from crm.leads import payments, posters
from crm.leads.errors import LeadsError
from crm.leads.models import LeadChannel, PaymentCode
from crm.people import masking
from crm.people import service as people
from crm.people.permissions import ALL_PERMISSIONS
from tests.crm.leads.test_payments import make_scene

OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


@pytest.fixture
def signed_in(client, admin_user, login):
    login(client)
    return client


@pytest.fixture
def scene_id(app):
    return make_scene(app.extensions["ckb"], name="付款码获客", key="pay", scene_type="PAYMENT_CODE")


@pytest.fixture
def channel_id(app_db):
    with app_db.write() as s:
        channel = LeadChannel(name="门店收银台", code="cashier")
        s.add(channel)
        s.flush()
        return channel.id


def _codes(app_db) -> list[PaymentCode]:
    with app_db.read() as s:
        return list(s.exec(select(PaymentCode)))


def test_generate_a_code_and_see_it(signed_in, app_db, csrf_token, scene_id, channel_id):
    page = signed_in.get("/leads/payments/new").get_data(as_text=True)
    assert "付款码获客" in page and "门店收银台" in page and "微信支付" in page
    token = csrf_token(signed_in, "/leads/payments/new")
    response = signed_in.post("/leads/payments/new", data={
        "csrf_token": token, "scene_id": scene_id, "channel_id": channel_id, "title": "9.9 元体验课",
        "provider": "wechat_pay", "amount_mode": "fixed", "amount": "9.9", "params": "activity=双十一"})
    [code] = _codes(app_db)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/leads/payments/{code.id}")
    assert (code.amount, code.channel_id, code.params) == (9.9, channel_id, {"activity": "双十一"})
    html = signed_in.get(f"/leads/payments/{code.id}").get_data(as_text=True)
    assert f"http://localhost/pay/{code.token}" in html and "¥9.90" in html and "activity=双十一" in html
    listing = signed_in.get("/leads/payments").get_data(as_text=True)
    assert "9.9 元体验课" in listing and "门店收银台" in listing
    qr = signed_in.get(f"/leads/payments/{code.id}/qr.png")
    assert qr.mimetype == "image/png"
    image = Image.open(io.BytesIO(qr.data)).convert("L")
    matrix = posters.qr_matrix(f"http://localhost/pay/{code.token}")
    box = posters.QR_BOX_SIZE
    assert [[image.getpixel((c * box + 5, r * box + 5)) < 128 for c in range(len(matrix))]
            for r in range(len(matrix))] == matrix
    download = signed_in.get(f"/leads/payments/{code.id}/qr.png?download=1")
    assert "attachment" in download.headers["Content-Disposition"]


def test_bad_input_re_renders_in_chinese(signed_in, app_db, csrf_token, scene_id):
    token = csrf_token(signed_in, "/leads/payments/new")
    response = signed_in.post("/leads/payments/new", data={"csrf_token": token, "scene_id": scene_id, "title": "体验课",
                                                           "provider": "wechat_pay", "amount_mode": "fixed", "amount": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "固定金额的付款码需要填写金额" in html and 'value="体验课"' in html
    response = signed_in.post("/leads/payments/new", data={"csrf_token": token, "scene_id": "", "title": "x",
                                                           "provider": "alipay"})
    assert response.status_code == 400 and "请选择获客场景" in response.get_data(as_text=True)
    assert signed_in.post("/leads/payments/new", data={"scene_id": scene_id, "title": "x",
                                                       "provider": "alipay"}).status_code == 400  # no CSRF token
    assert _codes(app_db) == []


def _masked_client(app, app_db, login):
    people.create_role(app_db, "pay_ops", "付款码运营（脱敏）", ALL_PERMISSIONS - {"pii.view"})
    uid = people.create_user(app_db, "payops", "Masked12345", display_name="付款码运营", roles=["pay_ops"]).id
    masking.set_mask_mode(app_db, uid, "mask")
    client = app.test_client()
    login(client, "payops", "Masked12345")
    return client


def test_payment_records_mask_the_payer(app, signed_in, app_db, login, scene_id):
    with app_db.write() as s:
        code = payments.create_code(s, {"scene_id": scene_id, "title": "体验课", "provider": "wechat_pay", "amount": "9.9"})
        code_id, code_token = code.id, code.token
    out = payments.record_payment(app_db, provider="wechat_pay", token=code_token, trade_no="4200001234", amount_yuan=9.9,
                                  payer=OPENID, mobile="13800138000")
    full = signed_in.get(f"/leads/payments/{code_id}").get_data(as_text=True)
    assert "4200001234" in full and OPENID in full and "13800138000" in full and f"#{out.lead_id}" in full
    assert "¥9.90" in signed_in.get("/leads/payments").get_data(as_text=True)
    masked_client = _masked_client(app, app_db, login)
    masked = masked_client.get(f"/leads/payments/{code_id}").get_data(as_text=True)
    assert "4200001234" in masked and OPENID not in masked and "oUp****6o" in masked
    assert "13800138000" not in masked and "138****8000" in masked


def test_stop_a_code(signed_in, app_db, csrf_token, scene_id):
    with app_db.write() as s:
        code = payments.create_code(s, {"scene_id": scene_id, "title": "体验课", "provider": "alipay"})
        code_id, code_token = code.id, code.token
    token = csrf_token(signed_in, f"/leads/payments/{code_id}")
    response = signed_in.post(f"/leads/payments/{code_id}/active", data={"csrf_token": token, "active": "0"},
                              follow_redirects=True)
    assert "已停用付款码「体验课」" in response.get_data(as_text=True)
    with pytest.raises(LeadsError):
        payments.record_payment(app_db, provider="alipay", token=code_token, trade_no="T1", amount_yuan=1,
                                mobile="13800138000")
    signed_in.post(f"/leads/payments/{code_id}/active", data={"csrf_token": token, "active": "1"})
    with app_db.read() as s:
        assert s.get(PaymentCode, code_id).is_active
        assert s.exec(select(func.count()).select_from(PaymentCode)).one() == 1
    assert signed_in.post("/leads/payments/999/active", data={"csrf_token": token, "active": "0"}).status_code == 404
    assert signed_in.get("/leads/payments/999").status_code == 404


def test_needs_the_scene_permission(app, app_db, login):
    people.create_role(app_db, "viewer", "只读", {"leads.view"})
    people.create_user(app_db, "viewer", "Viewer12345", display_name="只读", roles=["viewer"])
    client = app.test_client()
    login(client, "viewer", "Viewer12345")
    assert client.get("/leads/payments").status_code == 403

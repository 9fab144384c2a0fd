"""Platform webhook adapters without the web layer: every fake platform's call verifies, a forged,
tampered or stale one is refused with the right reason, payloads become the right Submissions,
answers are in each platform's format; the guard's replay memory, purge and counts."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from config.clock import UTC
from config.rate_limit import RateLimiter
from crm.leads.adapters import ADAPTERS, adapters_for, get_adapter
from crm.leads.adapters.base import WebhookRefused
from crm.leads.adapters.cti import CtiCallAdapter
from crm.leads.models import Lead, WebhookNonce, WebhookRejection
from crm.leads.webhook_guard import (WebhookCall, purge_nonces, receive, record_rejection, rejection_counts,
                                     remember_signature)
from engine.lead_scenes import save_scene
from handlers.registry import default_registry
from tests.support.fake_platforms import (FakeAlipay, FakeCti, FakeDouyin, FakeFormTool, FakeShop, FakeWechatPay)

SECRET = "whsec_unit"
START = datetime(2026, 11, 20, 2, 0, 0, tzinfo=UTC)
CALLS = {
    "douyin_leads": lambda p: p.lead("7301000000000000001"),
    "order_notifications": lambda p: p.paid_order("SO20261120001"),
    "cti_calls": lambda p: p.call_started("CALL-1"),
    "web_form": lambda p: p.submission("SUB-1"),
    "wechat_pay": lambda p: p.paid("tok123", "4200000000202611200001"),
    "alipay": lambda p: p.paid("tok123", "2026112022001400001"),
}
FAKES = {cls.adapter_key: cls for cls in (FakeDouyin, FakeShop, FakeCti, FakeFormTool, FakeWechatPay, FakeAlipay)}


def call_for(key: str, clock, secret: str = SECRET, skew: int = 0):
    return CALLS[key](FAKES[key](secret, clock, skew_seconds=skew))


def refusal(key: str, delivery, clock, secret: str = SECRET) -> WebhookRefused:
    with pytest.raises(WebhookRefused) as caught:
        get_adapter(key).verify(delivery.headers, delivery.body, secret, clock.now(), 300)
    return caught.value


def test_registry_is_keyed_by_the_stable_url_keys():
    assert list(ADAPTERS) == ["douyin_leads", "order_notifications", "cti_calls", "web_form", "wechat_pay", "alipay"]
    assert [a.key for a in adapters_for("PAYMENT_CODE")] == ["wechat_pay", "alipay"]
    assert [a.key for a in adapters_for("PHONE_CALL")] == ["cti_calls"]
    assert get_adapter("pigeon_post") is None
    assert all(a.name and a.scene_types for a in ADAPTERS.values())


@pytest.mark.parametrize("key", list(CALLS))
def test_a_fake_platform_call_verifies(key, clock):
    delivery = call_for(key, clock)
    info = get_adapter(key).verify(delivery.headers, delivery.body, SECRET, clock.now(), 300)
    assert info.timestamp == int(START.timestamp())
    assert len(info.digest) == 64
    # The same bytes again give the same digest (a replay); a re-signed retry does not.
    clock.advance(seconds=1)
    again = get_adapter(key).verify(delivery.headers, delivery.body, SECRET, clock.now(), 300)
    retry = call_for(key, clock)
    assert again.digest == info.digest
    assert get_adapter(key).verify(retry.headers, retry.body, SECRET, clock.now(), 300).digest != info.digest


@pytest.mark.parametrize("key", list(CALLS))
def test_forged_tampered_and_stale_calls_are_refused(key, clock):
    assert refusal(key, call_for(key, clock, secret="whsec_guess"), clock).reason == "signature"
    delivery = call_for(key, clock)
    tampered = delivery.tampered(delivery.body.replace(b"1", b"2", 1))
    assert refusal(key, tampered, clock).reason == "signature"
    stale = refusal(key, call_for(key, clock, skew=-301), clock)
    assert stale.reason == "timestamp" and stale.status == 401 and "300" in stale.message
    assert refusal(key, call_for(key, clock, skew=301), clock).reason == "timestamp"
    get_adapter(key).verify(*_parts(call_for(key, clock, skew=-299)), SECRET, clock.now(), 300)


def _parts(delivery):
    return delivery.headers, delivery.body


@pytest.mark.parametrize("key, header", [("douyin_leads", "X-Douyin-Nonce"), ("douyin_leads", "X-Douyin-Signature"),
                                         ("order_notifications", "X-Shop-Timestamp"), ("cti_calls", "X-CTI-Signature"),
                                         ("web_form", "X-Form-Timestamp"), ("wechat_pay", "Wechatpay-Nonce")])
def test_a_missing_header_is_named(key, header, clock):
    delivery = call_for(key, clock)
    stripped = delivery.__class__(delivery.path, {k: v for k, v in delivery.headers.items() if k != header},
                                  delivery.body)
    refused = refusal(key, stripped, clock)
    assert refused.reason == "signature" and header in refused.message


def test_headers_are_case_insensitive_and_timestamps_must_be_numbers(clock):
    delivery = call_for("cti_calls", clock)
    lower = {k.lower(): v for k, v in delivery.headers.items()}
    get_adapter("cti_calls").verify(lower, delivery.body, SECRET, clock.now())
    body = delivery.body
    shop = FakeShop(SECRET, clock)
    odd = shop.sign(body, "soon")
    assert refusal("order_notifications", delivery.__class__("/x", odd, body), clock).reason == "timestamp"


def test_alipay_refuses_other_sign_types_and_bad_notify_time(clock):
    alipay = FakeAlipay(SECRET, clock)
    good = alipay.paid("tok", "T1")
    rsa = good.tampered(good.body.replace(b"sign_type=HMAC-SHA256", b"sign_type=RSA2"))
    assert "sign_type" in refusal("alipay", rsa, clock).message
    no_time = alipay.send_form({"trade_no": "T2", "notify_time": "yesterday"})
    assert refusal("alipay", no_time, clock).reason == "timestamp"
    unsigned = good.tampered(b"trade_no=T1&total_amount=1.00")
    assert refusal("alipay", unsigned, clock).reason == "signature"
    assert refusal("alipay", good.tampered(b"\xff\xfe"), clock).reason == "body"


def test_douyin_clue_and_comment_become_submissions(clock):
    douyin = FakeDouyin(SECRET, clock)
    lead = douyin.lead("7301", name="张三", telephone="13800138000", city="深圳")
    [sub] = get_adapter("douyin_leads").parse(lead.body, lead.headers)
    assert sub.external_id == "lead:7301" and sub.source == "webhook" and sub.stage == "created"
    assert sub.raw["telephone"] == "13800138000" and sub.raw["city"] == "深圳" and sub.raw["clue_id"] == "7301"
    comment = douyin.comment("C9", "多少钱？怎么报名")
    [sub] = get_adapter("douyin_leads").parse(comment.body, comment.headers)
    assert sub.external_id == "comment:C9" and sub.raw["comment"] == "多少钱？怎么报名"
    for bad in ({"event": "like"}, {"event": "lead", "content": {}}, {"event": "lead", "clue_id": "1"}):
        with pytest.raises(WebhookRefused) as caught:
            get_adapter("douyin_leads").parse(json.dumps(bad).encode(), {})
        assert caught.value.reason == "body"


def test_orders_only_paid_ones_count(clock):
    shop = FakeShop(SECRET, clock)
    paid = shop.paid_order("SO1", total=1299.0)
    [sub] = get_adapter("order_notifications").parse(paid.body, {})
    assert sub.external_id == "SO1" and sub.raw["buyer_phone"] == "13900139000" and sub.raw["total_amount"] == 1299.0
    assert sub.raw["items"][0]["title"] == "精华液" and sub.raw["type"] == "order.paid"
    refunded = shop.send({"type": "order.refunded", "order": {"order_no": "SO1"}})
    assert get_adapter("order_notifications").parse(refunded.body, {}) == []
    with pytest.raises(WebhookRefused):
        get_adapter("order_notifications").parse(shop.send({"type": "order.paid", "order": {}}).body, {})


def test_calls_open_then_update_the_same_lead(clock):
    cti = FakeCti(SECRET, clock)
    [start] = get_adapter("cti_calls").parse(cti.call_started("CALL-7").body, {})
    [end] = get_adapter("cti_calls").parse(cti.call_ended("CALL-7", summary="想了解产品A", intent="高").body, {})
    assert (start.external_id, start.stage, start.raw["call_status"]) == ("CALL-7", "created", "通话中")
    assert "summary" not in start.raw and start.raw["caller"] == "13700137000"
    assert (end.external_id, end.stage, end.raw["call_status"]) == ("CALL-7", "updated", "通话结束")
    assert end.raw["summary"] == "想了解产品A" and end.raw["intent"] == "高" and end.raw["duration"] == 185
    with pytest.raises(WebhookRefused):
        get_adapter("cti_calls").parse(cti.send({"event": "call_ringing", "call_id": "X"}).body, {})


def test_web_form_keeps_the_guide_shape(clock):
    form = FakeFormTool(SECRET, clock).submission("SUB-9", phone="138 0013 8000")
    [sub] = get_adapter("web_form").parse(form.body, {})
    assert sub.external_id == "SUB-9" and sub.raw["form_id"] == "contact_us_form_v1"
    assert sub.raw["submission_data"]["phone"] == "138 0013 8000"
    assert sub.meta == {"ip_address": "192.168.1.100", "user_agent": "Mozilla/5.0",
                        "submission_url": "https://example.com/contact"}


def test_payment_notifications_carry_what_record_payment_needs(clock):
    wechat = FakeWechatPay(SECRET, clock).paid("tokW", "4200001", total_fen=990, openid="oPayer")
    paid = get_adapter("wechat_pay").paid(wechat.body, wechat.headers)
    assert {k: paid[k] for k in ("token", "trade_no", "amount_yuan", "payer", "mobile")} == \
        {"token": "tokW", "trade_no": "4200001", "amount_yuan": 9.9, "payer": "oPayer", "mobile": None}
    refund = FakeWechatPay(SECRET, clock).paid("tokW", "4200002", event_type="REFUND.SUCCESS")
    assert get_adapter("wechat_pay").paid(refund.body, {}) is None
    alipay = FakeAlipay(SECRET, clock).paid("tokA", "2026001", total_amount="88.80", buyer_id="2088001")
    paid = get_adapter("alipay").paid(alipay.body, {})
    assert (paid["token"], paid["trade_no"], paid["amount_yuan"], paid["payer"]) == ("tokA", "2026001", 88.8, "2088001")
    assert "sign" not in paid["raw"] and paid["raw"]["trade_status"] == "TRADE_SUCCESS"
    waiting = FakeAlipay(SECRET, clock).paid("tokA", "2026002", trade_status="WAIT_BUYER_PAY")
    assert get_adapter("alipay").paid(waiting.body, {}) is None
    for amount in ("abc", "nan", "-1"):
        with pytest.raises(WebhookRefused):
            get_adapter("alipay").paid(FakeAlipay(SECRET, clock).paid("t", "T9", total_amount=amount).body, {})


DEEP = b'{"a":' + b"[" * 40 + b"1" + b"]" * 40 + b"}"


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"{" * 40 + b"}" * 40, DEEP, b"[" * 100_000])
def test_unreadable_json_is_a_body_refusal(body):
    for key in ("douyin_leads", "order_notifications", "cti_calls", "web_form"):
        with pytest.raises(WebhookRefused) as caught:
            get_adapter(key).parse(body, {})
        assert caught.value.reason == "body"


def test_answers_in_each_platform_format():
    def answer(key, *args):
        adapter = get_adapter(key)
        status, body, content_type = adapter.error_response(*args) if args else adapter.ok_response([])
        return status, (json.loads(body) if "json" in content_type else body)

    assert answer("douyin_leads") == (200, {"err_no": 0, "err_tips": "success"})
    assert answer("douyin_leads", "signature", "签名校验失败") == (401, {"err_no": 40001, "err_tips": "签名校验失败"})
    assert answer("order_notifications") == (200, {"code": 0, "msg": "success"})
    assert answer("order_notifications", "replay", "重放") == (409, {"code": 40003, "msg": "重放"})
    assert answer("cti_calls") == (200, {"result": "ok"})
    assert answer("cti_calls", "timestamp", "过期") == (401, {"result": "error", "reason": "timestamp", "message": "过期"})
    assert answer("web_form") == (200, {"ok": True, "accepted": 0})
    assert answer("web_form", "rate_limit", "太快") == (429, {"ok": False, "error": "rate_limit", "message": "太快"})
    assert answer("wechat_pay") == (200, {"code": "SUCCESS", "message": "成功"})
    assert answer("wechat_pay", "signature", "签名错误") == (401, {"code": "FAIL", "message": "签名错误"})
    assert answer("alipay") == (200, "success")
    assert answer("alipay", "body", "太大", 413) == (413, "failure")


def test_signatures_are_remembered_inside_the_window_then_purged(db, clock):
    now = clock.now()
    assert remember_signature(db, 1, "a" * 64, now, 300) is True
    assert remember_signature(db, 1, "a" * 64, now, 300) is False  # replay
    assert remember_signature(db, 2, "a" * 64, now, 300) is True  # another scene's memory
    later = now + timedelta(seconds=601)
    assert remember_signature(db, 1, "b" * 64, later, 300) is True  # purges the old ones on the way
    with db.read() as s:
        assert sorted(n.digest[0] for n in s.exec(select(WebhookNonce)).all()) == ["b"]
    with db.write() as s:
        assert purge_nonces(s, later + timedelta(seconds=1)) == 1


def test_rejections_are_counted_by_adapter_and_reason(db, clock):
    now = clock.now()
    for adapter, reason in (("douyin_leads", "signature"), ("douyin_leads", "signature"), ("cti_calls", "replay")):
        record_rejection(db, adapter, 5, reason, "203.0.113.9", now)
    record_rejection(db, "cti_calls", None, "scene", "203.0.113.9", now - timedelta(days=2))
    with db.read() as s:
        assert rejection_counts(s, now - timedelta(hours=1)) == {("douyin_leads", "signature"): 2,
                                                                 ("cti_calls", "replay"): 1}
        assert rejection_counts(s, now - timedelta(days=3), scene_id=5) == {("douyin_leads", "signature"): 2,
                                                                            ("cti_calls", "replay"): 1}
        assert s.exec(select(WebhookRejection).where(WebhookRejection.reason == "scene")).one().client_ip == "203.0.113.9"


class FlakyStore(CtiCallAdapter):
    """The real CTI adapter whose first delivery fails on our side (the database went away)."""

    failures = 1

    def deliver(self, *args, **kwargs):
        if self.failures:
            self.failures -= 1
            raise RuntimeError("database unavailable")
        return super().deliver(*args, **kwargs)


def test_a_failure_on_our_side_lets_the_platform_resend_the_same_bytes(services, clock, monkeypatch):
    monkeypatch.setitem(ADAPTERS, "cti_calls", FlakyStore())
    with services.db.write() as s:
        scene, secret = save_scene(s, {"name": "热线", "key": "hotline", "scene_type": "PHONE_CALL"},
                                   registry=default_registry(services), box=services.secret_box)
    delivery = FakeCti(secret, clock).call_started("CALL-1")
    call = WebhookCall("cti_calls", delivery.body, delivery.headers, "198.51.100.7")
    limiter = RateLimiter(clock=lambda: clock.now().timestamp())
    with pytest.raises(RuntimeError):
        receive(services, limiter, call)  # the web layer answers 500; the platform will resend
    reply = receive(services, limiter, call)
    assert (reply.answer.status, json.loads(reply.answer.body)) == (200, {"result": "ok"})
    assert receive(services, limiter, call).answer.status == 409  # once stored, the same bytes are a replay
    with services.db.read() as s:
        assert [lead.external_id for lead in s.exec(select(Lead).where(Lead.scene_id == scene.id))] == ["CALL-1"]

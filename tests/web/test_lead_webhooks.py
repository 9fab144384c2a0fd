"""POST /webhooks/<adapter>: every platform's fake signs like the real one. Per platform: a genuine
call stores one lead (its lead_data mapped), an exact replay is refused and counted, a platform
retry of the same lead/order/call/trade answers success and makes no second lead, forged and
stale calls and oversized bodies are refused in the platform's own format and counted, a scene
over its rate limit answers 429 with Retry-After; ambiguous scenes, unknown adapters, junk that
becomes a dead letter, the phone call's 通话中 → 通话结束 update, and one pass over real HTTP."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

import pytest
from sqlmodel import select

from config.clock import UTC, as_utc
from crm.leads import payments
from crm.leads.models import Lead, LeadDeadLetter, PaymentRecord, WebhookRejection
from crm.leads.webhook_guard import rejection_counts
from engine.lead_scenes import save_scene
from tests.support.fake_platforms import (FakeAlipay, FakeCti, FakeDouyin, FakeFormTool, FakePlatform, FakeShop,
                                          FakeWechatPay)


class Env:
    """Scenes, payment codes and what got stored, through the same services the console uses."""

    def __init__(self, app, clock):
        self.rt = app.extensions["ckb"]
        self.db = self.rt.services.db
        self.clock = clock

    def scene(self, scene_type: str, key: str, **extra) -> tuple[int, str]:
        with self.db.write() as s:
            scene, secret = save_scene(s, {"name": f"场景{key}", "key": key, "scene_type": scene_type, **extra},
                                       registry=self.rt.registry, box=self.rt.services.secret_box)
        self.rt.invalidate()
        return scene.id, secret

    def payment_code(self, scene_id: int, provider: str) -> str:
        with self.db.write() as s:
            return payments.create_code(s, {"scene_id": scene_id, "title": "9.9元体验课", "provider": provider,
                                            "amount": "9.9"}).token

    def rows(self, model, *where) -> list:
        with self.db.read() as s:
            return list(s.exec(select(model).where(*where)))

    def leads(self, scene_id: int) -> list[Lead]:
        return self.rows(Lead, Lead.scene_id == scene_id)

    def rejections(self) -> list[tuple[str, str]]:
        return [(r.adapter, r.reason) for r in self.rows(WebhookRejection, WebhookRejection.id > 0)]


@dataclass
class Platform:
    key: str
    scene_type: str
    fake: type
    call: Callable  # (fake, unique id, token) → Delivery
    expect: dict  # lead_data the mapping must produce
    scene_extra: dict

    def __repr__(self) -> str:
        return self.key


PAYMENT_SCENE = {"params": {"require_contact": False}}
PLATFORMS = [
    Platform("douyin_leads", "SOCIAL_MEDIA_LEAD", FakeDouyin,
             lambda f, n, t: f.lead(f"7301{n}", name="张三", telephone="+86 138-0013-8000", city="深圳"),
             {"name": "张三", "mobile": "13800138000", "region": "深圳"}, {}),
    Platform("order_notifications", "ORDER_SYNC", FakeShop, lambda f, n, t: f.paid_order(f"SO{n}", total=1299.0),
             {"name": "李四", "mobile": "13900139000", "value": 1299.0, "product": "精华液"},
             {"mapping_rules": [{"source": "items.*.title", "target": "product", "transform": "join"}]}),
    Platform("cti_calls", "PHONE_CALL", FakeCti, lambda f, n, t: f.call_started(f"CALL-{n}"),
             {"mobile": "13700137000"}, {}),
    Platform("web_form", "WEB_FORM", FakeFormTool, lambda f, n, t: f.submission(f"SUB-{n}"),
             {"name": "王五", "email": "wangwu@example.com", "mobile": "13600136000", "company": "某某公司"}, {}),
    Platform("wechat_pay", "PAYMENT_CODE", FakeWechatPay, lambda f, n, t: f.paid(t, f"42000{n}", total_fen=990),
             {"value": 9.9, "product": "9.9元体验课"}, PAYMENT_SCENE),
    Platform("alipay", "PAYMENT_CODE", FakeAlipay, lambda f, n, t: f.paid(t, f"2026112{n}", total_amount="9.90"),
             {"value": 9.9, "product": "9.9元体验课"}, PAYMENT_SCENE),
]


@pytest.fixture
def env(app, clock) -> Env:
    return Env(app, clock)


def setup_platform(env: Env, p: Platform, key: str = "s1", **extra) -> tuple[int, FakePlatform, str]:
    scene_id, secret = env.scene(p.scene_type, key, **{**p.scene_extra, **extra})
    token = env.payment_code(scene_id, p.key) if p.scene_type == "PAYMENT_CODE" else ""
    return scene_id, p.fake(secret, env.clock), token


def answer(resp):
    return resp.get_json() if resp.is_json else resp.get_data(as_text=True)


def assert_ok(p: Platform, resp) -> None:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    expected = {"douyin_leads": {"err_no": 0, "err_tips": "success"}, "order_notifications": {"code": 0, "msg": "success"},
                "cti_calls": {"result": "ok"}, "wechat_pay": {"code": "SUCCESS", "message": "成功"},
                "alipay": "success"}
    if p.key == "web_form":
        assert answer(resp)["ok"] is True
    else:
        assert answer(resp) == expected[p.key]


def assert_refused(p: Platform, resp, status: int, reason: str) -> None:
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = answer(resp)
    shapes = {"douyin_leads": lambda b: b["err_no"] != 0 and b["err_tips"],
              "order_notifications": lambda b: b["code"] != 0 and b["msg"],
              "cti_calls": lambda b: b["result"] == "error" and b["reason"] == reason,
              "web_form": lambda b: b["ok"] is False and b["error"] == reason,
              "wechat_pay": lambda b: b["code"] == "FAIL" and b["message"],
              "alipay": lambda b: b == "failure"}
    assert shapes[p.key](body), body


@pytest.mark.parametrize("p", PLATFORMS, ids=repr)
def test_genuine_retried_replayed_forged_stale_and_oversized_calls(p, client, env, clock):
    scene_id, fake, token = setup_platform(env, p)
    first = p.call(fake, 1, token)
    assert_ok(p, first.post(client))
    [lead] = env.leads(scene_id)
    assert {k: lead.lead_data.get(k) for k in p.expect} == p.expect
    assert lead.raw_data and lead.status == "NEW"

    assert_refused(p, first.post(client), 409, "replay")  # the same bytes again
    clock.advance(seconds=2)
    assert_ok(p, p.call(fake, 1, token).post(client))  # the platform re-sends, signed anew
    assert [row.id for row in env.leads(scene_id)] == [lead.id]

    forger = p.fake("whsec_guessed", clock)
    assert_refused(p, p.call(forger, 2, token).post(client), 401, "signature")
    stale = p.fake(fake.secret, clock, skew_seconds=-301)
    assert_refused(p, p.call(stale, 3, token).post(client), 401, "timestamp")
    big = first.tampered(first.body + b" " * (1024 * 1024))
    assert_refused(p, big.post(client), 413, "body")
    assert len(env.leads(scene_id)) == 1

    with env.db.read() as s:
        counts = rejection_counts(s, clock.now() - timedelta(minutes=5))  # oversized: refused before any lookup
    assert counts == {(p.key, "replay"): 1, (p.key, "signature"): 1, (p.key, "timestamp"): 1, (p.key, "body"): 1}


@pytest.mark.parametrize("p", PLATFORMS, ids=repr)
def test_a_scene_over_its_rate_limit_gets_429_in_the_platform_format(p, client, env, clock):
    scene_id, fake, token = setup_platform(env, p, rate_limit_per_minute=2)
    for n in (1, 2):
        assert_ok(p, p.call(fake, n, token).post(client))
    for n in (3, 4):
        resp = p.call(fake, n, token).post(client)
        assert_refused(p, resp, 429, "rate_limit")
        assert 1 <= int(resp.headers["Retry-After"]) <= 60
    # one row per window (a flood is not a flood of inserts) that counts every refused call
    assert env.rejections() == [(p.key, "rate_limit")]
    with env.db.read() as s:
        assert rejection_counts(s, clock.now() - timedelta(hours=1)) == {(p.key, "rate_limit"): 2}
    clock.advance(seconds=60)
    assert_ok(p, p.call(fake, 5, token).post(client))
    assert len(env.leads(scene_id)) == 3


def test_every_refused_call_of_a_flood_from_many_clients_is_counted_once(client, env, clock):
    """被拒绝的回调 once counted a window's first refusal only; now every refused call, exactly,
    with one row per client and window."""
    p = PLATFORMS[0]
    scene_id, fake, token = setup_platform(env, p, rate_limit_per_minute=2)
    for n in (1, 2):
        assert_ok(p, p.call(fake, n, token).post(client))
    for n, ip in enumerate(["10.0.0.1", "10.0.0.2", "10.0.0.2", "10.0.0.3", "10.0.0.2"], start=3):
        delivery = p.call(fake, n, token)
        resp = client.post(delivery.path, data=delivery.body, headers=delivery.headers,
                           content_type=delivery.content_type, environ_base={"REMOTE_ADDR": ip})
        assert resp.status_code == 429
    with env.db.read() as s:
        assert rejection_counts(s, clock.now() - timedelta(hours=1)) == {(p.key, "rate_limit"): 5}
        rows = s.exec(select(WebhookRejection.client_ip, WebhookRejection.hits).order_by(WebhookRejection.client_ip)).all()
    assert [tuple(r) for r in rows] == [("10.0.0.1", 1), ("10.0.0.2", 3), ("10.0.0.3", 1)]


@pytest.mark.parametrize("p", [p for p in PLATFORMS if p.scene_type != "PAYMENT_CODE"], ids=repr)
def test_two_enabled_scenes_of_a_type_need_scene_in_the_url(p, client, env, clock):
    first_id, fake, token = setup_platform(env, p, key="s1")
    second_id, _secret = env.scene(p.scene_type, "s2", **p.scene_extra)
    assert_refused(p, p.call(fake, 1, token).post(client), 409, "scene")
    fake.scene_key = "s1"
    assert_ok(p, p.call(fake, 1, token).post(client))
    fake.scene_key = "s2"  # the other scene's secret differs: refused
    assert_refused(p, p.call(fake, 2, token).post(client), 401, "signature")
    fake.scene_key = "nope"
    assert_refused(p, p.call(fake, 3, token).post(client), 404, "scene")
    assert (len(env.leads(first_id)), len(env.leads(second_id))) == (1, 0)
    assert sorted(env.rejections()) == sorted([(p.key, "scene"), (p.key, "signature"), (p.key, "scene")])


def test_payment_time_is_the_platforms_not_the_receipt(client, env, clock):
    wechat, alipay = PLATFORMS[-2], PLATFORMS[-1]
    _, fake, token = setup_platform(env, wechat, key="wx")
    assert_ok(wechat, fake.paid(token, "4200000009", success_time="2026-11-20T09:30:00+08:00").post(client))
    _, fake, token = setup_platform(env, alipay, key="ali")
    assert_ok(alipay, fake.paid(token, "2026112009", gmt_payment="2026-11-20 09:31:05").post(client))
    paid = {r.provider: as_utc(r.paid_at) for r in env.rows(PaymentRecord, PaymentRecord.id > 0)}
    assert paid == {"wechat_pay": datetime(2026, 11, 20, 1, 30, tzinfo=UTC),
                    "alipay": datetime(2026, 11, 20, 1, 31, 5, tzinfo=UTC)}
    assert clock.now() != paid["wechat_pay"]


def test_payments_find_their_scene_through_the_payment_code(client, env, clock):
    p = PLATFORMS[-2]
    first_id, fake, token = setup_platform(env, p, key="pay1")
    second_id, second_secret = env.scene("PAYMENT_CODE", "pay2", **PAYMENT_SCENE)
    other_token = env.payment_code(second_id, "wechat_pay")
    assert_ok(p, fake.paid(token, "4200000001").post(client))
    assert_ok(p, FakeWechatPay(second_secret, clock).paid(other_token, "4200000002").post(client))
    assert (len(env.leads(first_id)), len(env.leads(second_id))) == (1, 1)
    assert len(env.rows(PaymentRecord, PaymentRecord.id > 0)) == 2
    # Signed by the first scene but naming the second scene's code: refused, nothing recorded.
    assert_refused(p, fake.paid(other_token, "4200000003").post(client), 401, "signature")
    # ?scene= names the first scene while the code is the second's: kept as a dead letter.
    fake.scene_key = "pay1"
    assert_ok(p, fake.paid(other_token, "4200000004").post(client))
    [dead] = env.rows(LeadDeadLetter, LeadDeadLetter.scene_id == first_id)
    assert dead.source == "webhook" and "付款码" in dead.reason
    assert len(env.rows(PaymentRecord, PaymentRecord.id > 0)) == 2


def test_junk_from_a_genuine_platform_is_acknowledged_and_kept_as_a_dead_letter(client, env, clock):
    scene_id, secret = env.scene("WEB_FORM", "form1")
    form = FakeFormTool(secret, clock)
    resp = form.submission("SUB-X", name="测试", phone="", email="", wechat="").post(client)
    assert resp.status_code == 200 and resp.get_json() == {"ok": True, "accepted": 0}
    garbled = form.send({"form_id": "f", "submission_data": "not an object"})
    assert garbled.post(client).status_code == 200
    assert env.leads(scene_id) == []
    letters = env.rows(LeadDeadLetter, LeadDeadLetter.scene_id == scene_id)
    assert [d.source for d in letters] == ["webhook", "webhook"]
    assert "联系方式" in letters[0].reason and "submission_data" in letters[1].reason
    assert env.rejections() == [("web_form", "body")]


def test_a_call_opens_a_lead_in_progress_and_its_end_updates_it(client, env, clock):
    scene_id, secret = env.scene("PHONE_CALL", "calls")
    cti = FakeCti(secret, clock)
    assert cti.call_started("CALL-9").post(client).get_json() == {"result": "ok"}
    [lead] = env.leads(scene_id)
    assert lead.substatus == "通话中" and lead.mobile == "13700137000" and lead.external_id == "CALL-9"
    clock.advance(seconds=185)
    assert cti.call_ended("CALL-9", summary="想了解产品A的价格", intent="高").post(client).status_code == 200
    [updated] = env.leads(scene_id)
    assert updated.id == lead.id and updated.substatus == "通话结束"
    assert updated.lead_data["intent"] == "高" and updated.lead_data["message"] == "想了解产品A的价格"


def test_unknown_adapters_and_floods_from_one_address(client, env, clock, monkeypatch):
    resp = client.post("/webhooks/pigeon_post", data=b"{}")
    assert resp.status_code == 404 and resp.get_json()["error"] == "unknown_adapter"
    monkeypatch.setattr(client.application.extensions["ckb"].services.settings, "lead_webhook_ip_limit_per_minute", 3)
    _scene_id, secret = env.scene("SOCIAL_MEDIA_LEAD", "dy")
    forger = FakeDouyin("whsec_guessed", clock)
    for n in range(2):
        assert forger.lead(f"{n}").post(client).status_code == 401
    limited = forger.lead("9").post(client)
    assert limited.status_code == 429 and limited.get_json()["err_no"] == 42900
    assert int(limited.headers["Retry-After"]) <= 60
    assert FakeDouyin(secret, clock).lead("10").post(client).status_code == 429  # the address, whatever it sends
    assert client.post("/webhooks/pigeon_post", data=b"{}").status_code == 429
    assert sorted(env.rejections()) == [("douyin_leads", "rate_limit"), ("douyin_leads", "signature"),
                                        ("douyin_leads", "signature")]


def test_over_real_http(live_server, env, clock):
    scene_id, secret = env.scene("SOCIAL_MEDIA_LEAD", "dy_http")
    douyin = FakeDouyin(secret, clock)
    call = douyin.lead("8801", name="赵六", telephone="13500135000")
    resp = call.post_http(live_server.url)
    assert resp.status_code == 200 and resp.json() == {"err_no": 0, "err_tips": "success"}
    assert resp.headers["Content-Type"].startswith("application/json")
    assert call.post_http(live_server.url).status_code == 409
    assert douyin.lead("8801", name="赵六", telephone="13500135000").post_http(live_server.url).status_code == 200
    [lead] = env.leads(scene_id)
    assert (lead.name, lead.mobile, lead.external_id) == ("赵六", "13500135000", "lead:8801")
    pay_id, pay_secret = env.scene("PAYMENT_CODE", "ali_http", **PAYMENT_SCENE)
    token = env.payment_code(pay_id, "alipay")
    paid = FakeAlipay(pay_secret, clock).paid(token, "2026112299")
    resp = paid.post_http(live_server.url)
    assert (resp.status_code, resp.text) == (200, "success")
    assert paid.post_http(live_server.url).text == "failure"
    [record] = env.rows(PaymentRecord, PaymentRecord.trade_no == "2026112299")
    assert record.amount == 88.0 and record.payer == "2088102177846880"
    assert json.loads(json.dumps(record.raw))["passback_params"] == token


@pytest.mark.parametrize("p", [p for p in PLATFORMS if p.key in ("web_form", "alipay")], ids=repr)
def test_unstorable_text_from_a_platform_is_a_dead_letter_not_a_lead(client, env, p):
    """NUL (or a lone surrogate) in a genuine delivery: acknowledged, kept as a (scrubbed) dead letter
    naming the field, no lead and no payment record — never a 500 on PostgreSQL nor a stored poison."""
    scene_id, fake, token = setup_platform(env, p)
    if p.key == "web_form":
        delivery = fake.submission("SUB-NUL", name="王\x00五")
    else:
        delivery = fake.paid(token, "2026112022001400000000000001", buyer_id="2088\x00")
    assert_ok(p, delivery.post(client))
    assert env.leads(scene_id) == [] and env.rows(PaymentRecord, PaymentRecord.id > 0) == []
    [letter] = env.rows(LeadDeadLetter, LeadDeadLetter.scene_id == scene_id)
    assert ("name" if p.key == "web_form" else "payer") in letter.reason
    assert "\x00" not in json.dumps(letter.payload, ensure_ascii=False)

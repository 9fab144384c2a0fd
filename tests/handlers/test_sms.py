"""The SMS processor: number clean-up, the outbox, the HTTP gateway, idempotency."""
from __future__ import annotations

import pytest
from sqlmodel import select

from handlers.builtin.sms import SmsProcessor, normalize_mobile
from handlers.errors import PermanentError, RetryableError
from handlers.models import SmsMessage
from tests.support import with_settings
from tests.support.fake_http import Reply

CONFIG = {"mobile": "${mobile}", "content": "【存客宝】${name}，您的订单 ${order.id} 已发货"}
LEAD = {"mobile": "+86 138-0013-8000", "name": "王五", "order": {"id": "A1"}}


def rows(db):
    with db.read() as session:
        return session.exec(select(SmsMessage).order_by(SmsMessage.id)).all()


@pytest.mark.parametrize("raw, expected", [
    ("13800138000", "13800138000"),
    ("+86 138 0013 8000", "13800138000"),
    ("0086-13800138000", "13800138000"),
    ("8613800138000", "13800138000"),
    ("１３８００１３８０００", "13800138000"),
    ("＋８６ １３８００１３８０００", "13800138000"),
    ("12800138000", None),
    ("1380013800", None),
    ("138001380001", None),
    ("", None),
])
def test_normalize_mobile(raw, expected):
    assert normalize_mobile(raw) == expected


def test_outbox_records_message(make_ctx, services):
    outcome = SmsProcessor().run(make_ctx(LEAD), CONFIG)
    [row] = rows(services.db)
    assert (row.mobile, row.provider, row.status) == ("13800138000", "outbox", "outbox")
    assert row.content == "【存客宝】王五，您的订单 A1 已发货"
    assert row.created_at.replace(tzinfo=None) == services.now().replace(tzinfo=None)
    assert outcome.request["mobile"] == "138****8000"
    assert outcome.response == {"sms_id": row.id, "status": "outbox"}


def test_retry_does_not_send_a_second_sms(make_ctx, services):
    SmsProcessor().run(make_ctx(LEAD), CONFIG)
    again = SmsProcessor().run(make_ctx(LEAD, attempt=2), CONFIG)
    assert len(rows(services.db)) == 1 and "未重复发送" in again.note


def test_invalid_mobile_is_permanent(make_ctx, services):
    with pytest.raises(PermanentError, match="不是有效的中国大陆手机号"):
        SmsProcessor().run(make_ctx({**LEAD, "mobile": "010-12345678"}), CONFIG)
    assert rows(services.db) == []


def test_render_does_not_record(make_ctx, services):
    assert SmsProcessor().render(make_ctx(LEAD), CONFIG)["mobile"] == "13800138000"
    assert rows(services.db) == []


@pytest.fixture
def gateway_services(loopback_services, fake_http):
    return with_settings(loopback_services, sms_provider="http_gateway",
                         sms_gateway_url=fake_http.url("/sms"), sms_gateway_token="tok-123")


def test_http_gateway_posts_json_with_bearer_token(make_ctx, gateway_services, fake_http):
    fake_http.script("/sms", Reply(200, {"code": 0, "msg_id": "m-1"}))
    SmsProcessor().run(make_ctx(LEAD, svc=gateway_services), CONFIG)
    [sent] = fake_http.requests_to("/sms")
    assert sent.json() == {"mobile": "13800138000", "content": "【存客宝】王五，您的订单 A1 已发货"}
    assert sent.headers["Authorization"] == "Bearer tok-123"
    assert sent.headers["Idempotency-Key"] == "task-1:step-0"
    [row] = rows(gateway_services.db)
    assert (row.provider, row.status) == ("http_gateway", "sent") and "m-1" in row.provider_response


def test_http_gateway_5xx_retries_then_succeeds_once(make_ctx, gateway_services, fake_http):
    fake_http.fail_then_succeed("/sms", failures=1, status=503)
    with pytest.raises(RetryableError, match="503"):
        SmsProcessor().run(make_ctx(LEAD, svc=gateway_services), CONFIG)
    assert [r.status for r in rows(gateway_services.db)] == ["failed"]
    SmsProcessor().run(make_ctx(LEAD, svc=gateway_services, attempt=2), CONFIG)
    SmsProcessor().run(make_ctx(LEAD, svc=gateway_services, attempt=3), CONFIG)
    assert [r.status for r in rows(gateway_services.db)] == ["sent"]
    assert len(fake_http.requests_to("/sms")) == 2


def test_http_gateway_4xx_is_permanent(make_ctx, gateway_services, fake_http):
    fake_http.always("/sms", Reply(401, {"error": "bad token"}))
    with pytest.raises(PermanentError, match="HTTP 401"):
        SmsProcessor().run(make_ctx(LEAD, svc=gateway_services), CONFIG)


def test_http_gateway_timeout_is_retryable(make_ctx, gateway_services, fake_http):
    fake_http.script("/sms", Reply(200, delay=3))
    svc = with_settings(gateway_services, http_default_timeout_seconds=0.3)
    with pytest.raises(RetryableError, match="超时"):
        SmsProcessor().run(make_ctx(LEAD, svc=svc), CONFIG)


def test_unknown_provider(make_ctx, services):
    with pytest.raises(PermanentError, match="未知的短信通道"):
        SmsProcessor().run(make_ctx(LEAD, svc=with_settings(services, sms_provider="pigeon")), CONFIG)

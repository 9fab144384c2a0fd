"""Issue 9 item 17: per-number SMS caps (per minute / hour / day), deferring or refusing with the reason."""
from __future__ import annotations

import threading

import pytest
from sqlmodel import func, select

from handlers.builtin.sms import SmsProcessor
from handlers.errors import DeferStep, PermanentError, ProcessorError, RetryableError
from handlers.models import SmsMessage
from tests.support import with_settings
from tests.support.fake_http import Reply

CONFIG = {"mobile": "${mobile}", "content": "【存客宝】您好"}
ONE = {"mobile": "13800138000"}


def sent_to(db, mobile="13800138000") -> int:
    with db.read() as session:
        return session.exec(select(func.count()).select_from(SmsMessage).where(
            SmsMessage.mobile == mobile, SmsMessage.status != "failed")).one()


@pytest.fixture
def capped(services):
    """The shipped caps: 1 a minute, 5 an hour, 10 a day."""
    return with_settings(services, sms_per_number_per_minute=1, sms_per_number_per_hour=5, sms_per_number_per_day=10)


def test_second_text_within_a_minute_is_deferred_with_the_reason(capped, make_ctx, clock):
    SmsProcessor().run(make_ctx(ONE, svc=capped, key="s1"), CONFIG)
    clock.advance(seconds=20)
    with pytest.raises(DeferStep) as err:
        SmsProcessor().run(make_ctx(ONE, svc=capped, key="s2"), CONFIG)
    assert "138****8000" in err.value.message and "每分钟 1 条" in err.value.message
    assert 40 <= err.value.delay_seconds <= 42 and err.value.request["mobile"] == "138****8000"
    assert sent_to(capped.db) == 1
    SmsProcessor().run(make_ctx({"mobile": "13900139000"}, svc=capped, key="other"), CONFIG)  # other numbers go
    clock.advance(seconds=41)
    SmsProcessor().run(make_ctx(ONE, svc=capped, key="s2", attempt=2), CONFIG)  # the deferred step, retried
    assert sent_to(capped.db) == 2


def test_hour_cap_defers_and_day_cap_refuses(capped, make_ctx, clock):
    for n in range(5):
        SmsProcessor().run(make_ctx(ONE, svc=capped, key=f"h{n}"), CONFIG)
        clock.advance(seconds=61)
    with pytest.raises(DeferStep, match="每小时 5 条") as err:
        SmsProcessor().run(make_ctx(ONE, svc=capped, key="h5"), CONFIG)
    assert 3600 - 5 * 61 < err.value.delay_seconds <= 3600
    clock.advance(hours=1)
    for n in range(5):
        SmsProcessor().run(make_ctx(ONE, svc=capped, key=f"d{n}"), CONFIG)
        clock.advance(seconds=61)
    clock.advance(hours=2)
    with pytest.raises(PermanentError, match="每天.*10 条.*已拒绝"):
        SmsProcessor().run(make_ctx(ONE, svc=capped, key="d10"), CONFIG)
    assert sent_to(capped.db) == 10
    clock.advance(hours=24)
    SmsProcessor().run(make_ctx(ONE, svc=capped, key="next-day"), CONFIG)


def test_failed_sends_do_not_use_up_the_cap(capped, loopback_services, make_ctx, fake_http):
    svc = with_settings(capped, sms_provider="http_gateway", sms_gateway_url=fake_http.url("/sms"),
                        http_allow_private_hosts=["127.0.0.1"])
    fake_http.script("/sms", Reply(503), Reply(200, {"code": 0}))
    with pytest.raises(RetryableError, match="503"):
        SmsProcessor().run(make_ctx(ONE, svc=svc, key="g1"), CONFIG)
    SmsProcessor().run(make_ctx(ONE, svc=svc, key="g1", attempt=2), CONFIG)
    assert sent_to(svc.db) == 1 and len(fake_http.requests_to("/sms")) == 2


def test_parallel_steps_cannot_both_take_the_last_slot(capped, make_ctx):
    outcomes, barrier = [], threading.Barrier(8)

    def send(n):
        barrier.wait()
        try:
            SmsProcessor().run(make_ctx(ONE, svc=capped, key=f"p{n}"), CONFIG)
            outcomes.append("sent")
        except ProcessorError as exc:
            outcomes.append(exc.message)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count("sent") == 1 and sent_to(capped.db) == 1
    assert all("每分钟 1 条" in o for o in outcomes if o != "sent")

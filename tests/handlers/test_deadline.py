"""Issue 9 item 6: every outbound exchange has a total deadline, whatever a slow peer does
(HTTP processors, the SMS gateway, platform pulls, the SMTP relay).

The peers drip one byte every 0.5 s: each read succeeds well inside any per-read timeout, so
only a deadline over the whole exchange (connect, headers, body) can stop them.
"""
from __future__ import annotations

import time

import pytest

from crm.leads.pull_state import PULL_KINDS, PullConfig
from engine.lead_pull import PullFailed, fetch_page
from handlers.builtin.email import EmailProcessor
from handlers.builtin.http import HttpProcessor
from handlers.builtin.sms import SmsProcessor
from handlers.errors import RetryableError
from handlers.net_guard import fetch
from tests.support import with_settings
from tests.support.fake_http import Reply
from tests.support.slow_peer import SlowPeer

DEADLINE = 1.0
SLOW_BODY = "x" * 60  # 30 s at one byte every 0.5 s
# Generous for a loaded CI machine, and still far below the 30 s the peer would take.
MARGIN = 3.0


def _elapsed(call) -> tuple[float, Exception]:
    started = time.monotonic()
    with pytest.raises(RetryableError) as err:
        call()
    return time.monotonic() - started, err.value


@pytest.mark.parametrize("drip_headers", [False, True], ids=["body", "headers"])
def test_dripping_peer_is_cut_at_the_total_deadline(loopback_services, fake_http, drip_headers):
    fake_http.script("/drip", Reply(200, SLOW_BODY, drip=0.5, drip_headers=drip_headers))
    took, error = _elapsed(lambda: fetch(loopback_services.settings, "GET", fake_http.url("/drip"),
                                         timeout=DEADLINE))
    assert took < DEADLINE + MARGIN
    assert "超时" in error.message and "总时限" in error.message


def test_deadline_covers_every_redirect_hop(loopback_services, fake_http):
    fake_http.script("/first", Reply(302, headers={"Location": "/drip"}, delay=0.6))
    fake_http.script("/drip", Reply(200, SLOW_BODY, drip=0.5))
    took, _ = _elapsed(lambda: fetch(loopback_services.settings, "GET", fake_http.url("/first"),
                                     timeout=DEADLINE))
    assert took < DEADLINE + MARGIN


def test_http_processor_step_is_cut_at_its_timeout(loopback_services, fake_http, make_ctx):
    fake_http.script("/hook", Reply(200, SLOW_BODY, drip=0.5, drip_headers=True))
    config = {"method": "GET", "url": fake_http.url("/hook"), "timeout_seconds": 1}
    took, _ = _elapsed(lambda: HttpProcessor().run(make_ctx({}, svc=loopback_services), config))
    assert took < 1 + MARGIN


def test_sms_gateway_is_cut_at_the_deadline(loopback_services, fake_http, make_ctx):
    fake_http.script("/sms", Reply(200, SLOW_BODY, drip=0.5))
    svc = with_settings(loopback_services, sms_provider="http_gateway", sms_gateway_url=fake_http.url("/sms"),
                        http_default_timeout_seconds=DEADLINE)
    took, _ = _elapsed(lambda: SmsProcessor().run(make_ctx({"mobile": "13800138000"}, svc=svc),
                                                  {"mobile": "${mobile}", "content": "你好"}))
    assert took < DEADLINE + MARGIN


def test_smtp_relay_dripping_its_greeting_is_cut(services, make_ctx):
    with SlowPeer(b"220 slow.example ESMTP ready\r\n", every=0.5) as peer:
        svc = with_settings(services, smtp_host="127.0.0.1", smtp_port=peer.port, smtp_timeout_seconds=DEADLINE)
        took, error = _elapsed(lambda: EmailProcessor().run(
            make_ctx({}, svc=svc), {"to": "a@example.com", "subject": "s", "body": "b"}))
    assert took < DEADLINE + MARGIN and "总时限" in error.message


def test_platform_pull_is_cut_at_the_deadline(loopback_services, fake_http):
    fake_http.script("/orders", Reply(200, SLOW_BODY, drip=0.5, drip_headers=True))
    settings = with_settings(loopback_services, http_default_timeout_seconds=DEADLINE).settings
    config = PullConfig(kind=next(iter(PULL_KINDS)), endpoint=fake_http.url("/orders"))
    started = time.monotonic()
    with pytest.raises(PullFailed, match="超时"):
        fetch_page(settings, config, {"access_token": "t"}, "", int(time.time()))
    assert time.monotonic() - started < DEADLINE + MARGIN

"""The HTTP processor: rendering, what is sent, and how answers are classified."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from handlers.builtin.http import HttpProcessor, render_json_body
from handlers.builtin.http_response import HISTORY_BODY_CHARS, parse_retry_after
from handlers.errors import PermanentError, RetryableError
from tests.support.fake_http import Reply

LEAD = {"name": '张"三', "mobile": "13800138000", "order": {"id": 9, "items": [1, 2]}, "amount": 199}


def post(url, **extra):
    return {"method": "POST", "url": url, "params": [{"name": "src", "value": "${name}"}],
            "headers": [{"name": "Authorization", "value": "Bearer s3cret"}],
            "body": '{"customer": "${name}", "order": "${order}", "raw": ${order}, "amount": ${amount}}', **extra}


def test_render_fills_variables_and_objects_become_json(make_ctx):
    shown = HttpProcessor().render(make_ctx(LEAD), post("https://api.example.com/hook"))
    assert shown["method"] == "POST"
    assert shown["url"] == "https://api.example.com/hook?src=%E5%BC%A0%22%E4%B8%89"
    assert shown["body"] == {"customer": '张"三', "order": '{"id":9,"items":[1,2]}',
                             "raw": {"id": 9, "items": [1, 2]}, "amount": 199}
    assert shown["headers"]["Authorization"] == "***"
    assert shown["headers"]["Idempotency-Key"] == "task-1:step-0"


def test_json_body_escapes_strings_and_keeps_bare_values():
    assert render_json_body('{"n": "${name}"}', {"name": 'a"b\nc'}) == '{"n": "a\\"b\\nc"}'
    assert render_json_body('{"n": ${name}, "k": ${n}}', {"name": "王五", "n": 3}) == '{"n": "王五", "k": 3}'
    assert render_json_body('{"esc": "\\"${x}"}', {"x": "1"}) == '{"esc": "\\"1"}'


def test_missing_variable_is_permanent(make_ctx):
    with pytest.raises(PermanentError, match="变量替换失败"):
        HttpProcessor().render(make_ctx({}), post("https://api.example.com/hook"))


def test_post_sends_params_as_query_plus_body(make_ctx, loopback_services, fake_http):
    outcome = HttpProcessor().run(make_ctx(LEAD, svc=loopback_services), post(fake_http.url("/hook")))
    sent = fake_http.requests_to("/hook")[0]
    assert sent.method == "POST" and sent.query == {"src": ['张"三']}
    assert sent.json()["raw"] == {"id": 9, "items": [1, 2]}
    assert sent.headers["Authorization"] == "Bearer s3cret"
    assert sent.headers["Idempotency-Key"] == "task-1:step-0"
    assert sent.headers["Content-Type"].startswith("application/json")
    assert outcome.response["status"] == 200 and outcome.response["body"] == {"ok": True}
    assert outcome.request["headers"]["Authorization"] == "***"


def test_get_sends_params_as_query_and_no_body(make_ctx, loopback_services, fake_http):
    config = {"method": "GET", "url": fake_http.url("/q"), "params": [{"name": "m", "value": "${mobile}"}],
              "body": '{"ignored": true}'}
    HttpProcessor().run(make_ctx(LEAD, svc=loopback_services), config)
    sent = fake_http.requests_to("/q")[0]
    assert sent.method == "GET" and sent.query == {"m": ["13800138000"]} and sent.body == b""


def test_loopback_is_refused_without_allow_list(make_ctx, fake_http):
    with pytest.raises(PermanentError, match="属于内网/回环地址") as err:
        HttpProcessor().run(make_ctx(LEAD), post(fake_http.url("/hook")))
    assert err.value.request["method"] == "POST"
    assert fake_http.requests == []


def test_fail_twice_then_succeed(make_ctx, loopback_services, fake_http):
    fake_http.fail_then_succeed("/flaky", failures=2)
    ctx = make_ctx(LEAD, svc=loopback_services)
    for _ in range(2):
        with pytest.raises(RetryableError, match="HTTP 500"):
            HttpProcessor().run(ctx, post(fake_http.url("/flaky")))
    assert HttpProcessor().run(ctx, post(fake_http.url("/flaky"))).response["status"] == 200
    keys = {r.headers["Idempotency-Key"] for r in fake_http.requests_to("/flaky")}
    assert keys == {"task-1:step-0"}  # the receiver can see all three were the same step


def test_429_retry_after_seconds(make_ctx, loopback_services, fake_http):
    fake_http.always("/busy", Reply(429, {"error": "slow down"}, headers={"Retry-After": "7"}))
    with pytest.raises(RetryableError) as err:
        HttpProcessor().run(make_ctx(LEAD, svc=loopback_services), post(fake_http.url("/busy")))
    assert err.value.retry_after == 7.0 and err.value.response["status"] == 429


def test_429_retry_after_http_date(make_ctx, loopback_services, fake_http):
    when = loopback_services.now() + timedelta(seconds=90)
    fake_http.always("/busy", Reply(429, headers={"Retry-After": format_datetime(when, usegmt=True)}))
    with pytest.raises(RetryableError) as err:
        HttpProcessor().run(make_ctx(LEAD, svc=loopback_services), post(fake_http.url("/busy")))
    assert err.value.retry_after == 90.0


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_other_4xx_is_permanent(make_ctx, loopback_services, fake_http, status):
    fake_http.always("/bad", Reply(status, {"error": "no"}))
    with pytest.raises(PermanentError, match=f"HTTP {status}") as err:
        HttpProcessor().run(make_ctx(LEAD, svc=loopback_services), post(fake_http.url("/bad")))
    assert err.value.response["body"] == {"error": "no"}


def test_big_response_is_cut_and_said(make_ctx, loopback_services, fake_http):
    fake_http.script("/big", Reply(200, size=2_000_000))
    outcome = HttpProcessor().run(make_ctx(LEAD, svc=loopback_services), post(fake_http.url("/big")))
    assert outcome.response["truncated"] is True
    assert len(outcome.response["body"]) == HISTORY_BODY_CHARS
    assert "已截断" in outcome.note


def test_dry_run_sends_nothing(make_ctx, loopback_services, fake_http):
    outcome = HttpProcessor().run(make_ctx(LEAD, svc=loopback_services, dry_run=True), post(fake_http.url("/hook")))
    assert outcome.request["body"]["amount"] == 199 and fake_http.requests == []


def test_validate_config_messages():
    errors = HttpProcessor().validate_config({"method": "PATCH", "url": "", "body": "{oops", "timeout_seconds": 99})
    assert "「请求地址」不能为空" in errors
    assert any("请求方式" in e for e in errors)
    assert any("超时" in e for e in errors)
    assert HttpProcessor().variables(post("https://x/${path}")) == {"path", "name", "order", "amount"}


def test_parse_retry_after():
    now = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Fri, 20 Nov 2026 02:00:30 GMT", now) == 30.0
    assert parse_retry_after("Fri, 20 Nov 2026 01:00:00 GMT", now) == 0.0  # already past
    assert parse_retry_after("soon", now) is None and parse_retry_after(None, now) is None

"""A rate limiter whose Redis cannot answer fails closed: 503 with Retry-After and a Chinese
message naming the cause (it used to be a 500 on the lead API), and nothing is stored."""
from __future__ import annotations

import socket

import pytest
import redis

from config.errors import LimiterUnavailable
from config.rate_limit import RateLimiter
from crm.leads.models import Lead
from tests.web.api_helpers import api, assert_error, count  # noqa: F401 - fixtures
from tests.web.test_api_leads import app_keys, lead, scene, signer  # noqa: F401 - fixtures


@pytest.fixture
def dead_redis():
    """A real client pointed at a loopback port nobody listens on (Redis is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.5, socket_connect_timeout=0.5)
    yield client
    client.close()


def test_the_limiter_refuses_instead_of_waving_through_or_crashing(dead_redis):
    with pytest.raises(LimiterUnavailable) as caught:
        RateLimiter(dead_redis).hit("leads:app:1", 10, 60)
    assert caught.value.status == 503 and "限流" in caught.value.message


def test_the_lead_api_answers_503_when_its_limiter_is_down(app, signer, app_db, dead_redis):
    app.extensions["ckb_rate_limiter"] = RateLimiter(dead_redis)
    resp = signer.post(lead("down-1"))
    assert_error(resp, 503, "限流")
    assert int(resp.headers["Retry-After"]) > 0
    assert count(app_db, Lead) == 0

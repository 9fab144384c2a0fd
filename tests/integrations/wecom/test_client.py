"""The WeCom API client against the fake server: bad credentials named, tokens cached and renewed
on 42001/40014, system busy retried with backoff, other errcodes raised as PlatformError."""
from __future__ import annotations

import pytest

from integrations.errors import PlatformError
from integrations.wecom.client import WecomClient
from integrations.wecom.tokens import TokenCache
from tests.support.fake_http import Reply


def client(fake, secret=None, corp_id=None, sleeps=None):
    return WecomClient(fake.base_url, corp_id or fake.corp_id, secret or fake.app_secret, cache=TokenCache(),
                       sleep=(sleeps.append if sleeps is not None else lambda s: None))


def test_bad_credentials_are_named(fake_corp):
    with pytest.raises(PlatformError) as bad_secret:
        client(fake_corp, secret="wrong").access_token()
    assert bad_secret.value.errcode == 40001 and "Secret 错误" in str(bad_secret.value)
    with pytest.raises(PlatformError) as bad_corp:
        client(fake_corp, corp_id="wwnotmine").access_token()
    assert bad_corp.value.errcode == 40013


def test_token_cached_and_renewed_when_expired_or_invalid(fake_corp):
    api = client(fake_corp)
    api.get("/cgi-bin/department/list")
    api.get("/cgi-bin/department/list")
    assert len(fake_corp.requests_to("/cgi-bin/gettoken")) == 1
    fake_corp.expire_tokens()  # 42001 on the next call: one refresh, then the call succeeds
    assert api.get("/cgi-bin/department/list")["department"]
    assert len(fake_corp.requests_to("/cgi-bin/gettoken")) == 2
    fake_corp.tokens.clear()  # 40014 (unknown token) likewise
    assert api.get("/cgi-bin/department/list")["department"]
    assert len(fake_corp.requests_to("/cgi-bin/gettoken")) == 3


def test_busy_and_server_errors_retried_with_backoff_then_raised(fake_corp):
    sleeps: list = []
    api = client(fake_corp, sleeps=sleeps)
    api.access_token()
    fake_corp.fail_next = [Reply(200, {"errcode": -1, "errmsg": "system busy"}), Reply(502, "bad gateway")]
    assert api.get("/cgi-bin/department/list")["department"]
    assert sleeps == [0.3, 0.6]
    fake_corp.fail_next = [Reply(200, {"errcode": -1, "errmsg": "system busy"})] * 3
    with pytest.raises(PlatformError) as busy:
        api.get("/cgi-bin/department/list")
    assert busy.value.errcode == -1
    with pytest.raises(PlatformError) as limit:  # a real error is not retried
        api.post("/cgi-bin/externalcontact/batch/get_by_user", {"userid_list": ["u1"], "limit": 500})
    assert limit.value.errcode == 40058

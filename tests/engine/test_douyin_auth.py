"""抖音授权 against a fake 抖音开放平台 on loopback: consent → callback → tokens stored sealed and the
account listed; a forged, reused, foreign or stale state is refused; an access token is refreshed
before a pull and once more when the platform says it expired; a revoked authorisation marks the
account and raises douyin.token_invalid once; fans page into leads with the account's own cursor."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from crm.leads.douyin_models import DouyinAccount
from crm.leads.errors import LeadsError
from crm.leads.models import Lead, PullRun
from engine import douyin_auth, lead_pull
from engine.douyin_client import DouyinError
from engine.lead_scenes import save_scene
from events.models import EventRecord
from handlers.registry import default_registry
from tests.support import with_settings
from tests.support.fake_douyin_open import CLIENT_KEY, CLIENT_SECRET, FakeDouyinOpen

REDIRECT = "http://127.0.0.1:5000/leads/douyin/callback"


@pytest.fixture
def fake(clock):
    server = FakeDouyinOpen(clock).start()
    yield server
    server.stop()


@pytest.fixture
def svc(services, fake):
    return with_settings(services, http_allow_private_hosts=["127.0.0.1"], http_default_timeout_seconds=2,
                         douyin_client_key=CLIENT_KEY, douyin_client_secret=CLIENT_SECRET, douyin_api_base=fake.url)


@pytest.fixture
def scene(svc):
    with svc.db.write() as s:
        row, _ = save_scene(s, {"name": "抖音粉丝获客", "key": "dy_fans", "scene_type": "SOCIAL_MEDIA_LEAD",
                                "dedup_strategy": "NO_CHECK",
                                "params": {"pull": {"enabled": True, "kind": "douyin_fans", "page_size": 20,
                                                    "interval_minutes": 5}}},
                            registry=default_registry(svc), box=svc.secret_box)
        return row.id


def authorise(svc, fake, scene, user_id=1):
    url, nonce = douyin_auth.start_authorisation(svc, scene, user_id, REDIRECT)
    back = parse_qs(urlsplit(fake.consent_url_for(url)).query)
    return douyin_auth.complete_authorisation(svc, user_id, back["state"][0], nonce, back["code"][0]), url, nonce


def test_consent_stores_sealed_tokens_and_profile(svc, fake, scene):
    account, url, _ = authorise(svc, fake, scene)
    query = parse_qs(urlsplit(url).query)
    assert query["client_key"] == [CLIENT_KEY] and query["redirect_uri"] == [REDIRECT]
    with svc.db.read() as s:
        row = s.get(DouyinAccount, account.id)
        assert (row.open_id, row.nickname, row.status) == ("ou_fake_001", "美妆小店官方号", "active")
        assert "act." not in row.access_token_sealed and svc.secret_box.open(row.access_token_sealed).startswith("act.")


def test_forged_reused_foreign_and_stale_states_are_refused(svc, fake, scene, clock):
    url, nonce = douyin_auth.start_authorisation(svc, scene, 1, REDIRECT)
    back = parse_qs(urlsplit(fake.consent_url_for(url)).query)
    state, code = back["state"][0], back["code"][0]
    body, _, sig = state.partition(".")
    with pytest.raises(LeadsError, match="篡改"):
        douyin_auth.complete_authorisation(svc, 1, body + "." + "0" * len(sig), nonce, code)
    with pytest.raises(LeadsError, match="其他用户"):
        douyin_auth.complete_authorisation(svc, 2, state, nonce, code)
    with pytest.raises(LeadsError, match="本浏览器"):
        douyin_auth.complete_authorisation(svc, 1, state, None, code)  # the session has no (or another) nonce
    clock.advance(minutes=11)
    with pytest.raises(LeadsError, match="10 分钟"):
        douyin_auth.complete_authorisation(svc, 1, state, nonce, code)
    with svc.db.read() as s:
        assert s.exec(select(DouyinAccount)).all() == []


def test_fans_pull_refreshes_an_expiring_token_and_pages_with_the_account_cursor(svc, fake, scene, clock):
    fake.add_fans(45)
    account, _, _ = authorise(svc, fake, scene)
    clock.advance(days=14, hours=1)  # inside the refresh-ahead window (24 h before the 15-day expiry)
    run = lead_pull.sync_now(svc, scene)
    assert run.ok, run.error
    assert run.fetched == 45
    assert ("POST", "/oauth/refresh_token/") in fake.calls
    with svc.db.read() as s:
        row = s.get(DouyinAccount, account.id)
        assert row.fans_cursor == "45" and row.refreshed_at is not None
        assert s.exec(select(Lead).where(Lead.scene_id == scene)).all()
    fake.add_fans(5, start=46)
    fake.expire_access()  # the platform expires it early: refreshed once more mid-run
    clock.advance(minutes=10)
    run = lead_pull.sync_now(svc, scene)
    assert run.ok, run.error
    assert run.fetched == 5


def test_revoked_authorisation_marks_the_account_and_alerts_once(svc, fake, scene, clock):
    account, _, _ = authorise(svc, fake, scene)
    fake.revoke()
    run = lead_pull.sync_now(svc, scene)
    assert not run.ok and "access_token无效" in run.error
    with svc.db.read() as s:
        assert s.get(DouyinAccount, account.id).status == "revoked"
    douyin_auth.refresh_due(svc)
    douyin_auth.refresh_due(svc)
    with svc.db.read() as s:
        alerts = s.exec(select(EventRecord).where(EventRecord.event_code == "douyin.token_invalid")).all()
        assert len(alerts) == 1 and alerts[0].status == "accepted"
    clock.advance(minutes=10)
    run = lead_pull.sync_now(svc, scene)  # the revoked account is skipped: the run says to authorise again
    assert not run.ok and "重新授权" in run.error
    with pytest.raises(DouyinError, match="重新授权"):
        douyin_auth.fresh_token(svc, account.id)


def test_refresh_token_expiring_raises_douyin_token_expiring_once(svc, fake, scene, clock):
    authorise(svc, fake, scene)
    clock.advance(days=26)  # the access token was refreshed (day 26 → 41); the refresh token lives to day 30
    douyin_auth.refresh_due(svc)
    clock.advance(days=11)  # day 37: 4 days left of the last access token (alert window 5 days)
    douyin_auth.refresh_due(svc)
    douyin_auth.refresh_due(svc)
    with svc.db.read() as s:
        events = s.exec(select(EventRecord).where(EventRecord.event_code == "douyin.token_expiring")).all()
        assert len(events) == 1 and events[0].data["nickname"] == "美妆小店官方号"
    clock.advance(days=4, hours=1)  # past it: the refresh fails with 10010 → expired, invalid alert
    douyin_auth.refresh_due(svc)
    with svc.db.read() as s:
        assert s.exec(select(DouyinAccount)).one().status == "expired"
        assert len(s.exec(select(EventRecord).where(EventRecord.event_code == "douyin.token_invalid")).all()) == 1

"""抖音授权 in the console: the consent round trip in Chromium against the fake 抖音开放平台 (获取授权链接 →
同意授权 on the fake → 抖音授权回调 → the account listed with its health), a callback with a forged or
replayed state refused, revoke, and the page's permissions."""
from __future__ import annotations

import pytest
from sqlmodel import select

from crm.leads.douyin_models import DouyinAccount
from engine.lead_scenes import save_scene
from tests.support.fake_douyin_open import CLIENT_KEY, CLIENT_SECRET, FakeDouyinOpen


@pytest.fixture
def fake(clock):
    server = FakeDouyinOpen(clock).start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings, fake):
    return settings.model_copy(update={"http_allow_private_hosts": ["127.0.0.1"], "douyin_client_key": CLIENT_KEY,
                                       "douyin_client_secret": CLIENT_SECRET, "douyin_api_base": fake.url})


@pytest.fixture
def scene_id(app):
    runtime = app.extensions["ckb"]
    with runtime.services.db.write() as s:
        scene, _ = save_scene(s, {"name": "抖音粉丝获客", "key": "dy_fans", "scene_type": "SOCIAL_MEDIA_LEAD",
                                  "params": {"pull": {"enabled": True, "kind": "douyin_fans"}}},
                              registry=runtime.registry, box=runtime.services.secret_box)
        return scene.id


@pytest.fixture
def signed_in(client, admin_user, login):
    login(client)
    return client


def _accounts(app_db):
    with app_db.read() as s:
        return s.exec(select(DouyinAccount)).all()


def test_forged_and_replayed_callbacks_are_refused(signed_in, scene_id, fake, app_db):
    start = signed_in.get(f"/leads/douyin/scenes/{scene_id}/authorize")
    assert start.status_code == 302 and start.location.startswith(fake.url + "/platform/oauth/connect/")
    callback = fake.consent_url_for(start.location)
    path = callback[callback.index("/leads/"):]
    forged = path.replace("state=", "state=x", 1)
    page = signed_in.get(forged, follow_redirects=True).get_data(as_text=True)
    assert "state" in page and _accounts(app_db) == []
    replay = signed_in.get(path, follow_redirects=True).get_data(as_text=True)  # the nonce was used above
    assert "重新发起授权" in replay and _accounts(app_db) == []


def test_denied_consent_and_unknown_scene(signed_in, scene_id):
    assert "用户拒绝" in signed_in.get("/leads/douyin/callback?error=access_denied", follow_redirects=True).get_data(as_text=True)
    assert signed_in.get("/leads/douyin/scenes/99999/authorize").status_code == 404


def test_viewer_sees_but_cannot_authorise(client, app_db, admin_user, login, scene_id):
    from crm.people import service as people
    people.create_user(app_db, "viewer1", "Viewer12345", roles=["viewer"])
    login(client, "viewer1", "Viewer12345")
    assert client.get("/leads/douyin").status_code == 200
    assert client.get(f"/leads/douyin/scenes/{scene_id}/authorize").status_code == 403


@pytest.mark.browser
def test_consent_round_trip_in_chromium(page, browser_login, admin_user, scene_id, fake, app_db, tmp_path):
    browser_login()
    page.goto("/leads/douyin")
    page.click(f"[data-testid=douyin-authorize-{scene_id}]")
    page.wait_for_selector("#agree")  # the fake platform's consent page
    assert "美妆小店官方号" in page.content()
    page.click("#agree")
    page.wait_for_selector("text=已授权抖音号「美妆小店官方号」")
    [account] = _accounts(app_db)
    assert page.inner_text(f"[data-testid=douyin-health-{account.id}]").strip().startswith("正常")
    page.screenshot(path="/tmp/ckb_shots/douyin.png", full_page=True)
    page.click("text=取消授权")
    page.click("#confirm-dialog [data-confirm-ok]")
    page.wait_for_selector("text=已取消授权")
    assert _accounts(app_db)[0].status == "revoked"

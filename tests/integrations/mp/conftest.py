"""An app whose 公众号 API host is the fake platform, an authorised account with a 默认客服, and a
pusher that signs like WeChat."""
from __future__ import annotations

import pytest

from crm.people import service as people
from integrations import wxcrypto
from integrations.mp import accounts, runtime
from tests.support.fake_mp import FakeMpServer, MpPusher

APPID = "wx1234567890abcdef"
SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "ckbToken2026"


@pytest.fixture
def fake_mp(clock):
    server = FakeMpServer(clock).start()
    server.add_app(APPID, SECRET)
    yield server
    server.stop()


@pytest.fixture
def mp_app(settings, clock, fake_mp):
    from web import create_app

    settings.mp_api_base = fake_mp.base_url
    app = create_app(settings, clock=clock)
    app.config.update(TESTING=True)
    yield app
    runtime.drain()
    app.extensions["ckb"].services.db.dispose()


@pytest.fixture
def svc(mp_app):
    return mp_app.extensions["ckb"].services


@pytest.fixture
def staff(svc):
    people.ensure_builtin_roles(svc.db)
    return {"kefu": people.create_user(svc.db, "kefu", "Kefu12345", display_name="默认客服小美").id,
            "owner": people.create_user(svc.db, "owner", "Owner12345", display_name="业务员老王", roles=["sales"]).id}


@pytest.fixture
def make_account(svc, staff):
    def make(mode: str = "safe", **extra):
        values = {"name": "晓售智能营销平台", "appid": APPID, "secret": SECRET, "token": TOKEN,
                  "aes_key": wxcrypto.new_aes_key(), "mode": mode, "default_user_id": staff["kefu"], **extra}
        with svc.db.write() as s:
            return accounts.save_account(s, svc.secret_box, values, now=svc.now())
    return make


@pytest.fixture
def pusher(make_account, clock, fake_mp):
    def make(mode: str = "safe", account=None):
        account = account or make_account(mode)
        return MpPusher(APPID, account.token, account.aes_key, clock, mode=mode, server=fake_mp,
                        path=f"/mp/callback/{account.callback_key}"), account
    return make

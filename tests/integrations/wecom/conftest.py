"""A fake corp on loopback and services pointed at it."""
from __future__ import annotations

import pytest

from integrations.wecom.corps import save_corp
from tests.support import with_settings
from tests.support.fake_wecom import FakeWecom


@pytest.fixture
def fake_corp(clock):
    corp = FakeWecom(clock=clock).start()
    yield corp
    corp.stop()


def corp_form(fake: FakeWecom) -> dict:
    return {"corp_id": fake.corp_id, "name": "测试企业", "agent_id": fake.agent_id,
            "contact_secret": fake.contact_secret, "app_secret": fake.app_secret,
            "callback_token": fake.callback_token, "encoding_aes_key": fake.encoding_aes_key}


@pytest.fixture
def wecom_services(services, fake_corp):
    return with_settings(services, wecom_api_base=fake_corp.base_url)


@pytest.fixture
def corp_pk(wecom_services, fake_corp):
    with wecom_services.db.write() as session:
        return save_corp(session, corp_form(fake_corp)).id


@pytest.fixture
def wecom_app(settings, clock, fake_corp):
    """The Flask app (and its engine runtime) with the WeCom API pointed at the fake corp."""
    from web import create_app

    app = create_app(settings.model_copy(update={"wecom_api_base": fake_corp.base_url}), clock=clock)
    app.config.update(TESTING=True)
    yield app
    app.extensions["ckb"].services.db.dispose()


@pytest.fixture
def app_corp_pk(wecom_app, fake_corp):
    with wecom_app.extensions["ckb"].services.db.write() as session:
        return save_corp(session, corp_form(fake_corp)).id

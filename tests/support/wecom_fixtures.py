"""Fixtures shared by the WeCom tests (tests/integrations/wecom and tests/web): a fake corp on
loopback and the app pointed at it. Import the fixtures into a conftest or test module."""
from __future__ import annotations

import pytest

from tests.support.fake_wecom import FakeWecom


def corp_form(fake: FakeWecom) -> dict:
    """The 授权设置 form (and save_corp data) for the fake corp."""
    return {"corp_id": fake.corp_id, "name": "测试企业", "agent_id": fake.agent_id,
            "contact_secret": fake.contact_secret, "app_secret": fake.app_secret,
            "callback_token": fake.callback_token, "encoding_aes_key": fake.encoding_aes_key}


@pytest.fixture
def fake_corp(clock):
    corp = FakeWecom(clock=clock).start()
    yield corp
    corp.stop()


@pytest.fixture
def wecom_app(settings, clock, fake_corp):
    """The Flask app (and its engine runtime) with the WeCom API pointed at the fake corp."""
    from web import create_app

    app = create_app(settings.model_copy(update={"wecom_api_base": fake_corp.base_url}), clock=clock)
    app.config.update(TESTING=True)
    yield app
    app.extensions["ckb"].services.db.dispose()

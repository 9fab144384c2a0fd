"""A fake corp on loopback, services and the app pointed at it."""
from __future__ import annotations

import pytest

from integrations.wecom.corps import save_corp
from tests.support import with_settings
from tests.support.wecom_fixtures import corp_form, fake_corp, wecom_app  # noqa: F401 - fixtures


@pytest.fixture
def wecom_services(services, fake_corp):
    return with_settings(services, wecom_api_base=fake_corp.base_url)


@pytest.fixture
def corp_pk(wecom_services, fake_corp):
    with wecom_services.db.write() as session:
        return save_corp(session, corp_form(fake_corp)).id


@pytest.fixture
def app_corp_pk(wecom_app, fake_corp):
    with wecom_app.extensions["ckb"].services.db.write() as session:
        return save_corp(session, corp_form(fake_corp)).id

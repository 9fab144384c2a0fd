"""Fixtures of the device console tests. The permissions these pages use: until the lead registers them in
crm/people/permissions.py the `device_permissions` fixture adds them for the test (and takes
them away after); once registered it changes nothing."""
from __future__ import annotations

import re

import pytest

from crm.people import permissions

DEVICE_PERMISSIONS = {"devices.view": "查看设备", "devices.manage": "添加/重启/解绑设备",
                      "accounts.view": "查看微信号", "accounts.manage": "管理微信号、好友请求与自动通过规则",
                      "content.view": "查看内容库", "content.manage": "管理内容库、素材与敏感词"}


@pytest.fixture
def device_permissions(monkeypatch):
    missing = {n: lbl for n, lbl in DEVICE_PERMISSIONS.items() if n not in permissions.PERMISSIONS}
    for name, label in missing.items():
        monkeypatch.setitem(permissions.PERMISSIONS, name, permissions.Permission(name, label))
    if missing:
        monkeypatch.setattr(permissions, "ALL_PERMISSIONS", permissions.ALL_PERMISSIONS | set(missing))
    return set(DEVICE_PERMISSIONS)


@pytest.fixture
def world(app_db, clock, device_permissions, admin_user):
    """The seeded fleet (tests/devices/console/seed.py) with the permissions in place."""
    from tests.devices.console.seed import seed_fleet

    with app_db.write() as s:
        return seed_fleet(s, clock.now())


@pytest.fixture
def admin(client, login, world):
    """The admin signed in on `client`; the CSRF token to post with."""
    login(client)
    html = client.get("/devices").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)

"""参数配置 page: admin only, every group renders with its source, a bad value answers 400 with the
message next to the field and nothing written, secrets never come back in the HTML, 恢复默认 and
the change log (who / old / new)."""
from __future__ import annotations

import re

import pytest

from config.parameters import GROUPS
from crm.people import service as people


@pytest.fixture
def admin_client(client, admin_user, login):
    login(client)
    return client


def _post(client, csrf_token, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/params")})


@pytest.mark.parametrize("group", [key for key, _, _ in GROUPS])
def test_every_group_renders_with_sources(admin_client, group):
    html = admin_client.get(f"/params?group={group}").get_data(as_text=True)
    assert 'data-source="default"' in html
    assert "免打扰时段" in html  # the banner: off by default, said on every group
    assert 'data-quiet-hours="off"' in html


def test_a_bad_value_is_400_next_to_its_field_and_nothing_is_saved(app, admin_client, csrf_token):
    response = _post(admin_client, csrf_token, "/params/risk",
                     {"budget_quiet_hours": "22:00-25:00", "budget_hourly_send_cap": "120"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'data-error-for="budget_quiet_hours"' in html and "超出范围" in html
    assert 'value="22:00-25:00"' in html  # what was typed stays in the field
    settings = app.extensions["ckb"].services.settings
    assert (settings.budget_quiet_hours, settings.budget_hourly_send_cap) == ("", 300)
    assert "暂无修改记录" in admin_client.get("/params/changes").get_data(as_text=True)


def test_save_applies_at_once_and_is_logged_with_who_old_new(app, admin_client, csrf_token):
    response = _post(admin_client, csrf_token, "/params/risk", {"budget_quiet_hours": "22:00-08:00"})
    assert response.status_code == 302
    assert app.extensions["ckb"].services.settings.budget_quiet_hours == "22:00-08:00"
    page = admin_client.get("/params?group=risk").get_data(as_text=True)
    assert 'data-quiet-hours="on"' in page and 'data-param="budget_quiet_hours" data-source="db"' in page
    log = admin_client.get("/params/changes?key=budget_quiet_hours").get_data(as_text=True)
    assert "系统管理员" in log and "（空）" in log and "22:00-08:00" in log

    assert _post(admin_client, csrf_token, "/params/budget_quiet_hours/reset", {}).status_code == 302
    assert app.extensions["ckb"].services.settings.budget_quiet_hours == ""
    assert "恢复默认" in admin_client.get("/params/changes").get_data(as_text=True)


def test_a_secret_is_never_rendered_back(app, admin_client, csrf_token):
    secret = "Gw-T0ken-9f8e7d"
    assert _post(admin_client, csrf_token, "/params/sms",
                 {"sms_gateway_token": secret, "sms_provider": "outbox"}).status_code == 302
    assert app.extensions["ckb"].services.settings.sms_gateway_token == secret
    pages = [admin_client.get(f"/params?group={g}").get_data(as_text=True) for g, _, _ in GROUPS]
    pages.append(admin_client.get("/params/changes").get_data(as_text=True))
    bad = _post(admin_client, csrf_token, "/params/sms", {"sms_gateway_token": "another-" + secret,
                                                           "sms_per_number_per_day": "x"})
    assert bad.status_code == 400
    pages.append(bad.get_data(as_text=True))
    assert all(secret not in html for html in pages)
    assert "已设置，留空则保持不变" in pages[1]
    assert app.extensions["ckb"].services.settings.sms_gateway_token == secret  # the refused save wrote nothing


def test_unknown_group_or_key_is_404_and_non_admins_are_refused(app_db, client, admin_client, csrf_token, login):
    assert admin_client.get("/params?group=nope").status_code == 404
    assert _post(admin_client, csrf_token, "/params/nope", {}).status_code == 404
    assert _post(admin_client, csrf_token, "/params/database_url/reset", {}).status_code == 404
    people.create_user(app_db, "ops", "Ops123456", display_name="运营", roles=["operator"])
    other = client.application.test_client()
    login(other, "ops", "Ops123456")
    assert other.get("/params").status_code == 403


def test_the_initial_password_serves_new_users_and_resets_left_empty(app_db, client, admin_client, csrf_token, login):
    refused = _post(admin_client, csrf_token, "/params/security", {"initial_password": "123456"})
    assert refused.status_code == 400 and "密码至少需要 8 个字符" in refused.get_data(as_text=True)
    without = _post(admin_client, csrf_token, "/users/new", {"username": "zhang", "display_name": "张三", "password": ""})
    assert without.status_code == 400  # no initial password yet: one must be typed

    assert _post(admin_client, csrf_token, "/params/security", {"initial_password": "Welcome2026"}).status_code == 302
    assert "留空则使用参数配置中的初始密码" in admin_client.get("/users/new").get_data(as_text=True)
    assert _post(admin_client, csrf_token, "/users/new",
                 {"username": "zhang", "display_name": "张三", "password": ""}).status_code == 302
    user = people.get_user_by_username(app_db, "zhang")
    assert user.must_change_password  # a shared initial password is never kept
    assert login(client.application.test_client(), "zhang", "Welcome2026").status_code == 302

    people.change_password(app_db, user.id, "Welcome2026", "Mine12345", confirm="Mine12345")
    assert _post(admin_client, csrf_token, f"/users/{user.id}/reset-password", {"password": ""}).status_code == 302
    assert people.get_user_by_username(app_db, "zhang").must_change_password
    assert login(client.application.test_client(), "zhang", "Welcome2026").status_code == 302


def test_the_change_log_pages_to_older_entries(admin_client, csrf_token, monkeypatch):
    from web.console import params

    monkeypatch.setattr(params, "CHANGES_PER_PAGE", 2)
    for cap in ("101", "102", "103"):
        assert _post(admin_client, csrf_token, "/params/risk", {"budget_hourly_send_cap": cap}).status_code == 302
    first = admin_client.get("/params/changes").get_data(as_text=True)
    assert "103" in first and "102" in first and "<td data-new>101</td>" not in first
    older = re.search(r'href="([^"]+)" data-older', first).group(1).replace("&amp;", "&")
    second = admin_client.get(older).get_data(as_text=True)
    assert "<td data-new>101</td>" in second and "<td data-new>103</td>" not in second and "data-older" not in second

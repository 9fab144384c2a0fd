"""参数配置: typed validation, precedence (数据库 > 环境变量 > 默认值), 恢复默认, the change log with
sealed secrets, and pickup by a second process (a second Services on the same database)."""
from __future__ import annotations

import pytest
from sqlmodel import select

from config.db import Database
from config.parameter_models import ParameterChange, ParameterValue
from config.parameter_store import ParametersInvalid
from config.parameters import BY_KEY, GROUPS, PARAMETERS
from config.services import Services
from config.settings import Settings


def _other_process(settings: Settings, **env) -> Services:
    """A second process on the same database: its own Settings (from its own environment)."""
    env = {"params_refresh_seconds": 0, **env}
    fresh = Settings(var_dir=settings.var_dir, database_url=settings.resolved_database_url(),
                     secret_key=settings.secret_key, **env)
    return Services(settings=fresh, db=Database(fresh.resolved_database_url()))


def _view(svc, key):
    return next(v for v in svc.parameters.views() if v.param.key == key)


def test_every_parameter_is_a_settings_field_in_a_known_group_and_never_a_start_up_one():
    groups = {key for key, _, _ in GROUPS}
    for param in PARAMETERS:
        assert param.key in Settings.model_fields, param.key
        assert param.group in groups
    for unsafe in ("database_url", "secret_key", "var_dir", "redis_url", "autotag_cron", "timezone"):
        assert unsafe not in BY_KEY


@pytest.mark.parametrize("key, raw, message", [
    ("budget_quiet_hours", "22:00-", "应为 时:分"),
    ("budget_quiet_hours", "晚上", "时间段"),
    ("budget_quiet_hours", "25:00-08:00", "超出范围"),
    ("budget_quiet_hours", "08:00-08:00", "不能与开始时间相同"),
    ("budget_hourly_send_cap", "abc", "请填写整数"),
    ("budget_hourly_send_cap", "3.5", "请填写整数"),
    ("budget_hourly_send_cap", "-1", "不能小于 0"),
    ("budget_private_gap_min_seconds", "", "请填写数值"),
    ("budget_offline_retry_minutes", "0", "不能小于 1"),
])
def test_a_bad_value_is_refused_with_its_message_and_nothing_of_the_group_is_written(services, key, raw, message):
    form = {"budget_hourly_send_cap": "120", key: raw}
    with pytest.raises(ParametersInvalid) as caught:
        services.parameters.save("risk", form, "admin")
    assert message in caught.value.errors[key]
    with services.db.read() as s:
        assert s.exec(select(ParameterValue)).all() == []
        assert s.exec(select(ParameterChange)).all() == []
    assert services.settings.budget_hourly_send_cap == 300


def test_the_fields_own_pydantic_constraints_apply(services):
    with pytest.raises(ParametersInvalid) as caught:  # Field(ge=1) on lead_alert_deadletters
        services.parameters.save("automation", {"lead_alert_deadletters": "0", "retry_schedule": "5s, 1x"}, "admin")
    assert caught.value.errors["lead_alert_deadletters"] == "不能小于 1"
    assert "无法识别的重试间隔" in caught.value.errors["retry_schedule"]


def test_group_checks_see_the_values_together(services):
    with pytest.raises(ParametersInvalid) as caught:
        services.parameters.save("risk", {"budget_private_gap_min_seconds": "20"}, "admin")  # max stays 10
    assert "不能小于最短间隔" in caught.value.errors["budget_private_gap_max_seconds"]
    with pytest.raises(ParametersInvalid) as caught:
        services.parameters.save("sms", {"sms_provider": "http", "sms_gateway_url": ""}, "admin")
    assert "网关地址" in caught.value.errors["sms_gateway_url"]


def test_values_are_normalised_and_applied_to_the_live_settings_at_once(services):
    changed = services.parameters.save("risk", {"budget_quiet_hours": " 22:00 - 8:00 ", "budget_hourly_send_cap": "300"},
                                       "admin")
    assert changed == ["budget_quiet_hours"]  # an unchanged value is not pinned into the database
    assert services.settings.budget_quiet_hours == "22:00-08:00"
    services.parameters.save("automation", {"retry_schedule": "10s,1m"}, "admin")
    assert services.settings.retry_schedule == "10s, 1m"
    assert services.settings.step_max_attempts == 3  # set explicitly by the test settings: not derived


def test_precedence_database_over_environment_over_default_and_reset(services, monkeypatch):
    monkeypatch.setenv("CKB_BUDGET_HOURLY_SEND_CAP", "200")
    other = _other_process(services.settings)
    assert other.settings.budget_hourly_send_cap == 200
    assert _view(other, "budget_hourly_send_cap").source == "env"
    assert _view(other, "budget_customer_daily_touches").source == "default"

    services.parameters.save("risk", {"budget_hourly_send_cap": "150"}, "运营主管")
    assert other.settings.budget_hourly_send_cap == 150  # db wins over the environment
    assert _view(other, "budget_hourly_send_cap").source == "db"
    assert _view(other, "budget_hourly_send_cap").updated_by == "运营主管"
    assert _view(other, "budget_hourly_send_cap").overridden == "200"
    assert _view(services, "budget_hourly_send_cap").overridden is None  # started without it

    assert other.parameters.reset("budget_hourly_send_cap", "admin") is True
    assert other.settings.budget_hourly_send_cap == 200  # the environment again
    services.parameters.refresh_if_due(force=True)  # its interval has passed
    assert services.settings.budget_hourly_send_cap == 300  # this process was started without it: the default
    assert other.parameters.reset("budget_hourly_send_cap", "admin") is False  # nothing stored: no log row
    with services.db.read() as s:
        log = s.exec(select(ParameterChange).order_by(ParameterChange.id)).all()
    assert [(c.action, c.old_value, c.new_value, c.changed_by) for c in log] == [
        ("set", "300", "150", "运营主管"), ("reset", "150", "200", "admin")]
    other.db.dispose()


def test_another_process_picks_a_change_up_within_its_refresh_interval(services):
    other = _other_process(services.settings, params_refresh_seconds=60)
    assert other.settings.budget_quiet_hours == ""
    services.parameters.save("risk", {"budget_quiet_hours": "23:00-07:00"}, "admin")
    assert other.settings.budget_quiet_hours == ""  # checked less than 60 s ago: not yet
    other.parameters.refresh_if_due(force=True)  # the interval has passed
    assert other.settings.budget_quiet_hours == "23:00-07:00"
    services.parameters.reset("budget_quiet_hours", "admin")
    other.parameters.refresh_if_due(force=True)
    assert other.settings.budget_quiet_hours == ""
    assert other.settings.step_max_attempts == 7  # not set at start-up: one per wait of the schedule, plus one
    services.parameters.save("automation", {"retry_schedule": "10s, 1m"}, "admin")
    other.parameters.refresh_if_due(force=True)
    assert (other.settings.retry_schedule, other.settings.step_max_attempts) == ("10s, 1m", 3)
    other.db.dispose()


def test_secrets_are_sealed_write_only_and_never_logged(services):
    services.parameters.save("mail", {"smtp_password": "S3cret-pass", "smtp_host": "smtp.example.com"}, "admin")
    assert services.settings.smtp_password == "S3cret-pass"
    with services.db.read() as s:
        stored = s.get(ParameterValue, "smtp_password").value
        log = {c.key: c for c in s.exec(select(ParameterChange)).all()}
    assert "S3cret" not in stored and services.secret_box.open(stored) == "S3cret-pass"
    assert (log["smtp_password"].old_value, log["smtp_password"].new_value) == ("未设置", "已修改")
    services.parameters.save("mail", {"smtp_password": "", "smtp_port": "587"}, "admin")  # empty: kept
    assert services.settings.smtp_password == "S3cret-pass"
    other = _other_process(services.settings)
    assert other.settings.smtp_password == "S3cret-pass"  # opened with the same secret key
    other.db.dispose()
    services.parameters.reset("smtp_password", "admin")
    assert services.settings.smtp_password == ""
    with services.db.read() as s:
        texts = [(c.old_value, c.new_value) for c in s.exec(select(ParameterChange)).all()]
    assert all("S3cret" not in old + new for old, new in texts)


def test_a_stored_value_that_no_longer_validates_is_ignored(services):
    with services.db.write() as s:
        s.add(ParameterValue(key="budget_hourly_send_cap", value='"lots"'))
        s.add(ParameterChange(key="budget_hourly_send_cap", new_value="lots"))
    services.parameters.reload()
    assert services.settings.budget_hourly_send_cap == 300

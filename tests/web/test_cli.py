"""The `cunkebao` command as an operator runs it: init --demo, apps create, users create, tokens create."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlmodel import select

from config.db import Database
from events.models import EventRecord
from crm.leads.models import Lead
from handlers.models import SmsMessage
from web.cli import main


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("CKB_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CKB_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'ckb.db'}")
    monkeypatch.delenv("CKB_SECRET_KEY", raising=False)
    return tmp_path / "var"


def _db(var):
    return Database(f"sqlite:///{var / 'ckb.db'}")


def test_init_demo_creates_admin_demo_app_and_runs_the_stories(env):
    result = CliRunner().invoke(main, ["init", "--demo"])
    assert result.exit_code == 0, result.output
    assert "管理员账号：admin" in result.output and "演示应用 app_key=ak_" in result.output
    assert (env / "admin-initial-password.txt").stat().st_mode & 0o777 == 0o600
    tokens = (env / "demo-device-tokens.txt").read_text().split()
    assert len(tokens) == 3 and (env / "demo-device-tokens.txt").stat().st_mode & 0o777 == 0o600
    db = _db(env)
    with db.read() as s:
        outcomes = {r.external_id: r.outcome for r in s.exec(select(EventRecord).where(EventRecord.source == "api"))}
        sms = [m.mobile for m in s.exec(select(SmsMessage)) if "咨询" not in m.content]
        thanked = [m.mobile for m in s.exec(select(SmsMessage)) if "咨询" in m.content]
        leads = s.exec(select(Lead)).all()
    db.dispose()
    assert outcomes == {"demo-1": "matched", "demo-2": "unmatched", "demo-3": "matched", "demo-4": "matched"}
    assert sorted(sms) == ["13700137000", "13800138000"]
    # 场景获客 demo: leads went through the real pipeline (identified, tagged, assigned).
    assert len(leads) == 14 and all(lead.customer_id for lead in leads)
    assert sum(1 for lead in leads if lead.status == "ASSIGNED") == 14
    assert len(thanked) == 5  # the web-form leads got their thank-you SMS
    again = CliRunner().invoke(main, ["init", "--demo"])  # idempotent: nothing created twice
    assert again.exit_code == 0 and "演示应用 app_key" not in again.output


def test_apps_users_tokens(env):
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    out = runner.invoke(main, ["apps", "create", "CRM系统", "--ip", "10.0.0.0/8", "--ip", "127.0.0.1"])
    app = json.loads(out.output)
    assert app["app_key"].startswith("ak_") and len(app["secret"]) > 30
    assert app["ip_allowlist"] == ["10.0.0.0/8", "127.0.0.1/32"]
    bad = runner.invoke(main, ["apps", "create", "坏的", "--ip", "10.0.0.300"])
    assert bad.exit_code != 0 and "10.0.0.300" in bad.output
    made = runner.invoke(main, ["users", "create", "xiaodan", "--password", "Passw0rd123", "--role", "operator"])
    assert made.exit_code == 0, made.output
    weak = runner.invoke(main, ["users", "create", "weak", "--password", "123", "--role", "operator"])
    assert weak.exit_code != 0
    token = runner.invoke(main, ["tokens", "create", "xiaodan"])
    assert token.exit_code == 0 and token.output.strip().startswith("ckb_")
    assert runner.invoke(main, ["tokens", "create", "nobody"]).exit_code != 0

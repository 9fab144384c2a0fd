"""`cunkebao jobs` as an operator runs it: list, set a schedule (refused when invalid), run now once."""
from __future__ import annotations

from click.testing import CliRunner
from sqlmodel import select

from config.db import Database
from engine.cron_models import CronRunRequest, CronSchedule
from web.cli import main


def test_list_set_and_run(tmp_path, monkeypatch):
    monkeypatch.setenv("CKB_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CKB_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'ckb.db'}")
    monkeypatch.delenv("CKB_SECRET_KEY", raising=False)
    cli = CliRunner()
    assert cli.invoke(main, ["init"]).exit_code == 0
    listed = cli.invoke(main, ["jobs", "list"])
    assert listed.exit_code == 0 and "auto_tag\t自动打标签\t05:30\t启用" in listed.output
    bad = cli.invoke(main, ["jobs", "set", "auto_tag", "25:00"])
    assert bad.exit_code != 0 and "无效" in bad.output
    ok = cli.invoke(main, ["jobs", "set", "auto_tag", "06:10"])
    assert ok.exit_code == 0 and "06:10" in ok.output
    assert "auto_tag\t自动打标签\t06:10\t启用" in cli.invoke(main, ["jobs", "list"]).output
    assert "已提交" in cli.invoke(main, ["jobs", "run", "recycle"]).output
    assert "已在排队" in cli.invoke(main, ["jobs", "run", "recycle"]).output
    assert cli.invoke(main, ["jobs", "run", "nope"]).exit_code != 0
    db = Database(f"sqlite:///{tmp_path / 'var' / 'ckb.db'}")
    with db.read() as s:
        assert s.get(CronSchedule, "auto_tag").updated_by == "cli"
        assert [r.job_key for r in s.exec(select(CronRunRequest))] == ["recycle"]
    db.dispose()

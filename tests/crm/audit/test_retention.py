"""The nightly purge keeps each log for its own number of days and is one job of the registry."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from crm.audit.models import ErrorLog, LoginLog, OperationLog
from crm.audit.retention import purge_audit_logs
from engine.crm_wiring import all_cron_jobs


def test_purge_keeps_recent_rows_of_each_log(services):
    now = services.now()
    old, recent = now - timedelta(days=200), now - timedelta(days=100)
    with services.db.write() as s:
        s.add_all([OperationLog(request_id="a", action="update", created_at=old),
                   OperationLog(request_id="b", action="update", created_at=recent),
                   LoginLog(result="success", created_at=old),  # 365 days for sign-ins: kept
                   LoginLog(result="success", created_at=now - timedelta(days=400)),
                   ErrorLog(reference="E1", created_at=old), ErrorLog(reference="E2", created_at=recent)])
    summary = purge_audit_logs(services)
    assert "操作日志 1 条" in summary and "登录日志 1 条" in summary and "异常日志 1 条" in summary
    with services.db.read() as s:
        assert [r.request_id for r in s.exec(select(OperationLog))] == ["b"]
        assert len(s.exec(select(LoginLog)).all()) == 1
        assert [r.reference for r in s.exec(select(ErrorLog))] == ["E2"]


def test_purge_is_registered_as_a_cron_job(services):
    assert "purge_audit_logs" in [job.key for job in all_cron_jobs(services.settings)]

"""How long the audit logs are kept: 操作日志 and 异常日志 180 days, 登录日志 365 (settings
CKB_OPERATION_LOG_DAYS / CKB_LOGIN_LOG_DAYS / CKB_ERROR_LOG_DAYS); a nightly cron job purges."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from crm.audit.models import ErrorLog, LoginLog, OperationLog


def purge_audit_logs(services) -> str:
    s, now = services.settings, services.now()
    kept = ((OperationLog, "操作日志", s.operation_log_days), (LoginLog, "登录日志", s.login_log_days),
            (ErrorLog, "异常日志", s.error_log_days))
    parts = []
    with services.db.write() as session:
        for model, label, days in kept:
            n = session.execute(delete(model).where(model.created_at < now - timedelta(days=max(1, days)))).rowcount
            parts.append(f"{label} {n} 条（保留 {days} 天）")
    return "清理过期审计日志：" + "，".join(parts)


CRON_SPECS = [("purge_audit_logs", "清理过期审计日志", {"hour": 3, "minute": 40}, purge_audit_logs)]

"""定时作业记录: every cron slot with its outcome; slots missed while the server was down are
listed one by one (and counted on 策略任务), not silently coalesced."""
from __future__ import annotations

from datetime import datetime, timedelta

from config.clock import UTC
from engine.models import CronRun

T0 = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)


def test_missed_and_run_slots_are_listed(client, app_db, admin_user, login):
    with app_db.write() as s:
        s.add(CronRun(job_key="auto_tag", job_name="自动打标签", slot_at=T0, status="done", started_at=T0,
                      finished_at=T0 + timedelta(seconds=3), summary="打标签 12 个"))
        for h in (1, 2):
            s.add(CronRun(job_key="auto_tag", job_name="自动打标签", slot_at=T0 + timedelta(hours=h), status="missed",
                          summary="服务停止期间未运行"))
    login(client)
    page = client.get("/tasks/cron").get_data(as_text=True)
    assert page.count('data-testid="cron-run-missed"') == 2 and page.count('data-testid="cron-run-done"') == 1
    assert "错过（停机）" in page and "打标签 12 个" in page
    assert "2026-11-20 13:00" in page and "2026-11-20 05:00" not in page  # slots shown in Beijing time
    only = client.get("/tasks/cron?status=missed").get_data(as_text=True)
    assert only.count('data-testid="cron-run-') == 2
    assert "错过 2" in client.get("/tasks").get_data(as_text=True)

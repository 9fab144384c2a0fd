"""短信发件箱 filters (status, number, period) and export, masked without 查看完整手机号."""
from __future__ import annotations

from datetime import datetime, timezone

from crm.people import service as people
from handlers.models import MailMessage, SmsMessage


def _seed(app_db):
    with app_db.write() as s:
        s.add_all([
            SmsMessage(mobile="13900139000", content="验证码 1234", provider="outbox", status="outbox",
                       created_at=datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)),
            SmsMessage(mobile="13700137000", content="欢迎", provider="http", status="failed",
                       created_at=datetime(2026, 12, 5, 2, 0, tzinfo=timezone.utc)),
            MailMessage(to="zhang@example.com", subject="周报", body="", status="sent",
                        created_at=datetime(2026, 12, 5, 2, 0, tzinfo=timezone.utc))])


def test_outbox_filters_by_status_number_and_period(app, app_db, admin_user, login):
    _seed(app_db)
    client = app.test_client()
    login(client)
    failed = client.get("/outbox?status=failed").get_data(as_text=True)
    assert "欢迎" in failed and "验证码" not in failed
    by_tail = client.get("/outbox?number=9000").get_data(as_text=True)
    assert "验证码" in by_tail and "欢迎" not in by_tail
    period = client.get("/outbox?since=2026-12-04&until=2026-12-05").get_data(as_text=True)
    assert "欢迎" in period and "验证码" not in period
    mail = client.get("/outbox?tab=mail&number=zhang").get_data(as_text=True)
    assert "周报" in mail


def test_outbox_export_is_masked_without_pii_view(app, app_db, login):
    _seed(app_db)
    people.ensure_builtin_roles(app_db)
    people.create_role(app_db, "outbox_reader", "发件箱查看", {"outbox.view"})
    people.create_user(app_db, "reader", "Reader12345", roles=["outbox_reader"])
    client = app.test_client()
    login(client, "reader", "Reader12345")
    page = client.get("/outbox").get_data(as_text=True)
    assert "139****9000" in page and "13900139000" not in page
    export = client.get("/outbox?export=csv&status=outbox")
    text = export.get_data().decode("utf-8-sig")
    assert export.mimetype == "text/csv"
    assert "139****9000" in text and "13900139000" not in text and "13700137000" not in text
    assert client.get("/outbox?tab=mail&export=xlsx").data[:2] == b"PK"

"""The e-mail processor against a real SMTP server on loopback."""
from __future__ import annotations

import socket

import pytest
from sqlmodel import select

from handlers.builtin.email import EmailProcessor
from handlers.errors import PermanentError, RetryableError
from handlers.models import MailMessage
from tests.support import with_settings

CONFIG = {"to": "${email}, boss@example.com", "subject": "新线索：${name}",
          "body": "客户 ${name} 留下了手机号 ${mobile}。"}
LEAD = {"email": "sales@example.com", "name": "李四", "mobile": "13800138000"}


@pytest.fixture
def mail_services(services, smtp_sink):
    return with_settings(services, **smtp_sink.settings_update())


def mails(db):
    with db.read() as session:
        return session.exec(select(MailMessage)).all()


def test_mail_arrives_with_subject_body_and_recipients(make_ctx, mail_services, smtp_sink):
    outcome = EmailProcessor().run(make_ctx(LEAD, svc=mail_services), CONFIG)
    [received] = smtp_sink.messages
    assert received.rcpt_tos == ["sales@example.com", "boss@example.com"]
    assert received.mail_from == "noreply@cunkebao.local"
    assert received.message["Subject"] == "新线索：李四"
    assert received.message["X-Idempotency-Key"] == "task-1:step-0"
    assert received.body.strip() == "客户 李四 留下了手机号 13800138000。"
    [row] = mails(mail_services.db)
    assert row.status == "sent" and row.to == "sales@example.com, boss@example.com"
    assert outcome.response == {"mail_id": row.id, "status": "sent"}
    assert outcome.request["to"] == ["s***@example.com", "b***@example.com"]  # history is masked


def test_html_flag(make_ctx, mail_services, smtp_sink):
    EmailProcessor().run(make_ctx(LEAD, svc=mail_services), {**CONFIG, "to": ["${email}"], "html": True,
                                                            "body": "<b>${name}</b>"})
    part = smtp_sink.messages[0].message.get_body(("html",))
    assert part.get_content().strip() == "<b>李四</b>"


def test_retry_of_same_step_does_not_send_twice(make_ctx, mail_services, smtp_sink):
    ctx = make_ctx(LEAD, svc=mail_services)
    EmailProcessor().run(ctx, CONFIG)
    again = EmailProcessor().run(make_ctx(LEAD, svc=mail_services, attempt=2), CONFIG)
    assert len(smtp_sink.messages) == 1 and len(mails(mail_services.db)) == 1
    assert "未重复发送" in again.note
    EmailProcessor().run(make_ctx(LEAD, svc=mail_services, key="task-2:step-0"), CONFIG)
    assert len(smtp_sink.messages) == 2


def test_temporary_refusal_is_retryable_then_sends(make_ctx, mail_services, smtp_sink):
    smtp_sink.refuse("data", "451 4.3.0 Try again later")
    with pytest.raises(RetryableError, match="451"):
        EmailProcessor().run(make_ctx(LEAD, svc=mail_services), CONFIG)
    assert [r.status for r in mails(mail_services.db)] == ["failed"]
    smtp_sink.refuse_data = None
    EmailProcessor().run(make_ctx(LEAD, svc=mail_services, attempt=2), CONFIG)
    assert [r.status for r in mails(mail_services.db)] == ["sent"] and len(smtp_sink.messages) == 1


def test_permanent_refusal(make_ctx, mail_services, smtp_sink):
    smtp_sink.refuse("rcpt", "550 5.1.1 No such user")
    with pytest.raises(PermanentError, match="拒收"):
        EmailProcessor().run(make_ctx(LEAD, svc=mail_services), CONFIG)


def test_relay_down_is_retryable(make_ctx, services):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    svc = with_settings(services, smtp_host="127.0.0.1", smtp_port=port)
    with pytest.raises(RetryableError, match="无法连接邮件服务器"):
        EmailProcessor().run(make_ctx(LEAD, svc=svc), CONFIG)


@pytest.mark.parametrize("address", ["not-an-address", "a@b", "x@@example.com"])
def test_invalid_address_is_permanent(make_ctx, mail_services, smtp_sink, address):
    with pytest.raises(PermanentError, match="收件人地址格式不正确"):
        EmailProcessor().run(make_ctx({**LEAD, "email": address}, svc=mail_services), CONFIG)
    assert smtp_sink.messages == []


def test_render_has_no_side_effect(make_ctx, mail_services, smtp_sink):
    rendered = EmailProcessor().render(make_ctx(LEAD, svc=mail_services), CONFIG)
    assert rendered["to"] == ["sales@example.com", "boss@example.com"] and rendered["subject"] == "新线索：李四"
    assert smtp_sink.messages == [] and mails(mail_services.db) == []

"""发送邮件: an e-mail through the configured SMTP relay, recorded in the mail outbox.

Recipients, subject and body may use ${变量}. Relay trouble (cannot connect, 4xx replies)
is retried; a 5xx reply or a malformed address is final. A retried step whose mail was
already accepted by the relay does not send it again.
"""
from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from config.pii import mask_email
from events.placeholders import PlaceholderError, render_message, render_text
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin.delivery_record import FAILED, replay_outcome, save
from handlers.builtin.http import DRY_RUN_NOTE
from handlers.builtin.recipients import split_recipients
from handlers.deadline import TotalDeadline, unwatch_socket, watch_socket
from handlers.errors import PermanentError, ProcessorError, RetryableError
from handlers.models import MailMessage

ADDRESS_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_TO_COLUMN_CHARS = 320


def _failure(exc: Exception, settings) -> ProcessorError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        refused = "、".join(exc.recipients)
        if any(400 <= c < 500 for c in codes):
            return RetryableError(f"邮件服务器暂时拒收：{refused}")
        return PermanentError(f"邮件服务器拒收这些收件人：{refused}")
    if isinstance(exc, smtplib.SMTPResponseException):
        return _smtp_error(exc)
    return RetryableError(f"无法连接邮件服务器 {settings.smtp_host}:{settings.smtp_port}（{type(exc).__name__}）")


class _DeadlineSMTP(smtplib.SMTP):
    """smtplib.SMTP whose socket is cut when the exchange's total deadline passes: a relay
    dripping its replies would otherwise hold the step for as long as it likes."""

    def _get_socket(self, host, port, timeout):
        sock = super()._get_socket(host, port, timeout)
        watch_socket(sock)
        return sock

    def close(self):
        unwatch_socket(self.sock)
        super().close()


def _render_recipients(value, data: dict):
    if isinstance(value, list):
        return [render_text(str(v), data) for v in value]
    return render_text(str(value or ""), data)


def _smtp_error(exc: smtplib.SMTPResponseException) -> ProcessorError:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    message = f"邮件服务器拒绝（{exc.smtp_code} {text.strip()}）"
    if 400 <= exc.smtp_code < 500:
        return RetryableError(message + "，稍后重试")
    return PermanentError(message)


class EmailProcessor(Processor):
    key = "email"
    name = "发送邮件"
    description = "通过系统配置的 SMTP 服务器发送邮件；收件人、主题和正文都可使用 ${变量}。"
    config_fields = (
        ConfigField("to", "收件人", required=True, help="多个地址用逗号分隔，例如 ${email}"),
        ConfigField("subject", "主题", required=True),
        ConfigField("body", "正文", kind="textarea", required=True),
        ConfigField("html", "正文为 HTML", kind="boolean", default=False, templated=False),
    )

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        try:
            recipients = split_recipients(_render_recipients(config.get("to"), ctx.data))
            subject = " ".join(render_message(str(config.get("subject") or ""), ctx.data).splitlines()).strip()
            body = render_message(str(config.get("body") or ""), ctx.data)
        except PlaceholderError as exc:
            raise PermanentError(f"变量替换失败：{exc}") from exc
        if not recipients:
            raise PermanentError("收件人为空")
        bad = [a for a in recipients if not ADDRESS_RE.match(a)]
        if bad:
            raise PermanentError(f"收件人地址格式不正确：{'、'.join(bad)}")
        return {"from": ctx.services.settings.mail_from, "to": recipients, "subject": subject,
                "body": body, "html": bool(config.get("html"))}

    def _message(self, rendered: dict, ctx: ProcessorContext) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = rendered["from"]
        msg["To"] = ", ".join(rendered["to"])
        msg["Subject"] = rendered["subject"]
        msg["Date"] = formatdate(ctx.services.now().timestamp(), localtime=False)
        msg["Message-ID"] = make_msgid(domain=rendered["from"].rsplit("@", 1)[-1])
        # Lets a relay or a mailbox rule spot a duplicate if one ever slips through.
        msg["X-Idempotency-Key"] = ctx.idempotency_key
        msg.set_content(rendered["body"], subtype="html" if rendered["html"] else "plain")
        return msg

    def _send(self, settings, msg: EmailMessage, rendered: dict) -> dict:
        timeout = float(settings.smtp_timeout_seconds)
        deadline = TotalDeadline(timeout)
        try:
            with deadline, _DeadlineSMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if settings.smtp_user:
                    smtp.login(settings.smtp_user, settings.smtp_password)
                return smtp.send_message(msg, from_addr=rendered["from"], to_addrs=rendered["to"])
        except (smtplib.SMTPException, OSError) as exc:
            if deadline.passed():  # a cut-off may surface as a half-read reply: name it a timeout
                raise RetryableError(f"邮件服务器 {settings.smtp_host}:{settings.smtp_port} 超时（总时限 {timeout:g} 秒）") from exc
            raise _failure(exc, settings) from exc

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        rendered = self.render(ctx, config)
        shown = {**rendered, "to": [mask_email(a) for a in rendered["to"]]}
        if ctx.dry_run:
            return Outcome(request=shown, note=DRY_RUN_NOTE)
        services = ctx.services
        earlier = replay_outcome(services.db, MailMessage, ctx.idempotency_key, shown, "mail_id", "邮件")
        if earlier is not None:
            return earlier
        row = dict(to=", ".join(rendered["to"])[:_TO_COLUMN_CHARS], subject=rendered["subject"][:500],
                   body=rendered["body"], created_at=services.now())
        try:
            refused = self._send(services.settings, self._message(rendered, ctx), rendered)
        except ProcessorError as exc:
            save(services.db, MailMessage, ctx.idempotency_key, status=FAILED, error=exc.message[:2000], **row)
            exc.request = shown
            raise
        saved = save(services.db, MailMessage, ctx.idempotency_key, status="sent", error="", **row)
        response = {"mail_id": saved.id, "status": "sent"}
        if refused:
            response["refused"] = {addr: code for addr, (code, _) in refused.items()}
        return Outcome(request=shown, response=response, note=f"已发送给 {len(rendered['to']) - len(refused)} 个收件人")

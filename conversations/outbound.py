"""Sending a message in a conversation, whatever the channel: one entry point (`send`) used by the chat
console, 1:1 消息群发, quick replies and automatic answers, so every outbound message is stored the same
way and shows its fate (发送中 / 已延后 with the budget's reason / 已拒绝 / 已发送 / 发送失败).

A channel registers its sender (`register_sender`): on a phone's WeChat account a message is a device
command issued through `issue_command`, hence through the account's risk budget (call `send` inside
devices.budget_plan.write_with_budget with an idempotency key so the budget is decided before the write
transaction when it lives in Redis); 公众号 registers the customer-service message API in
integrations/mp. The outbound ChatMessage keeps the command id; its status follows the command
(`message_state`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Optional

from sqlmodel import Session

from config.clock import utcnow
from conversations.errors import ConversationError
from conversations.models import ChatMessage, Conversation
from conversations.store import NewMessage, record_message
from devices.commands import CommandError, issue_command
from devices.models import DeviceCommand

# content kinds → the device command that carries them and the payload fields it needs
DEVICE_KINDS = {"text": "send_text", "image": "send_image", "link": "send_link", "miniprogram": "send_miniprogram"}
# device command status → outbound message state (conversations.models.MESSAGE_STATES)
COMMAND_STATES = {"queued": "queued", "sent": "queued", "acked": "queued", "deferred": "deferred",
                  "succeeded": "sent", "failed": "failed", "timeout": "failed", "cancelled": "failed",
                  "refused": "refused"}


@dataclass
class Content:
    """What to send. text for text (and the caption of others); url/title/description for links;
    material_id or url for images; appid/pagepath/title for mini-programs; at_wxids to @ group members."""

    msg_type: str = "text"
    text: str = ""
    url: str = ""
    title: str = ""
    description: str = ""
    material_id: Optional[int] = None
    appid: str = ""
    pagepath: str = ""
    at_wxids: list = field(default_factory=list)

    def payload(self) -> dict:
        out = {k: v for k, v in (("url", self.url), ("title", self.title), ("description", self.description),
                                  ("material_id", self.material_id), ("appid", self.appid),
                                  ("pagepath", self.pagepath)) if v not in (None, "")}
        if self.at_wxids:
            out["at_wxids"] = list(self.at_wxids)
        return out


@dataclass(frozen=True)
class Outcome:
    status: str  # a MESSAGE_STATES key
    reason: str = ""
    command_id: Optional[int] = None
    external_id: Optional[str] = None


# channel → fn(session, conversation, content, *, source, idempotency_key, now, settings) -> Outcome
Sender = Callable[..., Outcome]
_senders: dict[str, Sender] = {}


def register_sender(channel: str, sender: Sender) -> None:
    _senders[channel] = sender


def _wechat_sender(session: Session, conversation: Conversation, content: Content, *, source: str,
                   idempotency_key: Optional[str], now: datetime, settings=None) -> Outcome:
    kind = DEVICE_KINDS.get(content.msg_type)
    if kind is None:
        raise ConversationError(f"个人微信不支持发送该类型的消息：{content.msg_type}", {"msg_type": "不支持的消息类型"})
    payload = {"to": conversation.peer_id, **content.payload()}
    if content.text:
        payload["text"] = content.text
    try:
        command = issue_command(session, conversation.account_id, kind, payload, source=source,
                                idempotency_key=idempotency_key, customer_key=conversation.peer_id, now=now,
                                settings=settings)
    except CommandError as exc:
        raise ConversationError(exc.message, {"text": exc.message}) from None
    return Outcome(COMMAND_STATES.get(command.status, "queued"), command.reason or "", command.id)


register_sender("wechat", _wechat_sender)


def send(session: Session, conversation: Conversation, content: Content, *, user_id: Optional[int] = None,
         source: str = "manual", idempotency_key: Optional[str] = None, sender_name: str = "",
         extra_payload: Optional[dict] = None, now: Optional[datetime] = None, settings=None) -> ChatMessage:
    """Sends `content` in `conversation` and stores it as an outbound message, in the caller's transaction.
    Pass the services' `settings` so the risk budget paces with the configured gaps and quiet hours.
    A refusal by the risk budget is stored too (status refused, with its reason), never raised: the
    thread shows it. Bad content raises ConversationError (nothing written)."""
    now = now or utcnow()
    if content.msg_type == "text" and not (content.text or "").strip():
        raise ConversationError("消息内容不能为空", {"text": "消息内容不能为空"})
    sender = _senders.get(conversation.channel)
    if sender is None:
        raise ConversationError(f"该渠道暂不支持发送消息：{conversation.channel}")
    outcome = sender(session, conversation, content, source=source, idempotency_key=idempotency_key, now=now,
                     settings=settings)
    message, _new = record_message(session, NewMessage(
        channel=conversation.channel, account_id=conversation.account_id, kind=conversation.kind,
        peer_id=conversation.peer_id, direction="out", msg_type=content.msg_type, text=content.text or content.title,
        payload={**content.payload(), **(extra_payload or {})}, sent_at=now,
        external_id=outcome.external_id or (f"cmd:{outcome.command_id}" if outcome.command_id else None),
        sender_name=sender_name, status=outcome.status, reason=outcome.reason, command_id=outcome.command_id,
        user_id=user_id), now)
    return message


def message_state(message: ChatMessage, command: Optional[DeviceCommand]) -> tuple[str, str]:
    """(state, reason) of an outbound message now: its command's present status when it has one."""
    if command is None:
        return message.status, message.reason
    state = COMMAND_STATES.get(command.status, message.status)
    reason = command.error if state == "failed" else command.reason
    return state, (reason or "")

"""Replies to fans through the customer-service message API (客服消息), registered as the "mp" sender
of conversations.outbound.send.

The send is split so no API call happens inside the write transaction (house rule):
1. inside the caller's transaction the sender checks the 48 h window (from the conversation's
   last_inbound_at: past it, ConversationError "超过48小时客服消息窗口…", nothing stored) and the
   content, and answers Outcome("queued") with a fresh external id; send() stores the message queued;
2. after that transaction commits, the delivery runs on the integration's thread pool: it claims the
   queued message (a conditional UPDATE, so a repeated send with the same idempotency key delivers
   once), calls the API (uploading an image from 素材 first), and
3. writes sent / failed (with the errcode's Chinese reason) in a second short transaction, announced
   through conversations.store.announce so the chat console updates live.
Text, link (sent as a one-article news card) and image (素材 uploaded as temporary media) are
supported; mini-program cards need a thumbnail media id and are refused with a message."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import event, update
from sqlmodel import Session, select

from config.clock import as_utc, format_local
from conversations.errors import ConversationError
from conversations.models import ChatMessage, Conversation
from conversations.outbound import Content, Outcome, register_sender
from conversations.store import StoredMessage, announce
from devices.materials import materials_dir
from devices.models import Material
from integrations.errors import IntegrationError
from integrations.mp import runtime
from integrations.mp.client import MpClient
from integrations.mp.models import MpAccount

WINDOW = timedelta(hours=48)
TEXT_LIMIT = 2000  # the platform counts bytes of the JSON; 2,000 characters is safely inside it
CLAIM = "正在调用微信客服消息接口"
WINDOW_CLOSED = "超过48小时客服消息窗口，无法回复"


def window_open(conversation: Conversation, now: datetime) -> bool:
    return conversation.last_inbound_at is not None and as_utc(now) - as_utc(conversation.last_inbound_at) <= WINDOW


def window_message(conversation: Conversation) -> str:
    if conversation.last_inbound_at is None:
        return f"{WINDOW_CLOSED}：该粉丝还没有给公众号发过消息，须等粉丝先发消息或点击菜单。"
    return (f"{WINDOW_CLOSED}：粉丝最后一次互动在 {format_local(conversation.last_inbound_at)}，"
            "超过 48 小时后公众号只能等粉丝再次发消息才能回复。")


def _body(session: Session, conversation: Conversation, content: Content) -> dict:
    if content.msg_type == "text":
        text = content.text.strip()
        if len(text) > TEXT_LIMIT:
            raise ConversationError(f"公众号客服消息最多 {TEXT_LIMIT} 个字", {"text": f"最多 {TEXT_LIMIT} 个字"})
        return {"touser": conversation.peer_id, "msgtype": "text", "text": {"content": text}}
    if content.msg_type == "link":
        if not content.url.startswith(("https://", "http://")):
            raise ConversationError("链接须以 http:// 或 https:// 开头", {"url": "请填写完整的链接地址"})
        article = {"title": (content.title or content.url)[:64], "description": content.description[:120],
                   "url": content.url}
        return {"touser": conversation.peer_id, "msgtype": "news", "news": {"articles": [article]}}
    if content.msg_type == "image":
        if content.material_id is None or session.get(Material, content.material_id) is None:
            raise ConversationError("请从素材库选择要发送的图片", {"material_id": "请选择图片素材"})
        return {"touser": conversation.peer_id, "msgtype": "image", "image": {"material_id": content.material_id}}
    raise ConversationError("公众号客服消息支持文本、链接和图片", {"msg_type": "公众号暂不支持该消息类型"})


def mp_sender(session: Session, conversation: Conversation, content: Content, *, source: str,
              idempotency_key, now: datetime, settings=None) -> Outcome:
    account = session.get(MpAccount, conversation.account_id)
    if account is None or not account.enabled:
        raise ConversationError("该公众号未授权或已停用，无法回复")
    if conversation.kind != "private":
        raise ConversationError("公众号只能回复单个粉丝")
    if not window_open(conversation, now):
        message = window_message(conversation)
        raise ConversationError(message, {"text": message})
    body = _body(session, conversation, content)
    services = runtime.services_for(session)
    if services is None:
        raise ConversationError("公众号发送服务尚未启动（runtime.bind 未调用）")
    external_id = f"mpout:{idempotency_key or uuid.uuid4().hex}"[:64]
    _after_commit(session, services, account.id, external_id, body)
    return Outcome("queued", external_id=external_id)


def _after_commit(session: Session, services, account_id: int, external_id: str, body: dict) -> None:
    pending = session.info.setdefault("ckb_mp_outbox", [])
    pending.append((services, account_id, external_id, body))
    if len(pending) == 1:
        event.listen(session, "after_commit", _flush, once=True)
        event.listen(session, "after_soft_rollback", lambda s, _t: s.info.pop("ckb_mp_outbox", None), once=True)


def _flush(session: Session) -> None:
    for services, account_id, external_id, body in session.info.pop("ckb_mp_outbox", []):
        # On the pool: this commit may still hold SQLite's write turn, the delivery must not wait inside it.
        runtime.later(deliver, services, account_id, external_id, body)


def _claim(services, account_id: int, external_id: str):
    with services.db.write() as s:
        table = ChatMessage.__table__
        claimed = s.execute(update(table).where(
            table.c.channel == "mp", table.c.account_id == account_id, table.c.external_id == external_id,
            table.c.status == "queued", table.c.reason == "").values(reason=CLAIM)).rowcount
        if not claimed:
            return None
        return s.exec(select(ChatMessage).where(ChatMessage.channel == "mp", ChatMessage.account_id == account_id,
                                                ChatMessage.external_id == external_id)).one()


def _finish(services, message: ChatMessage, status: str, reason: str) -> None:
    with services.db.write() as s:
        row = s.get(ChatMessage, message.id)
        row.status, row.reason = status, reason[:500]
        s.add(row)
        conv = s.get(Conversation, row.conversation_id)
        announce(s, StoredMessage(row.id, row.conversation_id, row.channel, row.account_id, row.direction,
                                  conv.customer_id if conv else None))


def _media(services, client: MpClient, body: dict) -> dict:
    if body.get("msgtype") != "image":
        return body
    with services.db.read() as s:
        material = s.get(Material, body["image"]["material_id"])
    if material is None:
        raise IntegrationError("图片素材已被删除")
    path = materials_dir(services.settings) / material.stored_path
    media_id = client.upload_image(material.filename, path.read_bytes(), material.mime or "image/jpeg")
    return {**body, "image": {"media_id": media_id}}


def deliver(services, account_id: int, external_id: str, body: dict) -> str:
    """Calls the API for one queued reply; returns the final status (also after a crash-free refusal)."""
    message = _claim(services, account_id, external_id)
    if message is None:
        return "skipped"
    try:
        with services.db.read() as s:
            account = s.get(MpAccount, account_id)
        client = MpClient(services, account)
        client.send_custom(_media(services, client, body))
    except IntegrationError as exc:
        _finish(services, message, "failed", exc.message)
        return "failed"
    except OSError as exc:  # a 素材 file gone from disk
        _finish(services, message, "failed", f"读取图片素材失败：{type(exc).__name__}")
        return "failed"
    _finish(services, message, "sent", "")
    return "sent"


def fail_stale(services, older_than: timedelta = timedelta(minutes=10)) -> int:
    """Replies left queued by a process that stopped before delivering: marked failed with the reason
    (not re-sent — whether the platform got it is unknown, and a double reply is worse)."""
    cutoff = services.now() - older_than
    with services.db.write() as s:
        rows = s.exec(select(ChatMessage).where(ChatMessage.channel == "mp", ChatMessage.status == "queued",
                                                ChatMessage.created_at < cutoff)).all()
        for row in rows:
            row.status = "failed"
            row.reason = "发送结果未知（服务中断），请核实后重发" if row.reason == CLAIM else "服务中断，消息未发出，请重发"
            s.add(row)
    return len(rows)


register_sender("mp", mp_sender)

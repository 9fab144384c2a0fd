"""Answering in 触客宝: what staff compose (text with @ in groups, an image from 素材, a link, a
mini-program card, or a 内容库 item) becomes one `conversations.outbound.send` call, so the risk
budget, the stored message and its state are the same as for every other sender.

The browser generates one key per message it composes (`client_key`): a double click or a retried
request carries the same key, the device command is found by it (idempotency) and the stored
message by the command, so the customer gets the message once."""
from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Optional

from sqlmodel import Session, select

from conversations.chat_scope import get_conversation
from conversations.errors import ConversationError
from conversations.models import ChatMessage
from conversations.outbound import Content, send
from crm.scope import Viewer
from devices.models import ChatGroupMember, ContentItem, Material

KINDS = {"text": "文字", "image": "图片", "link": "链接", "miniprogram": "小程序", "content": "内容库"}
TEXT_MAX = 2000
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def _str(data: dict, name: str, limit: int) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, (str, int)):
        raise ConversationError("字段格式不正确", {name: "格式不正确"})
    text = str(value).strip()
    if len(text) > limit:
        raise ConversationError(f"内容过长（最多 {limit} 字）", {name: f"最多 {limit} 字"})
    return text


def _int(data: dict, name: str, label: str) -> int:
    try:
        value = int(data.get(name))
        if value <= 0 or value > 2**31:
            raise ValueError
        return value
    except (TypeError, ValueError):
        raise ConversationError(f"请选择{label}", {name: f"请选择{label}"}) from None


def _url(data: dict, name: str) -> str:
    url = _str(data, name, 1000)
    if not re.match(r"^https?://[^\s]+$", url):
        raise ConversationError("链接必须以 http:// 或 https:// 开头", {name: "链接无效"})
    return url


def _ats(session: Session, conversation, data: dict) -> list[str]:
    raw = data.get("at_wxids") or []
    if isinstance(raw, str):
        raw = [w for w in re.split(r"[\s,，]+", raw) if w]
    if not isinstance(raw, list) or not all(isinstance(w, str) for w in raw) or len(raw) > 50:
        raise ConversationError("@ 的成员格式不正确", {"at_wxids": "格式不正确"})
    if not raw:
        return []
    if conversation.kind != "group":
        raise ConversationError("只有群聊可以 @ 成员", {"at_wxids": "只有群聊可以 @ 成员"})
    members = set()
    if conversation.group_id:
        members = set(session.exec(select(ChatGroupMember.wxid).where(ChatGroupMember.group_id == conversation.group_id,
                                                                      ChatGroupMember.wxid.in_(raw))).all())
    unknown = [w for w in raw if w not in members]
    if unknown:
        raise ConversationError("@ 的成员不在群里：" + "、".join(unknown[:5]), {"at_wxids": "有成员不在群里"})
    return list(dict.fromkeys(raw))


def from_content_item(session: Session, item_id: int) -> tuple[Content, dict]:
    item = session.get(ContentItem, item_id)
    if item is None or not item.enabled:
        raise ConversationError("内容库素材不存在或已停用", {"content_item_id": "内容不存在"})
    link = dict(item.link or {})
    extra = {"content_item_id": item.id}
    if item.kind == "image" and item.material_ids:
        return Content("image", text=item.text, material_id=int(item.material_ids[0]), title=item.title), extra
    if item.kind == "link" and link.get("url"):
        return Content("link", url=link["url"], title=link.get("title") or item.title,
                       description=link.get("desc") or item.text[:200]), extra
    if item.kind == "miniprogram" and link.get("appid"):
        return Content("miniprogram", appid=link["appid"], pagepath=link.get("page") or "",
                       title=link.get("title") or item.title), extra
    return Content("text", text=item.text or item.title), extra


def parse(session: Session, conversation, data: dict) -> tuple[Content, dict]:
    """The Content staff composed; ConversationError names the bad field."""
    kind = data.get("kind") or "text"
    if kind not in KINDS:
        raise ConversationError("不支持的消息类型", {"kind": "不支持的消息类型"})
    if kind == "content":
        return from_content_item(session, _int(data, "content_item_id", "内容库素材"))
    if kind == "image":
        material_id = _int(data, "material_id", "图片素材")
        material = session.get(Material, material_id)
        if material is None or not (material.mime or "").startswith("image/"):
            raise ConversationError("图片素材不存在", {"material_id": "图片素材不存在"})
        return Content("image", material_id=material_id, title=material.filename), {}
    if kind == "link":
        title = _str(data, "title", 200)
        if not title:
            raise ConversationError("请填写链接标题", {"title": "请填写链接标题"})
        return Content("link", url=_url(data, "url"), title=title, description=_str(data, "description", 500)), {}
    if kind == "miniprogram":
        appid = _str(data, "appid", 64)
        if not re.match(r"^wx[0-9a-zA-Z]{6,30}$", appid):
            raise ConversationError("小程序 AppID 应以 wx 开头", {"appid": "AppID 无效"})
        return Content("miniprogram", appid=appid, pagepath=_str(data, "pagepath", 500),
                       title=_str(data, "title", 200) or "小程序"), {}
    text = _str(data, "text", TEXT_MAX)
    if not text:
        raise ConversationError("消息内容不能为空", {"text": "消息内容不能为空"})
    return Content("text", text=text, at_wxids=_ats(session, conversation, data)), {}


def client_key(raw) -> str:
    """The browser's per-message key, or a fresh one (then a retry is a new message)."""
    if raw in (None, ""):
        return uuid.uuid4().hex
    if not isinstance(raw, str) or not KEY_RE.match(raw):
        raise ConversationError("发送标识无效", {"client_key": "应为 8–64 位字母、数字、- 或 _"})
    return raw


def send_in_conversation(session: Session, viewer: Viewer, conversation_id, data: dict, *, user_id: Optional[int],
                         sender_name: str = "", now: Optional[datetime] = None, settings=None) -> ChatMessage:
    """Sends what `data` describes in a conversation `viewer` may open; returns the stored message
    (the same one for a repeated client_key). A deferral or refusal by the risk budget is the
    message's state, not an error."""
    conversation = get_conversation(session, viewer, conversation_id)
    key = f"chat:{user_id or 0}:{client_key(data.get('client_key'))}"
    content, extra = parse(session, conversation, data)
    return send(session, conversation, content, user_id=user_id, source="manual", idempotency_key=key,
                sender_name=sender_name, extra_payload={**extra, "client_key": key}, now=now, settings=settings)

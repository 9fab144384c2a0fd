"""What a 群发 sends: text (with ${变量}, rendered per friend), an image (素材), a link, a mini-program
card, a 内容库 item or a 快捷回复 (its text rendered per friend). Checked when the 群发 is saved; a
内容库 item or 快捷回复 is read again at send time, so an edit before the send goes out."""
from __future__ import annotations

from typing import Optional

from sqlmodel import Session

from conversations.errors import ConversationError
from conversations.ids import object_id
from conversations.outbound import Content
from conversations.quick_replies import variables
from conversations.quick_replies.models import QuickReply
from devices.models import ContentItem, Material

CONTENT_TYPES = {"text": "文本", "image": "图片", "link": "链接", "miniprogram": "小程序", "content": "内容库",
                 "quick_reply": "快捷回复"}
TEXT_MAX = 2000


def _id(raw, field: str, label: str) -> int:
    key = object_id(raw)
    if key is None:
        raise ConversationError(f"请选择{label}", {field: f"请选择{label}"})
    return key


def _str(raw: dict, name: str, limit: int) -> str:
    value = raw.get(name)
    return str(value).strip()[:limit] if value not in (None, "") else ""


def clean_content(session: Session, raw: dict) -> dict:
    raw = raw if isinstance(raw, dict) else {}
    kind = raw.get("msg_type") or "text"
    if kind not in CONTENT_TYPES:
        raise ConversationError("消息类型无效", {"msg_type": "消息类型只能是" + "/".join(CONTENT_TYPES.values())})
    if kind == "text":
        text = str(raw.get("text") or "")
        if not text.strip():
            raise ConversationError("请填写消息内容", {"text": "请填写消息内容"})
        if len(text) > TEXT_MAX:
            raise ConversationError(f"消息内容不能超过 {TEXT_MAX} 字", {"text": f"消息内容不能超过 {TEXT_MAX} 字"})
        variables.check(session, text)
        return {"msg_type": kind, "text": text}
    if kind == "image":
        key = _id(raw.get("material_id"), "material_id", "图片素材")
        if session.get(Material, key) is None:
            raise ConversationError(f"素材 #{key} 不存在", {"material_id": f"素材 #{key} 不存在"})
        return {"msg_type": kind, "material_id": key}
    if kind == "link":
        url = _str(raw, "url", 1000)
        if not url.startswith(("http://", "https://")):
            raise ConversationError("链接地址应以 http:// 或 https:// 开头", {"url": "链接地址应以 http:// 或 https:// 开头"})
        title = _str(raw, "title", 100)
        if not title:
            raise ConversationError("请填写链接标题", {"title": "请填写链接标题"})
        return {"msg_type": kind, "url": url, "title": title, "description": _str(raw, "description", 200)}
    if kind == "miniprogram":
        appid, title = _str(raw, "appid", 64), _str(raw, "title", 100)
        if not appid:
            raise ConversationError("请填写小程序 AppID", {"appid": "请填写小程序 AppID"})
        if not title:
            raise ConversationError("请填写小程序卡片标题", {"title": "请填写小程序卡片标题"})
        return {"msg_type": kind, "appid": appid, "pagepath": _str(raw, "pagepath", 500), "title": title}
    if kind == "content":
        key = _id(raw.get("content_item_id"), "content_item_id", "内容库条目")
        item = session.get(ContentItem, key)
        if item is None or not item.enabled:
            raise ConversationError(f"内容 #{key} 不存在或已停用", {"content_item_id": f"内容 #{key} 不存在或已停用"})
        resolve_item(item)  # an unsendable kind (朋友圈) is refused now, not at send time
        return {"msg_type": kind, "content_item_id": key}
    key = _id(raw.get("quick_reply_id"), "quick_reply_id", "快捷回复")
    if session.get(QuickReply, key) is None:
        raise ConversationError(f"快捷回复 #{key} 不存在", {"quick_reply_id": f"快捷回复 #{key} 不存在"})
    return {"msg_type": kind, "quick_reply_id": key}


def resolve_item(item: ContentItem) -> Content:
    link = item.link or {}
    if item.kind == "text":
        return Content("text", text=item.text)
    if item.kind == "image" and item.material_ids:
        return Content("image", text=item.text, material_id=int(item.material_ids[0]))
    if item.kind == "link" and link.get("url"):
        return Content("link", url=link["url"], title=link.get("title") or item.title,
                       description=link.get("desc") or link.get("description") or "")
    if item.kind == "miniprogram" and link.get("appid"):
        return Content("miniprogram", appid=link["appid"], pagepath=link.get("pagepath") or "",
                       title=link.get("title") or item.title)
    raise ConversationError(f"内容「{item.title}」（{item.kind}）不能用于 1:1 群发",
                            {"content_item_id": "该内容类型不能私聊发送"})


def content_for(session: Session, spec: dict, data: dict) -> tuple[Content, Optional[int]]:
    """The Content for one friend (`data`: their ${变量}) and the 快捷回复 it used, if any.
    ConversationError when the item or reply is gone (the recipient fails with that reason)."""
    kind = spec.get("msg_type")
    if kind == "text":
        return Content("text", text=variables.render(spec["text"], data)), None
    if kind == "image":
        return Content("image", material_id=spec["material_id"]), None
    if kind == "link":
        return Content("link", url=spec["url"], title=spec["title"], description=spec.get("description", "")), None
    if kind == "miniprogram":
        return Content("miniprogram", appid=spec["appid"], pagepath=spec.get("pagepath", ""), title=spec["title"]), None
    if kind == "content":
        item = session.get(ContentItem, spec["content_item_id"])
        if item is None or not item.enabled:
            raise ConversationError("内容库条目已删除或已停用")
        content = resolve_item(item)
        if content.text:
            content.text = variables.render(content.text, data) if "${" in content.text else content.text
        return content, None
    reply = session.get(QuickReply, spec.get("quick_reply_id"))
    if reply is None:
        raise ConversationError("快捷回复已删除")
    if not reply.text.strip():
        raise ConversationError("快捷回复没有文字内容")
    return Content("text", text=variables.render(reply.text, data)), reply.id


def summary(session: Session, spec: dict) -> str:
    kind = spec.get("msg_type")
    if kind == "text":
        return spec.get("text", "")[:60]
    if kind == "image":
        row = session.get(Material, spec.get("material_id"))
        return f"图片：{row.filename if row else '已删除'}"
    if kind in ("link", "miniprogram"):
        return f"{CONTENT_TYPES[kind]}：{spec.get('title', '')}"
    if kind == "content":
        row = session.get(ContentItem, spec.get("content_item_id"))
        return f"内容库：{row.title if row else '已删除'}"
    row = session.get(QuickReply, spec.get("quick_reply_id"))
    return f"快捷回复：{row.title if row else '已删除'}"

"""The seed's 群发 body, checked field by field: {"groupIds": [1001, 1002], "msgType": "text",
"content": "今晚8点有盲盒秒杀活动", "scheduledTime": "2025-03-03T20:00:00Z"}. Every problem is
named (Chinese, per field); nothing is written until the whole body is good.

content per msgType: text — the text; image — an image URL or {"url"} / {"materialId"};
link — a URL or {"url", "title", "desc", "thumb"}; miniprogram — {"appid", "title", "page", "thumb"};
any type may instead name a 内容库 item: {"contentId": 12}."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlparse

from community.errors import CommunityError
from community.groups.models import BROADCAST_TYPES
from config.clock import parse_iso_instant

FIELDS = ("groupIds", "msgType", "content", "scheduledTime")
MAX_TEXT = 2000


def _url(value, errors: dict, name: str = "content") -> str:
    if not isinstance(value, str) or urlparse(value.strip()).scheme not in ("http", "https") \
            or not urlparse(value.strip()).netloc or len(value) > 1000:
        errors[name] = "应为 http(s) 链接（最长 1000 字符）"
        return ""
    return value.strip()


def _str(obj: dict, key: str, errors: dict, limit: int = 200) -> str:
    value = obj.get(key, "")
    if not isinstance(value, str) or len(value) > limit:
        errors[f"content.{key}"] = f"应为字符串（最长 {limit} 字符）"
        return ""
    return value.strip()


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value < 2 ** 31 else None


def _content(msg_type: str, content, errors: dict) -> dict:
    if isinstance(content, dict) and "contentId" in content:
        cid = _int(content.get("contentId"))
        if cid is None:
            errors["content.contentId"] = "应为正整数（内容库内容ID）"
        return {"content_id": cid}
    if msg_type == "text":
        if not isinstance(content, str) or not content.strip():
            errors["content"] = "文字消息的 content 应为非空字符串"
        elif len(content) > MAX_TEXT:
            errors["content"] = f"文字最长 {MAX_TEXT} 字"
        return {"text": content.strip() if isinstance(content, str) else ""}
    if msg_type == "image":
        if isinstance(content, dict) and "materialId" in content:
            mid = _int(content.get("materialId"))
            if mid is None:
                errors["content.materialId"] = "应为正整数（素材ID）"
            return {"material_id": mid}
        return {"url": _url(content.get("url") if isinstance(content, dict) else content, errors)}
    if msg_type == "link":
        if isinstance(content, str):
            return {"url": _url(content, errors), "title": "", "desc": "", "thumb": ""}
        if not isinstance(content, dict):
            errors["content"] = "链接消息的 content 应为链接或 {url, title, desc, thumb}"
            return {}
        return {"url": _url(content.get("url"), errors, "content.url"), "title": _str(content, "title", errors),
                "desc": _str(content, "desc", errors, 500), "thumb": _str(content, "thumb", errors, 1000)}
    if not isinstance(content, dict):
        errors["content"] = "小程序消息的 content 应为 {appid, title, page, thumb}"
        return {}
    appid = _str(content, "appid", errors, 64)
    if not appid and "content.appid" not in errors:
        errors["content.appid"] = "请填写小程序 appid"
    return {"appid": appid, "title": _str(content, "title", errors), "page": _str(content, "page", errors, 500),
            "thumb": _str(content, "thumb", errors, 1000)}


def read_body(data: dict, max_groups: int) -> tuple[list[int], str, dict, datetime | None]:
    """(group ids, msg type, normalised content, scheduled time or None for now)."""
    errors: dict = {}
    unknown = sorted(set(data) - set(FIELDS))
    for key in unknown:
        errors[key] = "未知字段"
    ids = data.get("groupIds")
    if not isinstance(ids, list) or not ids:
        errors["groupIds"] = "groupIds 应为非空整数数组"
        ids = []
    elif len(ids) > max_groups:
        errors["groupIds"] = f"一次最多 {max_groups} 个群（收到 {len(ids)} 个）"
    elif any(_int(i) is None for i in ids):
        errors["groupIds"] = "groupIds 的每一项应为正整数"
    elif len(set(ids)) != len(ids):
        errors["groupIds"] = "groupIds 有重复的群"
    msg_type = data.get("msgType")
    if msg_type not in BROADCAST_TYPES:
        errors["msgType"] = "msgType 应为 " + " / ".join(BROADCAST_TYPES) + " 之一"
        content = {}
    else:
        content = _content(msg_type, data.get("content"), errors)
    scheduled = None
    raw = data.get("scheduledTime")
    if raw not in (None, ""):
        scheduled = parse_iso_instant(raw) if isinstance(raw, str) else None
        if scheduled is None:
            errors["scheduledTime"] = "scheduledTime 应为带时区的 ISO 8601 时间，如 2025-03-03T20:00:00Z"
    if errors:
        raise CommunityError("请求数据有误：" + "；".join(f"{k} {v}" for k, v in errors.items()), errors)
    return [int(i) for i in ids], msg_type, content, scheduled

"""内容库: reusable texts, pictures, links and mini-program cards, each with tags and a category,
that 朋友圈同步, 群发 and replies pick from; and 朋友圈采集 — the moments of chosen friends, as
reported by the phones, saved as content to reuse (on demand, or for every marked friend)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from sqlalchemy import func, or_
from sqlmodel import Session, select

from devices.models import ContentItem, Friend, Material, Moment

KIND_LABELS = {"text": "文本", "image": "图片", "link": "链接", "miniprogram": "小程序", "moment": "朋友圈"}
SOURCE_LABELS = {"manual": "手动创建", "collected": "朋友圈采集"}
# Friends carrying this server-side label have their moments collected automatically.
COLLECT_TAG = "朋友圈采集"
MAX_TAGS = 20


class ContentError(ValueError):
    def __init__(self, message: str, errors: Optional[dict] = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


@dataclass
class ContentQuery:
    keyword: str = ""
    kind: str = ""
    category: str = ""
    tag: str = ""
    source: str = ""


def _split(value) -> list[str]:
    if isinstance(value, str):
        value = value.replace("，", ",").replace("\n", ",").split(",")
    out: list[str] = []
    for item in value or []:
        word = str(item).strip()
        if word and word not in out:
            out.append(word[:30])
    return out


def _ids(value) -> list[int]:
    if isinstance(value, str):
        value = value.replace("，", ",").split(",")
    out: list[int] = []
    for item in value or []:
        text = str(item).strip()
        if text.isdigit() and int(text) not in out:
            out.append(int(text))
    return out


def validate_item(session: Session, data: dict) -> dict:
    errors: dict[str, str] = {}
    kind = str(data.get("kind") or "text")
    if kind not in KIND_LABELS:
        errors["kind"] = "未知的内容类型"
    title = str(data.get("title") or "").strip()
    if not title:
        errors["title"] = "请填写标题"
    elif len(title) > 200:
        errors["title"] = "标题不能超过 200 个字"
    text = str(data.get("text") or "").strip()
    if len(text) > 5000:
        errors["text"] = "正文不能超过 5000 个字"
    material_ids = _ids(data.get("material_ids"))
    if material_ids:
        known = set(session.exec(select(Material.id).where(Material.id.in_(material_ids))).all())
        if set(material_ids) - known:
            errors["material_ids"] = "所选素材不存在：" + "、".join(str(i) for i in material_ids if i not in known)
    if len(material_ids) > 9:
        errors["material_ids"] = "最多 9 张图片"
    link = {k: str(data.get(f"link_{k}") or (data.get("link") or {}).get(k) or "").strip()
            for k in ("url", "title", "desc", "thumb", "appid", "page")}
    link = {k: v for k, v in link.items() if v}
    if kind == "text" and not text:
        errors["text"] = "文本内容不能为空"
    if kind == "image" and not material_ids:
        errors["material_ids"] = "请至少选择一张图片素材"
    if kind == "link":
        if not link.get("url", "").startswith(("http://", "https://")):
            errors["link_url"] = "链接地址须以 http:// 或 https:// 开头"
        if not link.get("title"):
            errors["link_title"] = "请填写链接标题"
    if kind == "miniprogram":
        if not link.get("appid"):
            errors["link_appid"] = "请填写小程序 AppID"
        if not link.get("title"):
            errors["link_title"] = "请填写卡片标题"
    tags = _split(data.get("tags"))
    if len(tags) > MAX_TAGS:
        errors["tags"] = f"标签最多 {MAX_TAGS} 个"
    category = str(data.get("category") or "").strip()
    if len(category) > 50:
        errors["category"] = "分类不能超过 50 个字"
    if errors:
        raise ContentError("内容有误，请检查标红的项", errors)
    return {"kind": kind, "title": title, "text": text, "material_ids": material_ids, "link": link, "tags": tags,
            "category": category, "enabled": bool(data.get("enabled", True))}


def create_item(session: Session, data: dict, now=None) -> ContentItem:
    item = ContentItem(**validate_item(session, data), **({"created_at": now} if now else {}))
    session.add(item)
    session.flush()
    return item


def get_item(session: Session, item_id: int) -> ContentItem:
    item = session.get(ContentItem, item_id)
    if item is None:
        raise ContentError("内容不存在或已删除")
    return item


def update_item(session: Session, item_id: int, data: dict) -> ContentItem:
    item = get_item(session, item_id)
    clean = validate_item(session, data)
    if item.source == "collected" and "link" not in data and not any(k.startswith("link_") for k in data):
        clean["link"] = item.link  # a collected moment keeps its media list
    for key, value in clean.items():
        setattr(item, key, value)
    session.add(item)
    return item


def delete_item(session: Session, item_id: int) -> None:
    item = get_item(session, item_id)
    if item.source_moment_id:
        moment = session.get(Moment, item.source_moment_id)
        if moment is not None:
            moment.collected = False  # it can be collected again
            session.add(moment)
    session.delete(item)


def search_items(session: Session, q: ContentQuery, page: int = 1, per_page: int = 20) -> tuple[list[ContentItem], int]:
    conditions = []
    if q.keyword:
        like = f"%{q.keyword.strip()}%"
        conditions.append(or_(ContentItem.title.like(like), ContentItem.text.like(like)))
    for column, value in ((ContentItem.kind, q.kind), (ContentItem.category, q.category),
                          (ContentItem.source, q.source)):
        if value:
            conditions.append(column == value)
    rows = list(session.exec(select(ContentItem).where(*conditions)
                             .order_by(ContentItem.created_at.desc(), ContentItem.id.desc())).all())
    if q.tag:  # tags are a short JSON list; filtering here keeps one query on both databases
        rows = [r for r in rows if q.tag in (r.tags or [])]
    return rows[(page - 1) * per_page: page * per_page], len(rows)


def facets(session: Session) -> tuple[list[str], list[str]]:
    """(categories, tags) in use, for the filters."""
    categories = sorted(c for c in session.exec(select(ContentItem.category).distinct()).all() if c)
    tags: set[str] = set()
    for row in session.exec(select(ContentItem.tags)).all():
        tags.update(row or [])
    return categories, sorted(tags)


# -- 朋友圈采集 ------------------------------------------------------------------------------------

def set_collecting(session: Session, friend_ids: Iterable[int], on: bool) -> int:
    changed = 0
    for friend in session.exec(select(Friend).where(Friend.id.in_(list(friend_ids)))).all():
        tags = list(friend.tags or [])
        if on and COLLECT_TAG not in tags:
            tags.append(COLLECT_TAG)
        elif not on and COLLECT_TAG in tags:
            tags.remove(COLLECT_TAG)
        else:
            continue
        friend.tags = tags
        session.add(friend)
        changed += 1
    return changed


def collecting_friends(session: Session) -> list[Friend]:
    rows = session.exec(select(Friend).where(Friend.deleted_at.is_(None)).order_by(Friend.account_id, Friend.id)).all()
    return [f for f in rows if COLLECT_TAG in (f.tags or [])]


def list_moments(session: Session, *, collected: Optional[bool] = None, account_id: Optional[int] = None,
                 page: int = 1, per_page: int = 20) -> tuple[list[Moment], int]:
    conditions = []
    if collected is not None:
        conditions.append(Moment.collected.is_(collected))
    if account_id is not None:
        conditions.append(Moment.account_id == account_id)
    total = session.exec(select(func.count()).select_from(Moment).where(*conditions)).one()
    rows = session.exec(select(Moment).where(*conditions).order_by(Moment.posted_at.desc(), Moment.id.desc())
                        .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def collect_moment(session: Session, moment_id: int, now=None) -> ContentItem:
    """The moment as a 内容库 item (kind 朋友圈, media URLs in link.media); once per moment."""
    moment = session.get(Moment, moment_id)
    if moment is None:
        raise ContentError("朋友圈不存在或已删除")
    existing = session.exec(select(ContentItem).where(ContentItem.source_moment_id == moment.id)).first()
    if existing is not None:
        return existing
    friend = session.exec(select(Friend).where(Friend.account_id == moment.account_id,
                                               Friend.wxid == moment.friend_wxid)).first()
    who = (friend.remark or friend.nickname) if friend else moment.friend_wxid
    first_line = (moment.text or "").strip().splitlines()[0][:40] if (moment.text or "").strip() else "（无文字）"
    item = ContentItem(kind="moment", title=f"{who}：{first_line}"[:200], text=moment.text or "",
                       link={"media": list(moment.media or [])} if moment.media else {}, tags=[COLLECT_TAG],
                       source="collected", source_moment_id=moment.id, **({"created_at": now} if now else {}))
    moment.collected = True
    session.add_all([item, moment])
    session.flush()
    return item


def collect_marked(session: Session, now=None, limit: int = 500) -> int:
    """Collects every not-yet-collected moment of a marked friend; returns how many were saved."""
    marked = {(f.account_id, f.wxid) for f in collecting_friends(session)}
    if not marked:
        return 0
    wxids = {w for _, w in marked}
    moments = session.exec(select(Moment).where(Moment.collected.is_(False), Moment.friend_wxid.in_(wxids))
                           .order_by(Moment.posted_at, Moment.id).limit(limit)).all()
    saved = 0
    for moment in moments:
        if (moment.account_id, moment.friend_wxid) in marked:
            collect_moment(session, moment.id, now)
            saved += 1
    return saved


def item_message(session: Session, config: dict, to: str) -> tuple[str, dict]:
    """(command kind, payload) sending `config`'s text or 内容库 item (content_id) to `to` (a chatroom
    or a wxid): the one mapping of content kinds to send_* commands (社群推送, 群发助手)."""
    item = session.get(ContentItem, int(config["content_id"])) if config.get("content_id") else None
    if config.get("content_id") and (item is None or not item.enabled):
        raise ContentError(f"内容库内容 #{config['content_id']} 不存在或已停用")
    if item is None or item.kind in ("text", "moment"):
        return "send_text", {"to": to, "text": config.get("text") or (item.text if item else "")}
    if item.kind == "link":
        link = item.link or {}
        return "send_link", {"to": to, "url": link.get("url", ""), "title": link.get("title") or item.title,
                             "desc": link.get("desc", ""), "thumb": link.get("thumb", "")}
    if item.kind == "miniprogram":
        card = item.link or {}
        return "send_miniprogram", {"to": to, "appid": card.get("appid", ""), "title": card.get("title") or item.title,
                                    "page": card.get("page", ""), "thumb": card.get("thumb", "")}
    return "send_image", {"to": to, "material_id": (item.material_ids or [None])[0]}

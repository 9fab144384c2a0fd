"""Who a 群发 reaches: friends (not deleted) of the accounts the sender may use, chosen
- by tag: friends whose linked customer holds one of the chosen CRM tags (unexpired) or who carry
  one of the chosen WeChat labels (Friend.tags) — either matches;
- by audience: friends linked to a customer of a 客户群 spec (include/exclude tags and conditions,
  crm.customers.audience — the same spec 定向营销 and the grouping rules use);
- by account: every friend of the chosen accounts.
A friend is one (account, wxid); the same person on two of our accounts is two recipients, each
messaged from its own account, as a person would see it."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import or_
from sqlmodel import Session, col, select

from conversations.broadcast.models import TARGET_MODES
from conversations.errors import ConversationError
from conversations.ids import id_list
from crm.customers.audience import audience_select, validate_spec
from crm.tags.models import CustomerTag, Tag
from devices.models import Friend, WechatAccount

MAX_LABELS = 50


def clean_target(session: Session, raw: dict, account_clause, tz: Optional[str] = None) -> dict:
    """A checked copy of the target spec; ConversationError naming the field otherwise."""
    raw = raw if isinstance(raw, dict) else {}
    mode = raw.get("mode") or "tags"
    if mode not in TARGET_MODES:
        raise ConversationError("发送对象只能按标签、客户群或微信号选择", {"mode": "发送对象方式无效"})
    if mode == "tags":
        tag_ids = id_list(raw.get("tag_ids"), "tag_ids", "客户标签")
        labels = raw.get("labels") or []
        if isinstance(labels, str):
            labels = [x for x in labels.replace("，", ",").split(",")]
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise ConversationError("微信标签有误", {"labels": "微信标签应为文字列表"})
        labels = list(dict.fromkeys(x.strip()[:50] for x in labels if x.strip()))[:MAX_LABELS]
        if not tag_ids and not labels:
            raise ConversationError("请选择客户标签或填写微信标签", {"tag_ids": "请选择至少一个标签"})
        known = set(session.exec(select(Tag.id).where(col(Tag.id).in_(tag_ids)))) if tag_ids else set()
        missing = [t for t in tag_ids if t not in known]
        if missing:
            raise ConversationError(f"标签 {missing} 不存在", {"tag_ids": f"标签 {missing} 不存在"})
        return {"mode": mode, "tag_ids": tag_ids, "labels": labels}
    if mode == "audience":
        spec = raw.get("audience") if isinstance(raw.get("audience"), dict) else {}
        spec = {"mode": "conditions", "rows": spec.get("rows") or [],
                "include_tags": id_list(spec.get("include_tags"), "include_tags", "包含标签"),
                "exclude_tags": id_list(spec.get("exclude_tags"), "exclude_tags", "排除标签")}
        try:
            validate_spec(session, spec, tz)
        except Exception as exc:  # noqa: BLE001 - CrmError or a condition error: both name what is wrong
            message = getattr(exc, "message", str(exc))
            raise ConversationError(f"客户群条件有误：{message}", {"audience": message}) from None
        return {"mode": mode, "audience": spec}
    account_ids = id_list(raw.get("account_ids"), "account_ids", "微信号")
    if not account_ids:
        raise ConversationError("请选择微信号", {"account_ids": "请选择至少一个微信号"})
    mine = set(session.exec(select(WechatAccount.id).where(col(WechatAccount.id).in_(account_ids), account_clause)))
    missing = [a for a in account_ids if a not in mine]
    if missing:  # another's account reads as unknown
        raise ConversationError(f"微信号 {missing} 不存在或无权使用", {"account_ids": f"微信号 {missing} 不存在或无权使用"})
    return {"mode": mode, "account_ids": account_ids}


def friends_select(session: Session, target: dict, account_clause, now: datetime, tz: Optional[str] = None):
    """SELECT of the Friend rows a (clean) target reaches, in a stable order; with WeChat labels, all
    friends of the accounts (`recipients` keeps those with a label or a chosen tag)."""
    stmt = (select(Friend).where(col(Friend.deleted_at).is_(None),
                                 col(Friend.account_id).in_(select(WechatAccount.id).where(account_clause)))
            .order_by(Friend.account_id, Friend.id))
    mode = target.get("mode")
    if mode == "tags":
        if target.get("labels"):  # labels live in a JSON list: narrowed in Python (recipients)
            return stmt
        tagged = select(CustomerTag.customer_id).where(
            col(CustomerTag.tag_id).in_(target.get("tag_ids") or []),
            or_(col(CustomerTag.expires_at).is_(None), CustomerTag.expires_at > now))
        return stmt.where(col(Friend.customer_id).in_(tagged))
    if mode == "audience":
        return stmt.where(col(Friend.customer_id).in_(audience_select(session, target["audience"], now, tz)))
    return stmt.where(col(Friend.account_id).in_(target.get("account_ids") or []))


def matches(friend: Friend, target: dict, tagged_customer: bool) -> bool:
    if target.get("mode") != "tags":
        return True
    labels = set(target.get("labels") or [])
    return tagged_customer or bool(labels & set(friend.tags or []))


def recipients(session: Session, target: dict, account_clause, now: datetime, tz: Optional[str] = None) -> list[Friend]:
    """The friends a target reaches (see module doc)."""
    rows = list(session.exec(friends_select(session, target, account_clause, now, tz)))
    if target.get("mode") != "tags" or not target.get("labels"):
        return rows
    tagged: set[int] = set()
    if target.get("tag_ids"):
        tagged = set(session.exec(select(CustomerTag.customer_id).where(
            col(CustomerTag.tag_id).in_(target["tag_ids"]),
            or_(col(CustomerTag.expires_at).is_(None), CustomerTag.expires_at > now))))
    return [f for f in rows if matches(f, target, f.customer_id in tagged)]

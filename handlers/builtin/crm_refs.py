"""What a CRM step's settings point at — tags, customer groups, staff, message templates — given
by id or by name, so a marketer can type "VIP客户组" or "3", or take it from the event (${tagName}).
A name that matches nothing, or several things, stops the step with that name in the message."""
from __future__ import annotations

from sqlmodel import Session, col, or_, select

from crm.groups.models import CustomerGroup
from crm.people.models import User
from crm.sales.models import MessageTemplate
from crm.tags.models import Tag
from handlers.builtin.recipients import split_recipients
from handlers.errors import PermanentError


def _as_id(text: str):
    return int(text) if text.isdigit() else None


def resolve_tags(session: Session, raw: str) -> list[Tag]:
    """Tags by id or name (comma separated). Personal tags belong to one user and are never used."""
    entries = split_recipients(raw)
    if not entries:
        raise PermanentError("未指定标签")
    found: list[Tag] = []
    for entry in entries:
        tag_id = _as_id(entry)
        where = Tag.id == tag_id if tag_id is not None else Tag.name == entry
        tags = list(session.exec(select(Tag).where(where, Tag.kind != "personal")).all())
        if not tags:
            raise PermanentError(f"标签不存在：{entry}")
        if len(tags) > 1:
            ids = "、".join(str(t.id) for t in tags)
            raise PermanentError(f"有多个名为「{entry}」的标签（ID {ids}），请改填标签ID")
        if tags[0] not in found:
            found.append(tags[0])
    return found


def resolve_group(session: Session, raw: str) -> CustomerGroup:
    text = (raw or "").strip()
    if not text:
        raise PermanentError("未指定客户分组")
    group_id = _as_id(text)
    group = session.exec(select(CustomerGroup).where(
        CustomerGroup.id == group_id if group_id is not None else CustomerGroup.name == text)).first()
    if group is None:
        raise PermanentError(f"客户分组不存在：{text}")
    return group


def resolve_user(session: Session, raw: str, what: str = "用户") -> User:
    """A staff member by username (or id); disabled accounts cannot receive work."""
    text = (raw or "").strip()
    user_id = _as_id(text)
    user = session.exec(select(User).where(or_(User.username == text, User.id == user_id) if user_id is not None
                                           else User.username == text)).first()
    if user is None:
        raise PermanentError(f"{what}不存在：{text}")
    if not user.enabled:
        raise PermanentError(f"{what}「{user.display_name or user.username}」已停用")
    return user


def resolve_template(session: Session, raw: str) -> MessageTemplate:
    text = (raw or "").strip()
    if not text:
        raise PermanentError("未指定消息模板")
    template_id = _as_id(text)
    where = [MessageTemplate.code == text] + ([MessageTemplate.id == template_id] if template_id is not None else [])
    template = session.exec(select(MessageTemplate).where(or_(*where)).order_by(
        col(MessageTemplate.code) != text)).first()
    if template is None:
        raise PermanentError(f"消息模板不存在：{text}")
    if not template.enabled:
        raise PermanentError(f"消息模板「{template.name}」已停用")
    return template

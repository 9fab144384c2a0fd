"""客户档案 批量操作: 移入回收站 (and back to the pool), 打标签 / 移除标签, 加入分组, 分配给业务员, 退回小组公海 / 公司公海 —
one entry point that the console's action bar and /api/v1 both call, so which customers an action
may touch (crm.scope) and what each action needs (a group, a salesperson, tags) are decided once.

`run_bulk` works inside the caller's write Session: a refusal raises CrmError (NotFound for
customers, groups or tags the viewer may not see) before anything is written, and a failure half
way rolls the whole unit of work back, so a batch is all or nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from sqlmodel import Session

from crm.customers.models import Customer
from crm.errors import CrmError, NotFound
from crm.scope import Viewer, visible_ids

# action key → (label, permission the caller must hold)
ACTIONS = {"recycle": ("移入回收站", "customers.manage"), "tag": ("打标签", "tags.apply"),
           "untag": ("移除标签", "tags.apply"), "group": ("加入分组", "customers.manage"),
           "assign": ("分配给业务员", "customers.manage"), "release_group": ("退回小组公海", "customers.manage"),
           "release_company": ("退回公司公海", "customers.manage"),
           "restore": ("从回收站退回公海", "customers.manage")}
NEEDS_GROUP = ("group", "assign", "release_group")
MAX_IDS = 1000


@dataclass
class BulkAction:
    action: str
    ids: list
    group_id: Optional[int] = None
    user_id: Optional[int] = None
    tag_ids: list = field(default_factory=list)
    reason: str = ""


def _customers(session: Session, viewer: Viewer, ids: list, strict: bool) -> list[int]:
    """The viewer's customers among `ids`. strict (the API): any other id is refused as unknown,
    naming it; otherwise (the console's ticked rows) the others are dropped."""
    if len(ids) > MAX_IDS:
        raise CrmError(f"一次最多操作 {MAX_IDS} 位客户", {"ids": f"最多 {MAX_IDS} 个"})
    visible = visible_ids(session, viewer, Customer, ids)
    if strict:
        missing = [i for i in dict.fromkeys(ids) if i not in set(visible)]
        if missing:
            shown = "、".join(str(i) for i in missing[:20])
            raise NotFound(f"客户 {shown} 不存在或无权查看", {"ids": f"客户 {shown} 不存在或无权查看"})
    if not visible:
        raise CrmError("请先勾选客户")
    return visible


def run_bulk(session: Session, viewer: Viewer, req: BulkAction, *, strict: bool = False,
             now: Optional[datetime] = None, tz: str | None = None) -> int:
    """Runs one bulk action on the viewer's customers; returns how many changed."""
    from crm.groups import membership
    from crm.tags.apply import apply_tags, remove_tags

    if req.action not in ACTIONS:
        raise CrmError("未知的批量操作", {"action": "操作只能是 " + "、".join(ACTIONS)})
    if req.action in NEEDS_GROUP and req.group_id is None:
        raise CrmError("请选择客户分组", {"group_id": "必填"})
    if req.action == "assign" and not req.user_id:
        raise CrmError("请选择要分配给的业务员", {"user_id": "必填"})
    if req.action in ("tag", "untag") and not req.tag_ids:
        raise CrmError("请选择标签", {"tag_ids": "至少选择一个标签"})
    ids = _customers(session, viewer, list(req.ids), strict)
    uid = viewer.user_id
    if req.action == "recycle":
        return membership.move_to_recycle_bin(session, ids, uid, req.reason or "手动移入回收站", now=now)
    if req.action == "group":
        return membership.add_to_group(session, ids, req.group_id, uid, now=now)
    if req.action == "assign":
        return membership.assign(session, ids, req.group_id, req.user_id, uid, now=now)
    if req.action == "release_group":
        return membership.release_to_group_pool(session, ids, req.group_id, uid, now=now)
    if req.action == "release_company":
        return membership.release_to_company_pool(session, ids, uid, now=now)
    if req.action == "restore":
        return membership.restore_from_recycle_bin(session, ids, uid, now=now)
    apply = apply_tags if req.action == "tag" else remove_tags
    return apply(session, ids, req.tag_ids, uid, source="manual", now=now, tz=tz)

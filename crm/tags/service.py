"""标签: global auto tags (the system applies them by rule), global manual tags (staff apply
them), and personal tags (only their owner sees and uses them), each with a category, a
validity in natural days, a score and an on/off switch; an auto tag's rule is an audience
(condition rows over customer fields, 包含标签 / 不包含标签, or a custom read-only SQL).

Functions take a Session (inside `services.db.write()` / `.read()`) except `preview_rule`, which
takes the Database because custom SQL runs on its own read-only connection. `viewer_id` is the
signed-in user: a personal tag of someone else behaves as if it did not exist.
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy import delete, func, insert, literal, or_, select
from sqlmodel import Session

from config.clock import utcnow
from config.db import Database
from crm.customers import audience
from crm.errors import CrmError, NotFound
from crm.tags import scores
from crm.tags.categories import descendant_ids, get_category
from crm.tags.models import TAG_KINDS, CustomerTag, ObjectTag, Tag, TagCategory, TagHistory
from crm.tags.ordering import find_cycle, rule_dependencies

MAX_VALIDITY_DAYS = 36_500


def visible_clause(viewer_id: int | None):
    """Tags a user may see: every global tag, and their own personal tags."""
    return or_(Tag.kind != "personal", Tag.owner_id == viewer_id) if viewer_id is not None else Tag.kind != "personal"


def get_tag(session: Session, tag_id: int, viewer_id: int | None = None) -> Tag:
    tag = session.get(Tag, tag_id)
    if tag is None or (tag.kind == "personal" and tag.owner_id != viewer_id):
        raise NotFound("标签不存在")
    return tag


def list_tags(session: Session, viewer_id: int | None, category_id: int | None = None,
              include_children: bool = True, keyword: str = "", kind: str = "",
              page: int = 1, per_page: int = 20, object_type: str | None = None) -> tuple[list[dict], int]:
    """A page of 标签列表 rows {"tag", "category", "count"} and the total (of one 适用对象 when given)."""
    stmt = select(Tag).where(visible_clause(viewer_id))
    if object_type:
        stmt = stmt.where(Tag.category_id.in_(select(TagCategory.id).where(TagCategory.object_type == object_type)))
    if category_id:
        ids = descendant_ids(session, category_id) if include_children else [category_id]
        stmt = stmt.where(Tag.category_id.in_(ids))
    if keyword.strip():
        stmt = stmt.where(Tag.name.contains(keyword.strip(), autoescape=True))
    if kind in TAG_KINDS:
        stmt = stmt.where(Tag.kind == kind)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    tags = list(session.scalars(stmt.order_by(Tag.category_id, Tag.id).offset((page - 1) * per_page).limit(per_page)))
    ids = [t.id for t in tags]
    counts = dict(session.execute(select(CustomerTag.tag_id, func.count()).where(CustomerTag.tag_id.in_(ids))
                                  .group_by(CustomerTag.tag_id)).all()) if ids else {}
    names = dict(session.execute(select(TagCategory.id, TagCategory.name)).all())
    return [{"tag": t, "category": names.get(t.category_id, ""), "count": counts.get(t.id, 0)} for t in tags], total


def choices(session: Session, viewer_id: int | None, kinds: tuple[str, ...] = TAG_KINDS) -> list[Tag]:
    """Every customer tag a user may pick (包含标签 pickers, bulk 打标签), enabled ones first by name."""
    return list(session.scalars(select(Tag).where(visible_clause(viewer_id), Tag.kind.in_(kinds), _for_customers())
                                .order_by(Tag.enabled.desc(), Tag.name)))


def _for_customers():
    """Tags of 客户档案 categories (商品/公司 tags are crm.tags.objects')."""
    return Tag.category_id.in_(select(TagCategory.id).where(TagCategory.object_type == "customer"))


def _int(value, field: str, label: str, errors: dict, minimum=None, maximum=None, blank=None):
    if value in (None, ""):
        return blank
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors[field] = f"{label}应为整数"
        return blank
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        errors[field] = f"{label}应在 {minimum} 到 {maximum} 之间"
    return number


def _clean(session: Session, data: dict, tag: Tag | None, viewer_id: int | None) -> dict:
    errors: dict = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = "请填写标签名称"
    elif len(name) > 100:
        errors["name"] = "标签名称最多 100 个字"
    kind = str(data.get("kind") or (tag.kind if tag else "manual"))
    if kind not in TAG_KINDS:
        errors["kind"] = "标签类型只能是 全局自动标签、全局手动标签 或 个人标签"
    elif tag is not None and (kind == "personal") != (tag.kind == "personal"):
        errors["kind"] = "个人标签与全局标签不能互相转换，请新建标签"
    category_id = _int(data.get("category_id"), "category_id", "所属分类", errors)
    if category_id is None and "category_id" not in errors:
        errors["category_id"] = "请选择所属分类"
    elif category_id is not None:
        try:
            if get_category(session, category_id).object_type != "customer" and kind == "auto":
                errors["kind"] = "商品和公司的标签只能是手动标签或个人标签（自动标签的规则按客户筛选）"
        except NotFound:
            errors["category_id"] = "所属分类不存在"
    validity = _int(data.get("validity_days"), "validity_days", "有效期", errors, 1, MAX_VALIDITY_DAYS)
    score = _int(data.get("score"), "score", "分值", errors, -10_000, 10_000, blank=0)
    enabled = data.get("enabled", True)
    enabled = enabled if isinstance(enabled, bool) else str(enabled) in ("1", "true", "True", "on", "是")
    if not errors:
        same = select(Tag.id).where(Tag.category_id == category_id, Tag.name == name, visible_clause(viewer_id))
        if tag is not None:
            same = same.where(Tag.id != tag.id)
        if session.scalar(same) is not None:
            errors["name"] = f"该分类下已有标签「{name}」"
    if errors:
        raise CrmError("请检查标签的填写", errors)
    return {"name": name, "kind": kind, "category_id": category_id, "validity_days": validity,
            "score": score, "enabled": enabled}


def create_tag(session: Session, data: dict, creator_id: int | None, now=None) -> Tag:
    values = _clean(session, data, None, creator_id)
    if values["kind"] == "personal" and creator_id is None:
        raise CrmError("个人标签需要创建人", {"kind": "个人标签只能由登录用户创建"})
    now = now or utcnow()
    tag = Tag(**values, owner_id=creator_id if values["kind"] == "personal" else None,
              created_at=now, updated_at=now)
    session.add(tag)
    session.flush()
    return tag


def update_tag(session: Session, tag_id: int, data: dict, viewer_id: int | None, now=None) -> Tag:
    """Saves the form; a changed score or on/off switch moves every holder's tag_score with it."""
    tag = get_tag(session, tag_id, viewer_id)
    values = _clean(session, data, tag, viewer_id)
    before = tag.score if tag.enabled else 0
    after = values["score"] if values["enabled"] else 0
    for key, value in values.items():
        setattr(tag, key, value)
    tag.updated_at = now or utcnow()
    session.add(tag)
    session.flush()
    scores.shift(session, after - before, tag_id=tag.id)
    return tag


def set_enabled(session: Session, tag_ids: list[int], enabled: bool, viewer_id: int | None) -> int:
    changed = 0
    for tag_id in tag_ids:  # a handful of ticked tags; each shift is one set-based UPDATE
        tag = get_tag(session, tag_id, viewer_id)
        if tag.enabled == enabled:
            continue
        tag.enabled = enabled
        session.add(tag)
        session.flush()
        scores.shift(session, tag.score if enabled else -tag.score, tag_id=tag.id)
        changed += 1
    return changed


def _referenced_by(session: Session, tag_id: int) -> list[str]:
    rows = session.execute(select(Tag.name, Tag.rule).where(Tag.kind == "auto", Tag.id != tag_id)).all()
    return [name for name, rule in rows if tag_id in rule_dependencies(rule)]


def delete_tag(session: Session, tag_id: int, viewer_id: int | None, now=None) -> int:
    """Removes the tag from every customer (history rows, scores) and deletes it; returns how many
    customers lost it. Refused while another auto tag's rule refers to it."""
    tag = get_tag(session, tag_id, viewer_id)
    users = _referenced_by(session, tag_id)
    if users:
        raise CrmError(f"标签「{tag.name}」被标签「{'」「'.join(users)}」的规则引用，请先修改这些规则")
    now = now or utcnow()
    if tag.enabled:
        scores.shift(session, -tag.score, tag_id=tag.id)
    session.execute(insert(TagHistory).from_select(
        ["customer_id", "tag_id", "tag_name", "action", "source", "operator_id", "created_at"],
        select(CustomerTag.customer_id, literal(tag.id), literal(tag.name), literal("remove"),
               literal("manual"), literal(viewer_id), literal(now)).where(CustomerTag.tag_id == tag.id)))
    removed = session.execute(delete(CustomerTag).where(CustomerTag.tag_id == tag.id)).rowcount or 0
    session.execute(delete(ObjectTag).where(ObjectTag.tag_id == tag.id))  # on products and companies
    session.delete(tag)
    session.flush()
    return removed


def save_rule(session: Session, tag_id: int, spec: dict, viewer_id: int | None, tz: str | None = None) -> Tag:
    """标签规则: only auto tags have one; it must be a valid audience and must not depend on
    the tag itself, directly or through other rules."""
    tag = get_tag(session, tag_id, viewer_id)
    if tag.kind != "auto":
        raise CrmError("只能为自动标签配置规则", {"kind": "手动标签与个人标签由人工标记，没有规则"})
    spec = normalise_spec(spec)
    audience.validate_spec(session, spec, tz)
    if (tag.rule or {}).get("alternatives"):  # rules 2… stay (crm.tags.multirule)
        spec["alternatives"] = tag.rule["alternatives"]
    for other in rule_dependencies(spec):
        get_tag(session, other, viewer_id)  # a personal tag of someone else is "not found"
    if tag.id in rule_dependencies(spec):
        field = "include_tags" if tag.id in spec["include_tags"] else "exclude_tags"
        raise CrmError("规则不能依赖标签自身", {field: f"规则不能包含或排除标签「{tag.name}」自身"})
    cycle = find_cycle(session, tag.id, spec)
    if cycle:
        names = dict(session.execute(select(Tag.id, Tag.name).where(Tag.id.in_(cycle))).all())
        loop = " → ".join(f"「{names.get(i, i)}」" for i in cycle)
        field = "include_tags" if cycle[1] in spec["include_tags"] else "exclude_tags"
        raise CrmError("规则不能依赖标签自身", {field: f"规则形成循环：{loop}"})
    tag.rule = spec
    session.add(tag)
    session.flush()
    return tag


def normalise_spec(spec) -> dict:
    """Keeps the known keys; the editor may send more."""
    if not isinstance(spec, dict):
        raise CrmError("规则格式错误", {"rule": "规则应为对象"})
    mode = spec.get("mode") or "conditions"
    out = {"mode": mode, "rows": spec.get("rows") or [], "include_tags": spec.get("include_tags") or [],
           "exclude_tags": spec.get("exclude_tags") or [], "sql": str(spec.get("sql") or "").strip()}
    if spec.get("name"):
        out["name"] = str(spec["name"]).strip()[:100]
    if mode == "sql":
        out["rows"] = []
    else:
        out["sql"] = ""
    return out


def preview_rule(db: Database, spec: dict, limit: int = 20, now=None, tz: str | None = None,
                 viewer: Optional[audience.Viewer] = None) -> dict:
    """预览: how many of the customers `viewer` (user id, permissions) may see the rule matches now
    and the first few, before saving it."""
    return audience.preview(db, normalise_spec(spec), limit=limit, now=now, tz=tz, viewer=viewer)

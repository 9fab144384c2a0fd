"""企业标签 both ways. Theirs → ours: every WeCom tag maps to a manual tag of the same name in our
category 「企业微信·<标签组>」 (created when missing). Ours → theirs: a tag an operator adds to such a
category here is created in WeCom (add_corp_tag into the group of that name) and mapped. A tag
deleted in WeCom keeps our tag (customers may carry it) but its mapping is marked removed."""
from __future__ import annotations

from sqlmodel import Session, col, select

from config.clock import utcnow
from crm.tags.models import Tag, TagCategory
from integrations.wecom.models import WecomTagMap

PREFIX = "企业微信·"


def fetch(client) -> list[dict]:
    return client.post("/cgi-bin/externalcontact/get_corp_tag_list", {}).get("tag_group") or []


def _category(session: Session, group_name: str) -> TagCategory:
    name = (PREFIX + group_name)[:100]
    found = session.exec(select(TagCategory).where(TagCategory.name == name,
                                                   TagCategory.object_type == "customer")).first()
    if found is None:
        found = TagCategory(name=name, object_type="customer")
        session.add(found)
        session.flush()
    return found


def apply(session: Session, corp_pk: int, groups: list[dict]) -> dict:
    now = utcnow()
    rows = {m.wecom_tag_id: m for m in session.exec(select(WecomTagMap).where(WecomTagMap.corp_pk == corp_pk))}
    seen, created = set(), 0
    for group in groups:
        if group.get("deleted"):
            continue
        category = _category(session, group["group_name"])
        for tag in group.get("tag") or []:
            if tag.get("deleted"):
                continue
            row = rows.get(tag["id"]) or WecomTagMap(corp_pk=corp_pk, wecom_tag_id=tag["id"])
            row.wecom_group_id, row.group_name = group["group_id"], group["group_name"][:100]
            row.name, row.removed, row.synced_at = tag["name"][:100], False, now
            if row.tag_id is None or session.get(Tag, row.tag_id) is None:
                ours = session.exec(select(Tag).where(Tag.category_id == category.id, Tag.name == row.name)).first()
                if ours is None:
                    ours = Tag(category_id=category.id, name=row.name, kind="manual")
                    session.add(ours)
                    session.flush()
                    created += 1
                row.tag_id = ours.id
            session.add(row)
            rows[tag["id"]] = row
            seen.add(tag["id"])
    for wecom_id, row in rows.items():
        if wecom_id not in seen and not row.removed:
            row.removed = True
            session.add(row)
    session.flush()
    return {"wecom_tags": len(seen), "tags_created": created}


def unpushed(session: Session, corp_pk: int) -> list[tuple[str, list[Tag]]]:
    """Our tags in 「企业微信·…」 categories that WeCom does not have yet, by group name."""
    mapped = select(WecomTagMap.tag_id).where(WecomTagMap.corp_pk == corp_pk, WecomTagMap.removed == False,  # noqa: E712
                                              col(WecomTagMap.tag_id).is_not(None))
    rows = session.exec(select(TagCategory.name, Tag).join(Tag, Tag.category_id == TagCategory.id).where(
        col(TagCategory.name).startswith(PREFIX), Tag.kind == "manual", Tag.enabled == True,  # noqa: E712
        col(Tag.id).not_in(mapped))).all()
    groups: dict[str, list[Tag]] = {}
    for category_name, tag in rows:
        groups.setdefault(category_name[len(PREFIX):], []).append(tag)
    return list(groups.items())


def push(client, pending: list[tuple[str, list]]) -> list[dict]:
    """Creates our pending tags in WeCom; returns the tag groups it answered (to apply)."""
    answered = []
    for group_name, tags in pending:
        reply = client.post("/cgi-bin/externalcontact/add_corp_tag",
                            {"group_name": group_name, "tag": [{"name": t.name} for t in tags]})
        answered.append(reply["tag_group"])
    return answered

"""客户 (external contacts) sync: every follower's contacts through batch/get_by_user (≤100
userids and ≤100 rows a page, cursor paging), stored per external_userid with all their followers,
linked to customers (integrations.wecom.linking), their WeCom tags given to the customer through
the tag mapping. A contact no longer returned is marked deleted. `upsert` is shared with the
callbacks, which re-fetch one contact (externalcontact/get) and diff it the same way."""
from __future__ import annotations

from sqlmodel import Session, col, select

from config.clock import utcnow
from crm.tags.apply import apply_tags
from integrations.wecom.linking import link_customer
from integrations.wecom.models import WecomContact, WecomTagMap

PAGE = 100


def fetch(client) -> dict[str, dict]:
    followers = client.get("/cgi-bin/externalcontact/get_follow_user_list").get("follow_user") or []
    contacts: dict[str, dict] = {}
    for start in range(0, len(followers), PAGE):
        cursor = ""
        while True:
            page = client.post("/cgi-bin/externalcontact/batch/get_by_user",
                               {"userid_list": followers[start:start + PAGE], "cursor": cursor, "limit": PAGE})
            for item in page.get("external_contact_list") or []:
                ext = item["external_contact"]
                entry = contacts.setdefault(ext["external_userid"], {"external_contact": ext, "follow_user": []})
                entry["follow_user"].append(item.get("follow_info") or {})
            cursor = page.get("next_cursor") or ""
            if not cursor:
                break
    return contacts


def _follow(info: dict) -> dict:
    tags = info.get("tag_id")
    if tags is None:  # externalcontact/get names tags as objects
        tags = [t.get("tag_id") for t in info.get("tags") or [] if t.get("type", 1) == 1]
    return {"userid": info.get("userid", ""), "remark": info.get("remark", ""), "state": info.get("state", ""),
            "createtime": int(info.get("createtime") or 0), "add_way": info.get("add_way", 0),
            "remark_mobiles": list(info.get("remark_mobiles") or []), "tag_ids": sorted(t for t in tags if t)}


def upsert(session: Session, corp_pk: int, entry: dict, existing: WecomContact | None, tz: str, now=None) -> tuple:
    """(contact, changed, customer_created) for one fetched contact."""
    ext = entry["external_contact"]
    contact = existing or WecomContact(corp_pk=corp_pk, external_userid=ext["external_userid"])
    before = (contact.name, contact.unionid, contact.follow_users, contact.deleted_at)
    contact.name = str(ext.get("name") or "")[:100]
    contact.unionid = ext.get("unionid") or contact.unionid
    contact.type, contact.gender = int(ext.get("type") or 1), int(ext.get("gender") or 0)
    contact.corp_name = str(ext.get("corp_name") or "")[:100]
    contact.follow_users = sorted((_follow(f) for f in entry["follow_user"]), key=lambda f: f["userid"])
    contact.deleted_at = None
    contact.synced_at = now or utcnow()
    changed = existing is None or before != (contact.name, contact.unionid, contact.follow_users, None)
    session.add(contact)
    session.flush()
    created = link_customer(session, contact) if changed or not contact.customer_id else False
    _give_tags(session, contact, tz, now)
    return contact, changed, created


def _give_tags(session: Session, contact: WecomContact, tz: str, now) -> None:
    wecom_tags = {t for f in contact.follow_users for t in f["tag_ids"]}
    if not wecom_tags or not contact.customer_id:
        return
    ours = session.exec(select(WecomTagMap.tag_id).where(
        WecomTagMap.corp_pk == contact.corp_pk, col(WecomTagMap.wecom_tag_id).in_(wecom_tags),
        col(WecomTagMap.tag_id).is_not(None))).all()
    if ours:
        apply_tags(session, [contact.customer_id], list(ours), source="import", now=now or utcnow(), tz=tz)


def apply(session: Session, corp_pk: int, fetched: dict[str, dict], tz: str) -> dict:
    now = utcnow()
    rows = {c.external_userid: c for c in session.exec(select(WecomContact).where(WecomContact.corp_pk == corp_pk))}
    summary = {"contacts": len(fetched), "new": 0, "changed": 0, "removed": 0, "customers_created": 0}
    for ext_id, entry in fetched.items():
        existing = rows.get(ext_id)
        _, changed, created = upsert(session, corp_pk, entry, existing, tz, now)
        summary["new" if existing is None else "changed"] += 1 if changed else 0
        summary["customers_created"] += int(created)
    for ext_id, row in rows.items():
        if ext_id not in fetched and row.deleted_at is None:
            row.deleted_at, row.follow_users = now, []
            session.add(row)
            summary["removed"] += 1
    session.flush()
    return summary

"""Ours → theirs on a contact: give a customer's WeCom contact the corp tags mapped to our tags
(externalcontact/mark_tag, once per employee following the contact, since WeCom keeps tags per
follow relation). Used by the 企业微信打标签 step; what WeCom already shows is left alone."""
from __future__ import annotations

from sqlmodel import col, select

from integrations.errors import IntegrationError
from integrations.wecom.corps import api_client
from integrations.wecom.models import WecomContact, WecomCorp, WecomTagMap


def plan(session, customer_id: int, tag_ids: list[int]) -> list[dict]:
    """The mark_tag calls to make: [{"corp": WecomCorp, "body": {...}}]; refuses unmapped tags."""
    calls = []
    contacts = session.exec(select(WecomContact).where(WecomContact.customer_id == customer_id,
                                                       WecomContact.deleted_at == None)).all()  # noqa: E711
    for contact in contacts:
        maps = session.exec(select(WecomTagMap).where(WecomTagMap.corp_pk == contact.corp_pk, WecomTagMap.removed == False,  # noqa: E712
                                                      col(WecomTagMap.tag_id).in_(tag_ids))).all()
        missing = set(tag_ids) - {m.tag_id for m in maps}
        if missing:
            raise IntegrationError(f"标签（ID {'、'.join(str(t) for t in sorted(missing))}）没有对应的企业微信标签，"
                                   "请先在「企业微信 · 标签映射」同步")
        corp = session.get(WecomCorp, contact.corp_pk)
        for follow in contact.follow_users:
            add = sorted({m.wecom_tag_id for m in maps} - set(follow.get("tag_ids") or []))
            if add:
                calls.append({"corp": corp, "body": {"userid": follow["userid"], "external_userid": contact.external_userid,
                                                     "add_tag": add}})
    return calls


def mark(settings, calls: list[dict]) -> int:
    for call in calls:
        api_client(settings, call["corp"], "contact").post("/cgi-bin/externalcontact/mark_tag", call["body"])
    return len(calls)

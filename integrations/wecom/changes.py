"""What an accepted callback changes: re-fetch, diff, and one ledger event for strategies.

A callback says *that* something changed, not the whole truth (they arrive out of order, twice, or
never), so the contact or chat is fetched again and stored as WeCom now has it. When the fetch
fails (WeCom unreachable), an add still records what the callback itself says, so the customer is
created and the 欢迎语 (whose WelcomeCode lives 20 s) can still go out; the next sync completes it.
Each event has a stable id from the callback (change type, ids, CreateTime): a repeated push is
stored once."""
from __future__ import annotations

from sqlmodel import select

from crm.events_out import emit
from integrations.errors import PlatformError
from integrations.wecom import sync_contacts, sync_groups
from integrations.wecom.callbacks import Accepted
from integrations.wecom.corps import api_client, get_corp
from integrations.wecom.events import ensure_definitions
from integrations.wecom.linking import member_users
from integrations.wecom.models import WecomContact

NOT_EXTERNAL_CONTACT = 84061
CONTACT_EVENTS = {"add_external_contact": "wecom.contact_added", "add_half_external_contact": "wecom.contact_added",
                  "edit_external_contact": "wecom.contact_edited", "del_external_contact": "wecom.contact_deleted",
                  "del_follow_user": "wecom.contact_deleted"}


def _client(services, corp_pk: int):
    # WeCom waits 5 s for our answer (then retries the push): one short attempt, and on failure
    # the callback's own fields stand in until the next sync.
    with services.db.read() as session:
        corp = get_corp(session, corp_pk)
        session.expunge(corp)
    client = api_client(services.settings, corp, "contact")
    client.timeout, client.attempts = 3.0, 1
    return client


def handle(services, accepted: Accepted) -> dict:
    fields = accepted.fields
    if fields.get("Event") == "change_external_contact" and fields.get("ChangeType") in CONTACT_EVENTS:
        return contact_changed(services, accepted)
    if fields.get("Event") == "change_external_chat" and fields.get("ChatId"):
        return chat_changed(services, accepted)
    return {"ignored": fields.get("Event", "")}


def _refetch_contact(services, corp_pk: int, external_userid: str):
    """(entry or None when WeCom says it is no longer a contact, fetched_ok)."""
    try:
        data = _client(services, corp_pk).get("/cgi-bin/externalcontact/get", {"external_userid": external_userid})
    except PlatformError as exc:
        if exc.errcode == NOT_EXTERNAL_CONTACT:
            return None, True
        return None, False
    return {"external_contact": data["external_contact"], "follow_user": data.get("follow_user") or []}, True


def _from_callback(existing: WecomContact | None, fields: dict) -> dict:
    follows = [dict(f, tag_id=f.get("tag_ids", [])) for f in (existing.follow_users if existing else [])
               if f.get("userid") != fields.get("UserID")]
    follows.append({"userid": fields.get("UserID", ""), "state": fields.get("State", ""),
                    "createtime": int(fields.get("CreateTime") or 0)})
    return {"external_contact": {"external_userid": fields["ExternalUserID"], "name": existing.name if existing else "",
                                 "unionid": existing.unionid if existing else None},
            "follow_user": follows}


def contact_changed(services, accepted: Accepted) -> dict:
    fields, corp = accepted.fields, accepted.corp
    change, ext_id, userid = fields["ChangeType"], fields.get("ExternalUserID", ""), fields.get("UserID", "")
    if not ext_id:
        return {"ignored": change}
    entry, fetched = _refetch_contact(services, corp.corp_pk, ext_id)
    tz = services.settings.timezone
    with services.db.write() as session:
        ensure_definitions(session)
        existing = session.exec(select(WecomContact).where(WecomContact.corp_pk == corp.corp_pk,
                                                           WecomContact.external_userid == ext_id)).first()
        if entry is None and not fetched and change.startswith("add"):
            entry = _from_callback(existing, fields)
        created = False
        if entry is not None:
            contact, _, created = sync_contacts.upsert(session, corp.corp_pk, entry, existing, tz, services.now())
        elif existing is not None and fetched:
            existing.follow_users, existing.deleted_at = [], services.now()
            session.add(existing)
            contact = existing
        elif existing is not None:
            contact = existing
        else:
            return {"change": change, "emitted": False, "note": "客户已不存在，且此前未同步过"}
        if not contact.customer_id:
            return {"change": change, "emitted": False}
        owner = member_users(session, corp.corp_pk, [userid]).get(userid)
        data = {"customer_id": contact.customer_id, "external_userid": ext_id, "user_id": userid, "owner_id": owner,
                "name": contact.name, "corp_id": corp.corp_id}
        if change.startswith("add"):
            data.update(state=fields.get("State", ""), welcome_code=fields.get("WelcomeCode", ""),
                        customer_created=created)
        elif change.startswith("del"):
            data.update(by_customer=change == "del_follow_user", remaining=len(contact.follow_users))
        event_id = f"wecom:{corp.corp_id}:{change}:{ext_id}:{userid}:{fields.get('CreateTime', '')}"
        emit(session, CONTACT_EVENTS[change], data, tz, source="wecom", event_id=event_id[:128], now=services.now())
        return {"change": change, "emitted": True, "customer_id": contact.customer_id, "customer_created": created}


def chat_changed(services, accepted: Accepted) -> dict:
    fields, corp = accepted.fields, accepted.corp
    chat_id, change = fields["ChatId"], fields.get("ChangeType", "update")
    chat = None
    if change != "dismiss":
        try:
            chat = sync_groups.fetch_one(_client(services, corp.corp_pk), chat_id)
        except PlatformError:
            chat = None  # gone meanwhile, or WeCom unreachable: the next sync settles it
    with services.db.write() as session:
        ensure_definitions(session)
        row = (sync_groups.upsert(session, corp.corp_pk, chat, services.now())[0] if chat is not None
               else sync_groups.dismiss(session, corp.corp_pk, chat_id, services.now()) if change == "dismiss" else None)
        data = {"chat_id": chat_id, "change_type": change, "update_detail": fields.get("UpdateDetail", ""),
                "corp_id": corp.corp_id, "name": row.name if row else "", "member_count": row.member_count if row else 0,
                "owner": row.owner_userid if row else ""}
        event_id = f"wecom:{corp.corp_id}:chat:{chat_id}:{change}:{fields.get('UpdateDetail', '')}:{fields.get('CreateTime', '')}"
        emit(session, "wecom.chat_changed", data, services.settings.timezone, source="wecom", event_id=event_id[:128],
             now=services.now())
    return {"change": change, "emitted": True}

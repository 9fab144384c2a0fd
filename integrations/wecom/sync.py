"""立即同步: one kind at a time (org, tags, contacts, groups). Everything is fetched from WeCom
first, outside any transaction; then one write transaction applies the diff, so the database write
lock is never held across a network call and a failed fetch changes nothing. The outcome (counts or
the error) is kept on the corp for the console's 同步状态."""
from __future__ import annotations

from config.clock import utcnow
from integrations.errors import IntegrationError, PlatformError
from integrations.wecom import sync_contacts, sync_groups, sync_org, sync_tags
from integrations.wecom.corps import api_client, get_corp
from integrations.wecom.models import SYNC_KINDS, WecomCorp


def _record(services, corp_pk: int, kind: str, ok: bool, summary: dict, error: str = "") -> None:
    with services.db.write() as session:
        corp = get_corp(session, corp_pk)
        status = dict(corp.sync_status or {})
        status[kind] = {"at": utcnow().isoformat(), "ok": ok, "summary": summary, "error": error}
        corp.sync_status = status
        session.add(corp)


def run_sync(services, corp_pk: int, kind: str) -> dict:
    if kind not in SYNC_KINDS:
        raise IntegrationError("未知的同步类型")
    with services.db.read() as session:
        corp: WecomCorp = get_corp(session, corp_pk)
        session.expunge(corp)
    settings, tz = services.settings, services.settings.timezone
    try:
        if kind == "org":
            data = sync_org.fetch(api_client(settings, corp, "app"))
            with services.db.write() as session:
                summary = sync_org.apply(session, corp_pk, data)
        elif kind == "tags":
            client = api_client(settings, corp, "contact")
            groups = sync_tags.fetch(client)
            with services.db.write() as session:
                summary = sync_tags.apply(session, corp_pk, groups)
                pending = sync_tags.unpushed(session, corp_pk)
                for _, tags in pending:
                    for tag in tags:
                        session.expunge(tag)
            pushed = sync_tags.push(client, pending)
            if pushed:
                with services.db.write() as session:
                    sync_tags.apply(session, corp_pk, sync_tags.fetch(client))
            summary["pushed"] = sum(len(g["tag"]) for g in pushed)
        elif kind == "contacts":
            fetched = sync_contacts.fetch(api_client(settings, corp, "contact"))
            with services.db.write() as session:
                summary = sync_contacts.apply(session, corp_pk, fetched, tz)
        else:
            chats = sync_groups.fetch(api_client(settings, corp, "contact"))
            with services.db.write() as session:
                summary = sync_groups.apply(session, corp_pk, chats)
    except PlatformError as exc:
        _record(services, corp_pk, kind, False, {}, str(exc))
        raise
    _record(services, corp_pk, kind, True, summary)
    return summary


def sync_all(services, corp_pk: int) -> dict:
    """Org first (members map owners), tags before contacts (contacts carry tags)."""
    return {kind: run_sync(services, corp_pk, kind) for kind in ("org", "tags", "contacts", "groups")}

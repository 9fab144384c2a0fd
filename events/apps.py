"""应用管理: the third-party apps allowed to post events.

An app has a key (public) and a secret (shown once, stored encrypted so HMAC can be checked);
rotating keeps the old secret valid for a grace period so integrators can switch without loss.
"""
from __future__ import annotations

import ipaddress
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, select

from config.clock import utcnow
from config.secrets_box import SecretBox
from events.errors import EventsError, NotFound
from events.models import App


def parse_allowlist(entries) -> list[str]:
    """Normalises an IP allow-list (CIDR or single addresses); raises with the bad entry named."""
    if isinstance(entries, str):
        entries = [e for e in entries.replace(",", "\n").split() if e.strip()]
    if entries is None:
        entries = []
    if not isinstance(entries, (list, tuple)):
        raise EventsError("IP 白名单有误", {"ip_allowlist": "IP 白名单应为列表（或每行一个的文本）"})
    out = []
    for entry in entries or []:
        entry = str(entry).strip()
        if not entry:
            continue
        try:
            out.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            raise EventsError("IP 白名单有误", {"ip_allowlist": f"「{entry}」不是有效的 IP 或 CIDR（如 10.0.0.0/8）"}) from None
    return out


def _validate(session: Session, data: dict, existing: App | None) -> dict:
    errors = {}
    name = str(data.get("name", "")).strip()
    if not name:
        errors["name"] = "应用名称不能为空"
    elif len(name) > 100:
        errors["name"] = "应用名称最多 100 个字符"
    else:
        clash = session.exec(select(App).where(App.name == name)).first()
        if clash is not None and (existing is None or clash.id != existing.id):
            errors["name"] = f"应用名称「{name}」已存在"
    try:
        allowlist = parse_allowlist(data.get("ip_allowlist", []))
    except EventsError as exc:
        errors.update(exc.errors)
        allowlist = []
    if errors:
        raise EventsError("应用信息有误", errors)
    return {"name": name, "ip_allowlist": allowlist, "remark": str(data.get("remark", "")).strip()[:500],
            "enabled": bool(data.get("enabled", True))}


def create_app_record(session: Session, box: SecretBox, data: dict) -> tuple[App, str]:
    clean = _validate(session, data, None)
    secret = secrets.token_urlsafe(32)
    app = App(app_key="ak_" + secrets.token_hex(8), secret_sealed=box.seal(secret), **clean)
    session.add(app)
    session.flush()
    return app, secret


def update_app_record(session: Session, app_id: int, data: dict) -> App:
    app = get_app(session, app_id)
    for key, value in _validate(session, data, app).items():
        setattr(app, key, value)
    app.updated_at = utcnow()
    session.add(app)
    session.flush()
    return app


def rotate_secret(session: Session, box: SecretBox, app_id: int, now: datetime, grace_hours: int) -> str:
    """A new secret; the old one keeps working for `grace_hours`."""
    app = get_app(session, app_id)
    secret = secrets.token_urlsafe(32)
    app.previous_secret_sealed = app.secret_sealed
    app.previous_secret_expires_at = now + timedelta(hours=grace_hours)
    app.secret_sealed = box.seal(secret)
    app.updated_at = utcnow()
    session.add(app)
    session.flush()
    return secret


def set_app_enabled(session: Session, app_id: int, enabled: bool) -> App:
    app = get_app(session, app_id)
    app.enabled = enabled
    app.updated_at = utcnow()
    session.add(app)
    session.flush()
    return app


def delete_app_record(session: Session, app_id: int) -> None:
    session.delete(get_app(session, app_id))
    session.flush()


def get_app(session: Session, app_id: int) -> App:
    app = session.get(App, app_id)
    if app is None:
        raise NotFound(f"应用 {app_id} 不存在")
    return app


def list_apps(session: Session) -> list[App]:
    return list(session.exec(select(App).order_by(App.id)))


def valid_secrets(app: App, box: SecretBox, now: datetime) -> list[str]:
    out = [box.open(app.secret_sealed)]
    if app.previous_secret_sealed and app.previous_secret_expires_at and app.previous_secret_expires_at > now:
        out.append(box.open(app.previous_secret_sealed))
    return out

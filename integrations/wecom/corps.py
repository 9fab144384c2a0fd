"""企业微信授权: the corp's settings (secrets sealed at rest, never shown again once saved), the API
clients built from them, and 测试连接."""
from __future__ import annotations

import re

from sqlmodel import Session, select

from config.clock import utcnow
from integrations import wxcrypto
from integrations.errors import IntegrationError, IntegrationNotFound, PlatformError
from integrations.wecom.client import WecomClient
from integrations.wecom.events import ensure_definitions
from integrations.wecom.models import WecomCorp

SECRET_FIELDS = ("contact_secret", "app_secret", "callback_token", "encoding_aes_key")
_CORP_ID = re.compile(r"^[A-Za-z0-9]{6,64}$")
_TOKEN = re.compile(r"^[A-Za-z0-9]{3,32}$")


def get_corp(session: Session, corp_pk: int) -> WecomCorp:
    corp = session.get(WecomCorp, corp_pk)
    if corp is None:
        raise IntegrationNotFound("企业微信授权不存在")
    return corp


def by_corp_id(session: Session, corp_id: str) -> WecomCorp:
    corp = session.exec(select(WecomCorp).where(WecomCorp.corp_id == corp_id)).first()
    if corp is None or not corp.enabled:
        raise IntegrationNotFound("未知的企业 ID")
    return corp


def first_corp(session: Session) -> WecomCorp | None:
    return session.exec(select(WecomCorp).order_by(WecomCorp.id)).first()


def validate(data: dict, existing: WecomCorp | None) -> tuple[dict, dict]:
    """(clean values, {field: Chinese message}); a blank secret keeps the stored one."""
    errors: dict = {}
    clean = {"corp_id": str(data.get("corp_id") or "").strip(), "name": str(data.get("name") or "").strip()[:100],
             "agent_id": str(data.get("agent_id") or "").strip()}
    if not _CORP_ID.match(clean["corp_id"]):
        errors["corp_id"] = "企业 ID 应为 6–64 位字母或数字（企业微信管理后台「我的企业」页底部）"
    if not clean["agent_id"].isdigit() or len(clean["agent_id"]) > 32:
        errors["agent_id"] = "AgentId 应为数字（自建应用详情页）"
    for name in SECRET_FIELDS:
        value = str(data.get(name) or "").strip()
        if not value:
            if existing is None or not getattr(existing, name):
                errors[name] = "必填"
            continue
        if len(value) > 200:
            errors[name] = "过长"
        clean[name] = value
    if "callback_token" in clean and not _TOKEN.match(clean["callback_token"]):
        errors["callback_token"] = "Token 应为 3–32 位字母或数字"
    if "encoding_aes_key" in clean:
        try:
            wxcrypto.aes_key(clean["encoding_aes_key"])
        except IntegrationError as exc:
            errors["encoding_aes_key"] = str(exc)
    return clean, errors


def save_corp(session: Session, data: dict, corp_pk: int | None = None) -> WecomCorp:
    existing = get_corp(session, corp_pk) if corp_pk else None
    clean, errors = validate(data, existing)
    if not errors:
        other = session.exec(select(WecomCorp).where(WecomCorp.corp_id == clean["corp_id"])).first()
        if other is not None and (existing is None or other.id != existing.id):
            errors["corp_id"] = "该企业已授权"
    if errors:
        error = IntegrationError("企业微信授权信息有误：" + "；".join(errors.values()))
        error.errors = errors
        raise error
    corp = existing or WecomCorp(corp_id=clean["corp_id"])
    for name, value in clean.items():
        setattr(corp, name, value)
    corp.updated_at = utcnow()
    session.add(corp)
    session.flush()
    ensure_definitions(session)  # so strategies can be bound to wecom.* before the first callback
    return corp


def api_client(settings, corp: WecomCorp, which: str = "contact") -> WecomClient:
    """'contact': the 客户联系 secret (externalcontact/*); 'app': the self-built app's secret."""
    secret = corp.contact_secret if which == "contact" else corp.app_secret
    return WecomClient(settings.wecom_api_base, corp.corp_id, secret)


def test_connection(settings, corp: WecomCorp) -> list[tuple[str, bool, str]]:
    """Fetches a token with each secret: [(label, ok, message)] for the console."""
    results = []
    for which, label in (("app", "自建应用 Secret"), ("contact", "客户联系 Secret")):
        client = api_client(settings, corp, which)
        client.cache.drop(client._token_key())
        try:
            client.access_token()
            results.append((label, True, "连接成功，已取得 access_token"))
        except PlatformError as exc:
            results.append((label, False, str(exc)))
    return results

"""抖音授权 bookkeeping: the OAuth `state` that binds a consent to one scene, one user and one browser;
the authorised accounts of a scene and their token health; what a token refresh or a platform refusal
changes. The HTTP side (authorize URL, code exchange, refresh, fan pages) is engine/douyin_client.py.

The state is `base64url(json).hex(HMAC-SHA256)` over {scene, user, nonce, issued}, keyed by the
server's secret; the nonce is also kept in the user's session and popped at the callback, so a state
is single-use, expires after STATE_TTL, and one captured from another browser or user is refused."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlmodel import Session, select

from config.clock import as_utc
from crm.leads.douyin_models import DouyinAccount
from crm.leads.errors import LeadNotFound, LeadsError
from crm.leads.models import LeadScene

STATE_TTL = timedelta(minutes=10)
DOUYIN_SCENE_TYPES = ("SOCIAL_MEDIA_LEAD",)


@dataclass(frozen=True)
class TokenSet:
    open_id: str
    access_token: str
    refresh_token: str
    expires_in: int  # seconds
    refresh_expires_in: int
    scope: str = ""


def _sign(secret_key: str, body: str) -> str:
    return hmac.new(("ckb-douyin-state:" + secret_key).encode(), body.encode(), hashlib.sha256).hexdigest()


def make_state(secret_key: str, scene_id: int, user_id: int, now: datetime) -> tuple[str, str]:
    """(state for the authorize URL, nonce to keep in the user's session)."""
    nonce = secrets.token_urlsafe(16)
    payload = json.dumps({"s": scene_id, "u": user_id, "n": nonce, "t": int(as_utc(now).timestamp())},
                         separators=(",", ":"))
    body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{body}.{_sign(secret_key, body)}", nonce


def check_state(secret_key: str, state: str, user_id: int, session_nonce: Optional[str], now: datetime) -> int:
    """The scene id the consent was asked for; LeadsError naming why a state is refused."""
    body, _, signature = str(state or "").partition(".")
    if not body or not hmac.compare_digest(_sign(secret_key, body), signature):
        raise LeadsError("授权回调的 state 校验失败（可能被篡改），请重新发起授权")
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        scene_id, owner, nonce, issued = int(data["s"]), int(data["u"]), str(data["n"]), int(data["t"])
    except (ValueError, KeyError, TypeError):
        raise LeadsError("授权回调的 state 格式错误，请重新发起授权") from None
    if owner != user_id:
        raise LeadsError("该授权链接由其他用户发起，不能在当前账号下完成")
    if not session_nonce or not hmac.compare_digest(session_nonce, nonce):
        raise LeadsError("授权链接已使用或不是在本浏览器中发起的，请重新发起授权")
    if as_utc(now).timestamp() - issued > STATE_TTL.total_seconds():
        raise LeadsError("授权链接已超过 10 分钟有效期，请重新发起授权")
    return scene_id


def douyin_scene(session: Session, scene_id: int) -> LeadScene:
    scene = session.get(LeadScene, scene_id)
    if scene is None:
        raise LeadNotFound(f"场景 {scene_id} 不存在")
    if scene.scene_type not in DOUYIN_SCENE_TYPES:
        raise LeadsError(f"场景「{scene.name}」不是抖音获客场景，不能授权抖音号")
    return scene


def save_tokens(session: Session, box, scene_id: int, tokens: TokenSet, now: datetime, *,
                user_id: Optional[int] = None, nickname: str = "", avatar: str = "") -> DouyinAccount:
    """Creates or renews the scene's account for tokens.open_id (a re-authorisation revives it)."""
    now = as_utc(now)
    account = session.exec(select(DouyinAccount).where(DouyinAccount.scene_id == scene_id,
                                                       DouyinAccount.open_id == tokens.open_id)).first()
    if account is None:
        account = DouyinAccount(scene_id=scene_id, open_id=tokens.open_id[:128], authorised_at=now)
    account.access_token_sealed = box.seal(tokens.access_token)
    account.refresh_token_sealed = box.seal(tokens.refresh_token)
    account.access_expires_at = now + timedelta(seconds=max(0, tokens.expires_in))
    account.refresh_expires_at = now + timedelta(seconds=max(0, tokens.refresh_expires_in))
    account.scopes = tokens.scope[:500]
    account.status, account.last_error, account.updated_at = "active", "", now
    if user_id is not None:
        account.authorised_by, account.authorised_at = user_id, now
    if nickname:
        account.nickname = nickname[:100]
    if avatar:
        account.avatar = avatar[:500]
    session.add(account)
    session.flush()
    return account


def refreshed(session: Session, box, account: DouyinAccount, tokens: TokenSet, now: datetime) -> DouyinAccount:
    account = save_tokens(session, box, account.scene_id, tokens, now)
    account.refreshed_at = as_utc(now)
    session.add(account)
    return account


def mark(session: Session, account: DouyinAccount, status: str, error: str, now: datetime) -> None:
    account.status, account.last_error, account.updated_at = status, error[:500], as_utc(now)
    if status == "revoked":
        account.access_token_sealed = account.refresh_token_sealed = ""
    session.add(account)


def health(account: DouyinAccount, now: datetime, alert_days: int) -> tuple[str, str]:
    """(key, Chinese label) of a token's health for the console: ok / expiring / expired / revoked."""
    if account.status == "revoked":
        return "revoked", "已撤销"
    now, until = as_utc(now), works_until(account)
    if account.status == "expired" or (until is not None and until <= now):
        return "expired", "已过期，需重新授权"
    if until is not None and until - now <= timedelta(days=alert_days):
        return "expiring", f"授权将在 {max(0, (until - now).days)} 天内失效，请重新授权"
    return "ok", "正常"


def works_until(account: DouyinAccount) -> Optional[datetime]:
    """The last moment the account works without the user authorising again: a refresh renews the
    access token only while the refresh token lives, and an access token outlives it at most by its life."""
    ends = [as_utc(t) for t in (account.access_expires_at, account.refresh_expires_at) if t is not None]
    return max(ends) if ends else None


def scene_accounts(session: Session, scene_id: int) -> list[DouyinAccount]:
    return list(session.exec(select(DouyinAccount).where(DouyinAccount.scene_id == scene_id)
                             .order_by(DouyinAccount.id)).all())


def get_account(session: Session, account_id: int) -> DouyinAccount:
    account = session.get(DouyinAccount, account_id)
    if account is None:
        raise LeadNotFound(f"抖音号 {account_id} 不存在")
    return account

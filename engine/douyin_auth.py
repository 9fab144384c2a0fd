"""抖音授权 end to end: start a consent for a scene (authorize URL + state), complete it at the callback
(code → tokens → the account's profile → stored sealed), keep tokens fresh (refreshed ahead of expiry by
a cron job and before every pull), revoke, and raise the token alerts once per episode:

- douyin.token_expiring — the refresh token (30 days; only the user re-authorising renews it) expires
  within CKB_DOUYIN_ALERT_DAYS: ask the account's owner to authorise again;
- douyin.token_invalid — the platform says the authorisation was revoked, or it expired: fan sync of
  that account has stopped.

No network call happens inside a database write transaction: tokens are read, the platform is asked,
then the answer is written in a short transaction of its own."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import select

from config.clock import as_utc
from crm.events_out import emit
from crm.leads.douyin_accounts import (check_state, douyin_scene, get_account, health, make_state, mark,
                                       refreshed, save_tokens)
from crm.leads.douyin_models import DouyinAccount
from engine import douyin_client
from engine.douyin_client import DouyinError
from events.builtin import LEAD_ALERT_EVENT_KEYS
from events.definitions import ensure_builtin
from events.episodes import track

log = logging.getLogger("ckb.leads.douyin")


def start_authorisation(services, scene_id: int, user_id: int, redirect_uri: str) -> tuple[str, str]:
    """(the platform's consent URL, the nonce the caller keeps in the user's session)."""
    with services.db.read() as session:
        douyin_scene(session, scene_id)
    state, nonce = make_state(services.settings.resolved_secret_key(), scene_id, user_id, services.now())
    return douyin_client.authorize_url(services.settings, state, redirect_uri), nonce


def complete_authorisation(services, user_id: int, state: str, session_nonce, code: str) -> DouyinAccount:
    scene_id = check_state(services.settings.resolved_secret_key(), state, user_id, session_nonce, services.now())
    if not code:
        raise DouyinError("抖音未返回授权码（用户可能拒绝了授权）")
    tokens = douyin_client.exchange_code(services.settings, code)
    profile = douyin_client.user_info(services.settings, tokens.open_id, tokens.access_token)
    with services.db.write() as session:
        douyin_scene(session, scene_id)
        account = save_tokens(session, services.secret_box, scene_id, tokens, services.now(), user_id=user_id,
                              **profile)
        _alert(session, services, account)  # a re-authorisation closes an open token alert
        return account


def _alert(session, services, account: DouyinAccount) -> None:
    settings, now = services.settings, as_utc(services.now())
    ensure_builtin(session, LEAD_ALERT_EVENT_KEYS)
    key, label = health(account, now, settings.douyin_alert_days)
    subject = f"douyin:{account.id}"
    data = {"account_id": account.id, "scene_id": account.scene_id, "open_id": account.open_id,
            "nickname": account.nickname, "health": label,
            "refresh_expires_at": as_utc(account.refresh_expires_at).isoformat() if account.refresh_expires_at else ""}
    for code, active in (("douyin.token_expiring", key == "expiring"),
                         ("douyin.token_invalid", key in ("expired", "revoked"))):
        episode = track(session, code, subject, active, 1 if active else 0, now)
        if episode:
            emit(session, code, {**data, "episode": episode, "reason": account.last_error or label},
                 settings.timezone, source="lead", event_id=f"alert:{code}:{subject}:{episode}", now=now)


def record_failure(services, account_id: int, exc: DouyinError) -> None:
    status = "revoked" if exc.revoked else "expired" if exc.refresh_expired else None
    with services.db.write() as session:
        account = get_account(session, account_id)
        if status:
            mark(session, account, status, exc.message, services.now())
        else:
            account.last_error = exc.message[:500]
            session.add(account)
        _alert(session, services, account)


def fresh_token(services, account_id: int, *, force: bool = False) -> str:
    """The account's access token, refreshed first when it expires within the refresh-ahead window."""
    with services.db.read() as session:
        account = get_account(session, account_id)
        if account.status != "active":
            raise DouyinError(f"抖音号「{account.nickname or account.open_id}」授权{ '已撤销' if account.status == 'revoked' else '已过期'}，请重新授权")
        access, refresh_token = (services.secret_box.open(account.access_token_sealed),
                                 services.secret_box.open(account.refresh_token_sealed))
        ahead = timedelta(hours=services.settings.douyin_refresh_ahead_hours)
        due = force or account.access_expires_at is None or as_utc(account.access_expires_at) - ahead <= as_utc(services.now())
    if not due:
        return access
    try:
        tokens = douyin_client.refresh(services.settings, refresh_token)
    except DouyinError as exc:
        record_failure(services, account_id, exc)
        raise
    with services.db.write() as session:
        account = refreshed(session, services.secret_box, get_account(session, account_id), tokens, services.now())
        _alert(session, services, account)
    return tokens.access_token


def revoke(services, account_id: int) -> DouyinAccount:
    """取消授权 on our side: tokens are wiped and the account stops syncing (the user may also revoke
    in the 抖音 app, which the next call notices)."""
    with services.db.write() as session:
        account = get_account(session, account_id)
        mark(session, account, "revoked", "已在本系统取消授权", services.now())
        _alert(session, services, account)
        return account


def refresh_due(services) -> str:
    """The cron job: refresh tokens entering the refresh-ahead window; re-evaluate every account's alerts."""
    now = as_utc(services.now())
    ahead = now + timedelta(hours=services.settings.douyin_refresh_ahead_hours)
    with services.db.read() as session:
        accounts = session.exec(select(DouyinAccount.id, DouyinAccount.status, DouyinAccount.access_expires_at)).all()
    refreshed_n, failed = 0, 0
    for account_id, status, expires in accounts:
        if status == "active" and (expires is None or as_utc(expires) <= ahead):
            try:
                fresh_token(services, account_id)
                refreshed_n += 1
            except DouyinError:
                failed += 1
                continue
        with services.db.write() as session:
            _alert(session, services, get_account(session, account_id))
    return f"刷新抖音令牌 {refreshed_n} 个，失败 {failed} 个"


CRON_SPECS = (("douyin.refresh_tokens", "刷新抖音授权令牌", {"minute": "*/10"}, refresh_due),)

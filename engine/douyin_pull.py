"""抖音粉丝同步 on the scene's authorised 抖音号: each active account's fans are paged with its own
cursor (kept on the account), its access token refreshed first when due and once more if the platform
says it expired mid-run; a revoked or expired authorisation stops that account only (and raises its
alert), the others go on. Each fan becomes a lead through the scene like any pulled item, keyed by
open_id, with the 抖音号 it follows."""
from __future__ import annotations

from sqlmodel import select

from crm.leads.douyin_models import DouyinAccount
from crm.leads.pull_state import PullConfig
from engine.douyin_auth import record_failure, fresh_token
from engine.douyin_client import DouyinError, fans_page


def active_accounts(services, scene_id: int) -> list[tuple[int, str, str, str]]:
    with services.db.read() as session:
        return [(a.id, a.open_id, a.nickname, a.fans_cursor) for a in session.exec(
            select(DouyinAccount).where(DouyinAccount.scene_id == scene_id, DouyinAccount.status == "active")
            .order_by(DouyinAccount.id)).all()]


def has_accounts(services, scene_id: int) -> bool:
    with services.db.read() as session:
        return session.exec(select(DouyinAccount.id).where(DouyinAccount.scene_id == scene_id)).first() is not None


def _save_cursor(services, account_id: int, cursor: str) -> None:
    with services.db.write() as session:
        account = session.get(DouyinAccount, account_id)
        account.fans_cursor = cursor[:200]
        session.add(account)


def _account_pages(services, scene_id, config: PullConfig, run, store_page, account, budget: int) -> tuple[int, bool]:
    """Pages one account; returns (pages used, whether more fans are waiting)."""
    account_id, open_id, nickname, cursor = account
    token, retried, used = fresh_token(services, account_id), False, 0
    while used < budget:
        try:
            page = fans_page(services.settings, open_id, token, cursor, config.page_size)
        except DouyinError as exc:
            if exc.access_expired and not retried:
                token, retried = fresh_token(services, account_id, force=True), True
                continue
            record_failure(services, account_id, exc)
            raise
        items = [{**fan, "douyin_account": nickname, "douyin_account_open_id": open_id}
                 for fan in page.fans if isinstance(fan, dict)] + [f for f in page.fans if not isinstance(f, dict)]
        store_page(services, scene_id, config, items, run)
        _save_cursor(services, account_id, page.cursor)
        cursor, used = page.cursor, used + 1
        if not page.has_more:
            return used, False
    return used, True


def pull_accounts(services, scene_id: int, config: PullConfig, run, store_page, max_pages: int) -> tuple[bool, list[str]]:
    """Every active account of the scene within max_pages in total; returns (more waiting, errors)."""
    more, errors, left = False, [], max_pages
    accounts = active_accounts(services, scene_id)
    if not accounts:
        return False, ["该场景授权的抖音号均已失效（已过期或被撤销），请在「抖音授权」中重新授权"]
    for account in accounts:
        if left <= 0:
            return True, errors
        try:
            used, waiting = _account_pages(services, scene_id, config, run, store_page, account, left)
        except DouyinError as exc:
            errors.append(f"抖音号「{account[2] or account[1]}」：{exc.message}")
            continue
        left -= used
        more = more or waiting
    return more, errors

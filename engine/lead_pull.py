"""订单同步 / 抖音粉丝同步: scenes that must ask a platform for new orders or fans (rather than being
told by a webhook) are polled here — every few minutes by the scheduler, or at once when an
operator presses 立即同步 (手动触发订单同步). Each order or fan becomes a lead through the scene,
exactly like a pushed one; the platform's order number / open_id makes it idempotent, so an
order seen twice is one lead.

Wire format (one GET per page, through the SSRF guard):

    GET <endpoint>?cursor=<where the last page stopped>&limit=<page_size>
    X-App-Key: <app_key>  X-Timestamp: <unix seconds>
    X-Sign: hex(HMAC-SHA256(app_secret, f"{timestamp}.{cursor}"))     (app key/secret credentials)
    Authorization: Bearer <access_token>                              (token credentials)
    → 200 {"items": [{...order or fan...}], "next_cursor": "…", "has_more": true|false}

A run follows has_more for up to MAX_PAGES pages; the cursor is saved after every page whose
items are stored, so a failure later in the run does not refetch them. A platform that fails
(HTTP error, timeout, not JSON) fails the run with a Chinese reason, and the scene waits 1, 2,
4 … 60 minutes before the next try (crm.leads.pull_state). Items the scene refuses (no phone,
junk) go to 线索死信 with the reason.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass

from crm.leads import intake
from crm.leads.errors import LeadsError, SubmissionRefused
from crm.leads.models import PullRun
from crm.leads.pull_state import (PullConfig, due_scene_ids, get_cursor, pull_config, record_failure,
                                  record_page, record_success, start_run)
from crm.leads.scenes import get_scene, open_credentials
from engine import douyin_pull
from engine.cron import CronJob
from handlers.errors import PermanentError, RetryableError
from handlers.net_guard import fetch

log = logging.getLogger("ckb.leads.pull")

MAX_PAGES = 20  # per run; a backlog larger than this continues in the next minute's run
MAX_RESPONSE_BYTES = 8 * 1024 * 1024


class PullFailed(Exception):
    """The platform did not give a usable page; `message` is shown in 订单同步记录."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Page:
    items: list
    next_cursor: str
    has_more: bool


def sign(app_secret: str, timestamp: str, cursor: str) -> str:
    return hmac.new(app_secret.encode(), f"{timestamp}.{cursor}".encode(), hashlib.sha256).hexdigest()


def auth_headers(credentials: dict, cursor: str, timestamp: int) -> dict:
    token = str(credentials.get("access_token") or "")
    if token:
        return {"Authorization": f"Bearer {token}"}
    key, secret = str(credentials.get("app_key") or ""), str(credentials.get("app_secret") or "")
    if key and secret:
        ts = str(timestamp)
        return {"X-App-Key": key, "X-Timestamp": ts, "X-Sign": sign(secret, ts, cursor)}
    raise PullFailed("未配置平台凭证（需要 app_key 与 app_secret，或 access_token），请在场景配置中填写")


def _platform_message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    text = data.get("message") or data.get("error") if isinstance(data, dict) else ""
    return f"：{str(text)[:200]}" if isinstance(text, str) and text else ""


def fetch_page(settings, config: PullConfig, credentials: dict, cursor: str, timestamp: int) -> Page:
    headers = auth_headers(credentials, cursor, timestamp)
    try:
        answer = fetch(settings, "GET", config.endpoint, params={"cursor": cursor, "limit": config.page_size},
                       headers=headers, max_bytes=MAX_RESPONSE_BYTES)
    except (RetryableError, PermanentError) as exc:
        raise PullFailed(f"连接平台失败：{exc}") from None
    if answer.status >= 400:
        hint = "（凭证无效或已过期）" if answer.status in (401, 403) else ""
        raise PullFailed(f"平台返回 HTTP {answer.status}{hint}{_platform_message(answer.body)}")
    if answer.truncated:
        raise PullFailed(f"平台返回内容超过 {MAX_RESPONSE_BYTES // (1024 * 1024)} MB，请减小每页条数")
    try:
        data = json.loads(answer.body)
    except ValueError:
        raise PullFailed("平台返回的内容不是有效的 JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise PullFailed("平台返回格式不正确：缺少 items 列表")
    next_cursor = data.get("next_cursor")
    next_cursor = cursor if next_cursor in (None, "") else str(next_cursor)
    has_more = data.get("has_more") is True
    if has_more and next_cursor == cursor:
        raise PullFailed("平台返回 has_more=true 但游标没有前进，已停止以免重复拉取")
    return Page(data["items"], next_cursor, has_more)


def _submissions(config: PullConfig, items: list) -> tuple[list, list]:
    """(submissions to store, (submission, reason) refused before the scene even sees them)."""
    ready, refused = [], []
    for item in items:
        if not isinstance(item, dict):
            refused.append((intake.Submission(raw={"item": item}, source="pull"), "平台数据不是 JSON 对象"))
            continue
        external_id = item.get(config.id_field)
        sub = intake.Submission(raw=item, external_id=None if external_id in (None, "") else str(external_id),
                                source="pull", meta={"pull_kind": config.kind})
        if sub.external_id is None:
            refused.append((sub, f"缺少{config.label}的唯一编号 {config.id_field}"))
        else:
            ready.append(sub)
    return ready, refused


def _store_page(services, scene_id: int, config: PullConfig, items: list, run: PullRun) -> None:
    ready, refused = _submissions(config, items)
    results = intake.submit(services.db, scene_id, ready, services.settings.timezone,
                            now=services.now()) if ready else []
    dead = [(sub, reason, {config.id_field: reason}) for sub, reason in refused]
    for sub, result in zip(ready, results):
        if isinstance(result, SubmissionRefused):
            dead.append((sub, result.message, result.errors))
        elif result.duplicate:
            run.duplicates += 1
        else:
            run.created += 1
    run.fetched += len(items)
    run.rejected += len(dead)
    with services.db.write() as session:
        for sub, reason, errors in dead:
            intake.dead_letter(session, scene_id, "pull", sub, reason, errors)
        session.merge(run)


def _open(services, scene_id: int, trigger: str):
    """Starts a run: (run, config, credentials, cursor), or LeadsError when it cannot start."""
    with services.db.write() as session:
        scene = get_scene(session, scene_id)
        config = pull_config(scene)
        if config is None:
            raise LeadsError(f"场景「{scene.name}」未开启平台同步"
                             "（需启用的订单获客或抖音获客场景，并在参数中开启拉取）")
        run = start_run(session, scene.id, trigger, services.now())
        if run is None:
            raise LeadsError(f"场景「{scene.name}」正在同步中，请稍后查看同步记录")
        return run, config, open_credentials(services.secret_box, scene), get_cursor(session, scene.id).cursor


def _pull_endpoint(services, scene_id: int, config: PullConfig, credentials: dict, cursor: str, run: PullRun) -> bool:
    """Pages the scene's own platform endpoint; returns whether more is waiting after MAX_PAGES."""
    for _ in range(MAX_PAGES):
        page = fetch_page(services.settings, config, credentials, cursor, int(services.now().timestamp()))
        _store_page(services, scene_id, config, page.items, run)
        with services.db.write() as session:
            record_page(session, scene_id, page.next_cursor)
        cursor = page.next_cursor
        if not page.has_more:
            return False
    return True


def sync_now(services, scene_id: int, trigger: str = "manual") -> PullRun:
    """One run for one scene (the 立即同步 button, or the scheduler with trigger="schedule"). A 抖音粉丝同步
    scene with authorised 抖音号 pulls through them (engine/douyin_pull.py); otherwise its endpoint."""
    run, config, credentials, cursor = _open(services, scene_id, trigger)
    more_waiting = False
    try:
        if config.kind == "douyin_fans" and douyin_pull.has_accounts(services, scene_id):
            more_waiting, errors = douyin_pull.pull_accounts(services, scene_id, config, run, _store_page, MAX_PAGES)
            if errors:
                raise PullFailed("；".join(errors))
        elif not config.endpoint:
            raise PullFailed("该场景还没有授权的抖音号，也没有填写平台接口地址：请先在「抖音授权」中授权抖音号")
        else:
            more_waiting = _pull_endpoint(services, scene_id, config, credentials, cursor, run)
    except PullFailed as exc:
        error = exc.message
    except Exception as exc:  # noqa: BLE001 - a bug or a database error must still close the run
        log.exception("lead pull failed", extra={"scene": scene_id})
        error = f"同步出错：{type(exc).__name__}"
    else:
        error = None
    with services.db.write() as session:
        run = session.merge(run)
        if error is None:
            record_success(session, run, services.now(), config.interval_minutes, more_waiting)
        else:
            record_failure(session, run, error, services.now())
    return run


def run_due(services) -> str:
    """The cron job: every polling scene whose next run time has come."""
    with services.db.read() as session:
        ids = due_scene_ids(session, services.now())
    lines = []
    for scene_id in ids:
        try:
            run = sync_now(services, scene_id, trigger="schedule")
        except LeadsError as exc:  # already running elsewhere, or switched off meanwhile
            lines.append(exc.message)
            continue
        lines.append(f"场景 {scene_id}：拉取 {run.fetched}，新线索 {run.created}，重复 {run.duplicates}，"
                     f"拒收 {run.rejected}" if run.ok else f"场景 {scene_id} 同步失败：{run.error}")
    return "；".join(lines) if lines else "没有到期的平台同步"


CRON_JOB = CronJob("lead_pull", "平台线索同步（订单/抖音粉丝）", {"minute": "*"},
                   lambda runtime: run_due(runtime.services))

"""平台回调的门卫: which scene a platform call belongs to, whether it is genuine (signature, ±300 s
timestamp, not a replay, not a flood), and a count of every call turned away, by platform and
reason, for 获客统计.

A genuine call is stored before it is answered: its leads (or dead letters) are written, then
the platform hears "success". Refusals the platform can fix or must not repeat (bad signature,
stale timestamp, replay, too many calls, unknown scene) get the platform's own error format;
a genuine call whose content cannot become a lead is still answered "success" and kept in
线索死信, because platforms re-send anything not acknowledged for hours, and re-sending junk
cannot make it better.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping, Optional

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from config.rate_limit import RateLimiter
from crm.leads import intake
from crm.leads.adapters import get_adapter
from crm.leads.adapters.base import Answer, WebhookAdapter, WebhookRefused, count_accepted, json_answer
from crm.leads.models import SCENE_TYPES, LeadScene, WebhookNonce, WebhookRejection
from crm.leads.scenes import open_secret

log = logging.getLogger("crm.leads.webhooks")

RATE_WINDOW_SECONDS = 60
DEAD_LETTER_BODY_CHARS = 64 * 1024  # what a dead letter keeps of an unreadable body


@dataclass
class WebhookCall:
    adapter_key: str
    body: bytes
    headers: Mapping[str, str]
    client_ip: str = ""
    scene_key: Optional[str] = None  # ?scene=<key>, needed when several scenes share a platform


@dataclass
class Reply:
    answer: Answer
    headers: dict = field(default_factory=dict)


def remember_signature(db, scene_id: int, digest: str, now: datetime, window: int) -> bool:
    """False when this signature was already seen for the scene inside the window (a replay).
    Old signatures are dropped in the same transaction: past the window the timestamp check
    refuses them anyway."""
    try:
        with db.write() as session:
            purge_nonces(session, now - timedelta(seconds=2 * window))
            session.add(WebhookNonce(scene_id=scene_id, digest=digest, created_at=now))
            session.flush()
    except IntegrityError:
        return False
    return True


def forget_signature(db, scene_id: int, digest: str) -> None:
    """A call that failed on our side may be re-sent as it was; it must not count as a replay."""
    with db.write() as session:
        session.execute(delete(WebhookNonce).where(WebhookNonce.scene_id == scene_id, WebhookNonce.digest == digest))


def purge_nonces(session: Session, before: datetime) -> int:
    result = session.execute(delete(WebhookNonce).where(WebhookNonce.created_at < before))
    return result.rowcount or 0


def record_rejection(db, adapter: str, scene_id: Optional[int], reason: str, ip: str, now: datetime,
                     *, window_start: Optional[datetime] = None) -> None:
    """One row per refusal; with `window_start` (rate limits) a row of the same client, scene and
    reason since then counts the call (hits + 1) instead, so every refused call counts without one
    row (or log line) per call."""
    with db.write() as session:
        if window_start is not None:
            row_id = session.exec(select(WebhookRejection.id).where(
                WebhookRejection.adapter == adapter[:32],
                WebhookRejection.scene_id.is_(None) if scene_id is None else WebhookRejection.scene_id == scene_id,
                WebhookRejection.reason == reason, WebhookRejection.client_ip == ip[:64],
                WebhookRejection.created_at >= window_start).order_by(WebhookRejection.id.desc()).limit(1)).first()
            if row_id is not None:
                session.execute(update(WebhookRejection).where(WebhookRejection.id == row_id)
                                .values(hits=WebhookRejection.hits + 1))
                return
        session.add(WebhookRejection(adapter=adapter[:32], scene_id=scene_id, reason=reason, client_ip=ip[:64],
                                     created_at=now))
    # No payload, no headers: only who was refused and why (the payload may hold phone numbers).
    log.warning("webhook refused: adapter=%s scene=%s reason=%s ip=%s", adapter, scene_id, reason, ip)


def rejection_counts(session: Session, since: datetime, scene_id: Optional[int] = None) -> dict[tuple[str, str], int]:
    """{(adapter key, reason): refused calls since `since`} for 获客统计."""
    query = select(WebhookRejection.adapter, WebhookRejection.reason, func.sum(WebhookRejection.hits)).where(
        WebhookRejection.created_at >= since)
    if scene_id is not None:
        query = query.where(WebhookRejection.scene_id == scene_id)
    rows = session.exec(query.group_by(WebhookRejection.adapter, WebhookRejection.reason)).all()
    return {(adapter, reason): int(n) for adapter, reason, n in rows}


def find_scene(session: Session, adapter: WebhookAdapter, scene_key: Optional[str], hint: Optional[int]) -> LeadScene:
    """The enabled scene this call is for: ?scene=<key>, else the scene the payload names (a
    payment code's), else the only enabled scene of the adapter's type."""
    types = adapter.scene_types
    if scene_key:
        scene = session.exec(select(LeadScene).where(LeadScene.key == scene_key[:40])).first()
        if scene is None or not scene.is_enabled or scene.scene_type not in types:
            raise WebhookRefused("scene", f"没有可接收{adapter.name}的启用场景「{scene_key[:40]}」")
        return scene
    if hint is not None:
        scene = session.get(LeadScene, hint)
        if scene is not None and scene.is_enabled and scene.scene_type in types:
            return scene
    scenes = session.exec(select(LeadScene).where(LeadScene.scene_type.in_(types),
                                                  LeadScene.is_enabled.is_(True)).limit(2)).all()
    if not scenes:
        labels = "、".join(SCENE_TYPES.get(t, t) for t in types)
        raise WebhookRefused("scene", f"没有启用的{labels}场景")
    if len(scenes) > 1:
        raise WebhookRefused("scene", "有多个启用的同类场景：请在回调地址中加上 ?scene=<场景标识>", status=409)
    return scenes[0]


def _over_limit(limiter: RateLimiter, key: str, limit: int) -> Optional[int]:
    """None when allowed, else seconds until the window ends (retry_after)."""
    seen, retry_after = limiter.count(key, RATE_WINDOW_SECONDS)
    return None if seen <= limit else retry_after


class _Limited(WebhookRefused):
    def __init__(self, message: str, retry_after: int):
        super().__init__("rate_limit", message)
        self.retry_after = retry_after


def receive(services, limiter: RateLimiter, call: WebhookCall) -> Reply:
    """The whole life of one platform call; the web view only reads the request and writes the reply."""
    adapter = get_adapter(call.adapter_key)
    try:
        ip_limit = services.settings.lead_webhook_ip_limit_per_minute
        over = _over_limit(limiter, f"webhook:ip:{call.client_ip}", ip_limit)
        if over is not None:
            raise _Limited(f"请求过于频繁：每个来源 IP 每分钟最多 {ip_limit} 次", over)
        if adapter is None:
            return Reply(json_answer(404, {"error": "unknown_adapter", "message": "未知的回调类型"}))
        scene, info = _authenticate(services, limiter, adapter, call)
    except WebhookRefused as refused:
        return _refuse(services, adapter, call, refused)
    return _deliver(services, adapter, scene, info.digest, call)


def _authenticate(services, limiter: RateLimiter, adapter: WebhookAdapter, call: WebhookCall):
    settings = services.settings
    if len(call.body) > settings.max_body_bytes:
        raise WebhookRefused("body", f"请求体过大：上限 {settings.max_body_bytes} 字节", status=413)
    with services.db.read() as session:
        scene = find_scene(session, adapter, call.scene_key, adapter.scene_hint(session, call.body, call.headers))
    secret = open_secret(services.secret_box, scene)
    try:
        if not secret:
            raise WebhookRefused("signature", "该场景尚未生成回调签名密钥")
        now = services.now()
        window = settings.signature_tolerance_seconds
        info = adapter.verify(call.headers, call.body, secret, now, window)
        # Only genuine calls spend the scene's budget, so forgeries cannot starve the platform.
        over = _over_limit(limiter, f"webhook:scene:{scene.id}", scene.rate_limit_per_minute)
        if over is not None:
            raise _Limited(f"请求过于频繁：该场景每分钟最多接收 {scene.rate_limit_per_minute} 次回调", over)
        if not remember_signature(services.db, scene.id, info.digest, now, window):
            raise WebhookRefused("replay", "重复的签名：该请求已接收过（重放）")
    except WebhookRefused as refused:
        refused.scene_id = scene.id
        raise
    return scene, info


def _deliver(services, adapter: WebhookAdapter, scene: LeadScene, digest: str, call: WebhookCall) -> Reply:
    tz = services.settings.timezone
    try:
        results = adapter.deliver(services.db, scene, call.body, call.headers, tz, services.now())
    except WebhookRefused as refused:
        # Genuine but unreadable: kept for a person to look at, acknowledged so it is not re-sent.
        raw = {"adapter": adapter.key, "body": call.body.decode("utf-8", "replace")[:DEAD_LETTER_BODY_CHARS]}
        with services.db.write() as session:
            intake.dead_letter(session, scene.id, "webhook", intake.Submission(raw=raw, source="webhook"),
                               refused.message, [{"field": "body", "message": refused.message}])
        record_rejection(services.db, adapter.key, scene.id, "body", call.client_ip, services.now())
        return Reply(adapter.ok_response([]))
    except Exception:
        forget_signature(services.db, scene.id, digest)
        raise
    log.info("webhook delivered: adapter=%s scene=%s items=%d accepted=%d", adapter.key, scene.id, len(results),
             count_accepted(results))
    return Reply(adapter.ok_response(results))


def _refuse(services, adapter: Optional[WebhookAdapter], call: WebhookCall, refused: WebhookRefused) -> Reply:
    headers = {}
    now = services.now()
    if isinstance(refused, _Limited):
        headers["Retry-After"] = str(refused.retry_after)
    if adapter is not None:  # calls to unknown adapters are scanners: answered, not stored
        if isinstance(refused, _Limited):
            # A flood must not become a flood of rows: one per client (or scene) and window, counting every call.
            window_start = now - timedelta(seconds=RATE_WINDOW_SECONDS - refused.retry_after + 1)
            record_rejection(services.db, adapter.key, refused.scene_id, refused.reason, call.client_ip, now,
                             window_start=window_start)
        else:
            record_rejection(services.db, adapter.key, refused.scene_id, refused.reason, call.client_ip, now)
    if adapter is None:
        answer = json_answer(refused.status, {"error": refused.reason, "message": refused.message})
    else:
        answer = adapter.error_response(refused.reason, refused.message, refused.status)
    return Reply(answer, headers)

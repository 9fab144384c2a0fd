"""电话获客 outbound on the wire: dialling through a generic HTTP CTI and taking its status callbacks.

Dial request (through the SSRF guard), signed like the callbacks:
    POST <CKB_CTI_DIAL_URL>   X-CTI-Timestamp: <unix seconds>
                              X-CTI-Signature: hex(HMAC-SHA256(CKB_CTI_SECRET, "{timestamp}.{body}"))
    {"call_id", "callee", "seat": {"id", "username", "name"}, "task_id", "script", "callback_url"}
    → 2xx {"accepted": true}; anything else fails the dial with the CTI's reason.
Status callbacks: POST /webhooks/cti/outbound with the same headers, body
    {"call_id", "event": "ringing" | "answered" | "ended", "result", "duration", "intent", "notes", "recording_url"};
a stale timestamp, a bad signature or a replayed one is refused (401/409) and nothing changes.

The cron job (every minute) dials what is due, closes calls the CTI never reported on, and fetches
recordings into var/recordings: at most CKB_CALL_RECORDING_MAX_MB, and only audio (checked by the file's
own bytes, not its name or header). No network call happens inside a write transaction."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from pathlib import Path

from sqlmodel import select

from config.clock import as_utc
from crm.leads.call_dialing import plan_dials, stale_calls
from crm.leads.call_models import CallRecord, CallTask
from crm.leads.call_results import apply_callback, finish
from crm.leads.webhook_guard import remember_signature
from crm.people.models import User
from handlers.errors import PermanentError, RetryableError
from handlers.net_guard import fetch

log = logging.getLogger("ckb.leads.calls")
WINDOW_SECONDS = 300
CALLBACK_NONCE_SCENE = 0  # the outbound CTI's signatures share the webhook nonce store under scene 0
AUDIO = ((b"ID3", "audio/mpeg", "mp3"), (b"\xff\xfb", "audio/mpeg", "mp3"), (b"\xff\xf3", "audio/mpeg", "mp3"),
         (b"RIFF", "audio/wav", "wav"), (b"#!AMR", "audio/amr", "amr"), (b"OggS", "audio/ogg", "ogg"))


class CallbackRefused(Exception):
    def __init__(self, status: int, reason: str, message: str):
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _seat(session, user_id):
    user = session.get(User, user_id)
    return {"id": user_id, "username": user.username if user else "", "name": (user.display_name if user else "")}


def _dial_one(services, record_id: int, callback_url: str) -> None:
    settings = services.settings
    with services.db.read() as session:
        record = session.get(CallRecord, record_id)
        task = session.get(CallTask, record.task_id)
        body = json.dumps({"call_id": record.call_id, "callee": record.mobile, "seat": _seat(session, record.seat_user_id),
                           "task_id": record.task_id, "script": task.script if task else "",
                           "callback_url": callback_url}, ensure_ascii=False).encode()
    ts = str(int(services.now().timestamp()))
    error = ""
    try:
        answer = fetch(settings, "POST", settings.cti_dial_url, body=body,
                       headers={"Content-Type": "application/json", "X-CTI-Timestamp": ts,
                                "X-CTI-Signature": sign(settings.cti_secret, ts, body)}, max_bytes=64 * 1024)
        if answer.status >= 300:
            error = f"CTI 拒绝呼叫（HTTP {answer.status}）"
    except (RetryableError, PermanentError) as exc:
        error = f"连接 CTI 失败：{exc}"
    if error:
        with services.db.write() as session:
            finish(session, session.get(CallRecord, record_id), "failed", services.now(), settings.timezone, error=error)


def dial_due(services, callback_url: str) -> int:
    """Dials every number due now; returns how many calls were placed."""
    settings = services.settings
    if not settings.cti_dial_url:
        return 0
    with services.db.write() as session:
        planned = plan_dials(session, services.now(), settings.timezone, settings.call_daily_attempts)
    for record_id in planned:
        _dial_one(services, record_id, callback_url)
    return len(planned)


def dial_soon(services, callback_url: str) -> None:
    """Dials in the background (after a call ended or a task started) so the caller answers at once."""
    threading.Thread(target=_safe_dial, args=(services, callback_url), name="ckb-outbound-dial", daemon=True).start()


def _safe_dial(services, callback_url: str) -> None:
    try:
        dial_due(services, callback_url)
    except Exception:  # noqa: BLE001 - the next minute's job retries; a thread must not die loudly
        log.exception("outbound dialing failed")


def receive_callback(services, headers, body: bytes) -> CallRecord:
    settings = services.settings
    if not settings.cti_secret:
        raise CallbackRefused(404, "off", "未开启外呼（未配置 CTI）")
    ts, signature = headers.get("X-CTI-Timestamp", ""), headers.get("X-CTI-Signature", "")
    now = as_utc(services.now())
    if not ts.isdigit() or abs(int(ts) - now.timestamp()) > WINDOW_SECONDS:
        raise CallbackRefused(401, "timestamp", "时间戳缺失或超出 5 分钟窗口")
    if not hmac.compare_digest(sign(settings.cti_secret, ts, body), signature):
        raise CallbackRefused(401, "signature", "签名校验失败")
    if not remember_signature(services.db, CALLBACK_NONCE_SCENE, signature[:64], now, WINDOW_SECONDS):
        raise CallbackRefused(409, "replay", "重复的回调（重放）")
    try:
        payload = json.loads(body)
    except ValueError:
        raise CallbackRefused(400, "body", "回调内容不是 JSON") from None
    with services.db.write() as session:
        return apply_callback(session, payload, now, settings.timezone)


def _store_recording(services, record_id: int) -> None:
    settings = services.settings
    with services.db.read() as session:
        url = session.get(CallRecord, record_id).recording_url
    limit = settings.call_recording_max_mb * 1024 * 1024
    path, kind, size, error = "", "", 0, ""
    try:
        answer = fetch(settings, "GET", url, max_bytes=limit)
        if answer.status >= 300:
            error = f"录音下载失败（HTTP {answer.status}）"
        elif answer.truncated:
            error = f"录音超过 {settings.call_recording_max_mb} MB，未保存"
        else:
            found = next(((mime, ext) for magic, mime, ext in AUDIO if answer.body.startswith(magic)), None)
            if found is None:
                error = "录音文件不是支持的音频格式（mp3/wav/amr/ogg）"
            else:
                kind, size = found[0], len(answer.body)
                folder = Path(settings.var_dir) / "recordings"
                folder.mkdir(parents=True, exist_ok=True)
                name = f"{record_id}-{hashlib.sha256(answer.body).hexdigest()[:16]}.{found[1]}"
                (folder / name).write_bytes(answer.body)
                path = name
    except (RetryableError, PermanentError) as exc:
        error = f"录音下载失败：{exc}"
    with services.db.write() as session:
        record = session.get(CallRecord, record_id)
        record.recording_path, record.recording_type, record.recording_size = path, kind, size
        record.recording_error = error[:300]
        session.add(record)


def fetch_recordings(services, limit: int = 20) -> int:
    with services.db.read() as session:
        ids = session.exec(select(CallRecord.id).where(CallRecord.recording_url != "", CallRecord.recording_path == "",
                                                       CallRecord.recording_error == "").limit(limit)).all()
    for record_id in ids:
        _store_recording(services, record_id)
    return len(ids)


def close_stale(services) -> int:
    with services.db.write() as session:
        rows = stale_calls(session, services.now())
        for record in rows:
            finish(session, record, "failed", services.now(), services.settings.timezone, error="CTI 未回报通话结果，已按失败关闭")
        return len(rows)


def callback_url(settings, host: str = "") -> str:
    """Where the CTI reports: CKB_PUBLIC_BASE_URL, else the host the request came to (a CTI configured
    with its own callback address ignores it)."""
    return (settings.public_base_url or host).rstrip("/") + "/webhooks/cti/outbound"


def run_outbound(services) -> str:
    """The cron job: close stale calls, dial what is due, fetch recordings."""
    closed = close_stale(services)
    placed = dial_due(services, callback_url(services.settings))
    fetched = fetch_recordings(services)
    return f"外呼：拨出 {placed}，关闭超时 {closed}，下载录音 {fetched}"


CRON_SPECS = (("calls.outbound", "外呼拨号与录音下载", {"minute": "*"}, run_outbound),)

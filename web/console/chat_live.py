"""触客宝's live channel in the browser: Server-Sent Events at /chat/stream, and /chat/events for
browsers past the stream limit (they poll).

A stream holds one server thread for as long as the page is open (gunicorn gthread, like a phone's
WebSocket), so a process serves at most CKB_CHAT_STREAM_LIMIT streams at once (default 4) and
answers the next with 429: the page then polls /chat/events every 0.8 s instead, which holds no
thread. A stream sends a comment line every CKB_CHAT_HEARTBEAT_SECONDS (proxies keep it open; a
browser that went away makes the write fail, which ends the stream and frees the thread) and ends
itself after STREAM_SECONDS (the browser's EventSource reconnects at once with Last-Event-ID), so
no thread is held forever by a half-open connection."""
from __future__ import annotations

import json
import time
from datetime import datetime

from flask import Flask, Response, current_app, g, jsonify, request

from config.clock import format_local, to_local
from config.pii import mask_text
from conversations import chat_scope
from conversations.live import LiveHub
from crm.people.masking import lists_show_full
from web.console.masking_filters import current_mode
from web.auth.guards import current_viewer, permission_required
from web.extensions import services

STREAM_SECONDS = 300
ASSIGNED_REFRESH_SECONDS = 2.0


def hub_for(app: Flask) -> LiveHub:
    hub = app.extensions.get("ckb_chat_live")
    if hub is None:
        svc = app.extensions["ckb"].services
        hub = app.extensions.setdefault("ckb_chat_live", LiveHub(svc.db, redis_url=svc.settings.redis_url or "",
                                                                 stream_limit=svc.settings.chat_stream_limit,
                                                                 wall=svc.now))
    return hub


def hub() -> LiveHub:
    h = hub_for(current_app._get_current_object())
    h.touch()
    return h


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def shown_time(value, tz: str) -> str:
    return format_local(value, "%m-%d %H:%M", tz) if value else ""


def local_iso(value, tz: str):
    """A stored UTC time as ISO text in the configured zone (with its offset): browsers get no UTC wall times."""
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return to_local(value, tz).isoformat() if isinstance(value, datetime) else value


def masked_message(message: dict, full: bool, tz: str = "") -> dict:
    """A message as this user's browser gets it (`tz`: given where no request context exists)."""
    out = dict(message)
    if not full:
        out["text"] = mask_text(out.get("text") or "")
    if "sent_at" in out:
        zone = tz or services().settings.timezone
        out["time"] = shown_time(out["sent_at"], zone)
        out["sent_at"] = local_iso(out["sent_at"], zone)
    return out


def masked_conversation(conversation: dict, full: bool, tz: str = "") -> dict:
    out = dict(conversation)
    if not full:
        out["last_message_text"] = mask_text(out.get("last_message_text") or "")
    zone = tz or services().settings.timezone
    out["time"] = shown_time(out.get("last_message_at"), zone)
    for name in ("last_message_at", "last_inbound_at", "last_outbound_at"):
        if name in out:
            out[name] = local_iso(out[name], zone)
    return out


class _Filter:
    """Which events this browser's user may see (their accounts, conversations transferred to them)."""

    def __init__(self, viewer, full: bool):
        self.viewer = viewer
        self.full = full
        self.tz = services().settings.timezone  # the stream's generator runs without a request context
        self.db = services().db
        self.all = chat_scope.sees_all(viewer)
        self.accounts: set = set()
        self.assigned: set = set()
        self.checked = 0.0
        if not self.all:
            self.refresh()

    def refresh(self) -> None:
        with self.db.read() as session:
            self.accounts = chat_scope.account_ids_of(session, self.viewer) or set()
            self.assigned = chat_scope.assigned_ids(session, self.viewer)
        self.checked = time.monotonic()

    def allows(self, event: dict) -> bool:
        if self.all or event.get("type") == "reset":
            return True
        conversation = event.get("conversation") or {}
        message = event.get("message") or {}
        if conversation.get("assignee_id") == self.viewer.user_id:
            self.assigned.add(conversation.get("id"))
            return True
        cid = conversation.get("id") or message.get("conversation_id")
        channel = conversation.get("channel", "wechat")
        account = conversation.get("account_id") or message.get("account_id")
        if (channel == "wechat" and account in self.accounts) or cid in self.assigned:
            return True
        if time.monotonic() - self.checked > ASSIGNED_REFRESH_SECONDS:
            self.refresh()
            return (channel == "wechat" and account in self.accounts) or cid in self.assigned
        return False

    def shape(self, event: dict) -> dict:
        out = dict(event)
        if "message" in out and "text" in out["message"]:
            out["message"] = masked_message(out["message"], self.full, self.tz)
        elif "message" in out:
            out["message"] = dict(out["message"])
        if "conversation" in out:
            out["conversation"] = masked_conversation(out["conversation"], self.full, self.tz)
        return out


def _viewer_filter() -> _Filter:
    return _Filter(current_viewer(), lists_show_full(current_mode()) if g.get("user") is not None else False)


def _after_arg() -> int:
    raw = request.headers.get("Last-Event-ID") or request.args.get("after") or ""
    try:
        return max(0, int(raw))
    except ValueError:
        return -1


def register(bp) -> None:
    @bp.get("/chat/stream")
    @permission_required("conversations.view")
    def stream():
        if "text/event-stream" not in request.headers.get("Accept", ""):
            # Only an EventSource holds a thread here; anything else (a link, a crawler) is told so.
            return jsonify({"error": "not_acceptable", "message": "实时连接需要 Accept: text/event-stream；其他客户端请轮询 /chat/events"}), 406
        h = hub()
        if not h.streams.acquire(blocking=False):
            return jsonify({"error": "too_many_streams", "message": "实时连接已满，改为定时刷新"}), 429
        try:
            view = _viewer_filter()
            after = _after_arg()
            heartbeat = services().settings.chat_heartbeat_seconds
        except BaseException:
            h.streams.release()
            raise

        def events():
            nonlocal after
            try:
                restarted = after > h.seq  # the browser's last id is from before this process started
                if after < 0 or restarted:
                    after = h.seq
                yield f"retry: 1000\nid: {after}\nevent: hello\ndata: {{}}\n\n"
                if restarted:
                    yield f"id: {after}\ndata: {{\"type\": \"reset\"}}\n\n"
                ends = time.monotonic() + STREAM_SECONDS
                while time.monotonic() < ends:
                    seq, items = h.wait(after, heartbeat)
                    if seq == after or not items:
                        after = max(after, seq)
                        yield ": ping\n\n"
                        continue
                    chunks = [json.dumps(view.shape(e), ensure_ascii=False, default=_json_default)
                              for e in items if view.allows(e)]
                    after = seq
                    if chunks:
                        yield "".join(f"id: {seq}\ndata: {c}\n\n" for c in chunks)
                    else:
                        yield f"id: {seq}\n: skip\n\n"
            finally:
                h.streams.release()

        return Response(events(), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @bp.get("/chat/events")
    @permission_required("conversations.view")
    def events_poll():
        h = hub()
        after = _after_arg()
        if after < 0:
            return jsonify({"seq": h.seq, "events": []})
        if after > h.seq:  # polled across a restart: start over from now
            return current_app.response_class(json.dumps({"seq": h.seq, "events": [{"type": "reset"}]}),
                                              mimetype="application/json")
        seq, items = h.wait(after, 0)
        view = _viewer_filter()
        shaped = [view.shape(e) for e in items if view.allows(e)]
        return current_app.response_class(json.dumps({"seq": seq, "events": shaped}, ensure_ascii=False,
                                                     default=_json_default), mimetype="application/json")

"""Live 触客宝: what browsers see change without a reload — a new message (from a phone, a 公众号
push, a colleague's answer) and an outbound message's state moving (发送中 → 已发送 / 已延后 /
发送失败 with the reason).

One hub per process. `conversations.store.on_message` tells it (after commit) about every message
this process stored; with CKB_REDIS_URL the hub also publishes those on a Redis channel and hears
the other processes' (a `cunkebao worker`, another web process), so a message stored anywhere
reaches every browser. A single worker thread turns them into events (one read per batch, not per
browser) in a bounded ring with a sequence number; each browser's stream waits on the ring and
filters by what its user may see. Outbound messages still on their way are watched: their device
commands are polled every half second (results are written by the gateway's outcome writer, in
whichever process holds the phone) and a change is stored on the message and announced.

The hub starts on first use and stops itself after a minute with no browser and nothing to watch,
so a process nobody chats in does no work."""
from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
import uuid
from collections import deque
from datetime import datetime
from dataclasses import asdict
from typing import Callable, Optional

from sqlalchemy import update
from sqlmodel import select

from config.clock import utcnow
from conversations.chat_list import account_names
from conversations.chat_thread import PENDING, load_messages, state_of
from conversations.models import MESSAGE_STATES, ChatMessage, Conversation
from conversations.store import StoredMessage, on_message
from devices.models import DeviceCommand

log = logging.getLogger(__name__)
CHANNEL = "ckb:chat:live"
RING = 5000
IDLE_STOP_SECONDS = 60.0
WATCH_POLL_SECONDS = 0.5
WATCH_MAX = 20000
WATCH_TTL_SECONDS = 24 * 3600  # a deferral can wait for hours; after a day the thread shows it on reload


class LiveHub:
    def __init__(self, db, *, redis_url: str = "", stream_limit: int = 4, clock: Callable[[], float] = time.monotonic,
                 wall: Optional[Callable[[], datetime]] = None):
        self.db = db
        self.wall = wall or utcnow  # the services' clock: a paced command reads 已延后 until its slot
        self.redis_url = redis_url
        self.origin = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self.streams = threading.BoundedSemaphore(max(0, stream_limit))  # 0: every browser polls
        self._cond = threading.Condition()
        self._ring: deque = deque(maxlen=RING)
        self._seq = 0
        self._inbox: "queue.Queue[tuple[str, dict]]" = queue.Queue()
        self._watch: dict[int, tuple[int, str, float]] = {}  # command id → (message id, state, since)
        self._lock = threading.Lock()
        self._running = False
        self._last_use = clock()
        self._unhook: Optional[Callable[[], None]] = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._publisher = None

    # -- lifecycle ---------------------------------------------------------------------------
    def touch(self) -> None:
        """A browser is here (a stream, a poll, a send): make sure the hub runs."""
        self._last_use = self.clock()
        with self._lock:
            if self._running:
                return
            self._running = True
            self._stop.clear()
            self._unhook = on_message(self._stored_here)
            threads = [threading.Thread(target=self._work, name="ckb-chat-live", daemon=True)]
            if self.redis_url:
                threads.append(threading.Thread(target=self._listen, name="ckb-chat-live-redis", daemon=True))
            self._threads = threads
        for thread in threads:
            thread.start()

    def stop(self, join_timeout: float = 0.0) -> None:
        """Stop the hub; with join_timeout, also wait for its threads, so that nothing it writes
        (message states mirrored from commands) lands after this returns."""
        with self._lock:
            threads, was_running = list(self._threads), self._running
            self._running = False
            unhook, self._unhook = self._unhook, None
        if unhook:
            unhook()
        if was_running:
            self._stop.set()
            self._inbox.put(("stop", {}))
        if join_timeout:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join(join_timeout)

    @property
    def running(self) -> bool:
        return self._running

    # -- input --------------------------------------------------------------------------------
    def _stored_here(self, stored: StoredMessage) -> None:
        self._inbox.put(("local", asdict(stored)))

    def watch(self, command_message: dict[int, int], state: str = "queued") -> None:
        """Watch these (command id → message id) until their commands finish."""
        now = self.clock()
        with self._lock:
            for cid, mid in command_message.items():
                if len(self._watch) < WATCH_MAX and cid not in self._watch:
                    self._watch[cid] = (mid, state, now)

    def publish(self, event: dict) -> int:
        with self._cond:
            self._seq += 1
            self._ring.append((self._seq, event))
            self._cond.notify_all()
            return self._seq

    # -- output -------------------------------------------------------------------------------
    @property
    def seq(self) -> int:
        return self._seq

    def wait(self, after: int, timeout: float) -> tuple[int, list[dict]]:
        """Events after sequence `after` (waiting up to `timeout` for one); (latest seq, events).
        A browser that fell more than the ring behind gets a `reset` (reload the list)."""
        self._last_use = self.clock()
        with self._cond:
            if self._seq <= after:
                self._cond.wait(timeout)
            if not self._ring:
                return self._seq, []
            oldest = self._ring[0][0]
            if after < oldest - 1:
                return self._seq, [{"type": "reset"}]
            return self._seq, [event for seq, event in self._ring if seq > after]

    # -- the worker ------------------------------------------------------------------------------
    def _work(self) -> None:
        next_poll = self.clock()
        while not self._stop.is_set():
            batch = []
            try:
                item = self._inbox.get(timeout=WATCH_POLL_SECONDS / 2)
                if item[0] == "stop":
                    return
                batch.append(item)
                while len(batch) < 500:
                    batch.append(self._inbox.get_nowait())
            except queue.Empty:
                pass
            try:
                if batch:
                    self._relay(batch)
                if self.clock() >= next_poll:
                    next_poll = self.clock() + WATCH_POLL_SECONDS
                    self._poll_commands()
            except Exception:  # noqa: BLE001 - a database hiccup must not end live updates
                log.exception("chat live update failed")
                time.sleep(0.5)
            if self.clock() - self._last_use > IDLE_STOP_SECONDS and not self._watch:
                self.stop()
                return

    def _relay(self, batch: list[tuple[str, dict]]) -> None:
        local = [data for origin, data in batch if origin == "local"]
        if local and self.redis_url:
            self._publish_remote(local)
        stored = [data for _origin, data in batch if _origin in ("local", "remote")]
        if stored:
            self._announce([d["message_id"] for d in stored])

    def _announce(self, message_ids: list[int]) -> None:
        with self.db.read() as session:
            messages = load_messages(session, message_ids, self.wall())
            conversations = {c.id: c for c in session.exec(select(Conversation).where(
                Conversation.id.in_({m["conversation_id"] for m in messages})))}
            accounts = account_names(session, {c.account_id for c in conversations.values() if c.channel == "wechat"})
        pending = {}
        for message in sorted(messages, key=lambda m: m["id"]):
            conversation = conversations.get(message["conversation_id"])
            if conversation is None:
                continue
            if message["direction"] == "out" and message["status"] in PENDING and message["command_id"]:
                pending[message["command_id"]] = message["id"]
            self.publish({"type": "message", "message": message, "conversation": conversation_event(
                conversation, accounts.get(conversation.account_id, ""))})
        if pending:
            self.watch(pending)

    def _poll_commands(self) -> None:
        with self._lock:
            watched = dict(self._watch)
        if not watched:
            return
        now = self.clock()
        with self.db.read() as session:
            commands = {c.id: c for c in session.exec(select(DeviceCommand).where(DeviceCommand.id.in_(list(watched))))}
            messages = {m.id: m for m in session.exec(select(ChatMessage).where(
                ChatMessage.id.in_([mid for mid, _s, _t in watched.values()])))}
        changed = []
        done = []
        for cid, (mid, last, since) in watched.items():
            message, command = messages.get(mid), commands.get(cid)
            if message is None or command is None or now - since > WATCH_TTL_SECONDS:
                done.append(cid)
                continue
            state, reason = state_of(message, command, self.wall())
            if state != message.status or reason != message.reason or state != last:
                changed.append((message, state, reason))
            if state not in PENDING:
                done.append(cid)
            elif state != last:
                with self._lock:
                    self._watch[cid] = (mid, state, since)
        with self._lock:
            for cid in done:
                self._watch.pop(cid, None)
        if not changed:
            return
        with self.db.write() as session:
            for message, state, reason in changed:
                session.execute(update(ChatMessage).where(ChatMessage.id == message.id)
                                .values(status=state, reason=reason[:500]))
        for message, state, reason in changed:
            self.publish({"type": "status", "message": {
                "id": message.id, "conversation_id": message.conversation_id, "account_id": message.account_id,
                "direction": message.direction, "status": state, "status_label": MESSAGE_STATES.get(state, state), "reason": reason}})

    # -- Redis (several processes) ----------------------------------------------------------------
    def _publish_remote(self, stored: list[dict]) -> None:
        try:
            if self._publisher is None:
                from config.redis_factory import redis_client
                self._publisher = redis_client(self.redis_url)
            self._publisher.publish(CHANNEL, json.dumps({"origin": self.origin, "stored": stored}))
        except Exception as exc:  # noqa: BLE001 - other processes miss it; this one still shows it
            log.warning("chat live: Redis publish failed: %s", exc)

    def _listen(self) -> None:
        import redis

        while not self._stop.is_set():
            try:
                client = redis.Redis.from_url(self.redis_url, decode_responses=True, socket_connect_timeout=2)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                while not self._stop.is_set():
                    item = pubsub.get_message(timeout=0.5)
                    if not item:
                        continue
                    body = json.loads(item["data"])
                    if body.get("origin") == self.origin:
                        continue
                    for data in body.get("stored") or []:
                        self._inbox.put(("remote", data))
                pubsub.close()
                client.close()
            except Exception as exc:  # noqa: BLE001 - Redis away: retry; this process's own messages still flow
                log.warning("chat live: Redis subscription lost: %s", exc)
                self._stop.wait(2.0)


def conversation_event(c: Conversation, account: str) -> dict:
    """What a browser needs to move a conversation to the top of its list (no customer details:
    those depend on who looks and are loaded with the conversation)."""
    return {"id": c.id, "channel": c.channel, "kind": c.kind, "title": c.title or c.peer_id, "account_id": c.account_id,
            "account": account, "assignee_id": c.assignee_id, "last_message_text": c.last_message_text,
            "last_message_at": c.last_message_at, "last_direction": c.last_direction, "unread_count": c.unread_count,
            "unreplied": bool(c.last_inbound_at and (c.last_outbound_at is None or c.last_inbound_at > c.last_outbound_at))}

"""设备网关: one phone's conversation with the server, whatever carries it (web/devices_ws.py
puts it on a WebSocket). hello with the device token → welcome → heartbeats, the accounts on
the phone, reports, and the acks/results of the commands delivery sends it.

A report is acknowledged only after it is stored: first our own records (friend requests,
friends, groups, moments — idempotent upserts), then the event in the ledger (deduplicated on
device + report id), so a phone may re-send anything it has no ack for.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Optional

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from devices import presence
from devices.auto_accepting import auto_accept
from devices.connections import BlockingTransport, Connection, ConnectionRegistry, Transport
from devices.delivery import Delivery
from devices.errors import ProtocolError
from devices.models import WechatAccount
from devices.outcomes import Op
from devices.protocol import (CLOSE_AUTH, CLOSE_BAD_FRAME, CLOSE_DISABLED, CLOSE_HELLO_TIMEOUT, CLOSE_NORMAL,
                              CLOSE_REPLACED, HEARTBEAT_SECONDS, HELLO_TIMEOUT_SECONDS, REPORT_KINDS, VERSION,
                              ack, dumps, error, parse_frame)
from devices.registry import resolve_token, upsert_accounts, write_log
from devices.health import apply_risk_signal
from events.builtin import DEVICE_EVENT_KEYS
from events.definitions import import_builtin
from events.field_types import FieldValueError, parse_datetime
from events.ingestion import store_trusted
from devices.reports import record_report

log = logging.getLogger("ckb.devices.gateway")


class Gateway:
    def __init__(self, services, ingestor, *, heartbeat_seconds: float = HEARTBEAT_SECONDS,
                 hello_timeout: float = HELLO_TIMEOUT_SECONDS, poll_seconds: float = 0.5, ack_timeout: Optional[float] = None):
        self.services = services
        self.ingestor = ingestor
        self.heartbeat_seconds = heartbeat_seconds
        self.hello_timeout = hello_timeout
        self.registry = ConnectionRegistry()
        kwargs = {"ack_timeout": ack_timeout} if ack_timeout else {}
        self.delivery = Delivery(services, ingestor, self.registry, poll_seconds=poll_seconds,
                                 housekeeping=self._housekeeping, **kwargs)
        self._definitions_ready = False
        self._definitions_lock = threading.Lock()
        self._last_sweep = None
        # Told about every newly reported risk signal once the account is paused; web sets it to
        # notify the account's owner (devices may not import the customer center).
        self.on_risk_signal = None
        # kind → callables(session, account, data, at, report_id) run in the report's own transaction,
        # after the device records: web registers the message store here (devices may not import it),
        # so a message is stored before the phone's report is acknowledged and rolls back with it.
        self.report_sinks: dict[str, list] = {}

    @property
    def tz(self) -> str:
        return self.services.settings.timezone

    def stop(self) -> None:
        self.release_all("服务器停止")
        self.delivery.stop()

    def release_all(self, reason: str) -> None:
        """The server is stopping: every phone's disconnect is recorded in one transaction (10,000
        phones would take a transaction each, longer than a stop may last), then each is closed;
        their sessions end with nothing left to record."""
        conns = self.registry.take_all()
        if conns:
            try:
                self._record_disconnects(conns, reason)
            except Exception:  # noqa: BLE001 - the offline sweep of another process catches up
                log.exception("recording the phones' disconnect at shutdown failed")
        for conn in conns:
            conn.close(CLOSE_NORMAL, reason)

    def _record_disconnects(self, conns: list[Connection], reason: str) -> None:
        now = self.services.now()
        with self.services.db.write() as session:
            for conn in conns:
                presence.mark_disconnected(session, conn.device_id, now, reason)
        self.delivery.requeue_unacked([conn.device_id for conn in conns])

    def ensure_definitions(self) -> None:
        """Device reports are events: their definitions must exist, or every report is refused."""
        if self._definitions_ready:
            return
        with self._definitions_lock:  # many phones say hello at once after a restart
            if self._definitions_ready:
                return
            try:
                with self.services.db.write() as session:
                    created = import_builtin(session, keys=DEVICE_EVENT_KEYS)["created"]
            except IntegrityError:
                # Another process created them between our check and our insert (PostgreSQL runs
                # writers concurrently): they exist now, which is all we need.
                created = True
            if created:
                self.ingestor.catalog.invalidate()
            self._definitions_ready = True

    # -- one connection ------------------------------------------------------------------------
    # Two transports drive the same steps: `serve` below (a blocking thread per phone: flask-sock
    # in the web process) and devices/async_gateway.py (one event loop for every phone, the
    # `cunkebao gateway` process). Each step says whether it may block: accept_hello, handle of a
    # BLOCKING_FRAMES frame and disconnected write to the database; read_frame and handle of any
    # other frame never wait (heartbeats, acks and results are answered by the outcome writer).
    BLOCKING_FRAMES = ("accounts", "report")

    def serve(self, transport: BlockingTransport) -> None:
        try:
            raw = transport.receive(timeout=self.hello_timeout)
        except Exception:  # noqa: BLE001 - the transport's "closed" exception
            return
        conn = self.accept_hello(raw, transport)
        if conn is None:
            return
        try:
            while not conn.closed:
                try:
                    raw = transport.receive(timeout=5)
                except Exception:  # noqa: BLE001 - the transport's "closed" exception
                    break
                if raw is None:
                    continue
                frame = self.read_frame(conn, raw)
                if frame is None:
                    break
                self.handle(conn, frame)
        finally:
            self.disconnected(conn)

    def accept_hello(self, raw, transport: Transport) -> Optional[Connection]:
        """The first frame (None: nothing came within the hello timeout) → the registered
        connection, welcomed; or None once the phone was told why not and the transport closed.
        Blocking: resolves the token and marks the device online."""
        def refuse(code: int, close_code: int, message: str, frame_id=None) -> None:
            try:
                transport.send(error(frame_id, code, message))
            except Exception:  # noqa: BLE001 - the phone may be gone already
                pass
            Connection(0, transport).close(close_code, message)

        if raw is None:
            refuse("hello_timeout", CLOSE_HELLO_TIMEOUT, f"{int(self.hello_timeout)} 秒内未发送 hello")
            return None
        try:
            frame = parse_frame(raw)
        except ProtocolError as exc:
            refuse(exc.code, exc.close_code, exc.message)
            return None
        if frame["type"] != "hello":
            refuse("hello_required", CLOSE_BAD_FRAME, "第一条消息必须是 hello", frame["id"])
            return None
        self.ensure_definitions()
        now = self.services.now()
        with self.services.db.write() as session:
            device = resolve_token(session, frame.get("token"))
            if device is None:
                refuse("auth_failed", CLOSE_AUTH, "设备令牌无效", frame["id"])
                return None
            if not device.enabled:
                write_log(session, device.id, "alert", "已解绑的设备尝试连接，已拒绝", now)
                refuse("device_disabled", CLOSE_DISABLED, "设备已解绑，请在设备管理中启用", frame["id"])
                return None
            presence.mark_online(session, device, now, getattr(transport, "remote_addr", ""),
                                 frame.get("app_version", ""), frame.get("model", ""))
            device_id, name = device.id, device.name
            accounts = {a.wxid: a.id for a in session.exec(select(WechatAccount).where(WechatAccount.device_id == device_id))}
        conn = Connection(device_id, transport)
        conn.accounts = accounts
        old = self.registry.add(conn)
        if old is not None:
            old.close(CLOSE_REPLACED, "同一设备在别处重新连接")
        conn.send(dumps({"type": "welcome", "id": frame["id"], "device_id": device_id, "device_name": name,
                         "protocol": VERSION, "heartbeat_interval": int(self.heartbeat_seconds),
                         "server_time": now.isoformat()}))
        self.delivery.ensure_running()
        return conn

    def read_frame(self, conn: Connection, raw) -> Optional[dict]:
        """A frame after hello, parsed; a broken one is answered with an error and closes the
        connection (None, the reason kept for the device log). Never blocks."""
        conn.last_frame_at = self.services.now()
        try:
            return parse_frame(raw)
        except ProtocolError as exc:
            conn.end_reason = exc.message
            conn.send(error(None, exc.code, exc.message))
            conn.close(exc.close_code, exc.message)
            return None

    def disconnected(self, conn: Connection) -> None:
        """The session ended (the phone hung up, a bad frame, the server stopping). Blocking."""
        reason = conn.end_reason
        conn.close(CLOSE_NORMAL, reason)
        if not self.registry.remove(conn):
            return  # replaced by a newer connection of the same phone (that one is the truth), or released
        try:
            self._record_disconnects([conn], reason)
        except Exception:  # noqa: BLE001 - bookkeeping only; the offline sweep catches up
            log.exception("recording a disconnect failed", extra={"device_id": conn.device_id})

    # -- frames ----------------------------------------------------------------------------------
    def handle(self, conn: Connection, frame: dict) -> None:
        """One frame after hello. Blocks only for BLOCKING_FRAMES; heartbeats and results are
        acknowledged by the outcome writer's thread once stored."""
        kind, fid = frame["type"], frame["id"]
        if kind == "heartbeat":
            self.delivery.outcomes.submit(Op("heartbeat", conn.device_id, battery=frame.get("battery"),
                                             network=frame.get("network"), then=lambda: conn.send(ack(fid))))
        elif kind == "ack":
            self.delivery.on_ack(Op("ack", conn.device_id, command_id=_int(fid)))
        elif kind == "result":
            result = frame.get("result") if isinstance(frame.get("result"), dict) else {}
            if frame.get("code"):  # e.g. account_not_on_device: kept with the result for 指令记录
                result = {**result, "code": str(frame["code"])[:64]}
            self.delivery.on_result(Op("result", conn.device_id, command_id=_int(fid), ok=frame.get("ok") is True,
                                       result=result, error=str(frame.get("error") or "")[:1000],
                                       then=lambda: conn.send(ack(fid))))
        elif kind == "accounts":
            self._accounts(conn, frame)
        elif kind == "report":
            self._report(conn, frame)
        else:  # a second hello
            conn.send(error(fid, "already_authenticated", "已经认证，无需重复 hello"))

    def _accounts(self, conn: Connection, frame: dict) -> None:
        items = frame.get("accounts")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            conn.send(error(frame["id"], "bad_accounts", "accounts 应为微信号对象数组"))
            return
        now = self.services.now()
        with self.services.db.write() as session:
            presence.touch(session, conn.device_id, now)
            conn.accounts = upsert_accounts(session, conn.device_id, items)
        conn.send(ack(frame["id"], accounts=conn.accounts))
        self.delivery.wake()  # commands queued for these accounts can go out now

    def _report(self, conn: Connection, frame: dict) -> None:
        fid, kind, data = frame["id"], frame.get("kind"), frame.get("data") or {}
        account_id = conn.accounts.get(str(frame.get("account", "")))
        if kind not in REPORT_KINDS or not isinstance(data, dict) or account_id is None:
            message = (f"未知的上报类型：{str(kind)[:32]}" if kind not in REPORT_KINDS else
                       "data 应为 JSON 对象" if not isinstance(data, dict) else
                       f"微信号 {str(frame.get('account', ''))[:64]} 不在本设备上（先发送 accounts）")
            conn.send(ack(fid, ok=False, error={"code": "bad_report", "message": message}))
            return
        now = self.services.now()
        try:
            at = self._reported_at(frame, now)
            with self.services.db.write() as session:
                presence.touch(session, conn.device_id, now)
                account = session.get(WechatAccount, account_id)
                ev = record_report(session, conn.device_id, account, kind, data, at)
                for sink in self.report_sinks.get(kind, ()):
                    sink(session, account, data, at, str(fid))
        except ProtocolError as exc:
            conn.send(ack(fid, ok=False, error={"code": exc.code, "message": exc.message}))
            return
        if ev is None:
            conn.send(ack(fid, ok=True))
            return
        ev["id"] = str(fid)
        ev["occurred_at"] = at.isoformat()
        result = self.ingestor.ingest_trusted("device", f"device:{conn.device_id}", [ev])
        payload = result.payload
        if payload["rejected"]:
            first = payload["rejected"][0]
            conn.send(ack(fid, ok=False, record_id=first["record_id"],
                          error={"code": first["reason"], "message": "；".join(e["message"] for e in first["errors"])}))
            return
        record = (payload["accepted"] or payload["duplicates"])[0]
        conn.send(ack(fid, ok=True, record_id=record["record_id"], duplicate=not payload["accepted"]))
        if kind == "friend_request" and payload["accepted"]:
            self.auto_accept(ev["data"]["request_id"])
        if kind == "risk_signal" and payload["accepted"]:  # once per report, not per re-send
            self._apply_risk(account_id, ev["data"], now)

    def _reported_at(self, frame: dict, now):
        """When the report happened on the phone (`at`), never later than now: a phone whose clock
        runs ahead must not make its report outrank what really happened after it."""
        if frame.get("at") in (None, ""):
            return now
        try:
            return min(parse_datetime(frame["at"], self.tz), now)
        except FieldValueError as exc:
            raise ProtocolError("bad_value", f"at {exc}") from None

    def _apply_risk(self, account_id: int, data: dict, now) -> None:
        """The account pauses itself and loses health; then its owner is told (on_risk_signal)."""
        with self.services.db.write() as session:
            account = apply_risk_signal(session, account_id, data["kind"], now, data.get("text", ""),
                                        self.services.settings)
        if account is not None and self.on_risk_signal is not None:
            try:
                self.on_risk_signal(account, data)
            except Exception:  # noqa: BLE001 - a failed notification must not break the phone's session
                log.exception("risk-signal notification failed")

    # -- 自动通过好友 -------------------------------------------------------------------------------
    def auto_accept(self, request_id: int):
        """Runs the auto-accept rules on a new friend request; returns the command issued or None."""
        return auto_accept(self.services, request_id, self.tz)

    # -- 离线检测 ------------------------------------------------------------------------------------
    def _housekeeping(self) -> None:
        now = self.services.now()
        if self._last_sweep is None or (now - self._last_sweep).total_seconds() >= min(self.heartbeat_seconds, 10):
            self._last_sweep = now
            self.sweep_offline()

    def sweep_offline(self) -> list[int]:
        """Marks phones silent for more than three heartbeats offline; returns their ids."""
        now = self.services.now()
        with self.services.db.read() as session:
            candidates = presence.find_silent(session, now, self.heartbeat_seconds)
        cutoff = now - timedelta(seconds=self.heartbeat_seconds * presence.MISSED_HEARTBEATS)
        marked, stored = [], []
        for device_id in candidates:
            held = self.registry.get(device_id)
            if held is not None and held.last_frame_at is not None and held.last_frame_at >= cutoff:
                continue  # its heartbeat was read but is still queued for the outcome writer: not silent
            # The mark and its device.offline event commit together: a crash between them would
            # lose the alert, and a second sweeper (the delivery loop) could see the mark first.
            with self.services.db.write() as session:
                data = presence.mark_offline(session, device_id, now, self.heartbeat_seconds, self.tz)
                if data is not None:
                    result = store_trusted(session, "device", f"device:{device_id}",
                                           [{"event": "device.offline", "id": f"offline:{data['last_seen_at']}",
                                             "data": data}], now, self.services.settings.timezone,
                                           self.ingestor.catalog.definitions)
                    stored.extend(result.stored_ids)
            if data is None:
                continue
            marked.append(device_id)
            conn = self.registry.get(device_id)
            if conn is not None:
                conn.close(CLOSE_NORMAL, "心跳超时，已标记离线")
        if stored:
            self.ingestor.on_stored(stored)
        return marked


def _int(value) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

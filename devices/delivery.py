"""指令下发: moving due commands to the phones connected to this process, and noticing the ones
that were never acknowledged.

- Due means queued with not_before passed (the risk budget sets not_before for pacing); a
  command for an offline phone simply stays queued until the phone is back.
- The send gate (devices/send_gate.py) checks each due command again as it leaves: an account's
  next paced command waits until a floor above the platform's threshold has passed since its
  last one really went out, a paused account's queue waits, and an unusable account (banned,
  健康分 below 30) has its queued commands refused with the reason.
- Commands go out in id order per account. A command is marked sent before the frame leaves,
  so a crash between the two is caught by the timeout below, never lost.
- Sent but not acknowledged within 30 s → sent once more; a second silence → timeout (with a
  `device.command_result` event). Acknowledged but no result within 5 minutes → timeout
  without a retry (the phone may have done it; doing it twice would be worse).
- Several web processes: each delivers only to the phones it holds. A command issued in this
  process wakes delivery at once (devices.commands.on_issued after commit); one issued
  elsewhere (a worker process) wakes it by PostgreSQL NOTIFY, or on SQLite by the file's
  data_version moving (devices/command_wakeup.py), and is otherwise found by polling the
  database every 0.5 s — one indexed query on
  (status, not_before), the fallback on SQLite or while the listener reconnects.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from datetime import timedelta
from typing import Optional

from sqlalchemy import BigInteger, any_, bindparam, func, or_, select as sa_select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import col, select

from devices.command_wakeup import listener_for, sqlite_watch_for
from devices.connections import ConnectionRegistry
from devices.models import DeviceCommand, WechatAccount
from devices.outcomes import OutcomeWriter, command_result_event
from devices.protocol import ACK_TIMEOUT_SECONDS, command as command_frame
from devices.send_gate import SendGate, refuse

log = logging.getLogger("ckb.devices.delivery")
RESULT_TIMEOUT_SECONDS = 300
MAX_ATTEMPTS = 2


class Delivery:
    def __init__(self, services, ingestor, registry: ConnectionRegistry, *, poll_seconds: float = 0.5,
                 ack_timeout: float = ACK_TIMEOUT_SECONDS, housekeeping=None):
        self.services = services
        self.ingestor = ingestor
        self.registry = registry
        self.poll_seconds = poll_seconds
        self.ack_timeout = ack_timeout
        self.outcomes = OutcomeWriter(services, ingestor)
        self.gate = SendGate(services.settings)
        self.housekeeping = housekeeping  # called about once a second (offline sweep)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        self._unhook = None
        # On PostgreSQL a command committed by another process wakes this loop by NOTIFY.
        self.listener = listener_for(services, self.wake)
        # On SQLite, by the file's data_version (read by the loop itself, between its waits).
        self.sqlite_watch = sqlite_watch_for(services)
        try:  # a command issued in this process wakes delivery the moment it commits
            from devices.commands import on_issued

            self._unhook = on_issued(lambda _issued: self.wake())
        except ImportError:  # pragma: no cover - the risk budget ships with the devices package
            pass

    # -- lifecycle: the loop lives while this process holds phones --------------------------------
    def wake(self) -> None:
        self._wake.set()

    def ensure_running(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="ckb-device-delivery", daemon=True)
                self._thread.start()
                if self.listener is not None:
                    self.listener.start()
        self.wake()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=10)
        if self.listener is not None:
            self.listener.stop()
        if self.sqlite_watch is not None:
            self.sqlite_watch.close()
        self.outcomes.stop()
        if self._unhook is not None:
            self._unhook()
            self._unhook = None

    def _run(self) -> None:
        idle_since = None
        last_house = 0.0
        while not self._stop.is_set():
            self._wait()
            if not len(self.registry):
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > 2:
                    with self._lock:
                        if not len(self.registry):
                            self._thread = None
                            if self.listener is not None:
                                self.listener.stop()
                            if self.sqlite_watch is not None:
                                self.sqlite_watch.close()
                            return
                continue
            idle_since = None
            try:
                self.deliver_due()
                if time.monotonic() - last_house >= 1.0:
                    last_house = time.monotonic()
                    self.check_timeouts()
                    self.recheck_deferred()
                    if self.housekeeping is not None:
                        self.housekeeping()
            except Exception:  # noqa: BLE001 - keep delivering; the next round retries
                log.exception("device command delivery failed")

    def _wait(self) -> None:
        if self.sqlite_watch is not None:
            self.sqlite_watch.wait(self._wake, self.poll_seconds)
        else:
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    # -- sending -------------------------------------------------------------------------------
    def deliver_due(self, limit: int = 500) -> int:
        held = self.registry.device_ids()
        if not held:
            return 0
        out, events = [], []
        with self.services.db.write() as session:
            now = self.services.now()  # after the write lock: sent_at is when it really goes
            stmt = (select(DeviceCommand, WechatAccount)
                    .join(WechatAccount, WechatAccount.id == DeviceCommand.account_id)
                    .where(DeviceCommand.status == "queued", _one_of(session, WechatAccount.device_id, held),
                           or_(DeviceCommand.not_before.is_(None), DeviceCommand.not_before <= now))
                    .order_by(DeviceCommand.id).limit(limit).with_for_update(skip_locked=True, of=DeviceCommand))
            go, holds, refused = self.gate.sort(session, list(session.exec(stmt).all()), now)
            stamped = time.monotonic()
            for cmd, account in go:
                attempts = int((cmd.result or {}).get("attempts", 0)) + 1
                cmd.status, cmd.sent_at, cmd.device_id = "sent", now, account.device_id
                cmd.result = {"attempts": attempts}
                session.add(cmd)
                out.append((cmd.id, account.id, account.device_id,
                            command_frame(cmd.id, cmd.kind, cmd.payload or {}, int(self.ack_timeout), account.wxid)))
            for account_id, until in holds.items():
                # The account's whole due queue moves together, so its order is kept and a long
                # wait (a paused account) never fills the batch ahead of other accounts.
                session.execute(update(DeviceCommand).where(
                    DeviceCommand.account_id == account_id, DeviceCommand.status == "queued",
                    or_(col(DeviceCommand.not_before).is_(None), DeviceCommand.not_before < until))
                    .values(not_before=until).execution_options(synchronize_session=False))
            for cmd, refusal in refused:
                refuse(cmd, refusal, now)
                session.add(cmd)
                events.append(command_result_event(cmd))
        if events:
            self.ingestor.ingest_trusted("device", "device:commands", events)
        failed = []
        for cid, account_id, device_id, frame in out:
            if self._send(device_id, frame):
                # When it really left: the sent_at stamp plus the commit and send time since.
                self.gate.sent(account_id, now + timedelta(seconds=time.monotonic() - stamped))
            else:
                failed.append(cid)
        if failed:
            with self.services.db.write() as session:
                for cmd in session.exec(select(DeviceCommand).where(DeviceCommand.id.in_(failed), DeviceCommand.status == "sent")):
                    cmd.status, cmd.sent_at = "queued", None
                    cmd.result = {"attempts": max(0, int((cmd.result or {}).get("attempts", 1)) - 1)}
                    session.add(cmd)
        return len(out) - len(failed)

    def _send(self, device_id: int, frame: str) -> bool:
        conn = self.registry.get(device_id)
        return conn is not None and conn.send(frame)

    # -- what the phone says back -----------------------------------------------------------------
    def on_ack(self, op) -> None:
        self.outcomes.submit(op)

    def on_result(self, op) -> None:
        """Queues the result for storing; the op's `then` acknowledges it to the phone once stored."""
        self.outcomes.submit(op)

    def requeue_unacked(self, device_ids: list[int]) -> None:
        """Phones that dropped their connection: what they had not acknowledged goes out again when
        they are back (phones ignore a command id they already executed; PROTOCOL.md)."""
        with self.services.db.write() as session:
            for cmd in session.exec(select(DeviceCommand).where(_one_of(session, DeviceCommand.device_id, device_ids),
                                                                DeviceCommand.status == "sent")):
                cmd.status, cmd.sent_at = "queued", None
                session.add(cmd)

    def recheck_deferred(self) -> None:
        """Deferred commands whose time has come go back through the risk budget (commands.py)."""
        try:
            from devices.budget_plan import give_back
            from devices.commands import decide_deferred, recheck_deferred
        except ImportError:  # pragma: no cover
            return
        svc, now = self.services, self.services.now()
        # Redis first, outside the write lock: a frozen Redis must not stall every writer (issue 9 #14).
        decisions = decide_deferred(svc.db, now, settings=svc.settings, redis=svc.redis)
        if decisions is not None and not decisions:
            return
        unused = dict(decisions) if decisions is not None else None
        try:
            with svc.db.write() as session:
                recheck_deferred(session, now, settings=svc.settings, redis=svc.redis, decisions=unused)
        except BaseException:
            unused = decisions  # nothing was written: every reservation goes back
            raise
        finally:
            if unused:
                give_back(unused.values(), svc.settings, svc.redis)

    # -- silence -------------------------------------------------------------------------------
    def check_timeouts(self) -> int:
        now = self.services.now()
        ack_cutoff = now - timedelta(seconds=self.ack_timeout)
        result_cutoff = now - timedelta(seconds=RESULT_TIMEOUT_SECONDS)
        events = []
        with self.services.db.write() as session:
            stmt = select(DeviceCommand).where(or_(
                (DeviceCommand.status == "sent") & (DeviceCommand.sent_at < ack_cutoff),
                (DeviceCommand.status == "acked") & (DeviceCommand.acked_at < result_cutoff))).limit(500)
            for cmd in session.exec(stmt):
                attempts = int((cmd.result or {}).get("attempts", 1))
                if cmd.status == "sent" and attempts < MAX_ATTEMPTS:
                    cmd.status, cmd.sent_at = "queued", None
                    cmd.error = f"第 {attempts} 次下发后 {int(self.ack_timeout)} 秒内未确认，已重新下发"
                else:
                    silent = "未确认" if cmd.status == "sent" else "已确认但未返回结果"
                    cmd.error = (f"设备{silent}（下发 {attempts} 次，每次等待 {int(self.ack_timeout)} 秒）"
                                 if cmd.status == "sent" else f"设备{silent}（{RESULT_TIMEOUT_SECONDS} 秒）")
                    cmd.status, cmd.finished_at = "timeout", now
                    events.append(command_result_event(cmd))
                session.add(cmd)
        if events:
            self.ingestor.ingest_trusted("device", "device:commands", events)
        return len(events)


def _one_of(session, column, ids: list[int]):
    """`column IN ids` as ONE bound value: an IN list of 10,000 parameters (one gateway's phones)
    costs a statement build and parse per delivery round, and every distinct length is another
    prepared statement in each connection's cache."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(BigInteger)))
    values = func.json_each(json.dumps(list(ids))).table_valued("value")
    return column.in_(sa_select(values.c.value))

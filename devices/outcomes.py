"""Recording what phones say about commands (acks, results) and their heartbeats, in batches.

With a thousand phones, one transaction per ack would queue writers behind each other on
SQLite; a single writer thread drains everything that arrived meanwhile into one transaction,
so an idle server writes at once and a busy one writes in bigger batches. A result is only
acknowledged to the phone after its batch is committed: the gateway passes `then`, called on the
writer thread once the batch is committed (never after a failed batch: the phone re-sends), so
neither a session thread nor the asynchronous gateway's event loop waits on a database write.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from sqlalchemy import bindparam, update
from sqlmodel import select

from devices.models import Device, DeviceCommand

log = logging.getLogger("ckb.devices.outcomes")
FINISHABLE = ("sent", "acked", "timeout", "queued")
BATCH_MAX = 500
DEVICES = Device.__table__
COMMANDS = DeviceCommand.__table__


@dataclass
class Op:
    kind: str  # ack | result | heartbeat
    device_id: int
    command_id: Optional[int] = None
    ok: bool = False
    result: Any = None
    error: str = ""
    battery: Any = None
    network: Any = None
    done: threading.Event = field(default_factory=threading.Event)
    then: Optional[Callable[[], None]] = None  # called once the op's batch is committed (not if it failed)


def command_result_event(cmd: DeviceCommand) -> dict:
    return {"event": "device.command_result", "id": f"cmd:{cmd.id}:{cmd.status}",
            "data": {"command_id": cmd.id, "kind": cmd.kind, "ok": cmd.status == "succeeded",
                     "error": cmd.error, "account_id": cmd.account_id}}


class OutcomeWriter:
    def __init__(self, services, ingestor):
        self.services = services
        self.ingestor = ingestor
        self._queue: "queue.Queue[Optional[Op]]" = queue.Queue()
        self._thread: Optional[threading.Thread] = None
        self._start_lock = threading.Lock()

    def submit(self, op: Op, wait: bool = False, timeout: float = 30.0) -> bool:
        self._ensure_started()
        self._queue.put(op)
        return op.done.wait(timeout) if wait else True

    def _ensure_started(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ckb-device-outcomes", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            op = self._queue.get()
            if op is None:
                return
            batch = [op]
            while len(batch) < BATCH_MAX:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(nxt)
            stored = False
            try:
                self.apply(batch)
                stored = True
            except Exception:  # noqa: BLE001 - the phone re-sends an unacknowledged result
                log.exception("recording device outcomes failed", extra={"ops": len(batch)})
            finally:
                for item in batch:
                    item.done.set()
                    if stored and item.then is not None:
                        try:
                            item.then()
                        except Exception:  # noqa: BLE001 - one phone's answer must not stop the writer
                            log.exception("answering a device outcome failed")

    def apply(self, batch: list[Op]) -> None:
        events = []
        with self.services.db.write() as session:
            now = self.services.now()  # when it is stored, not when it was queued for the lock
            beats: dict[int, Op] = {}
            for op in batch:
                if op.kind == "heartbeat":
                    beats[op.device_id] = op
            # One executemany per shape of row: 10,000 phones beat 333 times a second, and a
            # statement built and run per heartbeat held the write lock longer than the beats took.
            shapes: dict[tuple, list[dict]] = {}
            for device_id, op in beats.items():
                row = {"b_id": device_id}  # bind names may not be column names in an UPDATE's SET
                if isinstance(op.battery, int) and not isinstance(op.battery, bool) and 0 <= op.battery <= 100:
                    row["v_battery"] = op.battery
                if isinstance(op.network, str) and op.network:
                    row["v_network"] = op.network[:16]
                shapes.setdefault(tuple(sorted(row)), []).append(row)
            conn = session.connection()
            for shape, rows in shapes.items():
                values = {"last_seen_at": now, "online": True, **{k[2:]: bindparam(k) for k in shape if k.startswith("v_")}}
                conn.execute(update(DEVICES).where(DEVICES.c.id == bindparam("b_id")).values(**values), rows)
            acks = [{"b_cid": op.command_id, "b_dev": op.device_id} for op in batch if op.kind == "ack"]
            if acks:
                conn.execute(update(COMMANDS).where(COMMANDS.c.id == bindparam("b_cid"), COMMANDS.c.device_id == bindparam("b_dev"),
                                                    COMMANDS.c.status == "sent").values(status="acked", acked_at=now), acks)
            results = [op for op in batch if op.kind == "result"]
            if results:
                cmds = {c.id: c for c in session.exec(select(DeviceCommand).where(
                    DeviceCommand.id.in_([op.command_id for op in results])))}
                for op in results:
                    cmd = cmds.get(op.command_id)
                    if cmd is None or cmd.device_id != op.device_id or cmd.status not in FINISHABLE:
                        continue  # unknown, someone else's, or already finished: a re-sent result
                    attempts = (cmd.result or {}).get("attempts", 1)
                    body = op.result if isinstance(op.result, dict) else ({"value": op.result} if op.result is not None else {})
                    cmd.result = {**body, "attempts": attempts}
                    cmd.status = "succeeded" if op.ok else "failed"
                    cmd.error = "" if op.ok else (str(op.error or "设备返回失败，未说明原因"))[:1000]
                    cmd.acked_at = cmd.acked_at or now
                    cmd.finished_at = now
                    session.add(cmd)
                    events.append(command_result_event(cmd))
        if events:
            self.ingestor.ingest_trusted("device", "device:commands", events)

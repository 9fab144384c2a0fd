"""The phones connected to this process: device id → its open connection.

A connection wraps whatever transport carries it (flask-sock in the web process, the asyncio
gateway's loop transport, a fake in unit tests); sends are serialised with a lock because
commands go out from the delivery thread, acks from the outcome writer, while the session
answers the phone's own frames.
"""
from __future__ import annotations

import threading
from typing import Optional, Protocol


class Transport(Protocol):
    """What a connection sends through (any thread may send)."""
    remote_addr: str

    def send(self, text: str) -> None: ...

    def close(self, code: int, reason: str) -> None: ...


class BlockingTransport(Transport, Protocol):
    """A transport whose session thread reads frames itself (flask-sock; Gateway.serve). The
    asynchronous gateway reads on its event loop instead and has no receive."""

    def receive(self, timeout: Optional[float]): ...  # str | bytes | None on timeout; raises on close


def close_reason(text: str) -> str:
    """A WebSocket close reason is at most 123 bytes of UTF-8 (about 40 Chinese characters)."""
    data = text.encode("utf-8")[:123]
    return data.decode("utf-8", errors="ignore")


class Connection:
    def __init__(self, device_id: int, transport: Transport):
        self.device_id = device_id
        self.transport = transport
        self.closed = False
        self.accounts: dict[str, int] = {}  # wxid → account id, from the accounts frame
        self.end_reason = "手机断开连接"  # for the device log when the session ends
        # Service-clock time of the last frame read from the phone. The offline sweep trusts it
        # over last_seen_at, which the outcome writer stores later (it lags on a loaded machine).
        self.last_frame_at = None
        self._lock = threading.Lock()

    def send(self, text: str) -> bool:
        with self._lock:
            if self.closed:
                return False
            try:
                self.transport.send(text)
                return True
            except Exception:  # noqa: BLE001 - a broken socket is a disconnect, handled by the session
                self.closed = True
                return False

    def close(self, code: int, reason: str) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
            try:
                self.transport.close(code, close_reason(reason))
            except Exception:  # noqa: BLE001 - already gone
                pass


class ConnectionRegistry:
    def __init__(self):
        self._conns: dict[int, Connection] = {}
        self._lock = threading.Lock()

    def add(self, conn: Connection) -> Optional[Connection]:
        """Registers a connection; returns the one it replaces (the same phone reconnecting)."""
        with self._lock:
            old = self._conns.get(conn.device_id)
            self._conns[conn.device_id] = conn
        return old if old is not conn else None

    def remove(self, conn: Connection) -> bool:
        with self._lock:
            if self._conns.get(conn.device_id) is conn:
                del self._conns[conn.device_id]
                return True
        return False

    def take_all(self) -> list[Connection]:
        """Empties the registry (the server stopping) and returns what it held."""
        with self._lock:
            conns, self._conns = list(self._conns.values()), {}
        return conns

    def get(self, device_id: int) -> Optional[Connection]:
        return self._conns.get(device_id)

    def device_ids(self) -> list[int]:
        with self._lock:
            return list(self._conns)

    def all(self) -> list[Connection]:
        with self._lock:
            return list(self._conns.values())

    def __len__(self) -> int:
        return len(self._conns)

"""A TCP peer on 127.0.0.1 that answers every connection by dripping bytes, one at a time.

    with SlowPeer(b"220 slow.example ESMTP\\r\\n", every=0.5) as peer:
        ... connect to 127.0.0.1:peer.port ...

Each byte arrives well inside any per-read timeout; the whole answer takes len × every
seconds. It stands for a relay or gateway that holds a connection open (SMTP greeting, any
line protocol); for HTTP use FakeHttpServer's Reply(drip=…).
"""
from __future__ import annotations

import socket
import threading


class SlowPeer:
    def __init__(self, payload: bytes, every: float = 0.5):
        self.payload = payload
        self.every = every
        self.connections = 0
        self._stopping = threading.Event()
        self._sock = socket.socket()
        self._threads: list[threading.Thread] = []

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    def start(self) -> "SlowPeer":
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(8)
        self._sock.settimeout(0.05)
        thread = threading.Thread(target=self._accept, name="slow-peer", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            thread = threading.Thread(target=self._drip, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            for byte in self.payload:
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return  # the client gave up: that is what the test wants to see
                if self._stopping.wait(self.every):
                    return

    def stop(self) -> None:
        self._stopping.set()
        self._sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> "SlowPeer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

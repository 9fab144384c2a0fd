"""A total deadline for one outbound exchange (connect, TLS, headers, body), whatever the peer does.

Socket timeouts bound each read, not the exchange: a peer that drips one byte a second never
trips a 10 s read timeout and can hold a step for minutes. Here a timer shuts the exchange's
sockets down when the deadline passes, so a blocked read returns at once and the caller reports
a timeout. Every outbound caller (HTTP through handlers.net_guard.fetch, SMTP in the e-mail
processor) runs its exchange inside `TotalDeadline`; connection code registers each socket it
opens with `watch_socket` (found through a thread-local, because urllib3 and smtplib open them
deep inside their own calls).

The descriptor, not the socket object, is shut down: wrapping a socket in TLS detaches the
original object but keeps the descriptor, so the handshake is covered too. A socket is
unwatched before it is closed, so a reused descriptor is never touched.
"""
from __future__ import annotations

import socket
import threading
import time
from typing import Optional

_current = threading.local()


class TotalDeadline:
    """`with TotalDeadline(10) as d:` — sockets registered inside are cut at the deadline."""

    def __init__(self, seconds: float):
        self.seconds = max(0.001, float(seconds))
        self.expires = time.monotonic() + self.seconds
        self.expired = False
        self._fds: set[int] = set()
        self._lock = threading.Lock()
        self._timer: Optional[threading.Timer] = None
        self._outer: Optional[TotalDeadline] = None

    def remaining(self) -> float:
        """Seconds left, never below a millisecond (socket timeouts of 0 mean non-blocking)."""
        return max(0.001, self.expires - time.monotonic())

    def passed(self) -> bool:
        return self.expired or time.monotonic() >= self.expires

    def watch(self, fd: int) -> None:
        with self._lock:
            if self.expired:
                _shutdown(fd)
            else:
                self._fds.add(fd)

    def unwatch(self, fd: int) -> None:
        with self._lock:
            self._fds.discard(fd)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for fd in self._fds:
                _shutdown(fd)
            self._fds.clear()

    def __enter__(self) -> "TotalDeadline":
        self._outer = getattr(_current, "deadline", None)
        _current.deadline = self
        self._timer = threading.Timer(self.seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            self._fds.clear()
        _current.deadline = self._outer


def current() -> Optional[TotalDeadline]:
    return getattr(_current, "deadline", None)


def watch_socket(sock) -> None:
    """Registers a freshly opened socket with the running deadline (if any)."""
    deadline = current()
    if deadline is not None and sock is not None:
        deadline.watch(sock.fileno())


def unwatch_socket(sock) -> None:
    deadline = current()
    if deadline is not None and sock is not None:
        try:
            deadline.unwatch(sock.fileno())
        except OSError:
            pass


def _shutdown(fd: int) -> None:
    # A temporary socket object over the same descriptor: shutdown wakes every blocked read
    # on it; detach() hands the descriptor back without closing it (its owner closes it).
    try:
        sock = socket.socket(fileno=fd)
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.detach()

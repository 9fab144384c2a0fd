"""A frozen Redis: a TCP peer that takes every connection and never says a word (a Redis stopped
with SIGSTOP, or behind a dead network path). Clients wait for their socket timeout."""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager


@contextmanager
def frozen_redis(timeout: float = 1.5):
    """Yields a redis client (socket timeout `timeout`) pointed at the frozen peer."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    held, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    # No client-side retries: each call waits one socket timeout, so tests stay short.
    client = redis.Redis(host="127.0.0.1", port=listener.getsockname()[1], socket_timeout=timeout,
                         socket_connect_timeout=timeout, decode_responses=True, retry=Retry(NoBackoff(), 0))
    try:
        yield client
    finally:
        stop.set()
        thread.join(5)
        client.close()
        for conn in held:
            conn.close()
        listener.close()


@contextmanager
def other_writer(db):
    """Stands for ingestion while a frozen Redis is in play: one short write transaction after
    another on `db`; yields the list of how long each waited for the write lock."""
    waits, done = [], threading.Event()

    def run():
        while not done.is_set():
            t0 = time.monotonic()
            with db.write() as s:
                s.connection()
            waits.append(time.monotonic() - t0)
            time.sleep(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield waits
    finally:
        done.set()
        thread.join(10)

"""What the 公众号 code needs outside a request: the Services of a database (a message sender only
receives a Session, and must reach the secret box and settings to call the API), and a small pool of
threads for work that must not delay an answer or hold a write transaction — a reply's API call
after its message is committed, a new fan's user/info after the push is answered.

`bind(services)` is called where the app (or a worker) is built; web.console.mp does it on register."""
from __future__ import annotations

import logging
import threading
import weakref
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Callable, Optional

log = logging.getLogger(__name__)
_services: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ckb-mp")
_pending: set[Future] = set()
_lock = threading.Lock()


def bind(services) -> None:
    for engine in (services.db.engine, getattr(services.db, "_write_engine", None)):
        if engine is not None:
            _services[engine] = services


def services_for(session) -> Optional[object]:
    return _services.get(session.get_bind())


def later(fn: Callable, *args) -> Future:
    """Runs fn(*args) on the pool; failures are logged (the caller has already answered)."""
    def run():
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - background work: log, never crash the pool
            log.exception("mp background task failed", extra={"task": getattr(fn, "__name__", "?")})

    future = _executor.submit(run)
    with _lock:
        _pending.add(future)
    future.add_done_callback(lambda f: _discard(f))
    return future


def _discard(future: Future) -> None:
    with _lock:
        _pending.discard(future)


def drain(timeout: float = 10.0) -> bool:
    """Waits for the background work queued so far (tests, shutdown); True when all finished."""
    with _lock:
        pending = list(_pending)
    done, not_done = wait(pending, timeout=timeout)
    return not not_done

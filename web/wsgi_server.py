"""Serving with gunicorn (gthread workers); each worker process starts its own engine runtime
after the fork (threads do not survive a fork), and claims keep the workers from colliding.

SIGTERM drains: the worker stops accepting (gunicorn) and, at the same moment, its runtime stops
claiming, lets running steps finish, hands the rest back and releases the leader lease
(Runtime.stop); the worker exits when both are done, well inside gunicorn's graceful timeout.
"""
from __future__ import annotations

import threading
import time

from gunicorn.app.base import BaseApplication

from config.settings import Settings

# gunicorn's limit for a stopping worker (then SIGKILL); the runtime's drain fits inside it.
GRACEFUL_SECONDS = 28


class _App(BaseApplication):
    def __init__(self, settings: Settings, options: dict, background: bool):
        self.settings = settings
        self.options = options
        self.background = background
        self._runtime = None
        self._drain_started = threading.Lock()
        self._drained = threading.Event()
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)
        self.cfg.set("post_worker_init", self._watch_for_shutdown)
        self.cfg.set("worker_exit", self._wait_for_drain)

    def load(self):
        from web import create_app

        app = create_app(self.settings)
        if self.background and self.settings.run_background:
            self._runtime = app.extensions["ckb"]
            self._runtime.roles.add("web")
            self._runtime.start()
        else:  # web and API only: still beats, so 系统监控 lists this process
            app.extensions["ckb"].start_beacon({"web"})
        return app

    def _watch_for_shutdown(self, worker) -> None:
        """In the worker: start draining the runtime as soon as gunicorn stops the worker."""
        def watch():
            while worker.alive:
                time.sleep(0.2)
            self._drain()

        threading.Thread(target=watch, name="ckb-shutdown-watch", daemon=True).start()

    def _drain(self) -> None:
        if not self._drain_started.acquire(blocking=False):
            return  # already draining (the watcher or the exit hook got here first)
        try:
            if self._runtime is not None:
                self._runtime.stop(drain_seconds=min(self.settings.shutdown_drain_seconds, GRACEFUL_SECONDS - 4))
        finally:
            self._drained.set()

    def _wait_for_drain(self, _server, _worker) -> None:
        """In the worker, as it exits (also when it stops for a reason the watcher missed)."""
        self._drain()
        self._drained.wait(GRACEFUL_SECONDS - 2)


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict:
    """The gunicorn configuration of `cunkebao serve` (bench/baseline_app.py serves with it too)."""
    return {"bind": f"{host}:{port}", "workers": workers, "threads": threads, "worker_class": "gthread",
            "accesslog": None, "errorlog": "-", "loglevel": "warning", "timeout": 60, "graceful_timeout": GRACEFUL_SECONDS,
            "keepalive": 5, "preload_app": False,
            # Each phone's WebSocket holds a connection for its whole life; leave room for the console.
            "worker_connections": max(1000, threads + 100)}


def run_gunicorn(settings: Settings, host: str, port: int, workers: int, threads: int, background: bool = True) -> None:
    _App(settings, gunicorn_options(host, port, workers, threads), background).run()

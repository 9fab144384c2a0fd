"""Serving with gunicorn (gthread workers); each worker process starts its own engine runtime
after the fork (threads do not survive a fork), and claims keep the workers from colliding."""
from __future__ import annotations

from gunicorn.app.base import BaseApplication

from config.settings import Settings


class _App(BaseApplication):
    def __init__(self, settings: Settings, options: dict, background: bool):
        self.settings = settings
        self.options = options
        self.background = background
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from web import create_app

        app = create_app(self.settings)
        if self.background and self.settings.run_background:
            app.extensions["ckb"].start()
        return app


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict:
    """The gunicorn configuration of `cunkebao serve` (bench/baseline_app.py serves with it too)."""
    return {"bind": f"{host}:{port}", "workers": workers, "threads": threads, "worker_class": "gthread",
            "accesslog": None, "errorlog": "-", "loglevel": "warning", "timeout": 60, "graceful_timeout": 10,
            "keepalive": 5, "preload_app": False,
            # Each phone's WebSocket holds a connection for its whole life; leave room for the console.
            "worker_connections": max(1000, threads + 100)}


def run_gunicorn(settings: Settings, host: str, port: int, workers: int, threads: int, background: bool = True) -> None:
    _App(settings, gunicorn_options(host, port, workers, threads), background).run()

"""Flask extensions and the accessor for the engine runtime behind the app."""
from __future__ import annotations

from flask import Flask, current_app
from flask_wtf.csrf import CSRFProtect

from config.rate_limit import RateLimiter

csrf = CSRFProtect()


def init_extensions(app: Flask) -> None:
    csrf.init_app(app)


def runtime():
    """The engine Runtime (services, registry, matcher, dispatcher, scheduler) of this app."""
    return current_app.extensions["ckb"]


def services():
    return runtime().services


def rate_limiter() -> RateLimiter:
    """The app's one request limiter (platform webhooks, scan forms, the lead API; each names its
    own keys): counts shared through Redis when configured, windows on the app's clock."""
    limiter = current_app.extensions.get("ckb_rate_limiter")
    if limiter is None:
        svc = services()
        limiter = current_app.extensions.setdefault(
            "ckb_rate_limiter", RateLimiter(svc.redis, clock=lambda: svc.now().timestamp()))
    return limiter


"""Flask extensions and the accessor for the engine runtime behind the app."""
from __future__ import annotations

from flask import Flask, current_app
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def init_extensions(app: Flask) -> None:
    csrf.init_app(app)


def runtime():
    """The engine Runtime (services, registry, matcher, dispatcher, scheduler) of this app."""
    return current_app.extensions["ckb"]


def services():
    return runtime().services

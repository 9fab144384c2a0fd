"""/api/v1: the JSON API (bearer tokens) and the signed event ingestion endpoint."""
from __future__ import annotations

from flask import Flask


def register_api(app: Flask) -> None:
    return None

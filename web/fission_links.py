"""Signed public links of 裂变活动: a participant's invite link (what their poster's QR carries) and
their progress page link. Signed with the app's secret and a purpose salt, so a link cannot be
guessed from a participant id, nor an invite link used as a progress link."""
from __future__ import annotations

from typing import Optional

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from web.extensions import services

JOIN_SALT = "ckb.fission.join"
ME_SALT = "ckb.fission.me"


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=salt)


def base_url() -> str:
    configured = services().settings.public_base_url.strip()
    return (configured or request.host_url).rstrip("/")


def join_url(code: str) -> str:
    return f"{base_url()}/h5/fission/j/{_serializer(JOIN_SALT).dumps(code)}"


def progress_url(participant_id: int) -> str:
    return f"{base_url()}/h5/fission/me/{_serializer(ME_SALT).dumps(participant_id)}"


def read(token: str, salt: str) -> Optional[object]:
    if not token or len(token) > 200:
        return None
    try:
        return _serializer(salt).loads(token)
    except BadSignature:
        return None

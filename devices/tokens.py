"""设备令牌: the secret a phone presents when it connects.

The token is shown once, when a device is added (as text and as the QR payload the phone app
scans); the server keeps only its sha256, so a leaked database does not let anyone connect.
"""
from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "ckbd_"
QR_SCHEME = "ckb-device://"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def display_prefix(token: str) -> str:
    """The part shown in lists so an operator can tell tokens apart without seeing them."""
    return token[:12]


def qr_payload(host: str, token: str) -> str:
    """What the 添加设备 QR code encodes: the server to dial and the token, e.g.
    ckb-device://crm.example.com:5000/ckbd_…"""
    return f"{QR_SCHEME}{host.strip().rstrip('/')}/{token}"


def parse_qr_payload(payload: str) -> tuple[str, str]:
    """(host, token) from a QR payload; ValueError when it is not one of ours."""
    if not payload.startswith(QR_SCHEME):
        raise ValueError("不是存客宝设备二维码")
    host, _, token = payload[len(QR_SCHEME):].rpartition("/")
    if not host or not token:
        raise ValueError("设备二维码内容不完整")
    return host, token

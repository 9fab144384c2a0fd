"""Symmetric encryption for secrets stored in the database (app secrets, platform credentials).

Keys derive from CKB_SECRET_KEY, so a stolen database file alone does not reveal app secrets.
"""
from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from config.errors import ConfigError


class SecretBox:
    def __init__(self, secret_key: str):
        digest = hashlib.sha256(("ckb-secret-box:" + secret_key).encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ConfigError("无法解密已存储的密钥：CKB_SECRET_KEY 与写入时不一致") from exc

"""Phone numbers and e-mail addresses sealed at rest (seed 004), with blind indexes for lookup.

`SealedText` is a column type: values are encrypted (AES-256-GCM, random nonce) when written and
decrypted when read, so ORM code keeps reading `customer.mobile` as plain text while the database
file (and a stolen backup, or the custom-SQL sandbox) holds only ciphertext. Because ciphertext is
random, equality cannot be asked of the column itself: each sealed contact has a *blind index*
column beside it (`mobile_bidx`, `email_bidx`: HMAC-SHA256 of the normal form under a separate
derived key, truncated to 128 bits, indexed) that lookups, dedup and audience filters compare
instead; phones have a second one over the last four digits (`mobile_tail_bidx`) for 后四位 search.
Comparing a sealed column directly raises, so a forgotten plain-text lookup fails loudly instead
of silently never matching.

Keys derive from CKB_SECRET_KEY with their own labels (never the SecretBox key). `configure` is
called by config.services.Services; reading or writing before that raises ConfigError. Rows written
before migration 0013 (no `pii1:` prefix) still read as they are, so a half-migrated database works.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata
from typing import Optional

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import JSON, Text, event, inspect
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

from config.errors import ConfigError
from config.pii import mask_text

PREFIX = "pii1:"
# The sealed contact columns of customer and lead → the kind of blind index each has.
CONTACT_FIELDS = {"mobile": "mobile", "email": "email"}
BIDX_LENGTH = 32  # hex characters (128 bits): collisions are negligible at any customer count
_SEPARATORS = str.maketrans("", "", " \t-()（）")


class PiiKeys:
    """The sealing key and the blind-index key of one CKB_SECRET_KEY, and a short id naming them."""

    def __init__(self, secret_key: str):
        def derive(label: str) -> bytes:
            return hmac.new(secret_key.encode(), label.encode(), hashlib.sha256).digest()

        self._aead = AESGCM(derive("ckb-pii-seal-v1"))
        self._index_key = derive("ckb-pii-blind-index-v1")
        self.key_id = hashlib.sha256(derive("ckb-pii-key-id-v1")).hexdigest()[:8]

    def seal(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), self.key_id.encode())
        return f"{PREFIX}{self.key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"

    def open(self, body: str) -> str:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        try:
            return self._aead.decrypt(raw[:12], raw[12:], self.key_id.encode()).decode()
        except InvalidTag as exc:
            raise ConfigError("无法解密手机号/邮箱：数据已损坏或 CKB_SECRET_KEY 与写入时不一致") from exc

    def index(self, kind: str, normal: str) -> str:
        return hmac.new(self._index_key, f"{kind}\x00{normal}".encode(), hashlib.sha256).hexdigest()[:BIDX_LENGTH]


_current: list[PiiKeys] = []
_by_id: dict[str, PiiKeys] = {}


def configure(secret_key: str) -> PiiKeys:
    """Makes this key the one that seals and indexes; keys configured earlier still open their rows."""
    if not secret_key:
        raise ConfigError("未配置 CKB_SECRET_KEY：无法加密存储手机号和邮箱")
    keys = PiiKeys(secret_key)
    keys = _by_id.setdefault(keys.key_id, keys)
    _current[:] = [keys]
    return keys


def current_keys() -> PiiKeys:
    if not _current:
        raise ConfigError("手机号/邮箱加密密钥未初始化：请先以 Settings 创建 Services（CKB_SECRET_KEY）")
    return _current[0]


def is_sealed(stored: Optional[str]) -> bool:
    return bool(stored) and stored.startswith(PREFIX)


def seal(plaintext: Optional[str]) -> Optional[str]:
    if plaintext is None or plaintext == "" or is_sealed(plaintext):
        return plaintext
    return current_keys().seal(str(plaintext))


def unseal(stored: Optional[str]) -> Optional[str]:
    if not is_sealed(stored):
        return stored  # legacy plain text (before migration 0013) reads as it is
    key_id, _, body = stored[len(PREFIX):].partition(":")
    keys = _by_id.get(key_id)
    if keys is None:
        raise ConfigError("无法解密手机号/邮箱：它们是用另一个 CKB_SECRET_KEY 加密的")
    return keys.open(body)


def normal_form(kind: str, value: str) -> str:
    """Callers pass values already normalised by crm.customers.normalize; this only makes the index
    immune to case, width and separators so a lookup never misses on formatting."""
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    return text.translate(_SEPARATORS) if kind == "mobile" else text


def blind_index(kind: str, value: Optional[str]) -> Optional[str]:
    """The index of a full value ("mobile" or "email"); None for an empty value."""
    if value is None or str(value).strip() == "":
        return None
    return current_keys().index(kind, normal_form(kind, value))


def tail_index(value: Optional[str]) -> Optional[str]:
    """The index of a phone's last four digits (后四位 search); None when it has fewer."""
    digits = "".join(ch for ch in normal_form("mobile", value or "") if ch.isdigit())
    if len(digits) < 4:
        return None
    return current_keys().index("mobile_tail", digits[-4:])


def index_columns(field: str, kind: str, value: Optional[str]) -> dict:
    """The blind-index column values that go with writing `value` into sealed column `field`."""
    out = {f"{field}_bidx": blind_index(kind, value)}
    if kind == "mobile":
        out[f"{field}_tail_bidx"] = tail_index(value)
    return out


def with_indexes(values: dict, fields: dict[str, str]) -> dict:
    """`values` for a Core INSERT/UPDATE plus the blind indexes of the sealed fields it sets."""
    out = dict(values)
    for field, kind in fields.items():
        if field in values:
            out.update(index_columns(field, kind, values[field]))
    return out


class SealedText(TypeDecorator):
    """Text encrypted at rest; see the module docstring."""

    impl = Text
    cache_ok = True

    class comparator_factory(Text.Comparator):
        def operate(self, op, *other, **kwargs):
            if op.__name__ not in ("is_", "is_not", "isnot", "asc_op", "desc_op"):
                raise ConfigError(f"加密字段 {self.expr} 不能直接比较（{op.__name__}）：请用盲索引列")
            return super().operate(op, *other, **kwargs)

    def process_bind_param(self, value, dialect):
        return seal(value)

    def process_result_value(self, value, dialect):
        return unseal(value)


class SealedJSON(TypeDecorator):
    """JSON (JSONB on PostgreSQL) whose string values holding a phone number or an e-mail address
    (found the way logs are masked, config.pii) are sealed one by one; the structure, keys and other
    values stay readable. For raw platform payloads, where the contact may sit under any key."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(JSONB() if dialect.name == "postgresql" else JSON())

    def process_bind_param(self, value, dialect):
        return seal_json(value)

    def process_result_value(self, value, dialect):
        return open_json(value)


def seal_json(value):
    """`value` with every string that holds a phone or an e-mail sealed."""
    return _walk(value, lambda text: seal(text) if mask_text(text) != text else text)


def open_json(value):
    return _walk(value, unseal)


def _walk(value, fn):
    if isinstance(value, dict):
        return {k: _walk(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, fn) for v in value]
    return fn(value) if isinstance(value, str) else value


def keep_blind_indexes(model, fields: dict[str, str]) -> None:
    """Maintains `<field>_bidx` (and `<field>_tail_bidx` for phones) on every ORM insert and on
    updates that change the field; Core statements add them with `with_indexes`."""

    def fill(mapper, connection, target, only_changed: bool):
        state = inspect(target)
        for field, kind in fields.items():
            if only_changed:
                history = state.attrs[field].history
                if not history.has_changes():
                    continue
            for column, value in index_columns(field, kind, getattr(target, field)).items():
                setattr(target, column, value)

    event.listen(model, "before_insert", lambda m, c, t: fill(m, c, t, False))
    event.listen(model, "before_update", lambda m, c, t: fill(m, c, t, True))

"""Short-lived caches of apps and event definitions for the ingestion hot path.

Each process caches for a couple of seconds (edits elsewhere show up within the TTL); the
process that made an edit calls `invalidate()` so its own change applies at once.
"""
from __future__ import annotations

import ipaddress
import threading
import time
from functools import lru_cache
from dataclasses import dataclass, field
from typing import Callable, Generic, Optional, TypeVar

from sqlalchemy import bindparam, select as sa_select
from sqlmodel import select

from config.services import Services
from events.apps import valid_secrets
from events.field_types import FieldsValidator
from events.models import App, EventDefinition

T = TypeVar("T")


class TTLCache(Generic[T]):
    def __init__(self, loader: Callable[[str], Optional[T]], ttl: float):
        self._loader = loader
        self._ttl = ttl
        self._items: dict[str, tuple[float, Optional[T]]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Optional[T]:
        now = time.monotonic()
        hit = self._items.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = self._loader(key)
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[key] = (now + self._ttl, value)
        return value

    def invalidate(self, key: Optional[str] = None) -> None:
        with self._lock:
            if key is None:
                self._items.clear()
            else:
                self._items.pop(key, None)


@dataclass(frozen=True)
class CachedApp:
    id: int
    name: str
    enabled: bool
    secrets: tuple[str, ...]
    networks: tuple

    def ip_allowed(self, ip: str) -> bool:
        if not self.networks:
            return True
        return _ip_in(ip, self.networks)


@lru_cache(maxsize=4096)
def _ip_in(ip: str, networks: tuple) -> bool:
    # Callers come from a few addresses: parsing each request's address cost more than its HMAC.
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr in net for net in networks)


@dataclass(frozen=True)
class CachedDefinition:
    id: int
    code: str
    name: str
    enabled: bool
    fields: tuple
    # Built with the entry (once per load, not per event).
    validator: FieldsValidator = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "validator", FieldsValidator(self.fields))


_DEF = EventDefinition.__table__
_DEFINITION_BY_CODE = sa_select(_DEF.c.id, _DEF.c.code, _DEF.c.name, _DEF.c.enabled, _DEF.c.fields).where(
    _DEF.c.code == bindparam("code"))


class Catalog:
    def __init__(self, services: Services, ttl: float = 2.0):
        self.services = services
        self.apps: TTLCache[CachedApp] = TTLCache(self._load_app, ttl)
        self.definitions: TTLCache[CachedDefinition] = TTLCache(self._load_definition, ttl)

    def _load_app(self, app_key: str) -> Optional[CachedApp]:
        with self.services.db.read() as s:
            app = s.exec(select(App).where(App.app_key == app_key)).first()
        if app is None:
            return None
        secrets = valid_secrets(app, self.services.secret_box, self.services.now())
        nets = tuple(ipaddress.ip_network(n, strict=False) for n in app.ip_allowlist or [])
        return CachedApp(app.id, app.name, app.enabled, tuple(secrets), nets)

    def _load_definition(self, code: str) -> Optional[CachedDefinition]:
        # Core, one statement built once: every definition is reloaded each TTL in every process.
        with self.services.db.engine.connect() as conn:
            d = conn.execute(_DEFINITION_BY_CODE, {"code": code}).first()
        if d is None:
            return None
        return CachedDefinition(d.id, d.code, d.name, d.enabled, tuple(d.fields or []))

    def invalidate(self) -> None:
        self.apps.invalidate()
        self.definitions.invalidate()

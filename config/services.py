"""The shared services every layer receives: settings, database, clock, secret box, Redis."""
from __future__ import annotations

from dataclasses import dataclass, field
from time import monotonic
from typing import Any, Optional

from config.clock import SystemClock, install_zone
from config.db import Database
from config import pii_column
from config.parameter_store import ParameterOverlay
from config.redis_factory import make_redis
from config.secrets_box import SecretBox
from config.settings import Settings
from config.sql_sandbox import SqlSandboxConfig


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Any = field(default_factory=SystemClock)
    redis: Optional[Any] = None
    secret_box: Optional[SecretBox] = None

    def __post_init__(self):
        # A Database built by hand (tests, tools) still runs custom SQL with the configured bounds.
        self.db.sandbox = SqlSandboxConfig.from_settings(self.settings)
        install_zone(self.settings.timezone)
        if self.secret_box is None:
            self.secret_box = SecretBox(self.settings.resolved_secret_key())
        # Phones and e-mails are sealed by their column type, which has no Services at hand.
        pii_column.configure(self.settings.resolved_secret_key())
        # 参数配置: database values over the environment, re-read when another process changes one.
        self.parameters = ParameterOverlay(self.settings, self.db, self.secret_box, self.clock)

    @classmethod
    def from_settings(cls, settings: Settings, clock: Any = None) -> "Services":
        return cls(
            settings=settings,
            db=Database.from_settings(settings),
            clock=clock or SystemClock(),
            redis=make_redis(settings),
        )

    def now(self):
        return self.clock.now()


def _live_settings(self) -> Settings:
    # Every use of services.settings is where a change made in another process is noticed
    # (a monotonic-clock compare, a database read at most every params_refresh_seconds).
    values = self.__dict__
    overlay = values.get("parameters")
    if overlay is not None and monotonic() >= overlay.next_check:  # the common case stops here
        overlay.refresh_if_due()
    return values["_settings"]


def _bind_settings(self, value: Settings) -> None:
    self.__dict__["_settings"] = value
    overlay = self.__dict__.get("parameters")
    if overlay is not None:
        overlay.rebind(value)


# After @dataclass: its __init__ assigns `settings` through this property.
Services.settings = property(_live_settings, _bind_settings)  # type: ignore[assignment]

"""The shared services every layer receives: settings, database, clock, secret box, Redis."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from config.clock import SystemClock, install_zone
from config.db import Database
from config import pii_column
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

"""The engine runtime: services, processor registry, matcher, dispatcher and scheduler together.

One Runtime lives in each process: the web server (one-process mode runs everything), a
`cunkebao worker` (dispatcher + task executor) or a `cunkebao scheduler`.
"""
from __future__ import annotations

from typing import Any, Optional

from config.services import Services
from config.settings import Settings


class Runtime:
    def __init__(self, services: Services):
        self.services = services

    @classmethod
    def from_settings(cls, settings: Settings, clock: Optional[Any] = None) -> "Runtime":
        return cls(Services.from_settings(settings, clock=clock))

    @property
    def settings(self) -> Settings:
        return self.services.settings

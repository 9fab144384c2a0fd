"""工作台 panels: the registry of home-page modules keyed by their stable key, one module per file
(drop a new file in this package and add it to _MODULES), and `run`, which computes one panel for
one viewer and turns any failure into 「该模块暂时无法加载」 plus a log line instead of a broken page."""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Iterable, Optional

from sqlmodel import Session

from analytics.panels.base import Door, Panel, PanelContext

log = logging.getLogger(__name__)

UNAVAILABLE = "该模块暂时无法加载"

# Registration order is the order of the built-in default workbench and of the picker.
_MODULES = ("my_info", "today_tasks", "customer_moves", "my_targets", "followup_ranking", "tag_top",
            "device_health", "engine_runs")
PANELS: dict[str, Panel] = {}


def register(cls: type[Panel]) -> type[Panel]:
    if cls.key in PANELS:
        raise ValueError(f"duplicate panel key {cls.key!r}")
    PANELS[cls.key] = cls()
    return cls


def get(key: str) -> Optional[Panel]:
    return PANELS.get(key)


def available(permissions: Iterable[str]) -> list[Panel]:
    """The panels a holder of `permissions` may put on their home, in registry order."""
    granted = set(permissions)
    return [p for p in PANELS.values() if p.visible_to(granted)]


@dataclass
class PanelResult:
    panel: Panel
    data: Optional[dict] = None
    error: Optional[str] = None


def run(session: Session, panel: Panel, ctx: PanelContext) -> PanelResult:
    """The panel's data, or the unavailable message; the page keeps rendering either way."""
    try:
        return PanelResult(panel, data=panel.data(session, ctx))
    except Exception:  # one broken panel must not take the home page down with it
        log.exception("workbench panel %s failed for user %s", panel.key, ctx.user_id)
        return PanelResult(panel, error=UNAVAILABLE)


for _name in _MODULES:
    importlib.import_module(f"analytics.panels.{_name}")

__all__ = ["Door", "Panel", "PanelContext", "PanelResult", "PANELS", "UNAVAILABLE", "available", "get", "register",
           "run"]

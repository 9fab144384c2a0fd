"""What a 工作台 panel is: a stable key (stored in users' layouts, so never rename it without a
migration), a Chinese title, the permission a user needs to see it, a data function and the
template partial that draws what the data function returns.

Panels live in analytics (which may not import `web`), so they never build URLs: a number that has
a list behind it carries a `Door` (endpoint + query args) and the home page turns it into a link
only when that page exists and the viewer may open it. Data a panel cannot compute from below the
web layer (the engine's counters: analytics may not import `engine`) arrives through
`PanelContext.providers`, filled by the page."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable, ClassVar, Mapping, Optional

from sqlmodel import Session

from config.clock import from_local
from crm.scope import Viewer


@dataclass(frozen=True)
class Door:
    """The list behind a number: a console endpoint and its query arguments."""

    endpoint: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PanelContext:
    """Who looks and when: `today` is the configured zone's calendar day of `now` (aware UTC)."""

    viewer: Viewer
    user_id: int
    today: date
    now: datetime
    tz: str
    providers: Mapping[str, Callable[[Session], Any]] = field(default_factory=dict)

    def day_bounds(self, day: Optional[date] = None) -> tuple[datetime, datetime]:
        """[start, end) of a local calendar day as aware UTC instants (Beijing days on a UTC host)."""
        day = day or self.today
        start = from_local(datetime.combine(day, datetime.min.time()), self.tz)
        end = from_local(datetime.combine(day + timedelta(days=1), datetime.min.time()), self.tz)
        return start, end

    @property
    def yesterday(self) -> date:
        return self.today - timedelta(days=1)


class Panel(ABC):
    """One 工作台 module. Subclasses set the class attributes and implement `data`."""

    key: ClassVar[str]
    title: ClassVar[str]
    permission: ClassVar[str]
    description: ClassVar[str] = ""
    # The console page (menu endpoint) this panel summarises: 选择模块 shows and orders panels by
    # where that page sits in the menu (功能注册). "" for none.
    page: ClassVar[str] = ""
    # Wide panels take a whole row on the home grid (tables, charts); the rest share a row.
    wide: ClassVar[bool] = False

    @property
    def template(self) -> str:
        return f"home/panels/{self.key}.html"

    def visible_to(self, permissions) -> bool:
        return self.permission in permissions

    @abstractmethod
    def data(self, session: Session, ctx: PanelContext) -> dict:
        """The figures the panel's template shows, scoped to ctx.viewer; every panel plugin has its own."""

    def chart(self, data: dict, link: Callable[[Door], Optional[str]]) -> Optional[dict]:
        """An ECharts option drawn in the panel (None: no chart). `link` turns a Door into a URL
        (None where the viewer cannot open it), so bars are doors too."""
        return None


def bar_option(rows: list[tuple[str, int, Optional[str]]], name: str) -> dict:
    """A horizontal bar chart, largest on top: rows of (label, value, link or None)."""
    rows = list(reversed(rows))
    return {"grid": {"left": 8, "right": 36, "top": 8, "bottom": 8, "containLabel": True},
            "xAxis": {"type": "value", "minInterval": 1},
            "yAxis": {"type": "category", "data": [label for label, _, _ in rows]},
            "series": [{"type": "bar", "name": name, "barMaxWidth": 18, "label": {"show": True, "position": "right"},
                        "data": [{"value": value, **({"link": url} if url else {})} for _, value, url in rows]}]}

"""The risk budget's answers (放行 / 延后 / 拒绝) and what a reservation asks the counter store for."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Optional, Union


@dataclass(frozen=True)
class Allow:
    """Send it, but not before this time (the account's next free pacing slot)."""

    not_before: datetime
    # Redis counter keys this Allow incremented (budget_store.release gives them back if unused).
    held: tuple = field(default=(), compare=False)


@dataclass(frozen=True)
class Defer:
    """Over budget for now: try again at `until`; the reason is shown in history."""

    until: datetime
    reason: str


@dataclass(frozen=True)
class Refuse:
    """Never send this (sensitive word, banned account…); the reason is shown in history."""

    reason: str
    detail: dict = field(default_factory=dict)


Decision = Union[Allow, Defer, Refuse]


@dataclass(frozen=True)
class Cap:
    """A counter for (scope, local day, kind); `limit` None only counts (for 今日已发 figures)."""

    scope: str
    day: date
    kind: str
    limit: Optional[int]
    until: datetime  # when a full counter lets the command try again
    reason: str


@dataclass(frozen=True)
class SlotRequest:
    """The account's pacing line: the next send goes at max(now, last slot + gap)."""

    scope: str
    gap_seconds: float  # already jittered by the caller
    hourly_limit: Optional[int]
    tz: str


@dataclass(frozen=True)
class Reservation:
    now: datetime
    caps: tuple[Cap, ...] = ()
    slot: Optional[SlotRequest] = None

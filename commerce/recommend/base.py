"""What every signal sees (a customer's profile) and returns (scored candidates with a reason)."""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from sqlmodel import Session

CANDIDATES_PER_SIGNAL = 300  # the best this many of each signal are ranked; the rest cannot reach a top N


def tag_weight(score: int) -> float:
    """How much a customer's tag counts: 1 for a tag without a score, growing slowly with the
    tag's 分值 (a 100-point tag counts ~5.6×, not 100×, so one tag cannot drown the others)."""
    return 1.0 + math.log1p(max(int(score or 0), 0))


@dataclass
class Profile:
    """One customer as the signals see them. `bought` maps a product (SPU) to when the customer
    last paid for it; `tags` maps each of their live tags to its weight (tag_weight)."""

    customer_id: int
    tags: dict[int, float] = field(default_factory=dict)
    tag_names: dict[int, str] = field(default_factory=dict)
    bought: dict[int, datetime] = field(default_factory=dict)
    now: datetime | None = None


@dataclass
class Hit:
    """A signal's opinion of one product: a raw score (comparable within the signal only) and
    the reason shown to the operator."""

    score: float
    reason: str


class Signal(ABC):
    """One way of finding products for a customer. `key` is stable (it names the signal in API
    answers and in the weights); `weight` is its share of the final score."""

    key: ClassVar[str] = ""
    label: ClassVar[str] = ""
    weight: ClassVar[float] = 0.0

    @abstractmethod
    def candidates(self, session: Session, profile: Profile) -> dict[int, Hit]:
        """Product id → Hit, at most CANDIDATES_PER_SIGNAL of the best."""


def top(hits: dict[int, Hit], n: int = CANDIDATES_PER_SIGNAL) -> dict[int, Hit]:
    if len(hits) <= n:
        return hits
    best = sorted(hits.items(), key=lambda kv: (-kv[1].score, kv[0]))[:n]
    return dict(best)

"""The condition tree: one shape that every compiler reads.

Leaves are comparisons that remember the row they came from, so every compiler can point back
at the marketer's row. Values are already coerced to the field type (numbers are int/float,
datetimes aware UTC, lists and ranges tuples), so compilers never parse text.

A new target (the SQLAlchemy audience compiler) subclasses `Compiler` and implements the four
methods; the tree itself never changes for a new compiler.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

from dataclasses import dataclass
from typing import Any, Generic, Iterator, TypeVar, Union

T = TypeVar("T")


@dataclass(frozen=True)
class Comparison:
    row: int            # 1-based row in the editor
    field: str          # field name in the event data
    field_type: str     # text | number | boolean | datetime | list
    label: str          # field label shown to marketers
    op: str             # operator key (rules.conditions.operators.OPERATORS)
    value: Any          # coerced: scalar, tuple (in/not_in/between) or None (is_empty/is_not_empty)


@dataclass(frozen=True)
class And:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class Always:
    """No rows: the strategy fires for every event of its type."""


Node = Union[Comparison, And, Or, Always]


class Compiler(ABC, Generic[T]):
    """Bottom-up translation of a tree; subclasses say what each node becomes."""

    def compile(self, node: Node) -> T:
        if isinstance(node, Comparison):
            return self.comparison(node)
        if isinstance(node, And):
            return self.all_of([self.compile(item) for item in node.items])
        if isinstance(node, Or):
            return self.any_of([self.compile(item) for item in node.items])
        if isinstance(node, Always):
            return self.always()
        raise TypeError(f"not a condition node: {node!r}")

    @abstractmethod
    def comparison(self, leaf: Comparison) -> T:
        """One row."""

    @abstractmethod
    def all_of(self, parts: list[T]) -> T:
        """Rows joined by 并且."""

    @abstractmethod
    def any_of(self, parts: list[T]) -> T:
        """Rows joined by 或者."""

    @abstractmethod
    def always(self) -> T:
        """No rows: every event matches."""


def comparisons(node: Node) -> Iterator[Comparison]:
    """Every leaf, in row order as written."""
    if isinstance(node, Comparison):
        yield node
    elif isinstance(node, (And, Or)):
        for item in node.items:
            yield from comparisons(item)

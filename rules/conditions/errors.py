"""Errors of the condition language.

A marketer sees `.message` verbatim in the console, so it is Simplified Chinese and names the
row (1-based, as the editor numbers them) and what is wrong with it.
"""
from __future__ import annotations


class ConditionError(Exception):
    """One problem in the condition rows; `.row` is 1-based or None when no single row is at fault."""

    status = 422
    code = "invalid_conditions"

    def __init__(self, message: str, row: int | None = None):
        super().__init__(message)
        self.message = message
        self.row = row
        # The JSON API turns `.errors` into per-field messages; the form field is "conditions".
        self.errors = {"conditions": message}


class ConditionErrors(ConditionError):
    """Several problems found in one pass, so the marketer can fix them all at once."""

    def __init__(self, problems: list[ConditionError]):
        self.problems = list(problems)
        super().__init__("；".join(p.message for p in self.problems), self.problems[0].row if self.problems else None)


class NotExpressible(Exception):
    """The durable_rules compiler cannot express a condition faithfully; the Python predicate is used.

    Not a marketer-facing error: the strategy still works, only on the slower path.
    """

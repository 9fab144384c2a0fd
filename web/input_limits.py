"""Bounds on what a request can make the app parse, for every view at once.

- Ids: `<int:…>` in any route accepts up to 2^31-1 (every id column is an INTEGER, 32 bits on
  PostgreSQL; SQLite overflows past 2^63), so an id like 2147483648 or 99999999999999999999 is
  "no such page" (404), never an overflow deep in the driver.
  `request.args.get(name, type=int)` and `request.form.get(…, type=int)` use the same bound
  (out of range reads as absent, as any non-number already does); `bounded_int` is the parser
  for views that read ints themselves.
- JSON: `request.get_json()` everywhere, `current_app.json.loads` (JSON in form fields and
  uploads) and the API's json_body parse through `bounded_loads`: nesting deeper than
  CKB_MAX_JSON_DEPTH is a 400 naming the limit, even for `get_json(silent=True)`, which must not
  read a hostile body as "no body".
"""
from __future__ import annotations

import json
from typing import Optional

from flask import Flask, Request
from flask.json.provider import DefaultJSONProvider
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from events.body import json_depth

INT_MAX = 2**31 - 1
INT_MIN = -(2**31)
MAX_PAGE = 1_000_000


class JSONTooDeep(BadRequest):
    """Not a ValueError on purpose: `get_json(silent=True)` swallows ValueErrors only."""


def bounded_loads(raw, max_depth: int):
    """json.loads with a nesting limit; JSONTooDeep (HTTP 400) past it, ValueError when malformed."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise JSONTooDeep(f"JSON 嵌套超过 {max_depth} 层") from None
    if json_depth(data) > max_depth:
        raise JSONTooDeep(f"JSON 嵌套超过 {max_depth} 层")
    return data


def bounded_int(value) -> int:
    """int(value) within an INTEGER column; ValueError otherwise (also for 10**5000 digits)."""
    text = str(value).strip()
    if len(text.lstrip("+-")) > 10:
        raise ValueError("integer out of range")
    number = int(text)
    if not INT_MIN <= number <= INT_MAX:
        raise ValueError("integer out of range")
    return number


def optional_int(value) -> Optional[int]:
    """A non-negative id typed into a form or query string, or None when absent or not one."""
    text = str(value or "").strip()
    if not text.isdigit():
        return None
    try:
        return bounded_int(text)
    except ValueError:
        return None


def page_number(value) -> int:
    """A list page number from the query string: 1 when absent or not a number, at most MAX_PAGE
    (the row offset page × size must stay a valid 64-bit number)."""
    return min(max(1, optional_int(value) or 1), MAX_PAGE)


def int_values(values) -> list[int]:
    """The ids among ticked checkboxes or comma-separated values; anything else is skipped."""
    return [n for n in (optional_int(v) for v in values) if n is not None]


class BoundedIntConverter(IntegerConverter):
    """The app's `int` route converter: at most 10 digits and at most INT_MAX."""

    regex = r"\d{1,10}"

    def __init__(self, map, fixed_digits=0, min=None, max=INT_MAX, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=INT_MAX if max is None else max,
                         signed=signed)


class BoundedArgs(ImmutableMultiDict):
    """Query-string and form values whose `type=int` reads are bounded (see bounded_int)."""

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's signature
        return super().get(key, default, bounded_int if type is int else type)

    def getlist(self, key, type=None):  # noqa: A002
        return super().getlist(key, bounded_int if type is int else type)


class BoundedRequest(Request):
    parameter_storage_class = BoundedArgs


class BoundedJSONProvider(DefaultJSONProvider):
    max_depth = 32

    def loads(self, s, **kwargs):
        return bounded_loads(s, self.max_depth)


def init_input_limits(app: Flask, max_json_depth: int) -> None:
    """Call before any blueprint is registered: routes pick their converters when added."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.request_class = BoundedRequest
    provider = BoundedJSONProvider(app)
    provider.max_depth = max_json_depth
    provider.ensure_ascii = False
    app.json = provider

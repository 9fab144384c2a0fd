"""Small pieces every console page of the 营销工具 area shares: turning service errors into the
{field: [messages]} shape the macros read, reading ticked ids, period filters in the configured
time zone, and the write-then-reload step that makes an edit apply at once."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Optional

from flask import jsonify, request

from config.clock import from_local, to_local
from web.extensions import runtime
from web.input_limits import bounded_int, page_number

FORM_ERROR = "__all__"
PER_PAGE = 20


def error_map(exc) -> dict[str, list[str]]:
    """Service errors (`.errors` {field: message or [messages]}, `.message`) → macro shape."""
    errors: dict[str, list[str]] = {}
    for key, value in (getattr(exc, "errors", None) or {}).items():
        errors[key] = list(value) if isinstance(value, (list, tuple)) else [str(value)]
    if not errors:
        errors[FORM_ERROR] = [getattr(exc, "message", None) or str(exc)]
    return errors


def json_error(exc, status: int = 400):
    """A refusal for the console's own fetch() calls, in the shape CKB.postJSON reads."""
    message = getattr(exc, "message", None) or str(exc)
    return jsonify({"error": {"message": message, "errors": error_map(exc)}}), status


def selected_ids(name: str = "ids") -> list[int]:
    """Ticked row ids from a form post or a JSON body ({"ids": [...]}, {"order": [...]})."""
    if request.is_json:
        values = (request.get_json(silent=True) or {}).get(name) or []
    else:
        values = request.form.getlist(name)
    out = []
    for v in values:
        try:
            out.append(bounded_int(v))
        except (TypeError, ValueError):
            continue
    return out


def write(fn: Callable):
    """Runs `fn(session)` in one unit of work, then makes the engine reload definitions at once."""
    rt = runtime()
    with rt.services.db.write() as session:
        result = fn(session)
    rt.invalidate()
    return result


def read(fn: Callable):
    with runtime().services.db.read() as session:
        return fn(session)


def page_arg() -> int:
    return page_number(request.args.get("page"))


def pages(total: int, per_page: int = PER_PAGE) -> int:
    return max(1, (total + per_page - 1) // per_page)


def local_input(value: Optional[datetime]) -> str:
    """A stored UTC time as the value of an <input type="datetime-local"> in the configured zone."""
    if value is None:
        return ""
    return to_local(value, runtime().settings.timezone).strftime("%Y-%m-%dT%H:%M")


def parse_local(text: str, end_of_day: bool = False) -> Optional[datetime]:
    """A date or datetime typed in a filter (configured zone) → aware UTC; None when blank/bad.
    A bare date used as an upper bound means the whole of that day."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if end_of_day and len(text) <= 10:
        parsed += timedelta(days=1)
    return from_local(parsed, runtime().settings.timezone)


def query_args(*names: str) -> dict:
    """The non-empty filter arguments, for pagination links that keep the filters."""
    return {n: request.args[n] for n in names if request.args.get(n)}

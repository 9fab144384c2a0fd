"""Choosing the matcher: durable_rules when it loads and works, the Python predicates otherwise.

durable_rules is a C extension that does not build on every Python (3.13 fails to import);
the engine must keep running there, so failure to import or start is logged, not raised.
"""
from __future__ import annotations

import importlib
import logging
from datetime import datetime, timezone

from engine.matcher.base import CompiledStrategy, Matcher, PythonMatcher
from rules.conditions import Comparison

log = logging.getLogger(__name__)
_PROBE_FIELD = {"name": "probe", "type": "number"}


def _self_test(matcher: Matcher) -> None:
    """One tiny ruleset end to end, so a broken install is found at start-up, not per event."""
    node = Comparison(1, "probe", "number", "probe", "gt", 1)
    matcher.load("__probe__", [CompiledStrategy(1, (1,), node)])
    try:
        now = datetime.now(timezone.utc)
        if matcher.match("__probe__", {"probe": 2}, now) != [1] or matcher.match("__probe__", {"probe": 0}, now):
            raise RuntimeError("durable_rules self-test gave wrong results")
    finally:
        matcher.load("__probe__", [])


def build_matcher(prefer_durable: bool = True, backend_module: str = "engine.matcher.durable_backend") -> Matcher:
    """DurableMatcher when preferred and working, else PythonMatcher (the reason is logged).

    `backend_module` exists so tests can name a module that fails to import, the way a
    Python without durable_rules does, without touching sys.modules.
    """
    if not prefer_durable:
        log.info("matcher: Python predicates (durable_rules disabled by settings)")
        return PythonMatcher()
    try:
        matcher = importlib.import_module(backend_module).DurableMatcher()
        _self_test(matcher)
    except Exception as exc:  # noqa: BLE001 - any failure to load or start means: use the fallback
        log.warning("matcher: durable_rules unavailable (%s: %s); using Python predicates", type(exc).__name__, exc)
        return PythonMatcher()
    return matcher

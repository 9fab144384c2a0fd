"""匹配: given an event, which enabled strategies of its type match — all of them, in your order.

durable_rules does the live matching where it can (this package is the only place that imports
it); every strategy also has a Python predicate that takes over for conditions durable cannot
express, for events it would misread, and entirely where durable_rules cannot load.
"""
from engine.matcher.base import CompiledStrategy, Matcher, PythonMatcher
from engine.matcher.factory import build_matcher
from engine.matcher.limits import check_limits


def __getattr__(name):
    # DurableMatcher is imported lazily so that importing this package never requires durable_rules.
    if name == "DurableMatcher":
        from engine.matcher.durable_backend import DurableMatcher
        return DurableMatcher
    raise AttributeError(name)


__all__ = ["CompiledStrategy", "DurableMatcher", "Matcher", "PythonMatcher", "build_matcher", "check_limits"]

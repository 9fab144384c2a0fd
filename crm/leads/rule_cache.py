"""Compiled condition rows of a scene's 打标签规则 and 分配规则, kept between leads.

Every lead used to parse and compile each rule's rows again. The compiled predicates are kept
per scene, keyed by the scene's id and version (save_scene bumps the version on every edit) and
by the exact rows, mapped fields and time zone they were compiled from — so an edited rule, a
scene saved by any other path, or a reused scene id never meets a stale predicate: the next
lead compiles the new rows. Rules are compiled on first use, in order; rows that do not parse
are not kept, so their error is raised again each time exactly as before. At most MAX_ENTRIES
lists are kept (least recently used goes first).
"""
from __future__ import annotations

import copy
import json
import threading
from collections import OrderedDict
from typing import Optional

from crm.leads.fields import lead_event_fields
from rules.conditions import compile_predicate, parse_conditions

MAX_ENTRIES = 128
_UNSET = object()


class CompiledRules:
    """The predicates of one list of rules; `predicate(i)` compiles rule i on first use."""

    def __init__(self, rules: list, fields: list[dict], tz: Optional[str]):
        self.rules, self.fields, self.tz = copy.deepcopy(rules), fields, tz
        self._slots: list = [_UNSET] * len(rules)

    def predicate(self, index: int):
        slot = self._slots[index]
        if slot is _UNSET:
            rows = self.rules[index].get("rows") or []
            # tz None: the configured zone (config.clock.zone).
            node = parse_conditions(rows, self.fields) if self.tz is None else parse_conditions(rows, self.fields,
                                                                                                self.tz)
            slot = self._slots[index] = compile_predicate(node)
        return slot


_cache: "OrderedDict[tuple, CompiledRules]" = OrderedDict()
_lock = threading.Lock()


def _fingerprint(rules: list, mapping_rules) -> str:
    return json.dumps([rules, mapping_rules], sort_keys=True, ensure_ascii=False, default=str)


def compiled(scene, kind: str, rules: list, tz: Optional[str] = None) -> CompiledRules:
    """The compiled `rules` ("tagging" or "assignment") of `scene`, as the scene stands now."""
    key = (scene.id, scene.version, kind, tz, _fingerprint(rules, scene.mapping_rules))
    with _lock:
        entry = _cache.get(key)
        if entry is not None:
            _cache.move_to_end(key)
            return entry
    entry = CompiledRules(rules, lead_event_fields(scene), tz)
    with _lock:
        _cache[key] = entry
        while len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)
    return entry


def clear() -> None:
    with _lock:
        _cache.clear()


def size() -> int:
    return len(_cache)

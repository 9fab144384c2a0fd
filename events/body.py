"""Parsing an ingestion body: size, JSON, nesting depth, and the one-or-batch shape."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from events.errors import IngestError


def json_depth(value) -> int:
    """Depth of nested containers, level by level (a hostile body must not blow the stack); only
    containers are queued, so the scalars of a large batch cost one class check each."""
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        below = []
        for node in level:
            below += [v for v in (node.values() if isinstance(node, dict) else node) if isinstance(v, (dict, list))]
        level = below
    return depth


# What can turn into an unstorable value (events.safe_json): a \u escape of NUL or of a
# surrogate, or UTF-8 bytes of a surrogate (json.loads decodes with surrogatepass). Raw NUL
# cannot occur: JSON refuses control characters in strings. An escaped backslash before "u0000"
# also matches: that only costs the full check, never skips a needed one.
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\xed[\xa0-\xbf]")


@dataclass
class ParsedBody:
    events: list
    single: bool
    # Nothing in the body can be a NUL, a lone surrogate, NaN or an infinite number, so the
    # per-event walk of events.safe_json.problems() would find nothing (the hot path skips it).
    plain: bool


def parse_body(body: bytes, max_bytes: int, max_depth: int, max_batch: int) -> tuple[list, bool]:
    """Returns (events, is_single). Raises IngestError(400) naming what is wrong."""
    parsed = parse_events(body, max_bytes, max_depth, max_batch)
    return parsed.events, parsed.single


def parse_events(body: bytes, max_bytes: int, max_depth: int, max_batch: int) -> ParsedBody:
    """`parse_body`, also telling whether the body is plain (see ParsedBody)."""
    if len(body) > max_bytes:
        raise IngestError(400, "body_too_large", f"请求体过大：{len(body)} 字节，上限 {max_bytes} 字节")
    if not body.strip():
        raise IngestError(400, "empty_body", "请求体为空")
    odd = []  # NaN / Infinity / a float that overflowed, seen while parsing

    def constant(name):
        odd.append(name)
        return float(name)

    def number(text):
        value = float(text)
        if not math.isfinite(value):
            odd.append(text)
        return value

    try:
        payload = json.loads(body, parse_constant=constant, parse_float=number)
    except RecursionError:
        raise IngestError(400, "too_deep", f"JSON 嵌套超过 {max_depth} 层") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise IngestError(400, "malformed_json", f"JSON 格式错误：{exc}") from None
    if json_depth(payload) > max_depth:
        raise IngestError(400, "too_deep", f"JSON 嵌套超过 {max_depth} 层")
    if not isinstance(payload, dict):
        raise IngestError(400, "bad_shape", "请求体应为 JSON 对象：单个事件 {\"event\": ...} 或批量 {\"events\": [...]}")
    # (The byte scan holds for UTF-8 only; json.loads also reads UTF-16/32 bodies.)
    plain = not odd and json.detect_encoding(body) == "utf-8" and _SUSPECT.search(body) is None
    if "events" in payload:
        events = payload["events"]
        if not isinstance(events, list):
            raise IngestError(400, "bad_shape", "events 应为数组")
        if not events:
            raise IngestError(400, "empty_batch", "events 数组为空")
        if len(events) > max_batch:
            raise IngestError(400, "batch_too_large", f"一批最多 {max_batch} 个事件，收到 {len(events)} 个")
        return ParsedBody(events, False, plain)
    return ParsedBody([payload], True, plain)

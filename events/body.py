"""Parsing an ingestion body: size, JSON, nesting depth, and the one-or-batch shape."""
from __future__ import annotations

import json

from events.errors import IngestError


def json_depth(value) -> int:
    """Depth of nested containers, iteratively (a hostile body must not blow the stack)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in node)
    return deepest


def parse_body(body: bytes, max_bytes: int, max_depth: int, max_batch: int) -> tuple[list, bool]:
    """Returns (events, is_single). Raises IngestError(400) naming what is wrong."""
    if len(body) > max_bytes:
        raise IngestError(400, "body_too_large", f"请求体过大：{len(body)} 字节，上限 {max_bytes} 字节")
    if not body.strip():
        raise IngestError(400, "empty_body", "请求体为空")
    try:
        payload = json.loads(body)
    except RecursionError:
        raise IngestError(400, "too_deep", f"JSON 嵌套超过 {max_depth} 层") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise IngestError(400, "malformed_json", f"JSON 格式错误：{exc}") from None
    if json_depth(payload) > max_depth:
        raise IngestError(400, "too_deep", f"JSON 嵌套超过 {max_depth} 层")
    if not isinstance(payload, dict):
        raise IngestError(400, "bad_shape", "请求体应为 JSON 对象：单个事件 {\"event\": ...} 或批量 {\"events\": [...]}")
    if "events" in payload:
        events = payload["events"]
        if not isinstance(events, list):
            raise IngestError(400, "bad_shape", "events 应为数组")
        if not events:
            raise IngestError(400, "empty_batch", "events 数组为空")
        if len(events) > max_batch:
            raise IngestError(400, "batch_too_large", f"一批最多 {max_batch} 个事件，收到 {len(events)} 个")
        return events, False
    return [payload], True

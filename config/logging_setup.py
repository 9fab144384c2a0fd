"""Structured (JSON-lines) logging with phones and e-mails masked before anything is written."""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime

from config.clock import UTC, to_local
from config.pii import mask_text, mask_value

_RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class MaskingJsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            # The configured zone with its offset, whatever the host's zone: a line is never ambiguous.
            "ts": to_local(datetime.fromtimestamp(record.created, UTC)).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": mask_text(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                payload[key] = mask_value(value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else str(value))
        if record.exc_info:
            payload["exc"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(MaskingJsonFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_ckb", False):
            root.removeHandler(existing)
    handler._ckb = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # The due-task sweep runs every second; its per-run lines would drown everything else.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)

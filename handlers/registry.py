"""处理器注册中心: every processor a strategy step may name, found by its stable key.

Built-ins (and, in later issues, CRM and device processors) are registered in code; HTTP
processors registered by users live in ProcessorDefinition rows under `custom.<slug>` keys
and are built on first use, then cached until `invalidate` is called after an edit.
"""
from __future__ import annotations

import threading
from dataclasses import asdict
from typing import Optional, Union

from sqlmodel import select

from config.retry_schedule import RetryScheduleError, parse_schedule
from handlers.base import Processor
from handlers.builtin import BUILTIN_PROCESSORS
from handlers.builtin.custom_http import CustomHttpProcessor
from handlers.errors import UnknownProcessor
from handlers.models import ProcessorDefinition

CUSTOM_PREFIX = "custom."


def describe(processor: Processor, config: Optional[dict] = None) -> dict:
    """A JSON-able description for the console's registry page and the strategy editor."""
    fields = []
    for f in processor.config_fields:
        item = asdict(f)
        item["choices"] = list(f.choices)
        fields.append(item)
    info = {
        "key": processor.key,
        "name": processor.name,
        "builtin": bool(processor.builtin),
        "description": processor.description,
        "config_fields": fields,
        "variables": sorted(processor.variables(config or {})),
    }
    if isinstance(processor, CustomHttpProcessor):
        info["enabled"] = processor.enabled
    return info


class ProcessorRegistry:
    def __init__(self, services):
        self.services = services
        self._processors: dict[str, Processor] = {}
        self._custom: dict[str, CustomHttpProcessor] = {}
        self._lock = threading.Lock()

    def register(self, processor: Union[Processor, type], *, replace: bool = False) -> Processor:
        """Adds a processor (instance or class); keys are stored in strategies, so clashes are bugs."""
        instance = processor() if isinstance(processor, type) else processor
        if not instance.key or instance.key.startswith(CUSTOM_PREFIX):
            raise ValueError(f"invalid processor key {instance.key!r} (custom.* is reserved for definitions)")
        with self._lock:
            if instance.key in self._processors and not replace:
                raise ValueError(f"processor key {instance.key!r} is already registered")
            self._processors[instance.key] = instance
        return instance

    def get(self, key: str) -> Processor:
        if key in self._processors:
            return self._processors[key]
        if key.startswith(CUSTOM_PREFIX):
            with self._lock:
                cached = self._custom.get(key)
            if cached is not None:
                return cached
            with self.services.db.read() as session:
                definition = session.exec(select(ProcessorDefinition).where(ProcessorDefinition.key == key)).first()
            if definition is not None:
                processor = CustomHttpProcessor(definition)
                with self._lock:
                    self._custom[key] = processor
                return processor
        raise UnknownProcessor(f"找不到处理器「{key}」：它可能已被删除，或尚未在处理器注册中心注册")

    def invalidate(self, key: Optional[str] = None) -> None:
        """Forgets cached custom processors (one, or all) so the next `get` reads the edited row."""
        with self._lock:
            if key is None:
                self._custom.clear()
            else:
                self._custom.pop(key, None)

    def __contains__(self, key: str) -> bool:
        try:
            self.get(key)
        except UnknownProcessor:
            return False
        return True

    def retry_schedule(self, key: str) -> tuple[float, ...]:
        """Waits between attempts of a step of this processor: its own schedule (declared in
        code or configured on its definition), else the server's CKB_RETRY_SCHEDULE."""
        schedule, _ = self._schedule(key)
        return schedule

    def max_attempts(self, key: str) -> int:
        """Attempts a new step of this processor gets: one per wait of its own schedule plus
        the first; CKB_STEP_MAX_ATTEMPTS for processors on the server's default."""
        schedule, own = self._schedule(key)
        return len(schedule) + 1 if own else self.services.settings.step_max_attempts

    def _schedule(self, key: str) -> tuple[tuple[float, ...], bool]:
        try:
            text = self.get(key).retry_schedule
        except UnknownProcessor:
            text = ""
        if text:
            try:
                return parse_schedule(text), True
            except RetryScheduleError:
                pass  # validated when saved; a bad declaration falls back to the default
        return parse_schedule(self.services.settings.retry_schedule), False

    def list_builtin(self) -> list[dict]:
        return [describe(p) for p in self._processors.values()]

    def list_all(self) -> list[dict]:
        """Code-registered processors first, then user definitions in creation order."""
        with self.services.db.read() as session:
            definitions = session.exec(select(ProcessorDefinition).order_by(ProcessorDefinition.id)).all()
        return self.list_builtin() + [describe(CustomHttpProcessor(d)) for d in definitions]


def default_registry(services) -> ProcessorRegistry:
    registry = ProcessorRegistry(services)
    for processor_class in BUILTIN_PROCESSORS:
        registry.register(processor_class)
    return registry

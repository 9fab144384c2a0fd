"""The processor contract: one small base class, one plugin per file, a registry by stable key.

Deciding (the engine matched a strategy) is separate from doing (a processor's `run`).
A processor never touches the StrategyTask ledger: it returns an Outcome or raises a
ProcessorError, and the engine records attempts, retries and dead letters.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional

from events.placeholders import find_variables


@dataclass(frozen=True)
class ConfigField:
    """One input of a processor's configuration form (rendered by the console, Redash-style)."""

    name: str
    label: str
    kind: str = "text"  # text | textarea | number | select | boolean | keyvalue | json
    required: bool = False
    help: str = ""
    choices: tuple = ()
    default: Any = None
    templated: bool = True  # may contain ${var} filled from event data


@dataclass
class ProcessorContext:
    """What a running step may see and use."""

    event_code: str
    data: dict
    event_record_id: int
    strategy_id: int
    task_id: Optional[int]  # None for an inline step (Processor.inline): its row is written after it ran
    idempotency_key: str
    attempt: int
    services: Any  # engine.runtime.Services: settings, db, clock, secret box, http session…
    customer: Optional[dict] = None
    dry_run: bool = False
    # The registry the executor runs this step from: a step that hands its sending to another
    # processor (线索·自动回复, 发送模板消息) finds it here by key, never by instantiating it.
    processors: Optional[Any] = None

    def delegate(self, key: str) -> "Processor":
        """The registered processor `key`, for a step that sends through it under this step's
        idempotency key, attempt and history."""
        if self.processors is None:
            raise LookupError(f"processor {key!r} asked for outside the executor (no registry in the context)")
        return self.processors.get(key)


@dataclass
class Outcome:
    """A finished step: what was sent (rendered request) and what came back."""

    request: dict = field(default_factory=dict)
    response: dict = field(default_factory=dict)
    note: str = ""


class Processor(ABC):
    """Base class. Subclasses set `key` (stored in the database: never rename without a migration)."""

    key: ClassVar[str] = ""
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    builtin: ClassVar[bool] = True
    config_fields: ClassVar[tuple[ConfigField, ...]] = ()
    # Waits between attempts ("5s, 1m, 2h", config.retry_schedule); empty: the server's default.
    retry_schedule: ClassVar[str] = ""
    # The effect leaves this database (HTTP, SMTP, an SMS gateway): the engine commits the
    # attempt's start before calling `run`, so a crash never silently sends twice. False for a
    # processor that only writes here, idempotently by ctx.idempotency_key (its start and outcome
    # are then group-committed together, cheaply; a crash re-runs it harmlessly).
    external: ClassVar[bool] = True
    # Pure: no effect outside the process (no database write, nothing sent), so it may run in the
    # dispatcher before its task row exists (ctx.task_id is None then) and be recorded finished in
    # the dispatcher's own transaction (engine.inline_steps). A crash before that commit runs it again.
    inline: ClassVar[bool] = False
    # An attempt a crash interrupted (its start on disk, no outcome) is run again with the same
    # idempotency key when True; False sends it to 死信 instead, for a peer that cannot dedupe.
    replay_safe: ClassVar[bool] = True

    def validate_config(self, config: dict) -> list[str]:
        """Chinese messages for missing or malformed configuration; empty when valid."""
        errors = []
        for f in self.config_fields:
            value = config.get(f.name, f.default)
            if f.required and (value is None or (isinstance(value, str) and not value.strip())):
                errors.append(f"「{f.label}」不能为空")
        return errors

    def variables(self, config: dict) -> set[str]:
        """Every ${var} the step's configuration uses; the event must define each one."""
        names: set[str] = set()
        for f in self.config_fields:
            if f.templated:
                names |= find_variables(config.get(f.name))
        return names

    @abstractmethod
    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        """The request this step would send, with ${var} filled — shown by dry runs and history."""

    @abstractmethod
    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        """Do the step's effect once; raise RetryableError / PermanentError on failure."""

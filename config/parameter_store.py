"""参数配置 at runtime: database values laid over the live Settings object, in every process.

Precedence: a value saved in the console (数据库) > the environment / CKB_CONFIG file / explicit
start-up overrides (环境变量) > the field's default (默认值). What start-up gave is remembered per
Settings object (its baseline), so 恢复默认 puts exactly that back.

Live without restart: every consumer reads the one Settings object its Services holds, at use
time. The saving process applies a change at once; every other process notices it on its next
`services.settings` access after at most `params_refresh_seconds` (one cheap `max(id)` of the
change log, whose id grows with every change), then reloads all values.
"""
from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any, Optional

from sqlalchemy import func
from sqlmodel import col, select

from config.clock import utcnow
from config.parameter_models import ParameterChange, ParameterValue
from config.parameter_values import decode, encode, parse, shown
from config.parameters import BY_KEY, GROUP_CHECKS, PARAMETERS, ParameterInvalid, in_group
from config.retry_schedule import parse_schedule

log = logging.getLogger("ckb.parameters")
SOURCES = {"db": "数据库", "env": "环境变量", "default": "默认值"}
_baselines: dict[int, tuple[Any, dict[str, Any], frozenset[str], int]] = {}
_baseline_lock = threading.Lock()


class ParametersInvalid(ValueError):
    """{key: Chinese message} for every refused value of a save; nothing was written."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def baseline(settings) -> tuple[dict[str, Any], frozenset[str]]:
    """What start-up gave this Settings object (values, fields set explicitly), taken before any
    database value was laid over it; shared by every Services built on the same object."""
    with _baseline_lock:
        entry = _baselines.get(id(settings))
        if entry is None or entry[0]() is not settings:
            ref = weakref.ref(settings, lambda _r, k=id(settings): _baselines.pop(k, None))
            entry = (ref, {p.key: getattr(settings, p.key) for p in PARAMETERS},
                     frozenset(settings.model_fields_set), settings.step_max_attempts)
            _baselines[id(settings)] = entry
        return entry[1], entry[2]


def _attempts_follow_schedule(settings, base: dict) -> bool:
    """Settings derives step_max_attempts from the schedule when it is not set (its validator
    marks it set either way): it follows a changed schedule when start-up left it derived."""
    start = _baselines[id(settings)][3]
    return start == len(parse_schedule(base["retry_schedule"])) + 1


@dataclass
class ParameterView:
    param: Any
    value: Any
    source: str         # db / env / default
    stored: bool
    updated_by: str = ""
    updated_at: Any = None
    overridden: Optional[str] = None  # the environment's value (as shown) that a stored value overrides

    @property
    def source_label(self) -> str:
        return SOURCES[self.source]


class ParameterOverlay:
    def __init__(self, settings, db, box, clock=None):
        self.settings = settings
        self.db = db
        self.box = box
        self.now = clock.now if clock is not None else utcnow  # the app's clock (tests move it)
        self._seen: Optional[int] = -1
        self.next_check = 0.0
        self._lock = threading.Lock()
        baseline(settings)

    def rebind(self, settings) -> None:
        """Services got another Settings object: lay the stored values over it on next access."""
        self.settings = settings
        baseline(settings)
        self._seen, self.next_check = -1, 0.0

    # -- reading and applying -----------------------------------------------------------------
    def _version(self, session) -> Optional[int]:
        return session.exec(select(func.max(ParameterChange.id))).one()

    def refresh_if_due(self, force: bool = False) -> None:
        """Reloads when the change log moved since the last load; looks at most once per interval."""
        now = time.monotonic()
        if (now < self.next_check and not force) or not self._lock.acquire(blocking=False):
            return
        try:
            self.next_check = now + float(self.settings.__dict__.get("params_refresh_seconds", 3.0))
            with self.db.read() as session:
                if self._version(session) != self._seen:
                    self._load(session)
        except Exception as exc:  # noqa: BLE001 - keep the values we have; the next check tries again
            log.warning("parameter refresh failed: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        finally:
            self._lock.release()

    def reload(self) -> None:
        with self._lock, self.db.read() as session:
            self._load(session)

    def _load(self, session) -> None:
        version = self._version(session)
        stored = self._stored(session)
        self._apply({key: value for key, (value, _row) in stored.items()})
        self._seen = version

    def _stored(self, session) -> dict[str, tuple[Any, ParameterValue]]:
        found = {}
        for row in session.exec(select(ParameterValue)).all():
            param = BY_KEY.get(row.key)
            if param is None:
                continue  # a parameter retired from the registry: its row is ignored
            try:
                raw = self.box.open(row.value) if param.secret else row.value
                found[row.key] = (parse(param, raw) if param.secret else decode(param, raw), row)
            except Exception:  # noqa: BLE001 - a value that no longer validates: the baseline wins
                log.warning("stored parameter ignored", extra={"key": row.key}, exc_info=True)
        return found

    def _apply(self, stored: dict[str, Any]) -> None:
        base = baseline(self.settings)[0]
        values = self.settings.__dict__  # plain writes: validators ran when the value was saved
        for param in PARAMETERS:
            wanted = stored.get(param.key, base[param.key])
            if values.get(param.key) != wanted:
                values[param.key] = wanted
        if _attempts_follow_schedule(self.settings, base):
            values["step_max_attempts"] = len(parse_schedule(values["retry_schedule"])) + 1

    # -- the page ---------------------------------------------------------------------------
    def views(self) -> list[ParameterView]:
        base, explicit = baseline(self.settings)
        with self.db.read() as session:
            stored = self._stored(session)
        out = []
        for param in PARAMETERS:
            if param.key in stored:
                value, row = stored[param.key]
                env = shown(param, base[param.key]) if param.key in explicit else None
                out.append(ParameterView(param, value, "db", True, row.updated_by, row.updated_at, env))
            else:
                out.append(ParameterView(param, base[param.key], "env" if param.key in explicit else "default", False))
        return out

    def changes(self, limit: int = 50, key: str = "", before: Optional[int] = None) -> list[ParameterChange]:
        """Newest first; `before` (an id) pages to older entries."""
        with self.db.read() as session:
            query = select(ParameterChange).order_by(col(ParameterChange.id).desc()).limit(limit)
            if key:
                query = query.where(ParameterChange.key == key)
            if before:
                query = query.where(col(ParameterChange.id) < before)
            return list(session.exec(query).all())

    # -- writing ----------------------------------------------------------------------------
    def save(self, group: str, form: dict, user: str) -> list[str]:
        """Validates every submitted value of the group, then writes the ones that changed (and
        logs them) in one transaction; raises ParametersInvalid with nothing written."""
        params = in_group(group)
        if not params:
            raise ParametersInvalid({"__all__": "未知的参数分组"})
        current = {v.param.key: v for v in self.views()}
        errors: dict[str, str] = {}
        new: dict[str, Any] = {}
        for param in params:
            raw = form.get(param.key)
            if raw is None or (param.secret and str(raw).strip() == ""):
                continue  # not on the form / a secret left empty: kept as it is
            try:
                new[param.key] = parse(param, raw)
            except ParameterInvalid as exc:
                errors[param.key] = str(exc)
        merged = {p.key: new.get(p.key, current[p.key].value) for p in params}
        for check in GROUP_CHECKS.get(group, ()):
            for key, message in check(merged).items():
                errors.setdefault(key, message)
        if errors:
            raise ParametersInvalid(errors)
        changed = [k for k, v in new.items() if v != current[k].value or (BY_KEY[k].secret and v)]
        if changed:
            now = self.now()
            with self.db.write() as session:
                for key in changed:
                    param, before = BY_KEY[key], current[key]
                    stored = self.box.seal(new[key]) if param.secret else encode(new[key])
                    row = session.get(ParameterValue, key) or ParameterValue(key=key, value=stored)
                    row.value, row.updated_by, row.updated_at = stored, user, now
                    session.add(row)
                    session.add(ParameterChange(
                        key=key, action="set", old_value=shown(param, before.value),
                        new_value="已修改" if param.secret else shown(param, new[key]),
                        changed_by=user, changed_at=now))
        self.reload()
        return changed

    def reset(self, key: str, user: str) -> bool:
        """恢复默认: deletes the stored value (the environment or the default wins again)."""
        param = BY_KEY.get(key)
        if param is None:
            raise ParametersInvalid({"__all__": "未知的参数"})
        base, _explicit = baseline(self.settings)
        with self.db.write() as session:
            row = session.get(ParameterValue, key)
            if row is None:
                return False
            old = shown(param, self._stored_value(param, row))
            session.delete(row)
            session.add(ParameterChange(key=key, action="reset", old_value=old,
                                        new_value=shown(param, base[key]), changed_by=user, changed_at=self.now()))
        self.reload()
        return True

    def _stored_value(self, param, row: ParameterValue) -> Any:
        if param.secret:
            return bool(row.value)
        try:
            return decode(param, row.value)
        except Exception:  # noqa: BLE001 - an invalid leftover is still logged as something
            return row.value

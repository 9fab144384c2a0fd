"""操作日志 without per-view calls: SQLAlchemy session events record every object a write request
changes, in the same transaction as the change (a rollback takes its log rows with it).

The web layer opens an `AuditContext` for each write request (`activate`) and closes it after;
outside one (cron jobs, the dispatcher, public forms, sign-in) nothing is recorded. Per flush,
`after_flush` reads each new / changed / deleted object's column history and inserts one
operation_log row per object through the flushing connection; `do_orm_execute` does the same for
set-based UPDATE / DELETE / INSERT statements (table, condition, values, rowcount). Rows written
by transactions that commit are counted, so the web layer can add one request-level row for a
write that changed nothing through the ORM.
"""
from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Callable, Optional

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from config.clock import utcnow
from config.pii import mask_text
from crm.audit.masking import column_value, loggable, sensitive_name
from crm.audit.models import ErrorLog, LoginLog, OperationLog

AUDIT_TABLES = frozenset({OperationLog.__tablename__, LoginLog.__tablename__, ErrorLog.__tablename__})
_OPS = OperationLog.__table__
_current: contextvars.ContextVar[Optional["AuditContext"]] = contextvars.ContextVar("ckb_audit", default=None)


@dataclass
class AuditContext:
    request_id: str
    method: str
    endpoint: str
    path: str
    ip: str
    via: str
    # (user_id, username) of whoever acts, read at flush time: a bearer token is resolved inside
    # the view, after the context opened. None: nobody signed in, nothing is recorded.
    actor: Callable[[], Optional[tuple[int, str]]]
    committed: int = 0
    _pending: dict = field(default_factory=dict)

    def row(self, actor: tuple[int, str], **values) -> dict:
        return {"request_id": self.request_id, "created_at": utcnow(), "user_id": actor[0], "username": actor[1],
                "via": self.via, "method": self.method, "endpoint": self.endpoint[:200], "path": self.path[:500],
                "ip": self.ip[:64], "changes": {}, "summary": "", "object_id": "", "table_name": "",
                "rowcount": None, "status_code": None, **values}


def activate(ctx: AuditContext):
    return _current.set(ctx)


def deactivate(token) -> None:
    _current.reset(token)


def current() -> Optional[AuditContext]:
    return _current.get()


def _object_row(ctx, actor, obj, action: str) -> Optional[dict]:
    state = inspect(obj)
    mapper = state.mapper
    table = mapper.persist_selectable
    if getattr(table, "name", None) in AUDIT_TABLES:
        return None
    changes = {}
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        hist = state.attrs[prop.key].history
        if action == "update":
            if not hist.has_changes():
                continue
            before = hist.deleted[0] if hist.deleted else None
            after = hist.added[0] if hist.added else None
            if before == after:
                continue
        elif action == "insert":
            before, after = None, state.dict.get(prop.key)
            if after is None:
                continue
        else:
            before, after = state.dict.get(prop.key, hist.deleted[0] if hist.deleted else None), None
        changes[column.key] = [column_value(column, before), column_value(column, after)]
    if action == "update" and not changes:
        return None
    ident = mapper.primary_key_from_instance(obj)
    return ctx.row(actor, action=action, table_name=table.name, object_id=",".join(str(v) for v in ident)[:100],
                   changes=changes)


def _after_flush(session, _flush_context) -> None:
    ctx = _current.get()
    if ctx is None:
        return
    actor = ctx.actor()
    if actor is None:
        return
    rows = []
    for action, objects in (("insert", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            row = _object_row(ctx, actor, obj, action)
            if row is not None:
                rows.append(row)
    _write(session, ctx, rows)


def _write(session, ctx, rows) -> None:
    if rows:
        session.connection().execute(_OPS.insert(), rows)
        ctx._pending[id(session)] = ctx._pending.get(id(session), 0) + len(rows)


def _statement_summary(statement, params) -> str:
    parts = []
    where = getattr(statement, "whereclause", None)
    if where is not None:
        compiled = where.compile()
        parts.append("条件: " + str(compiled))
        bound = {k: ("（已隐藏）" if sensitive_name(k) else loggable(v)) for k, v in compiled.params.items()}
        if bound:
            parts.append("参数: " + str(bound))
    values = getattr(statement, "_values", None)
    if values:
        shown = {getattr(k, "key", str(k)): ("（已隐藏）" if sensitive_name(getattr(k, "key", str(k)))
                                             else loggable(getattr(v, "value", "<表达式>"))) for k, v in values.items()}
        parts.append("值: " + str(shown))
    if isinstance(params, dict) and params:
        parts.append("参数: " + str({k: ("（已隐藏）" if sensitive_name(k) else loggable(v)) for k, v in params.items()}))
    elif isinstance(params, list) and params:
        parts.append(f"{len(params)} 组参数")
    return mask_text("；".join(parts))[:2000]


def _do_orm_execute(state):
    if not (state.is_update or state.is_delete or state.is_insert):
        return None
    ctx = _current.get()
    if ctx is None:
        return None
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", "") or ""
    if name in AUDIT_TABLES:
        return None
    actor = ctx.actor()
    if actor is None:
        return None
    # An ORM unit-of-work flush does not come through here; these are set-based statements.
    result = state.invoke_statement()
    action = "bulk_update" if state.is_update else "bulk_delete" if state.is_delete else "bulk_insert"
    rowcount = result.rowcount if result.rowcount is not None and result.rowcount >= 0 else None
    _write(state.session, ctx, [ctx.row(actor, action=action, table_name=name[:100], rowcount=rowcount,
                                        summary=_statement_summary(state.statement, state.parameters))])
    return result


def _after_commit(session) -> None:
    ctx = _current.get()
    if ctx is not None:
        ctx.committed += ctx._pending.pop(id(session), 0)


def _after_rollback(session, _previous_transaction) -> None:
    ctx = _current.get()
    if ctx is not None:
        ctx._pending.pop(id(session), None)


_installed = False


def install() -> None:
    """Listens on every Session (idempotent). Costs one context-variable read per flush outside
    an audited request."""
    global _installed
    if _installed:
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _do_orm_execute)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_rollback)
    _installed = True

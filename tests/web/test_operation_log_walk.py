"""操作日志 acceptance, walked like the object-scope walk: an administrator (console with a CSRF
token, /api/v1 with a bearer token) posts to every POST/PUT/PATCH/DELETE route of the app — the
scope walk's planned requests aimed at real objects, and every other route with its id arguments
filled with real ids. After each request the whole database is compared with before: every row
inserted, updated or deleted must be named by an operation_log row of that request (its table and
id, the changed columns with the new value as the log shows it, masked), or by a set-based
statement row for its table; a request that changed nothing still leaves one request-level row.
A request that raised answers with a reference id found in error_log, never with the stack.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select as sa_select
from sqlmodel import SQLModel, select

from crm.audit.masking import REDACTED, column_value
from crm.audit.models import ErrorLog, OperationLog
from crm.audit.recorder import AUDIT_TABLES, QUIET_COLUMNS
from crm.people import service as people
from tests.web.conftest import get_csrf_token
from tests.web.test_object_scope_walk import NOT_AS_USER, WRITE_METHODS, _blind_url, _plans, _populate, _send

# Plumbing written around a request, not by it: flash messages stashed for the next page.
NOT_OPERATIONS = {"stashed_flash"}


def _snapshot(app_db) -> dict:
    out = {}
    with app_db.read() as s:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in AUDIT_TABLES or table.name in NOT_OPERATIONS:
                continue
            pk = [c.name for c in table.primary_key.columns] or [c.name for c in table.columns]
            rows = {}
            for row in s.execute(sa_select(table)).mappings():
                rows[tuple(row[c] for c in pk)] = dict(row)
            out[table.name] = rows
    return out


def _quiesce(app) -> None:
    """Stop the background writers a previous request started (the chat live hub mirrors command
    states onto chat_message rows on its own thread), so the next diff holds only the next request's
    writes. Those writes are the system's, outside any request, and not operations by design."""
    hub = app.extensions.get("ckb_chat_live")
    if hub is not None:
        hub.stop(join_timeout=10)


def _diff(before: dict, after: dict) -> dict:
    """table → [(action, key, changed columns)]"""
    out = {}
    for name, rows in after.items():
        old = before.get(name, {})
        quiet = QUIET_COLUMNS.get(name, frozenset())
        changes = [("insert", k, set(v)) for k, v in rows.items() if k not in old]
        changes += [("delete", k, set(v)) for k, v in old.items() if k not in rows]
        for k, v in rows.items():
            if k in old:
                cols = {c for c in v if repr(v[c]) != repr(old[k][c])} - quiet
                if cols:
                    changes.append(("update", k, cols))
        if changes:
            out[name] = changes
    return out


def _comparable(value):
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _uncovered(diff: dict, after: dict, logs: list) -> list[str]:
    problems = []
    tables = {t.name: t for t in SQLModel.metadata.sorted_tables}
    for name, changes in diff.items():
        if any(r.table_name == name and r.action.startswith("bulk_") for r in logs):
            continue  # a set-based statement on the table: logged with its condition and rowcount
        # One object may be flushed more than once in a request: its rows together tell the change.
        by_object: dict = {}
        for r in logs:
            if r.table_name == name:
                by_object.setdefault((r.action, r.object_id), {}).update(r.changes)
        for action, key, cols in changes:
            object_id = ",".join(str(k) for k in key)
            logged_changes = by_object.get((action, object_id))
            if logged_changes is None:
                problems.append(f"{name} #{object_id} {action} 无操作日志")
                continue
            if action != "update":
                continue
            for col in cols:
                if col not in logged_changes:
                    problems.append(f"{name} #{object_id} 字段 {col} 的修改未记录")
                    continue
                new = after[name][key][col]
                logged = logged_changes[col][1]
                if isinstance(new, (str, int, bool)) and logged != REDACTED:
                    expected = _comparable(column_value(tables[name].c[col], new))
                    if logged != expected:
                        problems.append(f"{name} #{object_id} {col}: 日志记为 {logged!r}，实际为 {expected!r}")
    return problems


def _world(app, app_db, login):
    w = _populate(app, app_db)
    people.create_user(app_db, "walk_admin", "Admin12345", display_name="走查管理员", is_admin=True)
    console = app.test_client()
    assert login(console, "walk_admin", "Admin12345").status_code == 302
    w["console"], w["csrf"] = console, get_csrf_token(console, "/worktasks")
    w["api"] = app.test_client()
    w["token"] = people.create_token(app_db, "walk_admin", "walk")
    return w


def _requests(app, w):
    plans = _plans(w)
    for rule in app.url_map.iter_rules():
        methods = sorted(rule.methods & WRITE_METHODS)
        if not methods or rule.endpoint in NOT_AS_USER:
            continue
        for method, url, kwargs in plans.get(rule.endpoint) or [(m, _blind_url(rule, w["ids"]), {}) for m in methods]:
            yield rule.endpoint, method, url, kwargs


@pytest.mark.timeout(900)  # two whole-database snapshots per request: ~3 min on SQLite; not for the PG pass
def test_every_write_route_leaves_operation_log_rows_that_match_the_change(app, app_db, login):
    w = _world(app, app_db, login)
    problems, walked, changed_requests, errors = [], 0, 0, 0
    for endpoint, method, url, kwargs in _requests(app, w):
        # Fresh each time: a device reply landing after the previous request is not this one's.
        _quiesce(app)
        before = _snapshot(app_db)
        with app_db.read() as s:
            last_log = s.execute(sa_select(func.coalesce(func.max(OperationLog.id), 0))).scalar()
            last_error = s.execute(sa_select(func.coalesce(func.max(ErrorLog.id), 0))).scalar()
        resp = _send(w, method, url, kwargs)
        body = resp.get_data(as_text=True) if resp.mimetype.startswith(("text/", "application/json")) else ""
        resp.close()
        walked += 1
        _quiesce(app)
        after = _snapshot(app_db)
        with app_db.read() as s:
            logs = list(s.exec(select(OperationLog).where(OperationLog.id > last_log)).all())
            new_errors = list(s.exec(select(ErrorLog).where(ErrorLog.id > last_error)).all())
        where = f"{method} {url} ({endpoint}, {resp.status_code})"
        if resp.status_code >= 500 and new_errors:
            errors += 1
            if new_errors[0].reference not in body or "Traceback" in body:
                problems.append(f"{where}: 500 页面没有参考编号或泄露了堆栈")
        if not logs:
            problems.append(f"{where}: 写请求没有任何操作日志")
        if len({r.request_id for r in logs}) > 1:
            problems.append(f"{where}: 一个请求的日志行请求编号不一致")
        if any(r.username != "walk_admin" or r.endpoint != endpoint for r in logs):
            problems.append(f"{where}: 操作人或路由记录错误")
        diff = _diff(before, after)
        if diff:
            changed_requests += 1
            problems += [f"{where}: {p}" for p in _uncovered(diff, after, logs)]
    assert not problems, "操作日志与实际变更不符：\n" + "\n".join(problems[:80])
    assert walked > 300 and changed_requests > 40, (walked, changed_requests)

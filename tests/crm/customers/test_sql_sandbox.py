"""自定义SQL sandbox under attack (issue 9 items 1 and 7): the review's statements change nothing,
read no staff table, run as the SELECT-only role on PostgreSQL (checked with the parser bypassed),
honour the configured timeout and bound rows and value sizes; previews count only what the viewer
may see. Runs on SQLite and in the PostgreSQL pass."""
from __future__ import annotations

import dataclasses
import time

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from config.db import Database
from crm.customers.models import Customer
from crm.customers.sql_sandbox import run_readonly_select
from crm.customers.sql_sandbox_rules import check_select
from crm.errors import CrmError
from crm.people import service as people
from crm.people.models import User
from crm.tags import service as tags
from crm.tags.models import CustomerTag, Tag, TagCategory

ATTACKS = [
    "select id from customer where E'\\'' <> ''; commit; update user_account set is_admin = true "
    "where username = 'op1' --'",
    "select id from customer where E'\\'' <> ''; commit; delete from customer_tag --'",
    "select id from customer where E'\\'' <> ''; commit; copy (select 1) to program 'touch /tmp/ckb_pwned' --'",
    "select id from customer; commit; update user_account set is_admin = true",
    "select id from customer where query_to_xml('select password_hash from user_account where "
    "password_hash like ''$%''', true, true, '')::text like '%row%'",
    "select id from customer where exists (select 1 from user_account where password_hash like '$%')",
    "with gone as (delete from customer_tag returning customer_id) select customer_id from gone",
    "select id from customer for update",
    "select id into stolen from customer",
    "update user_account set is_admin = true returning id",
]


@pytest.fixture
def seeded(db):
    people.ensure_builtin_roles(db)
    op1 = people.create_user(db, "op1", "Operator12345", roles=["operator"])
    seller = people.create_user(db, "seller", "Seller12345", roles=["operator"])
    with db.write() as s:
        cat = TagCategory(name="客户标签")
        s.add(cat)
        s.flush()
        tag = Tag(category_id=cat.id, name="高意向")
        s.add(tag)
        s.flush()
        for i in range(6):
            c = Customer(name=f"客户{i}", mobile=f"1380000000{i}", owner_id=seller.id if i < 2 else None)
            s.add(c)
            s.flush()
            s.add(CustomerTag(customer_id=c.id, tag_id=tag.id))
    return {"op1": op1.id, "seller": seller.id}


def _state(db):
    with db.read() as s:
        return (s.scalar(select(User.is_admin).where(User.username == "op1")),
                s.scalar(select(func.count()).select_from(CustomerTag)))


@pytest.mark.parametrize("sql", ATTACKS)
def test_review_attacks_through_the_rule_preview_change_and_reveal_nothing(db, seeded, sql):
    before = _state(db)
    with pytest.raises(CrmError) as exc:
        tags.preview_rule(db, {"mode": "sql", "sql": sql}, viewer=(seeded["op1"], {"tags.manage"}))
    assert exc.value.errors["sql"]
    assert _state(db) == before == (False, 6)


@pytest.mark.parametrize("sql,reason", [
    ("select id from customer; select id from customer", "一条"),
    ("with x as (update customer set name = 'x' returning id) select id from x", "只允许"),
    ("select id from customer for update", "只允许"),
    ("select id into t from customer", "只允许"),
    ("select id from public.user_account", "user_account"),
    ("commit", "SELECT"),
    ("select id from customer where pg_catalog.set_config('work_mem', '4GB', false) <> ''", "set_config"),
    ("select id from customer where pg_advisory_lock(1) is null", "pg_advisory_lock"),
])
def test_parser_accepts_exactly_one_select(sql, reason):
    for dialect in ("postgres", "sqlite"):
        with pytest.raises(CrmError) as exc:
            check_select(sql, dialect)
        assert reason in exc.value.errors["sql"]


def test_preview_counts_only_customers_the_viewer_may_see(db, seeded):
    viewer = (seeded["seller"], {"tags.manage"})
    mine = tags.preview_rule(db, {"mode": "sql", "sql": "select id from customer"}, viewer=viewer)
    assert mine["count"] == 2 and {c.name for c in mine["customers"]} == {"客户0", "客户1"}
    rows = [{"field": "name", "op": "contains", "value": "客户"}]
    assert tags.preview_rule(db, {"mode": "conditions", "rows": rows}, viewer=viewer)["count"] == 2
    everyone = (seeded["op1"], {"tags.manage", "customers.view_all"})
    assert tags.preview_rule(db, {"mode": "sql", "sql": "select id from customer"}, viewer=everyone)["count"] == 6


def _bounded(db, **bounds) -> Database:
    other = Database(db.url)
    other.sandbox = dataclasses.replace(db.sandbox, **bounds)
    return other


def _slow(db) -> str:
    if db.is_postgres:
        return "select count(*)::int from generate_series(1, 1000000000)"
    return ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) "
            "SELECT count(*) FROM n")


def test_configured_timeout_is_honoured(services, seeded):
    from config.services import Services

    settings = services.settings.model_copy(update={"sql_sandbox_timeout_seconds": 0.4})
    svc = Services(settings=settings, db=Database(settings.resolved_database_url()), clock=services.clock)
    try:
        started = time.monotonic()
        with pytest.raises(CrmError) as exc:
            tags.preview_rule(svc.db, {"mode": "sql", "sql": _slow(svc.db)})
        assert "超时" in exc.value.message and "0.4 秒" in exc.value.errors["sql"]
        assert time.monotonic() - started < 5
    finally:
        svc.db.dispose()


def test_huge_values_are_refused_or_interrupted(db, seeded):
    """SQLite: SQLITE_LIMIT_LENGTH fails randomblob(5e8) at once (it used to add 1.6 GB RSS);
    PostgreSQL: the server stops building it at the statement timeout, and a non-integer column
    is refused from the cursor's description before any row reaches this process."""
    quick = _bounded(db, timeout_seconds=1)
    try:
        for sql in (["select id from customer where length(randomblob(500000000)) > 0",
                     "select id from customer where length(zeroblob(500000000)) > 0"] if not db.is_postgres else
                    ["select id from customer where length(repeat('x', 500000000)) > 0",
                     "select repeat('x', 500000000)"]):
            started = time.monotonic()
            with pytest.raises(CrmError) as exc:
                run_readonly_select(quick, sql)
            assert time.monotonic() - started < 4, sql
            reason = exc.value.errors["sql"]
            assert "字节" in reason or "超过 1 秒" in reason or "整数客户 ID" in reason, reason
    finally:
        quick.dispose()


def _refused_with(db, sql: str, **bounds) -> str:
    """The sandbox's reason for refusing `sql` when configured with `bounds`."""
    other = _bounded(db, **bounds)
    try:
        with pytest.raises(CrmError) as exc:
            run_readonly_select(other, sql)
        return exc.value.errors["sql"]
    finally:
        other.dispose()


def test_row_cap(db, seeded):
    assert "超过 3 行" in _refused_with(db, "select id from customer", max_rows=3)


# --- PostgreSQL: the role is the boundary, whatever the text checks miss -------------------------



def _sandbox_engine(db):
    return create_engine(db.sandbox.postgres_url(db.url), poolclass=NullPool)


@pytest.mark.parametrize("statement", [
    "select 1; commit; update user_account set is_admin = true where username = 'op1'",
    "delete from customer_tag",
    "copy (select 1) to program 'touch /tmp/ckb_pwned'",
    "select query_to_xml('select password_hash from user_account', true, true, '')",
    "select pg_read_file('/etc/passwd')",
    "create table stolen(id int)",
    "set role ckb",
])
def test_postgres_sandbox_role_cannot_write_or_read_staff_tables(db, seeded, statement):
    if not db.is_postgres:
        pytest.skip("the SELECT-only database role is PostgreSQL's")
    engine = _sandbox_engine(db)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("select current_user")).scalar() == "ckb_sandbox"
            with pytest.raises(Exception) as exc:
                conn.exec_driver_sql(statement)
                conn.commit()
            assert "permission denied" in str(exc.value) or "must be" in str(exc.value) \
                or "read-only" in str(exc.value)
    finally:
        engine.dispose()
    assert _state(db) == (False, 6)


def test_postgres_runner_refuses_the_oracle_even_without_the_parser(db, seeded):
    if not db.is_postgres:
        pytest.skip("PostgreSQL runner")
    from crm.customers.sql_sandbox_pg import run_postgres

    oracle = ("select id from customer where query_to_xml('select password_hash from user_account', "
              "true, true, '')::text like '%a%'")
    with pytest.raises(CrmError) as exc:
        run_postgres(db, oracle, 5)
    assert "user_account" in exc.value.errors["sql"]
    with pytest.raises(CrmError) as exc:  # a second statement is refused by the server as well
        run_postgres(db, "select id from customer; delete from customer_tag", 5)
    assert _state(db) == (False, 6)


def test_postgres_never_runs_custom_sql_as_a_privileged_role(db, seeded):
    if not db.is_postgres:
        pytest.skip("PostgreSQL runner")
    # Misconfigured with the application's own (superuser) role: refused before the query runs.
    assert "权限过大" in _refused_with(db, "select id from customer", database_url=db.url)
    nobody = db.url.replace("ckb@", "ckb_nobody@")
    assert "只读数据库账号" in _refused_with(db, "select id from customer", database_url=nobody)

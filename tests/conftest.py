"""Shared fixtures: a migrated database per test (SQLite file, or PostgreSQL when
CKB_TEST_DATABASE=postgres), a manual clock, services, the Flask app and its client."""
from __future__ import annotations

import os
import shutil
from datetime import datetime

import pytest
from sqlalchemy import text

from config.clock import ManualClock, UTC
from config.db import Database
from config.services import Services
from config.settings import Settings

POSTGRES = os.environ.get("CKB_TEST_DATABASE") == "postgres"
PG_URL = os.environ.get("CKB_TEST_POSTGRES_URL", "")


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """Runs the Alembic migrations once; each test gets a copy (SQLite) or truncated tables (PG)."""
    from web.migrate import upgrade

    if POSTGRES:
        if not PG_URL:
            pytest.fail("CKB_TEST_DATABASE=postgres needs CKB_TEST_POSTGRES_URL")
        db = Database(PG_URL)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.dispose()
        upgrade(PG_URL)
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _truncate_all(db: Database) -> None:
    from web.schema import metadata

    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def settings(tmp_path, migrated_template):
    var = tmp_path / "var"
    var.mkdir()
    if POSTGRES:
        url = PG_URL
        # One shared database: every test starts from empty tables, whichever fixtures it uses
        # (the web `app` builds its own runtime and never asks for `services`).
        fresh = Database(url)
        _truncate_all(fresh)
        fresh.dispose()
    else:
        db_file = var / "cunkebao.db"
        shutil.copy(migrated_template, db_file)
        url = f"sqlite:///{db_file}"
    return Settings(
        var_dir=var,
        database_url=url,
        secret_key="test-secret-key",
        run_background=False,
        secure_cookies=False,
        retry_base_seconds=0.01,
        # Three quick attempts, as most tests expect; tests of the schedule itself set their own.
        step_max_attempts=3,
    )


@pytest.fixture
def clock():
    return ManualClock(datetime(2026, 11, 20, 2, 0, 0, tzinfo=UTC))


@pytest.fixture
def services(settings, clock):
    svc = Services(settings=settings, db=Database(settings.resolved_database_url()), clock=clock)
    yield svc
    svc.db.dispose()


@pytest.fixture
def db(services):
    return services.db


@pytest.fixture
def fake_http():
    """A real HTTP server on 127.0.0.1 whose answers each test scripts."""
    from tests.support.fake_http import FakeHttpServer

    server = FakeHttpServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_sink():
    """A real SMTP server on 127.0.0.1 collecting every message."""
    from tests.support.smtp_sink import SmtpSink

    sink = SmtpSink().start()
    yield sink
    sink.stop()


REQUIRE_SERVICES = os.environ.get("CKB_REQUIRE_SERVICES") == "1"


@pytest.fixture
def redis_url():
    """A real Redis server (started by tests/support/run_suite.sh); under `make test` it must exist."""
    url = os.environ.get("CKB_TEST_REDIS_URL", "")
    if not url:
        if REQUIRE_SERVICES:
            pytest.fail("CKB_TEST_REDIS_URL is not set but make test requires a Redis server")
        pytest.skip("no Redis server (run through make test)")
    import redis

    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture(autouse=True)
def _configured_zone(monkeypatch):
    """Each test starts with the configured zone unset (read from the environment on first use):
    a test's Services install their settings' zone, and none leaks into the next test."""
    import config.clock

    monkeypatch.setattr(config.clock, "_installed_zone", None)

"""Fixtures for processor tests: a scripted HTTP server, an SMTP sink, and step contexts.

The peers themselves (`fake_http`, `smtp_sink`) are fixtures in tests/conftest.py.
"""
from __future__ import annotations

import pytest

from handlers.base import ProcessorContext
from tests.support import with_settings


@pytest.fixture
def loopback_services(services):
    """Services whose SSRF guard lets 127.0.0.1 through — the fake peers live there."""
    return with_settings(services, http_allow_private_hosts=["127.0.0.1"])


@pytest.fixture
def make_ctx(services):
    def make(data=None, *, svc=None, key="task-1:step-0", attempt=1, dry_run=False):
        return ProcessorContext(event_code="lead.created", data=data or {}, event_record_id=1,
                                strategy_id=7, task_id=1, idempotency_key=key, attempt=attempt,
                                services=svc or services, dry_run=dry_run)
    return make

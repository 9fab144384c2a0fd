"""Real test peers (an HTTP server, an SMTP server) that any test package can start.

Import the classes (`tests.support.fake_http.FakeHttpServer`, `tests.support.smtp_sink.SmtpSink`)
and add a fixture in your own conftest; tests/handlers/conftest.py shows how. `with_settings`
derives services with a few settings changed (e.g. an allow-listed 127.0.0.1 for FakeHttpServer).
"""
from __future__ import annotations

import dataclasses


def with_settings(services, **update):
    """The same services (database, clock, secret box) with some settings changed."""
    return dataclasses.replace(services, settings=services.settings.model_copy(update=update))

"""Engine fixtures: a Runtime on the test database and manual clock, with helpers to register
events, apps and strategies and to post signed events through the real ingestion path."""
from __future__ import annotations

import json

import pytest
from sqlmodel import select

from engine.authoring import create_strategy
from engine.lifecycle import set_enabled
from engine.runtime import Runtime
from events.apps import create_app_record
from events.definitions import get_by_code, import_builtin
from events.ingestion import IngestRequest
from events.signature import sign
from rules.groups import create_group
from rules.models import StrategyGroup
from tests.support import with_settings


class Kit:
    """Test-side operator: sets things up through the same services the console uses."""

    def __init__(self, runtime: Runtime):
        self.rt = runtime
        self.svc = runtime.services
        with self.svc.db.write() as s:
            import_builtin(s)
            self.app, self.secret = create_app_record(s, self.svc.secret_box, {"name": "应用01"})
        self.rt.invalidate()

    def strategy(self, event_code: str, conditions: list, steps: list, name: str = "策略", group: str = "默认组",
                 enabled: bool = True, **extra) -> int:
        with self.svc.db.write() as s:
            g = s.exec(select(StrategyGroup).where(StrategyGroup.name == group)).first() or create_group(s, group)
            event = get_by_code(s, event_code)
            st = create_strategy(s, {"name": name, "group_id": g.id, "event_id": event.id, "conditions": conditions,
                                     "steps": steps, **extra}, self.rt.registry, self.svc.settings.timezone, "test")
            if enabled:
                set_enabled(s, [st.id], True)
        self.rt.invalidate()
        return st.id

    def post(self, body: dict, idem: str | None = None):
        raw = json.dumps(body, ensure_ascii=False).encode()
        ts = int(self.svc.now().timestamp())
        return self.rt.ingestor.ingest(IngestRequest(body=raw, app_key=self.app.app_key, timestamp=str(ts),
                                                     signature=sign(self.secret, ts, raw), client_ip="127.0.0.1",
                                                     idempotency_key=idem))


def row(field, op, value, lparen=0, rparen=0, join="and") -> dict:
    return {"lparen": lparen, "field": field, "op": op, "value": value, "rparen": rparen, "join": join}


@pytest.fixture
def engine_services(services, smtp_sink):
    return with_settings(services, http_allow_private_hosts=["127.0.0.1"], retry_base_seconds=1.0,
                         **smtp_sink.settings_update())


@pytest.fixture
def runtime(engine_services):
    rt = Runtime(engine_services)
    yield rt
    rt.stop()


@pytest.fixture
def kit(runtime):
    return Kit(runtime)

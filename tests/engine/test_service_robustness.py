"""Service functions refuse malformed input by name — they are called by the console, the API,
bundles and later issues, not only by views that pre-check types."""
from __future__ import annotations

import pytest

from engine.authoring import validate
from engine.bundles import BUNDLE_FORMAT, import_bundle
from engine.dryrun import dry_run
from engine.impact import definition_change_impact
from events.apps import parse_allowlist
from events.errors import EventsError
from rules.errors import RulesError


@pytest.mark.parametrize("value", [5, True, {"a": 1}])
def test_allowlist_of_wrong_type_is_a_field_error(value):
    with pytest.raises(EventsError) as exc:
        parse_allowlist(value)
    assert "ip_allowlist" in exc.value.errors


def test_impact_of_non_list_fields_is_empty(kit):
    with kit.svc.db.read() as s:
        assert definition_change_impact(s, 1, 5) == []


def test_step_timing_that_is_not_an_object_is_named(kit):
    with kit.svc.db.write() as s:
        from rules.groups import create_group
        g = create_group(s, "组")
    with kit.svc.db.read() as s, pytest.raises(RulesError) as exc:
        validate(s, {"name": "x", "group_id": g.id, "event_id": 2, "conditions": [],
                     "steps": [{"processor": "log", "config": {"message": "hi"}, "timing": "immediate"}]},
                 kit.rt.registry, "Asia/Shanghai")
    assert "steps[0].timing" in exc.value.errors


@pytest.mark.parametrize("strategy", [{"event_id": "abc", "steps": []}, {"event_id": 2, "steps": "x"},
                                      {"event_id": 2, "steps": ["log"]}])
def test_dry_run_refuses_malformed_strategies(kit, strategy):
    with kit.svc.db.read() as s, pytest.raises(RulesError):
        dry_run(s, strategy, {}, kit.rt.registry, kit.svc)


def test_bundle_parts_that_are_not_objects_are_refused_not_crashed(kit):
    report = import_bundle(kit.svc.db, {"format": BUNDLE_FORMAT, "events": ["x", 3], "processors": "nope",
                                        "strategies": [None]}, kit.rt.registry, "Asia/Shanghai")
    refused = {r["item"] for r in report["refused"]}
    assert refused == {"events[0]", "events[1]", "processors", "strategies[0]"}
    assert report["created"] == report["updated"] == []

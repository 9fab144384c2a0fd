"""Lead intake, the door every lead comes by (API, webhooks, polling, files, payment codes, forms):
it refuses what no database stores, naming the field, and its events enter the ledger through the
one ingestion path with a dedupe key (on SQLite and in the PostgreSQL pass)."""
from __future__ import annotations

import pytest
from sqlmodel import select

from crm.leads.errors import SubmissionRefused
from crm.leads.intake import Submission, dead_letter, reemit, submit
from crm.leads.models import Lead, LeadDeadLetter
from events.models import EventRecord
from tests.crm.leads.test_lead_service import scene_id  # noqa: F401 - a WEB_FORM scene


@pytest.mark.parametrize("sub, field", [
    (Submission(raw={"submission_data": {"name": "张\x00三", "phone": "13800138000"}}), "submission_data.name"),
    (Submission(raw={"submission_data": {"name": "张三\ud800", "phone": "13800138000"}}), "submission_data.name"),
    (Submission(raw={"submission_data": {"name": "张三", "phone": "13800138000", "value": float("nan")}}),
     "submission_data.value"),
    (Submission(raw={"submission_data": {"name": "张三"}}, meta={"ua": "x\x00"}), "meta.ua"),
    (Submission(raw={"submission_data": {"name": "张三"}}, external_id="ext\x00"), "external_lead_id"),
])
def test_unstorable_submissions_are_refused_naming_the_field(services, scene_id, sub, field):
    [result] = submit(services.db, scene_id, [sub], now=services.now())
    assert isinstance(result, SubmissionRefused) and field in result.errors
    with services.db.read() as s:
        assert s.exec(select(Lead)).all() == [] and s.exec(select(EventRecord)).all() == []
    # Kept as a dead letter (as webhooks do), scrubbed so that PostgreSQL can store it.
    with services.db.write() as s:
        dead_letter(s, scene_id, "webhook", sub, result.message, result.errors)
    with services.db.read() as s:
        [row] = s.exec(select(LeadDeadLetter)).all()
        assert "\x00" not in repr(row.payload) and "\ud800" not in repr(row.payload)


def test_lead_events_enter_through_the_one_door_with_a_dedupe_key(services, scene_id):
    [accepted] = submit(services.db, scene_id, [Submission(raw={"submission_data": {"name": "张三",
                                                                                    "phone": "13800138000"}})],
                        now=services.now())
    with services.db.write() as s:
        reemit(s, s.get(Lead, accepted.lead_id), "redrive")
    with services.db.read() as s:
        records = list(s.exec(select(EventRecord).order_by(EventRecord.id)))
    assert [(r.source, r.status, r.dispatch_status) for r in records] == [("lead", "accepted", "pending")] * 2
    assert records[0].dedupe_key == f"lead:{accepted.lead_id}:created"
    assert records[1].dedupe_key.startswith("lead:uuid:") and records[1].data["stage"] == "redrive"

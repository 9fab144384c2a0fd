"""电话获客 outbound against a fake CTI on loopback: a task over 50 leads with 2 seats places calls only
inside its window, one per seat at a time; busy numbers are retried after the gap up to the limit; a
禁呼 number is never dialled; a number is dialled at most N times a day; every dial is a 通话记录; the
recording is stored only when it is audio and small enough; call.ended with 意向 高 re-tags the lead and
assigns it; signed callbacks only (forged, stale, replayed refused)."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from crm.errors import CrmError
from crm.leads import call_dialing, calls
from crm.leads.call_models import CallRecord, CallTarget
from crm.leads.models import Lead, LeadScene
from crm.people import service as people
from crm.tags.categories import create_category
from crm.tags.service import create_tag
from engine import outbound_calls
from engine.lead_scenes import save_scene
from events.models import EventRecord
from handlers.registry import default_registry
from tests.support import with_settings
from tests.support.fake_cti import SECRET, FakeCti, signed

CALLBACK = "http://127.0.0.1:1/webhooks/cti/outbound"


@pytest.fixture
def cti(clock):
    server = FakeCti(clock).start()
    yield server
    server.stop()


@pytest.fixture
def svc(services, cti):
    return with_settings(services, http_allow_private_hosts=["127.0.0.1"], http_default_timeout_seconds=2,
                         cti_dial_url=cti.url + "/calls", cti_secret=SECRET, call_daily_attempts=3)


@pytest.fixture
def world(svc):
    seats = [people.create_user(svc.db, f"seat{i}", "Passw0rd1", display_name=f"座席{i}").id for i in (1, 2)]
    with svc.db.write() as s:
        hot = create_tag(s, {"name": "高意向", "kind": "manual",
                             "category_id": create_category(s, {"name": "意向"}).id}, None).id
        scene, _ = save_scene(s, {
            "name": "电话回访", "key": "callback", "scene_type": "PHONE_CALL",
            "tagging_rules": [{"name": "高意向", "rows": [{"lparen": 0, "field": "intent", "op": "eq", "value": "高",
                                                       "rparen": 0, "join": "and"}], "tags": [hot]}],
            "assignment_rules": {"rules": [{"name": "全部", "rows": [], "method": "round_robin", "user_ids": [seats[0]]}],
                                 "working_hours": {"enabled": False}, "outside_hours": "backup", "backup_user_ids": [],
                                 "notify_assignee": False}},
            registry=default_registry(svc), box=svc.secret_box)
        leads = []
        for i in range(50):
            lead = Lead(scene_id=scene.id, name=f"客户{i}", mobile=f"1380000{i:04d}", status="NEW")
            s.add(lead)
            s.flush()
            leads.append(lead.id)
        call_dialing.add_do_not_call(s, "13800000003", "客户要求不再来电", None)
    return {"seats": seats, "hot": hot, "scene": scene.id, "leads": leads}


def _task(svc, world, **extra):
    with svc.db.write() as s:
        task = calls.create_task(s, {"name": "回访老客户", "source": "leads", "filters": {"scene_id": world["scene"]},
                                     "seat_user_ids": world["seats"], "window": "09:00-18:00", "max_attempts": 2,
                                     "retry_minutes": 30, "script": "您好，我是存客宝的顾问……", **extra}, None)
        calls.set_status(s, task.id, "running", svc.now())
        return task.id


def _report(svc, clock, call_id, event, **fields):
    body = json.dumps({"call_id": call_id, "event": event, **fields}).encode()
    return outbound_calls.receive_callback(svc, signed(body, int(clock.now().timestamp())), body)


def _work_through(svc, clock, cti, busy: set, hot: str):
    """Dials, then answers each new call as the CTI would, until nothing more is due."""
    handled = 0
    while outbound_calls.dial_due(svc, CALLBACK) or handled < len(cti.dials):
        for dial in cti.dials[handled:]:
            handled += 1
            clock.advance(seconds=30)
            if dial["callee"] in busy:
                _report(svc, clock, dial["call_id"], "ended", result="busy")
                continue
            _report(svc, clock, dial["call_id"], "ringing")
            _report(svc, clock, dial["call_id"], "answered")
            _report(svc, clock, dial["call_id"], "ended", result="answered", duration=95,
                    intent="高" if dial["callee"] == hot else "中", notes="想了解会员价",
                    recording_url=cti.recording_url(dial["call_id"]))


def test_outbound_task_end_to_end(svc, clock, cti, world):
    task_id = _task(svc, world)
    busy = {"13800000005", "13800000006"}
    _work_through(svc, clock, cti, busy, hot="13800000001")
    dialled = [d["callee"] for d in cti.dials]
    assert "13800000003" not in dialled  # 禁呼
    assert len(dialled) == 49 and cti.refused == []
    assert {d["seat"]["id"] for d in cti.dials} == set(world["seats"])
    clock.advance(minutes=31)  # the busy numbers' retry gap has passed
    _work_through(svc, clock, cti, busy, hot="13800000001")
    assert [d["callee"] for d in cti.dials].count("13800000005") == 2  # retried once, then given up (max 2)
    with svc.db.read() as s:
        targets = {t.mobile: t for t in s.exec(select(CallTarget).where(CallTarget.task_id == task_id)).all()}
        assert targets["13800000003"].status == "skipped" and "禁呼" in targets["13800000003"].reason
        assert targets["13800000005"].status == "failed" and targets["13800000005"].attempts == 2
        assert sum(t.status == "done" for t in targets.values()) == 47
        records = s.exec(select(CallRecord)).all()
        assert len(records) == len(cti.dials) == 51 and all(r.status == "ended" for r in records)
        hot_lead = s.exec(select(Lead).where(Lead.id == world["leads"][1])).one()
        assert world["hot"] in hot_lead.tag_ids and hot_lead.assignee_user_id == world["seats"][0]
        assert hot_lead.lead_data["intent"] == "高" and hot_lead.lead_data["call_notes"] == "想了解会员价"
        cold = s.get(Lead, world["leads"][2])
        assert world["hot"] not in (cold.tag_ids or [])
        ended = s.exec(select(EventRecord).where(EventRecord.event_code == "call.ended")).all()
        assert len(ended) == 51 and all(e.status == "accepted" for e in ended)
        assert {e.data["intent"] for e in ended if e.data["result"] == "answered"} == {"高", "中"}
    assert outbound_calls.fetch_recordings(svc, limit=100) == 47
    with svc.db.read() as s:
        stored = s.exec(select(CallRecord).where(CallRecord.recording_path != "")).all()
        assert len(stored) == 47 and stored[0].recording_type == "audio/mpeg"
        assert (Path(svc.settings.var_dir) / "recordings" / stored[0].recording_path).read_bytes().startswith(b"ID3")


def test_window_daily_cap_and_one_call_per_seat(svc, clock, cti, world):
    capped = with_settings(svc, call_daily_attempts=1)
    with svc.db.write() as s:
        for lead_id in world["leads"][:2]:
            s.get(Lead, lead_id).status = "QUALIFIED"
    _task(capped, world, filters={"scene_id": world["scene"], "statuses": ["QUALIFIED"]}, max_attempts=3)
    assert outbound_calls.dial_due(capped, CALLBACK) == 2  # two seats, two calls
    assert outbound_calls.dial_due(capped, CALLBACK) == 0  # both seats busy
    for dial in cti.dials:
        _report(capped, clock, dial["call_id"], "ended", result="no_answer")
    clock.advance(minutes=31)  # the retry gap passed, but each number was already dialled once today
    assert outbound_calls.dial_due(capped, CALLBACK) == 0
    with svc.db.read() as s:
        assert all("今日已拨打 1 次" in t.reason for t in s.exec(select(CallTarget)).all())
    clock.advance(hours=8)  # 18:31 Beijing the same day: outside 09:00-18:00 anyway
    assert outbound_calls.dial_due(capped, CALLBACK) == 0
    clock.advance(hours=15)  # 09:31 the next day: a new day's attempts, inside the window
    assert outbound_calls.dial_due(capped, CALLBACK) == 2


def test_recordings_must_be_audio_and_capped(svc, clock, cti, world):
    _task(svc, world)
    outbound_calls.dial_due(svc, CALLBACK)
    first, second = cti.dials[0]["call_id"], cti.dials[1]["call_id"]
    _report(svc, clock, first, "ended", result="answered", duration=5, recording_url=f"{cti.url}/recordings/{first}.html")
    _report(svc, clock, second, "ended", result="answered", duration=5, recording_url=cti.recording_url(second))
    small = with_settings(svc, call_recording_max_mb=1)
    outbound_calls.fetch_recordings(small)
    with svc.db.read() as s:
        bad = s.exec(select(CallRecord).where(CallRecord.call_id == first)).one()
        good = s.exec(select(CallRecord).where(CallRecord.call_id == second)).one()
        assert bad.recording_path == "" and "音频格式" in bad.recording_error
        assert good.recording_path and good.recording_size > 0


def test_callbacks_must_be_signed_fresh_and_new(svc, clock, cti, world):
    _task(svc, world)
    outbound_calls.dial_due(svc, CALLBACK)
    call_id = cti.dials[0]["call_id"]
    body = json.dumps({"call_id": call_id, "event": "answered"}).encode()
    now = int(clock.now().timestamp())
    with pytest.raises(outbound_calls.CallbackRefused) as forged:
        outbound_calls.receive_callback(svc, signed(body, now, secret="wrong"), body)
    assert forged.value.status == 401
    with pytest.raises(outbound_calls.CallbackRefused) as stale:
        outbound_calls.receive_callback(svc, signed(body, now - 3600), body)
    assert stale.value.reason == "timestamp"
    headers = signed(body, now)
    outbound_calls.receive_callback(svc, headers, body)
    with pytest.raises(outbound_calls.CallbackRefused) as replay:
        outbound_calls.receive_callback(svc, headers, body)
    assert replay.value.status == 409
    bad = json.dumps({"call_id": call_id, "event": "ended", "result": "maybe", "duration": "long"}).encode()
    with pytest.raises(CrmError) as invalid:
        outbound_calls.receive_callback(svc, signed(bad, now), bad)
    assert set(invalid.value.errors) == {"result", "duration"}
    unknown = json.dumps({"call_id": "nope", "event": "ringing"}).encode()
    with pytest.raises(CrmError) as missing:
        outbound_calls.receive_callback(svc, signed(unknown, now), unknown)
    assert missing.value.status == 404


def test_task_settings_and_status_flow_are_checked(svc, world, clock):
    with svc.db.write() as s:
        with pytest.raises(CrmError) as bad:
            calls.create_task(s, {"name": "", "seat_user_ids": [999], "window": "25:00-18:00", "max_attempts": 0,
                                  "retry_on": ["hangup"], "source": "leads", "filters": {"statuses": ["GONE"]}}, None)
        assert set(bad.value.errors) >= {"name", "seat_user_ids", "window", "max_attempts", "retry_on", "filters.statuses"}
        task = calls.create_task(s, {"name": "空名单", "seat_user_ids": world["seats"],
                                     "filters": {"scene_id": world["scene"], "statuses": ["CONVERTED"]}}, None)
        with pytest.raises(CrmError, match="呼叫名单为空"):
            calls.set_status(s, task.id, "running", clock.now())
    with svc.db.write() as s:
        task = calls.create_task(s, {"name": "正常", "seat_user_ids": world["seats"],
                                     "filters": {"scene_id": world["scene"]}}, None)
        calls.set_status(s, task.id, "running", clock.now())
        calls.set_status(s, task.id, "paused", clock.now())
        with pytest.raises(CrmError, match="不能改为"):
            calls.set_status(s, task.id, "draft", clock.now())
        calls.set_status(s, task.id, "done", clock.now())
        assert all(t.status == "skipped" for t in s.exec(select(CallTarget).where(CallTarget.task_id == task.id)).all())

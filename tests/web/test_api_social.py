"""/api/social: the group list with activity and filters, the seed's 群发 body → 202 → per-group
report, the deadline for offline phones, object scope for a 业务员's token, and bad input (wrong
types, unknown or another's groups, oversized lists) refused naming the problem with nothing written."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from community.activity.rollup import roll_up
from community.groups.broadcast import run_due
from community.groups.models import GroupBroadcast, GroupBroadcastTarget, GroupTag
from crm.people.models import User
from devices.models import Device, DeviceCommand
from tests.community.support import make_account, make_group, say
from tests.web.api_helpers import Api, api, assert_error, count, token_for  # noqa: F401 - fixtures

SEED = {"groupIds": [], "msgType": "text", "content": "今晚8点有盲盒秒杀活动", "scheduledTime": "2025-03-03T20:00:00Z"}


@pytest.fixture
def world(app, app_db, api, clock):
    sales_token = token_for(app_db, "sales1", ["sales"])
    with app_db.write() as s:
        sales_id = s.exec(select(User.id).where(User.username == "sales1")).one()
        online = Device(name="手机1", token_hash="h1", token_prefix="p1", online=True)
        offline = Device(name="手机2", token_hash="h2", token_prefix="p2", online=False)
        s.add_all([online, offline])
        s.flush()
        mine = make_account(s, "wx_mine", "业务员的号", owner_user_id=sales_id, device_id=online.id)
        other = make_account(s, "wx_other", "别人的号", device_id=offline.id)
        g1 = make_group(s, mine, "g1@chatroom", ["a", "b", "c"], clock.now() - timedelta(days=3), name="一群")
        g2 = make_group(s, other, "g2@chatroom", ["a"], clock.now() - timedelta(days=3), name="二群")
        s.add(GroupTag(group_id=g2, name="VIP"))
        for i in range(4):
            say(s, mine, "g1@chatroom", g1, "a", clock.now() - timedelta(minutes=10 + i))
    with app_db.write() as s:
        roll_up(s, clock.now(), "Asia/Shanghai")
    return {"g1": g1, "g2": g2, "sales": Api(app.test_client(), sales_token), "sales_id": sales_id}


def test_group_list_with_activity_filters_and_scope(api, world):
    body = api.ok("GET", "/api/social/groups")
    assert body["total"] == 2 and [g["name"] for g in body["items"]] == ["一群", "二群"]
    first = body["items"][0]
    assert (first["today_messages"], first["week_speakers"], first["members"]) == (4, 1, 3)
    assert first["lurker_rate"] == 66.7 and first["owner"] == "sales1" and first["account"] == "业务员的号"
    assert [g["name"] for g in api.ok("GET", "/api/social/groups?tag=VIP")["items"]] == ["二群"]
    assert [g["name"] for g in api.ok("GET", "/api/social/groups?min_messages=1")["items"]] == ["一群"]
    assert [g["name"] for g in api.ok("GET", f"/api/social/groups?owner={world['sales_id']}")["items"]] == ["一群"]
    mine = world["sales"].ok("GET", "/api/social/groups")
    assert [g["name"] for g in mine["items"]] == ["一群"]  # a 业务员 sees their own accounts' groups only
    assert_error(api.get("/api/social/groups?page=abc"), 400, "page")
    assert_error(api.get("/api/social/groups?sort=nope"), 400, "sort")
    assert_error(api.get("/api/social/groups?min_messages=5&max_messages=1"), 400, "min_messages")
    assert_error(Api(api.client, None).get("/api/social/groups"), 401)


def test_seed_body_answers_202_and_reports_each_group(api, app_db, world, clock, settings):
    resp = api.post("/api/social/groups/broadcast", {**SEED, "groupIds": [world["g1"], world["g2"]]})
    assert resp.status_code == 202, resp.get_data(as_text=True)
    bid = resp.json["broadcastId"]
    with app_db.read() as s:
        commands = s.exec(select(DeviceCommand).order_by(DeviceCommand.id)).all()
    assert [(c.kind, c.payload["to"], c.payload["text"]) for c in commands] == [
        ("send_text", "g1@chatroom", SEED["content"]), ("send_text", "g2@chatroom", SEED["content"])]
    report = api.ok("GET", f"/api/social/groups/broadcast/{bid}")
    rows = {r["groupName"]: r for r in report["groups"]}
    assert rows["一群"]["account"] == "业务员的号" and rows["一群"]["status"] == "sending"
    assert rows["二群"]["status"] == "waiting" and "设备离线" in rows["二群"]["reason"]
    with app_db.write() as s:  # the online phone delivers
        cmd = s.get(DeviceCommand, commands[0].id)
        cmd.status, cmd.finished_at = "succeeded", clock.now()
    clock.advance(minutes=settings.group_broadcast_deadline_minutes + 1)
    run_due(app_db, clock.now(), settings, None)  # the offline phone never came back
    report = api.ok("GET", f"/api/social/groups/broadcast/{bid}")
    rows = {r["groupName"]: r for r in report["groups"]}
    assert report["status"] == "done" and (report["delivered"], report["failed"], report["pending"]) == (1, 1, 0)
    assert rows["二群"]["status"] == "failed" and "设备离线" in rows["二群"]["reason"] and "未送达" in rows["二群"]["reason"]
    with app_db.read() as s:
        assert s.get(DeviceCommand, commands[1].id).status == "cancelled"  # it will not go out late


def test_scheduled_broadcast_waits_for_its_time(api, app_db, world, clock, settings):
    later = (clock.now() + timedelta(hours=2)).isoformat()
    bid = api.ok("POST", "/api/social/groups/broadcast", {**SEED, "groupIds": [world["g1"]], "scheduledTime": later},
                 202)["broadcastId"]
    assert count(app_db, DeviceCommand) == 0
    assert api.ok("GET", f"/api/social/groups/broadcast/{bid}")["groups"][0]["status"] == "scheduled"
    clock.advance(hours=2)
    run_due(app_db, clock.now(), settings, None)
    assert count(app_db, DeviceCommand) == 1


@pytest.mark.parametrize("body, words", [
    ({"groupIds": "1,2", "msgType": "text", "content": "x"}, ["groupIds"]),
    ({"groupIds": [1.5], "msgType": "text", "content": "x"}, ["groupIds"]),
    ({"groupIds": [True], "msgType": "text", "content": "x"}, ["groupIds"]),
    ({"groupIds": [], "msgType": "text", "content": "x"}, ["groupIds"]),
    ({"groupIds": list(range(1, 502)), "msgType": "text", "content": "x"}, ["groupIds", "500"]),
    ({"groupIds": [1], "msgType": "video", "content": "x"}, ["msgType"]),
    ({"groupIds": [1], "msgType": "text", "content": 12}, ["content"]),
    ({"groupIds": [1], "msgType": "link", "content": "ftp://x"}, ["content"]),
    ({"groupIds": [1], "msgType": "miniprogram", "content": {"title": "x"}}, ["appid"]),
    ({"groupIds": [1], "msgType": "text", "content": "x", "scheduledTime": "明天"}, ["scheduledTime"]),
    ({"groupIds": [1], "msgType": "text", "content": "x", "extra": 1}, ["extra"]),
])
def test_bad_bodies_are_refused_naming_the_field(api, app_db, world, body, words):
    assert_error(api.post("/api/social/groups/broadcast", body), 422, *words)
    assert count(app_db, GroupBroadcast) == 0 and count(app_db, DeviceCommand) == 0


def test_unknown_and_others_groups_are_refused_with_nothing_written(api, app_db, world):
    assert_error(api.post("/api/social/groups/broadcast", {**SEED, "groupIds": [world["g1"], 987654]}), 422, "987654")
    assert count(app_db, GroupBroadcast) == 0 and count(app_db, GroupBroadcastTarget) == 0
    assert_error(world["sales"].post("/api/social/groups/broadcast", {**SEED, "groupIds": [world["g1"]]}), 403)
    assert_error(api.get("/api/social/groups/broadcast/424242"), 404)
    assert_error(api.post("/api/social/groups/broadcast", data="[1,2]"), 400)


def test_documented_in_openapi(api):
    paths = api.ok("GET", "/api/v1/openapi.json")["paths"]
    assert {"/api/social/groups", "/api/social/groups/broadcast", "/api/social/groups/broadcast/{broadcast_id}"} <= set(paths)
    assert paths["/api/social/groups/broadcast"]["post"]["requestBody"]["content"]["application/json"]["schema"][
        "example"]["msgType"] == "text"


def test_a_failed_send_is_retried_once_then_reported_with_the_phones_reason(api, app_db, world, clock, settings):
    bid = api.ok("POST", "/api/social/groups/broadcast", {**SEED, "groupIds": [world["g1"]]}, 202)["broadcastId"]

    def fail_latest(reason):
        with app_db.write() as s:
            cmd = s.exec(select(DeviceCommand).order_by(DeviceCommand.id.desc())).first()
            cmd.status, cmd.error, cmd.finished_at = "failed", reason, clock.now()

    fail_latest("群已解散")
    run_due(app_db, clock.now(), settings, None)  # one retry (retries = 1)
    assert count(app_db, DeviceCommand) == 2
    row = api.ok("GET", f"/api/social/groups/broadcast/{bid}")["groups"][0]
    assert (row["status"], row["tries"]) == ("sending", 2)
    fail_latest("群已解散")
    run_due(app_db, clock.now(), settings, None)
    report = api.ok("GET", f"/api/social/groups/broadcast/{bid}")
    assert count(app_db, DeviceCommand) == 2 and report["status"] == "done"
    assert report["groups"][0]["status"] == "failed" and report["groups"][0]["reason"] == "群已解散"

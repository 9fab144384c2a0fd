"""电话外呼 in the console: a task made in the form (bad input named in Chinese), started from the page
so the CTI is dialled at once, the CTI's signed callbacks over real HTTP landing in 通话记录; recordings
played by the call's seat or a manager and refused (403) to another seat, every access logged; the
禁呼名单; forged callbacks refused at the public endpoint."""
from __future__ import annotations

import json
import time

import pytest
from sqlmodel import select

from crm.leads.call_models import CallRecord, DoNotCall, RecordingAccess
from crm.leads.models import Lead, LeadScene
from crm.people import service as people
from tests.support.fake_cti import MP3, SECRET, FakeCti, signed


@pytest.fixture
def cti(clock):
    server = FakeCti(clock).start()
    yield server
    server.stop()


@pytest.fixture
def settings(settings, cti):
    return settings.model_copy(update={"http_allow_private_hosts": ["127.0.0.1"], "cti_dial_url": cti.url + "/calls",
                                       "cti_secret": SECRET})


@pytest.fixture
def world(app_db, admin_user):
    seats = [people.create_user(app_db, f"seat{i}", "Seat12345", display_name=f"座席{i}", roles=["sales"]).id
             for i in (1, 2)]
    people.create_user(app_db, "boss", "Boss12345", display_name="主管", roles=["manager"])
    with app_db.write() as s:
        scene = LeadScene(name="电话回访", key="callback", scene_type="PHONE_CALL")
        s.add(scene)
        s.flush()
        for i in range(4):
            s.add(Lead(scene_id=scene.id, name=f"客户{i}", mobile=f"1390000{i:04d}", status="NEW"))
    return {"seats": seats, "scene": scene.id}


def _csrf(client, csrf_token, path):
    return csrf_token(client, path)


def test_form_refuses_bad_settings_in_chinese(client, login, csrf_token, world):
    login(client)
    token = csrf_token(client, "/leads/calls/new")
    bad = client.post("/leads/calls/new", data={"csrf_token": token, "name": "", "source": "leads", "window": "9点到6点",
                                                "max_attempts": "x", "retry_minutes": "30"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "任务名称不能为空" in page and "请至少选择一位座席" in page and "最多拨打次数应为整数" in page


def test_recordings_for_the_seat_and_managers_only_and_logged(app, app_db, client, login, world, settings):
    seat1, seat2 = world["seats"]
    folder = settings.var_dir / "recordings"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "1-test.mp3").write_bytes(MP3)
    with app_db.write() as s:
        s.add(CallRecord(call_id="c1", seat_user_id=seat1, mobile="13900000001", status="ended", result="answered",
                         recording_path="1-test.mp3", recording_type="audio/mpeg", recording_size=len(MP3)))
    login(client, "seat1", "Seat12345")
    assert client.get("/leads/calls/records/1/recording").data.startswith(b"ID3")
    listing = client.get("/leads/calls/records").get_data(as_text=True)
    assert "139****0001" in listing and "13900000001" not in listing
    client.get("/logout")
    login(client, "seat2", "Seat12345")
    assert client.get("/leads/calls/records/1/recording").status_code == 403
    assert "139****0001" not in client.get("/leads/calls/records").get_data(as_text=True)
    client.get("/logout")
    login(client, "boss", "Boss12345")
    download = client.get("/leads/calls/records/1/recording?download=1")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    with app_db.read() as s:
        log = s.exec(select(RecordingAccess)).all()
        assert [(a.action, a.user_id == seat1) for a in log] == [("play", True), ("download", False)]


def test_do_not_call_list(client, login, csrf_token, world, app_db):
    login(client)
    token = csrf_token(client, "/leads/calls/dnc")
    assert client.post("/leads/calls/dnc", data={"csrf_token": token, "mobile": "12"}).status_code == 400
    assert client.post("/leads/calls/dnc", data={"csrf_token": token, "mobile": "139 0000 0002", "reason": "投诉"}).status_code == 302
    with app_db.read() as s:
        assert s.exec(select(DoNotCall)).one().mobile == "13900000002"


def test_public_callback_refuses_forged_and_answers_signed(client, world, clock):
    body = json.dumps({"call_id": "nope", "event": "ringing"}).encode()
    forged = client.post("/webhooks/cti/outbound", data=body, headers=signed(body, int(clock.now().timestamp()), "bad"))
    assert forged.status_code == 401 and forged.get_json()["reason"] == "signature"
    unknown = client.post("/webhooks/cti/outbound", data=body, headers=signed(body, int(clock.now().timestamp())))
    assert unknown.status_code == 404


@pytest.mark.browser
def test_task_started_in_chromium_dials_and_callbacks_land(page, browser_login, world, cti, app_db, clock):
    browser_login()
    page.goto("/leads/calls/new")
    page.fill("#f-name", "老客户回访")
    page.select_option("#f-scene_id", str(world["scene"]))
    page.select_option("#f-seat_user_ids", [str(x) for x in world["seats"]])
    page.click("form.card-form button[type=submit]")
    page.wait_for_selector("text=已创建外呼任务")
    page.click(".page-actions button:has-text('开始')")
    page.wait_for_selector("text=外呼任务已进行中")
    deadline = time.time() + 10
    while len(cti.dials) < 2 and time.time() < deadline:
        time.sleep(0.1)
    assert len(cti.dials) == 2
    for dial in cti.dials:
        assert cti.report(dial["callback_url"], dial["call_id"], "ended", result="answered", duration=61,
                          intent="高", notes="预约到店").status_code == 200
    page.reload()
    page.wait_for_selector("text=预约到店")
    page.screenshot(path="/tmp/ckb_shots/calls.png", full_page=True)
    with app_db.read() as s:
        assert len(s.exec(select(CallRecord).where(CallRecord.status == "ended")).all()) >= 2


def test_api_tasks_status_records_and_recording(app, app_db, world, settings):
    from tests.web.api_helpers import token_for
    from tests.web.api_helpers import assert_error
    admin = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(app_db, 'api_admin', [], is_admin=True)}"}
    made = admin.post("/api/v1/call-tasks", json={"name": "API 任务", "seat_user_ids": world["seats"],
                                                  "filters": {"scene_id": world["scene"]}}, headers=headers)
    assert made.status_code == 201, made.get_json()
    task_id = made.get_json()["task_id"]
    bad = admin.post("/api/v1/call-tasks", json={"name": "x", "seat_user_ids": ["a"]}, headers=headers)
    assert_error(bad, 422)
    assert_error(admin.put(f"/api/v1/call-tasks/{task_id}/status", json={"status": "flying"}, headers=headers), 422)
    assert admin.get("/api/v1/call-tasks/99999", headers=headers).status_code == 404
    folder = settings.var_dir / "recordings"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "9-x.mp3").write_bytes(MP3)
    with app_db.write() as s:
        s.add(CallRecord(call_id="api-1", seat_user_id=world["seats"][0], mobile="13900000009", status="ended",
                         result="answered", recording_path="9-x.mp3", recording_type="audio/mpeg"))
    seat2 = {"Authorization": f"Bearer {people.create_token(app_db, 'seat2', '测试脚本')}"}
    items = admin.get("/api/v1/call-records", headers=headers).get_json()["items"]
    record_id = items[0]["record_id"]
    assert items[0]["mobile"] == "13900000009"  # the admin token holds pii.view
    assert admin.get("/api/v1/call-records", headers=seat2).get_json()["items"] == []
    assert admin.get(f"/api/v1/call-records/{record_id}/recording", headers=headers).data.startswith(b"ID3")
    assert admin.get(f"/api/v1/call-records/{record_id}", headers=seat2).status_code == 404
    assert admin.get(f"/api/v1/call-records/{record_id}/recording", headers=seat2).status_code == 404

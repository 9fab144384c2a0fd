"""裂变活动 and 权益中心 pages: the form's checks and warning, the H5 invite page (signed links, per-IP
limit with the refusal recorded, anti-fraud on phone numbers), coupon 核销 by staff and by API."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import select

from community.fission import campaigns, participants
from community.fission.models import Invitation, Participant
from community.rewards import coupons
from crm.customers.models import Customer
from crm.people import service as people
from devices.models import WechatAccount
from tests.web.conftest import get_csrf_token


def _campaign(app_db, clock, per_ip=3):
    with app_db.write() as s:
        account = WechatAccount(wxid="wx_pool", nickname="福利官")
        s.add(account)
        s.flush()
        values = campaigns.clean(s, {"name": "老带新", "kind": "invite", "account_ids": [str(account.id)], "per_ip": str(per_ip),
                                     "stages": [{"threshold": 2, "processor": "rewards.grant_points", "config": {"points": 20}}]},
                                  clock.now() - timedelta(hours=1), clock.now() + timedelta(days=3))
        campaign = campaigns.create(s, values, None, clock.now())
        campaigns.set_status(s, campaign.id, "active", clock.now())
        seed = Customer(name="老客户甲", mobile="13900000001", created_at=clock.now() - timedelta(days=3))
        s.add(seed)
        s.flush()
        p, _ = participants.join(s, campaign, seed, now=clock.now())
        return campaign.id, p.id, seed.id


def _join_link(client, campaign_id, participant_id) -> tuple[str, str]:
    page = client.get(f"/fission/{campaign_id}/participants/{participant_id}").get_data(as_text=True)
    link = re.search(r'data-testid="join-link">([^<]+)<', page).group(1)
    return "/" + link.split("/", 3)[3], re.search(r'data-testid="progress-link">([^<]+)<', page).group(1)


def _submit(client, path, mobile, name="访客"):
    form = client.get(path).get_data(as_text=True)
    token = re.search(r'name="form_token" value="([^"]+)"', form).group(1)
    return client.post(path, data={"form_token": token, "mobile": mobile, "name": name})


def test_form_shows_the_share_warning_and_names_bad_fields(client, admin_user, login, app_db):
    login(client)
    page = client.get("/fission/new").get_data(as_text=True)
    assert "诱导分享" in page and 'data-testid="share-warning"' in page
    token = get_csrf_token(client, "/fission/new")
    answer = client.post("/fission/new", data={"csrf_token": token, "name": "", "kind": "invite"})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "请填写活动名称" in body
    answer = client.post("/fission/new", data={"csrf_token": token, "name": "活动", "kind": "invite", "starts_at": "2026-12-08T10:00",
                                               "ends_at": "2026-12-01T10:00"})
    assert answer.status_code == 400 and "结束时间应晚于开始时间" in answer.get_data(as_text=True)


def test_h5_join_with_limits_fraud_checks_and_bad_links(client, admin_user, login, app_db, clock):
    campaign_id, pid, seed = _campaign(app_db, clock, per_ip=3)
    login(client)
    path, progress = _join_link(client, campaign_id, pid)
    visitor = client.application.test_client()
    assert visitor.get(path).status_code == 200
    assert _submit(visitor, path, "13700000001", "小张").status_code == 200
    again = _submit(visitor, path, "13700000001", "小张")  # the same phone number again: the same invitation
    assert again.status_code == 200 and "参加成功" in again.get_data(as_text=True)
    own = _submit(visitor, path, "13900000001")  # the inviter's own number
    assert own.status_code == 409 and "不能邀请自己" in own.get_data(as_text=True)
    limited = _submit(visitor, path, "13700000002")  # the fourth try from this IP within the hour
    assert limited.status_code == 429 and "过于频繁" in limited.get_data(as_text=True)
    bad_phone = _submit(client.application.test_client(), path, "123")
    assert bad_phone.status_code == 400 and "11 位手机号" in bad_phone.get_data(as_text=True)
    with app_db.read() as s:
        rows = s.exec(select(Invitation).where(Invitation.campaign_id == campaign_id).order_by(Invitation.id)).all()
        assert [r.status for r in rows] == ["pending", "refused", "refused"]
        assert rows[1].reason == "不能邀请自己" and rows[2].reason == "同一网络参与过于频繁，请稍后再试"
        child = s.exec(select(Participant).where(Participant.parent_id == pid)).one()
        assert s.get(Customer, child.customer_id).invited_by_id == seed
    assert visitor.get("/h5/fission/j/forged-token").status_code == 404
    assert "链接无效" in visitor.get("/h5/fission/me/forged").get_data(as_text=True)
    me = visitor.get("/" + progress.split("/", 3)[3])
    assert me.status_code == 200 and "考察期" in me.get_data(as_text=True)


def test_coupon_redeem_by_staff_and_by_api_once(client, admin_user, login, app_db, app):
    with app_db.write() as s:
        customer = Customer(name="持券客户")
        s.add(customer)
        s.flush()
        batch = coupons.create_batch(s, {"name": "10 元券", "kind": "cash", "value": "1000"}, valid_from=None, valid_until=None)
        first = coupons.issue(s, batch.id, customer.id, source="manual", source_ref="a", reason="测试")[0].code
        second = coupons.issue(s, batch.id, customer.id, source="manual", source_ref="b", reason="测试")[0].code
    login(client)
    token = get_csrf_token(client, "/rewards/redeem")
    ok = client.post("/rewards/redeem", data={"csrf_token": token, "code": first})
    assert ok.status_code == 200 and "核销成功" in ok.get_data(as_text=True)
    used = client.post("/rewards/redeem", data={"csrf_token": token, "code": first})
    assert used.status_code == 400 and "已核销" in used.get_data(as_text=True)
    api_token = people.create_token(app_db, "admin", "till")
    headers = {"Authorization": f"Bearer {api_token}"}
    answer = client.post("/api/v1/rewards/coupons/redeem", json={"code": second, "note": "门店 01"}, headers=headers)
    assert answer.status_code == 200 and answer.get_json()["status"] == "redeemed"
    again = client.post("/api/v1/rewards/coupons/redeem", json={"code": second}, headers=headers)
    assert again.status_code == 409
    assert client.post("/api/v1/rewards/coupons/redeem", json={}, headers=headers).status_code == 422
    assert client.post("/api/v1/rewards/coupons/redeem", json={"code": "NOPE000000"}, headers=headers).status_code == 404
    assert "/api/v1/rewards/coupons/redeem" in client.get("/api/v1/openapi.json").get_data(as_text=True)


def test_pages_render(client, admin_user, login, app_db, clock):
    campaign_id, pid, seed = _campaign(app_db, clock)
    login(client)
    for path in ("/fission", f"/fission/{campaign_id}", f"/fission/{campaign_id}/edit", f"/fission/{campaign_id}/participants",
                 f"/fission/{campaign_id}/invitations?status=refused", "/rewards", "/rewards?tab=coupons",
                 "/rewards?tab=boxes", f"/rewards/points/{seed}", "/rewards/coupons/new", "/rewards/boxes/new"):
        assert client.get(path).status_code == 200, path
    assert client.get("/fission/999999").status_code == 404


def test_customer_detail_shows_points_and_rewards(client, admin_user, login, app_db):
    from community import points

    with app_db.write() as s:
        customer = Customer(name="有积分的客户")
        s.add(customer)
        s.flush()
        points.earn(s, customer.id, 120, reason="群打卡：跑步群", source="checkin", source_ref="checkin:1:wx")
        cid = customer.id
    login(client)
    page = client.get(f"/customers/{cid}").get_data(as_text=True)
    assert 'data-testid="customer-rewards">积分 <strong>120</strong>' in page and f"/rewards/points/{cid}" in page

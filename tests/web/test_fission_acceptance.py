"""「邀请好友得盲盒」 end to end over real sockets: the operator builds the blind box and the campaign
in the console (HTTP), adds a seed participant and downloads their personal poster (the QR read
back carries their signed invite link); a phone reports over the device WebSocket 5 new friends
arriving with the participant's code, one of whom deletes the account within the hold period, plus
a self-invitation and a re-used person (refused, with reasons); after the hold period (ManualClock)
the settlement job reaches the stage at 3 and one blind box is drawn from stock through the
executor; the customer's points ledger, reward list and H5 progress page show it."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from html import unescape

import requests
from PIL import Image
from sqlmodel import select

from community.fission import posters
from community.fission.models import Campaign, Invitation, Participant
from community.rewards.models import BoxDraw, BoxPool, BoxPrize
from config.clock import to_local
from crm.customers.models import Customer
from crm.leads.posters import qr_matrix
from engine.fission import settle_campaigns
from tests.devices.gateway.conftest import gateway, make_devices, raw_phone, ws_url  # noqa: F401 - live gateway fixtures

POOL_ACCOUNT = {"wxid": "wxid_pool01", "nickname": "福利官小美", "mobile": "13800000009"}
OTHER_ACCOUNT = {"wxid": "wxid_pool02", "nickname": "福利官小丽", "mobile": "13800000010"}


class Console:
    """An operator's browser session over HTTP (CSRF read from the page's meta tag)."""

    def __init__(self, base: str, username="admin", password="Admin12345"):
        self.base, self.http = base, requests.Session()
        self.csrf = self._csrf("/login")
        answer = self.http.post(base + "/login", data={"username": username, "password": password, "csrf_token": self.csrf},
                                allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text[:300]
        self.csrf = self._csrf("/fission")

    def _csrf(self, path: str) -> str:
        return re.search(r'name="csrf-token" content="([^"]+)"', self.http.get(self.base + path, timeout=10).text).group(1)

    def get(self, path: str, **kw):
        return self.http.get(self.base + path, timeout=10, **kw)

    def post(self, path: str, data: dict):
        return self.http.post(self.base + path, data={**data, "csrf_token": self.csrf}, allow_redirects=False, timeout=10)


def _grid(image, left, top, box, modules):
    gray = image.convert("L")
    return [[gray.getpixel((left + c * box + box // 2, top + r * box + box // 2)) < 128 for c in range(modules)]
            for r in range(modules)]


def _report(phone, n, account, kind, data):
    answer = phone.request({"type": "report", "id": f"r-{n}", "kind": kind, "account": account, "data": data})
    assert answer["ok"] is True, answer


def test_invite_friends_for_a_blind_box_end_to_end(app, app_db, admin_user, live_server, raw_phone, make_devices, clock):
    [(_device, token)] = make_devices()
    phone = raw_phone()
    accounts = phone.login(token, [POOL_ACCOUNT, OTHER_ACCOUNT])["accounts"]
    pool_id, other_id = accounts["wxid_pool01"], accounts["wxid_pool02"]
    ui = Console(live_server.url)

    # 盲盒: a pool with one kind of prize in stock 2 (points, so the ledger shows it)
    assert ui.post("/rewards/boxes/new", {"name": "新人盲盒"}).status_code == 302
    with app_db.read() as s:
        box = s.exec(select(BoxPool)).one().id
    assert ui.post(f"/rewards/boxes/{box}/prizes", {"name": "88 积分", "kind": "points", "points": "88", "weight": "1",
                                                     "stock": "2"}).status_code == 302
    # 活动: stage at 3 → 抽取盲盒; hold 48 h; the pool accounts take the new friends
    tz = app.extensions["ckb"].services.settings.timezone
    start = to_local(clock.now() - timedelta(hours=1), tz).strftime("%Y-%m-%dT%H:%M")
    end = to_local(clock.now() + timedelta(days=10), tz).strftime("%Y-%m-%dT%H:%M")
    form = {"name": "邀请好友得盲盒", "kind": "invite", "starts_at": start, "ends_at": end, "hold_hours": "48",
            "depth_cap": "3", "account_ids": [str(pool_id), str(other_id)], "stage_threshold_0": "3",
            "stage_name_0": "邀请 3 人抽盲盒", "stage_processor_0": "rewards.draw_box", "stage_value_0": str(box),
            "poster_title": "邀请好友得盲盒", "poster_qr_x": "215", "poster_qr_y": "820", "poster_qr_size": "320",
            "per_ip": "20", "per_device": "5"}
    bad = ui.post("/fission/new", {**form, "stage_threshold_0": ""})
    assert bad.status_code == 400 and "请至少设置一个奖励阶梯" in bad.text
    created = ui.post("/fission/new", form)
    assert created.status_code == 302
    campaign_id = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert ui.post(f"/fission/{campaign_id}/status", {"status": "active"}).status_code == 302
    with app_db.write() as s:
        seed = Customer(name="种子用户小红", wechat_id="wx_seed_hong", created_at=clock.now() - timedelta(days=30))
        s.add(seed)
        s.flush()
        seed_id = seed.id
    added = ui.post(f"/fission/{campaign_id}/participants", {"customer_id": str(seed_id), "wxid": "wx_seed_hong"})
    assert added.status_code == 302
    page = ui.get(added.headers["Location"]).text
    join_link = unescape(re.search(r'data-testid="join-link">([^<]+)<', page).group(1))
    progress_link = unescape(re.search(r'data-testid="progress-link">([^<]+)<', page).group(1))
    assert join_link.startswith(live_server.url + "/h5/fission/j/")

    # the personal poster's QR is the participant's own invite link
    with app_db.read() as s:
        participant = s.exec(select(Participant).where(Participant.customer_id == seed_id)).one()
        template = s.get(Campaign, campaign_id).poster
    png = ui.get(f"/fission/{campaign_id}/participants/{participant.id}/poster.png")
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(png.content))
    left, top, box_px = posters.qr_geometry(template, join_link)
    matrix = qr_matrix(join_link)
    assert _grid(image, left, top, box_px, len(matrix)) == matrix

    # five new friends through the code, over the phone's WebSocket
    state = f"fis-{participant.code}"
    for n in range(5):
        _report(phone, n, "wxid_pool01", "friend_added", {"wxid": f"wx_friend{n}", "nickname": f"好友{n}", "state": state})
    _report(phone, 10, "wxid_pool01", "friend_added", {"wxid": "wx_seed_hong", "nickname": "小红", "state": state})
    _report(phone, 11, "wxid_pool02", "friend_added", {"wxid": "wx_friend2", "nickname": "好友2", "state": state})
    clock.advance(hours=3)
    _report(phone, 12, "wxid_pool01", "friend_deleted", {"wxid": "wx_friend4"})
    refused = ui.get(f"/fission/{campaign_id}/invitations?status=refused").text
    assert "不能邀请自己" in refused and "重复邀请：该用户已计入你的邀请" in refused

    runtime = app.extensions["ckb"]
    assert settle_campaigns(runtime) == ""  # within the hold period nothing settles
    clock.advance(hours=46)
    assert "有效 4" in settle_campaigns(runtime)
    with app_db.read() as s:
        statuses = sorted(i.status for i in s.exec(select(Invitation).where(Invitation.campaign_id == campaign_id)))
        assert statuses == ["lapsed", "refused", "refused", "valid", "valid", "valid", "valid"]
        draw = s.exec(select(BoxDraw).where(BoxDraw.customer_id == seed_id)).one()
        assert draw.prize_name == "88 积分" and s.exec(select(BoxPrize)).one().stock == 1
    ledger = ui.get(f"/rewards/points/{seed_id}").text
    assert "+88" in ledger and "盲盒奖品：88 积分" in ledger and 'data-testid="draw-prize">88 积分' in ledger
    dashboard = ui.get(f"/fission/{campaign_id}").text
    assert "有效邀请" in dashboard and "chart-fission-daily" in dashboard

    h5 = requests.get(progress_link, timeout=10)
    assert h5.status_code == 200 and 'data-testid="h5-progress">4<' in h5.text and "已发放" in h5.text
    forged = requests.get(progress_link[:-3] + "abc", timeout=10)
    assert forged.status_code == 404 and "链接无效" in forged.text

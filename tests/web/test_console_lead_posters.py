"""海报与渠道码 console: generate a poster (bad input re-renders in Chinese, nothing written), the
per-channel scans/adds/转化率, the poster and QR PNGs; and in Chromium a marketer generates a
poster, previews it, opens its link as a visitor, leaves their details and sees the counts."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlmodel import select

from crm.leads import posters
from crm.leads.models import LeadChannel, QrCode
from tests.crm.leads.test_payments import make_scene


@pytest.fixture
def signed_in(client, admin_user, login):
    login(client)
    return client


@pytest.fixture
def setup(app, app_db):
    scene_id = make_scene(app.extensions["ckb"], name="海报获客", key="poster", scene_type="QR_CODE_SCAN")
    make_scene(app.extensions["ckb"], name="电话获客", key="calls", scene_type="PHONE_CALL")
    with app_db.write() as s:
        channel = LeadChannel(name="地铁广告", code="metro")
        s.add(channel)
        s.flush()
        return {"scene": scene_id, "channel": channel.id}


def _codes(app_db) -> list[QrCode]:
    with app_db.read() as s:
        return list(s.exec(select(QrCode)))


def test_generate_preview_and_download(signed_in, app_db, csrf_token, setup):
    form = signed_in.get("/leads/posters/new").get_data(as_text=True)
    assert "海报获客" in form and "电话获客" not in form and "地铁广告" in form
    token = csrf_token(signed_in, "/leads/posters/new")
    response = signed_in.post("/leads/posters/new", data={
        "csrf_token": token, "scene_id": setup["scene"], "channel_id": setup["channel"], "title": "扫码领取试听课",
        "subtitle": "名额有限", "color": "#0f172a", "target_url": ""})
    [code] = _codes(app_db)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/leads/posters/{code.id}")
    show = signed_in.get(f"/leads/posters/{code.id}").get_data(as_text=True)
    assert f"http://localhost/s/{code.token}" in show and "地铁广告" in show
    poster = signed_in.get(f"/leads/posters/{code.id}/poster.png")
    image = Image.open(io.BytesIO(poster.data))
    assert poster.mimetype == "image/png" and image.size == posters.POSTER_SIZE
    url = f"http://localhost/s/{code.token}"
    left, top, box = posters.poster_qr_geometry(url)
    gray = image.convert("L")
    matrix = posters.qr_matrix(url)
    assert [[gray.getpixel((left + c * box + box // 2, top + r * box + box // 2)) < 128 for c in range(len(matrix))]
            for r in range(len(matrix))] == matrix
    assert "attachment" in signed_in.get(f"/leads/posters/{code.id}/poster.png?download=1").headers["Content-Disposition"]
    assert Image.open(io.BytesIO(signed_in.get(f"/leads/posters/{code.id}/qr.png").data)).format == "PNG"
    assert signed_in.get("/leads/posters/999").status_code == 404
    assert signed_in.get("/leads/posters/999/poster.png").status_code == 404


def test_bad_input_re_renders_in_chinese(signed_in, app_db, csrf_token, setup):
    token = csrf_token(signed_in, "/leads/posters/new")
    response = signed_in.post("/leads/posters/new", data={"csrf_token": token, "scene_id": setup["scene"], "title": "",
                                                          "color": "#123456"})
    assert response.status_code == 400 and "请填写海报标题" in response.get_data(as_text=True)
    response = signed_in.post("/leads/posters/new", data={"csrf_token": token, "scene_id": setup["scene"], "title": "海报",
                                                          "color": "#123456", "target_url": "ftp://x"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "跳转链接须以 http:// 或 https:// 开头" in html and 'value="海报"' in html
    assert _codes(app_db) == []


def test_list_shows_counts_per_channel(signed_in, app_db, setup):
    with app_db.write() as s:
        code = posters.create_code(s, {"scene_id": setup["scene"], "channel_id": setup["channel"], "title": "地铁海报"})
        for ip in ("1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"):
            posters.record_scan(s, code.token, ip)
        posters.record_add(s, code.token, None)
        code_id = code.id
    html = signed_in.get("/leads/posters").get_data(as_text=True)
    assert "地铁广告" in html and "25.0%" in html and f'data-testid="poster-scans-{code_id}">4<' in html
    assert f'data-testid="channel-adds-{setup["channel"]}">1<' in html
    assert "地铁海报" not in signed_in.get(f"/leads/posters?scene_id={setup['scene'] + 1}").get_data(as_text=True)


@pytest.mark.browser
def test_browser_poster_story(page, admin_user, browser_login, setup, app_db):
    browser_login()
    page.goto("/leads/posters")
    page.click("[data-testid=poster-new]")
    page.select_option("#f-scene_id", str(setup["scene"]))
    page.select_option("#f-channel_id", str(setup["channel"]))
    page.fill("#f-title", "扫码领取试听课")
    page.fill("#f-subtitle", "地铁站专属福利")
    page.click("[data-testid=poster-form] button[type=submit]")
    page.wait_for_function("() => document.querySelector('[data-testid=poster-image]').naturalWidth > 0")
    assert page.eval_on_selector("[data-testid=poster-image]", "img => img.naturalWidth") == posters.POSTER_SIZE[0]
    link = page.inner_text("[data-testid=poster-link]")
    assert "/s/" in link

    visitor = page.context.browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    phone = visitor.new_page()
    try:
        phone.goto(link)
        assert phone.inner_text("h1") == "扫码领取试听课"
        phone.fill("#pub-name", "李雷")
        phone.fill("#pub-mobile", "13900139000")
        phone.click("[data-testid=lead-form] button[type=submit]")
        phone.wait_for_selector("[data-testid=lead-thanks]")
    finally:
        visitor.close()
    [code] = _codes(app_db)
    page.goto("/leads/posters")
    assert page.inner_text(f"[data-testid=poster-scans-{code.id}]") == "1"
    assert page.inner_text(f"[data-testid=poster-adds-{code.id}]") == "1"
    assert page.inner_text(f"[data-testid=channel-adds-{setup['channel']}]") == "1"

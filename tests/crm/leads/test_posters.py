"""海报与渠道码: creating codes (checked scene/channel/plan, colour, link), counting scans and adds,
per-channel conversion, and the drawn poster and QR: valid PNGs whose QR modules are exactly the
ones a scanner needs for `{base}/s/<token>` (no QR decoder is installed, so the test reads the
module grid back from the pixels and compares it with the encoder's matrix)."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from crm.leads import posters
from crm.leads.errors import LeadNotFound, LeadsError
from crm.leads.models import AcquisitionPlan, LeadChannel, LeadScene, QrScan
from sqlmodel import select

BASE = "http://127.0.0.1:5000/"


@pytest.fixture
def refs(db):
    with db.write() as s:
        store = LeadChannel(name="线下门店", code="store", channel_type="OFFLINE_STORE")
        expo = LeadChannel(name="展会地推", code="expo", channel_type="OFFLINE_EVENT")
        off = LeadChannel(name="已停用渠道", code="off", is_active=False)
        poster = LeadScene(name="海报获客", key="poster", scene_type="QR_CODE_SCAN")
        calls = LeadScene(name="电话获客", key="calls", scene_type="PHONE_CALL")
        s.add_all([store, expo, off, poster, calls])
        s.flush()
        plan = AcquisitionPlan(name="双十一海报", scene_id=poster.id)
        other_plan = AcquisitionPlan(name="电话计划", scene_id=calls.id)
        s.add_all([plan, other_plan])
        s.flush()
        return {"store": store.id, "expo": expo.id, "off": off.id, "poster": poster.id, "calls": calls.id,
                "plan": plan.id, "other_plan": other_plan.id}


def _make(db, **data):
    with db.write() as s:
        code = posters.create_code(s, data)
        s.expunge(code)
        return code


def test_create_checks_every_link(db, refs):
    code = _make(db, scene_id=refs["poster"], channel_id=refs["store"], plan_id=refs["plan"], title="扫码领券",
                 subtitle="到店出示", color="#FF6600", target_url="https://example.com/add")
    assert len(code.token) == 16 and code.color == "#ff6600" and code.channel_id == refs["store"]
    cases = [
        ({"scene_id": "", "title": "x"}, "scene_id"),
        ({"scene_id": refs["calls"], "title": "x"}, "scene_id"),
        ({"scene_id": refs["poster"], "channel_id": refs["off"], "title": "x"}, "channel_id"),
        ({"scene_id": refs["poster"], "plan_id": refs["other_plan"], "title": "x"}, "plan_id"),
        ({"scene_id": refs["poster"], "title": "  "}, "title"),
        ({"scene_id": refs["poster"], "title": "x", "color": "red"}, "color"),
        ({"scene_id": refs["poster"], "title": "x", "target_url": "javascript:alert(1)"}, "target_url"),
        ({"scene_id": refs["poster"], "title": "长" * 101}, "title"),
    ]
    for data, field in cases:
        with pytest.raises(LeadsError) as exc:
            _make(db, **data)
        assert field in exc.value.errors, (data, exc.value.errors)
    with db.read() as s:
        assert len(posters.list_codes(s)) == 1  # nothing half-written


def test_scans_adds_and_channel_conversion(db, refs):
    store = _make(db, scene_id=refs["poster"], channel_id=refs["store"], title="门店海报")
    store2 = _make(db, scene_id=refs["poster"], channel_id=refs["store"], title="门店海报二")
    expo = _make(db, scene_id=refs["poster"], channel_id=refs["expo"], title="展会海报")
    with db.write() as s:
        for _ in range(3):
            posters.record_scan(s, store.token, "10.0.0.1")
        posters.record_scan(s, store2.token, "10.0.0.2")
        posters.record_add(s, store.token, None)
        posters.record_scan(s, expo.token, "10.0.0.3")
        with pytest.raises(LeadNotFound):
            posters.record_scan(s, "nope", "10.0.0.1")
    with db.read() as s:
        stats = posters.channel_stats(s)
        rows = s.exec(select(QrScan.kind, QrScan.client_ip)).all()
        assert posters.channel_stats(s, scene_id=refs["calls"]) == []
    assert stats[0] == {"channel_id": refs["store"], "channel_name": "线下门店", "codes": 2, "scans": 4, "adds": 1,
                        "conversion": 0.25}
    assert stats[1]["channel_name"] == "展会地推" and stats[1]["conversion"] == 0.0
    assert sorted(k for k, _ in rows) == ["add", "scan", "scan", "scan", "scan", "scan"]


def _grid(image: Image.Image, left: int, top: int, box: int, modules: int) -> list[list[bool]]:
    """Reads the QR back: the centre pixel of each module, dark or not."""
    gray = image.convert("L")
    return [[gray.getpixel((left + c * box + box // 2, top + r * box + box // 2)) < 128 for c in range(modules)]
            for r in range(modules)]


def test_qr_png_carries_the_link():
    url = BASE + "s/AbCdEfGhIjKlMnOp"
    image = Image.open(io.BytesIO(posters.qr_png(url)))
    assert image.format == "PNG"
    matrix = posters.qr_matrix(url)
    assert image.width == len(matrix) * posters.QR_BOX_SIZE
    assert _grid(image, 0, 0, posters.QR_BOX_SIZE, len(matrix)) == matrix
    assert matrix != posters.qr_matrix(url + "x")  # the grid really depends on the link


@pytest.mark.parametrize("color, base", [("#1f6feb", BASE), ("#fde68a", "https://marketing.example.com/" + "p" * 120)])
def test_poster_png_draws_a_scannable_qr(db, refs, color, base):
    code = _make(db, scene_id=refs["poster"], channel_id=refs["store"], title="扫码领取新人专享优惠券，限时三天" * 3,
                 subtitle="到店出示即可使用" * 5, color=color)
    image = Image.open(io.BytesIO(posters.poster_png(code, base, channel_name="线下门店")))
    assert image.format == "PNG" and image.size == posters.POSTER_SIZE
    url = posters.poster_url(code, base)
    assert url == base.rstrip("/") + "/s/" + code.token
    left, top, box = posters.poster_qr_geometry(url)
    matrix = posters.qr_matrix(url)
    assert top + len(matrix) * box < posters.POSTER_SIZE[1] and left > 0  # a long link still fits
    assert _grid(image, left, top, box, len(matrix)) == matrix
    assert image.convert("RGB").getpixel((5, 5)) == tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))


def test_poster_without_cjk_font_falls_back(db, refs, monkeypatch, tmp_path):
    code = _make(db, scene_id=refs["poster"], title="海报")
    monkeypatch.setattr(posters, "FONT_CANDIDATES", ())
    monkeypatch.setattr(posters, "FONT_DIRS", (str(tmp_path),))
    posters._font_path.cache_clear()
    posters._font.cache_clear()
    try:
        assert posters._font_path() is None
        assert Image.open(io.BytesIO(posters.poster_png(code, BASE))).size == posters.POSTER_SIZE
    finally:
        posters._font_path.cache_clear()
        posters._font.cache_clear()

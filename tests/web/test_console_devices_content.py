"""内容库 pages: items CRUD with validation, 素材 upload (real images only, size cap) and preview
(own content type, nosniff), 朋友圈采集 (mark friends, collect one, collect all), 敏感词 lists,
and 403s."""
from __future__ import annotations

import io
import re

from sqlmodel import select

from crm.people import service as people
from devices import materials
from devices.models import ContentItem, Friend, Material, Moment, SensitiveWord
from tests.devices.console.fixtures import admin, device_permissions, world  # noqa: F401 - fixtures

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def _upload(client, token, name, data):
    return client.post("/content/materials", data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", follow_redirects=True)


def test_material_upload_preview_and_refusals(client, admin, app_db, settings):
    ok = _upload(client, admin, "海报.png", PNG)
    assert "已上传 1 张图片" in ok.get_data(as_text=True)
    fake = _upload(client, admin, "invoice.png", b"%PDF-1.4 a document in disguise")
    assert "不是图片" in fake.get_data(as_text=True)
    big = _upload(client, admin, "big.png", PNG + b"\x00" * materials.DEFAULT_MAX_BYTES)
    assert "文件过大" in big.get_data(as_text=True)
    with app_db.read() as s:
        [material] = s.exec(select(Material)).all()
    page = client.get("/content/materials").get_data(as_text=True)
    assert "海报.png" in page and f"/content/materials/{material.id}/preview" in page
    preview = client.get(f"/content/materials/{material.id}/preview")
    assert preview.status_code == 200 and preview.data == PNG
    assert preview.mimetype == "image/png" and preview.headers["X-Content-Type-Options"] == "nosniff"
    preview.close()
    assert client.get("/content/materials/999/preview").status_code == 404
    client.post(f"/content/materials/{material.id}/delete", data={"csrf_token": admin})
    with app_db.read() as s:
        assert s.exec(select(Material)).all() == []


def test_content_items_crud(client, admin, app_db):
    _upload(client, admin, "a.png", PNG)
    with app_db.read() as s:
        material = s.exec(select(Material)).one()
    form = client.get("/content/new?kind=image").get_data(as_text=True)
    assert "a.png" in form and "小程序 AppID" in form
    bad = client.post("/content/new", data={"csrf_token": admin, "kind": "link", "title": "链接",
                                            "link_url": "ftp://x", "link_title": ""})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "链接地址须以 http:// 或 https:// 开头" in page and "请填写链接标题" in page
    ok = client.post("/content/new", data={"csrf_token": admin, "kind": "image", "title": "新品海报",
                                           "text": "新品上市", "material_ids": [str(material.id)],
                                           "tags": "新品，海报", "category": "朋友圈", "enabled": "1"})
    assert ok.status_code == 302
    with app_db.read() as s:
        item = s.exec(select(ContentItem)).one()
    assert (item.material_ids, item.tags, item.category) == ([material.id], ["新品", "海报"], "朋友圈")
    listing = client.get("/content?tag=新品").get_data(as_text=True)
    assert "新品海报" in listing and "1 张图" in listing
    assert "新品海报" not in client.get("/content?kind=text").get_data(as_text=True)
    client.post(f"/content/{item.id}/edit", data={"csrf_token": admin, "kind": "text", "title": "改成文本",
                                                  "text": "早安", "enabled": "1"})
    with app_db.read() as s:
        assert s.get(ContentItem, item.id).title == "改成文本"
    client.post(f"/content/{item.id}/delete", data={"csrf_token": admin})
    with app_db.read() as s:
        assert s.exec(select(ContentItem)).all() == []
    assert client.get("/content/999/edit").status_code == 404


def test_moment_collection(client, admin, app_db):
    page = client.get("/content/collect").get_data(as_text=True)
    assert "今天的课程分享" in page and "周末去爬山" in page and "还没有采集对象" in page
    with app_db.read() as s:
        m1 = s.exec(select(Moment).where(Moment.moment_id == "m1")).one()
    resp = client.post(f"/content/collect/moments/{m1.id}", data={"csrf_token": admin}, follow_redirects=True)
    assert "已采集到内容库" in resp.get_data(as_text=True)
    client.post("/content/collect/friends", data={"csrf_token": admin, "on": "1", "q": "wxid_li"})
    assert "李四" in client.get("/content/collect").get_data(as_text=True)
    resp = client.post("/content/collect/run", data={"csrf_token": admin}, follow_redirects=True)
    assert "已采集 1 条朋友圈到内容库" in resp.get_data(as_text=True)
    with app_db.read() as s:
        assert sorted(i.text for i in s.exec(select(ContentItem)).all()) == ["今天的课程分享\n第二行", "周末去爬山"]
        li = s.exec(select(Friend).where(Friend.wxid == "wxid_li")).one()
    assert "朋友圈采集" in client.get("/content?source=collected").get_data(as_text=True)
    client.post("/content/collect/friends", data={"csrf_token": admin, "on": "0", "friend_ids": str(li.id)})
    with app_db.read() as s:
        assert s.get(Friend, li.id).tags == ["老客户"]


def test_sensitive_words_page(client, admin, app_db):
    resp = client.post("/content/sensitive", data={"csrf_token": admin, "list_name": "广告", "words": "加微信\n返利",
                                                   "level": "block"}, follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "已添加 2 个敏感词" in page and "加微信" in page and "广告" in page
    with app_db.read() as s:
        words = {w.word: w.id for w in s.exec(select(SensitiveWord)).all()}
    client.post(f"/content/sensitive/{words['返利']}", data={"csrf_token": admin, "level": "warn"})
    client.post("/content/sensitive/delete", data={"csrf_token": admin, "ids": [str(words["加微信"])]})
    with app_db.read() as s:
        assert [(w.word, w.level) for w in s.exec(select(SensitiveWord)).all()] == [("返利", "warn")]
    assert "提醒" in client.get("/content/sensitive?list=广告").get_data(as_text=True)


def test_content_permissions(app, app_db, world, login):
    people.create_role(app_db, "reader", "内容只读", {"content.view"})
    people.create_user(app_db, "reader", "Reader12345", roles=["reader"])
    client = app.test_client()
    login(client, "reader", "Reader12345")
    for url in ("/content", "/content/materials", "/content/collect", "/content/sensitive"):
        assert client.get(url).status_code == 200, url
    html = client.get("/content").get_data(as_text=True)
    assert "data-testid=\"content-new\"" not in html
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    assert client.get("/content/new").status_code == 403
    assert _upload(client, token, "a.png", PNG).status_code == 403
    assert client.post("/content/collect/run", data={"csrf_token": token}).status_code == 403
    assert client.post("/content/sensitive", data={"csrf_token": token, "words": "x"}).status_code == 403
    assert client.get("/devices").status_code == 403

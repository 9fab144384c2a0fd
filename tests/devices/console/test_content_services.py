"""内容库, 素材管理, 朋友圈采集 and 敏感词 services."""
from __future__ import annotations

import pytest
from sqlmodel import select

from devices import content, materials, sensitive, sensitive_admin
from devices.models import ContentItem, Friend, Material, Moment, SensitiveWord
from tests.devices.console.seed import seed_fleet

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40


@pytest.fixture
def world(db, clock):
    with db.write() as s:
        return seed_fleet(s, clock.now())


def test_content_crud_and_search(db, clock):
    with db.write() as s:
        text = content.create_item(s, {"kind": "text", "title": "早安文案", "text": "早安，今天也要加油",
                                       "tags": "早安，励志", "category": "朋友圈"}, clock.now())
        link = content.create_item(s, {"kind": "link", "title": "课程介绍", "link_url": "https://example.com/c",
                                       "link_title": "21 天训练营", "tags": ["课程"], "category": "群发"})
    with db.read() as s:
        assert content.get_item(s, text.id).tags == ["早安", "励志"]
        assert content.get_item(s, link.id).link == {"url": "https://example.com/c", "title": "21 天训练营"}
        assert [i.title for i in content.search_items(s, content.ContentQuery(keyword="加油"))[0]] == ["早安文案"]
        assert [i.title for i in content.search_items(s, content.ContentQuery(tag="课程"))[0]] == ["课程介绍"]
        assert [i.title for i in content.search_items(s, content.ContentQuery(category="朋友圈"))[0]] == ["早安文案"]
        assert content.search_items(s, content.ContentQuery(kind="image"))[1] == 0
        assert content.facets(s) == (["朋友圈", "群发"], ["励志", "早安", "课程"])
    with db.write() as s:
        content.update_item(s, text.id, {"kind": "text", "title": "早安文案 v2", "text": "早安", "tags": ""})
        content.delete_item(s, link.id)
    with db.read() as s:
        assert [(i.title, i.tags) for i in s.exec(select(ContentItem)).all()] == [("早安文案 v2", [])]


@pytest.mark.parametrize("data, field", [
    ({"kind": "text", "title": "", "text": "x"}, "title"),
    ({"kind": "text", "title": "空", "text": " "}, "text"),
    ({"kind": "image", "title": "图", "material_ids": ""}, "material_ids"),
    ({"kind": "image", "title": "图", "material_ids": "404"}, "material_ids"),
    ({"kind": "link", "title": "链", "link_url": "javascript:alert(1)", "link_title": "x"}, "link_url"),
    ({"kind": "miniprogram", "title": "卡", "link_title": "x"}, "link_appid"),
    ({"kind": "video", "title": "v"}, "kind"),
])
def test_content_validation(db, data, field):
    with db.write() as s:
        with pytest.raises(content.ContentError) as info:
            content.create_item(s, data)
    assert field in info.value.errors


def test_material_upload_stores_real_images_under_the_materials_dir(db, clock, settings):
    with db.write() as s:
        png = materials.save_upload(s, settings, "../../海报.png", PNG, 1, clock.now())
        jpg = materials.save_upload(s, settings, "photo.png", JPEG, 1, clock.now())  # misnamed but a real JPEG
        item = content.create_item(s, {"kind": "image", "title": "海报", "material_ids": f"{png.id},{jpg.id}"})
    assert (png.filename, png.mime, png.size) == ("海报.png", "image/png", len(PNG))
    assert jpg.mime == "image/jpeg" and jpg.stored_path.endswith(".jpg")
    path = materials.file_path(settings, png)
    assert path.read_bytes() == PNG and path.is_relative_to(settings.var_dir / "materials")
    with db.write() as s:
        with pytest.raises(content.ContentError, match="正在被内容使用"):
            materials.delete_material(s, settings, png.id)
        content.delete_item(s, item.id)
    with db.write() as s:
        materials.delete_material(s, settings, png.id)
    assert not path.exists()
    with db.read() as s:
        assert [m.id for m in s.exec(select(Material)).all()] == [jpg.id]


@pytest.mark.parametrize("name, data, message", [
    ("invoice.png", b"%PDF-1.7 not a picture", "不是图片"),
    ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "不是图片"),
    ("empty.png", b"", "空"),
])
def test_material_upload_refuses_non_images(db, clock, settings, name, data, message):
    with db.write() as s:
        with pytest.raises(content.ContentError, match=message):
            materials.save_upload(s, settings, name, data, 1, clock.now())
    assert not (settings.var_dir / "materials").exists()


def test_material_upload_refuses_oversize_files(db, clock, settings):
    big = PNG + b"\x00" * materials.DEFAULT_MAX_BYTES
    with db.write() as s:
        with pytest.raises(content.ContentError, match="文件过大：上限 10 MB"):
            materials.save_upload(s, settings, "big.png", big, 1, clock.now())
        assert s.exec(select(Material)).all() == []


def test_material_path_cannot_escape_the_folder(settings):
    assert materials.file_path(settings, Material(filename="x", stored_path="../../etc/passwd")) is None


def test_collect_one_moment_on_demand(db, clock, world):
    with db.read() as s:
        moment = s.exec(select(Moment).where(Moment.moment_id == "m1")).one()
    with db.write() as s:
        item = content.collect_moment(s, moment.id, clock.now())
        again = content.collect_moment(s, moment.id, clock.now())
    assert item.id == again.id
    assert (item.kind, item.source, item.source_moment_id) == ("moment", "collected", moment.id)
    assert item.title == "张总-上海：今天的课程分享" and item.link == {"media": ["https://img.example.com/1.jpg"]}
    with db.write() as s:
        content.delete_item(s, item.id)  # deleting frees the moment to be collected again
    with db.read() as s:
        assert not s.get(Moment, moment.id).collected


def test_collect_marked_friends_automatically(db, clock, world):
    with db.read() as s:
        li = s.exec(select(Friend).where(Friend.wxid == "wxid_li")).one()
    with db.write() as s:
        assert content.collect_marked(s) == 0
        assert content.set_collecting(s, [li.id], True) == 1
        assert content.set_collecting(s, [li.id], True) == 0
    with db.write() as s:
        assert [f.nickname for f in content.collecting_friends(s)] == ["李四"]
        assert content.collect_marked(s, clock.now()) == 1
        assert content.collect_marked(s, clock.now()) == 0
    with db.read() as s:
        items = s.exec(select(ContentItem)).all()
        assert [(i.text, i.source) for i in items] == [("周末去爬山", "collected")]
        assert content.list_moments(s, collected=False)[1] == 1
        assert s.get(Friend, li.id).tags == ["老客户", content.COLLECT_TAG]
    with db.write() as s:
        content.set_collecting(s, [li.id], False)
        assert s.get(Friend, li.id).tags == ["老客户"]


def test_sensitive_word_lists(db):
    with db.write() as s:
        assert sensitive_admin.add_words(s, "加微信，ＶＸ\n返利 返利", "广告", "block") == (3, 0)
        assert sensitive_admin.add_words(s, "返利", "广告", "block") == (0, 1)
        assert sensitive_admin.add_words(s, "返利", "默认", "warn") == (1, 0)
        with pytest.raises(content.ContentError):
            sensitive_admin.add_words(s, " ，", "广告", "block")
        with pytest.raises(content.ContentError):
            sensitive_admin.add_words(s, "x", "广告", "delete")
    with db.read() as s:
        words, total = sensitive_admin.list_words(s, list_name="广告")
        assert total == 3 and {w.word for w in words} == {"加微信", "VX", "返利"}
        assert sensitive_admin.list_counts(s) == [("广告", 3), ("默认", 1)]
        assert sensitive.check_text(s, "加 微 信 领返利")[0] in {"加微信", "返利"}
    vx = next(w for w in words if w.word == "VX")
    with db.write() as s:
        sensitive_admin.update_word(s, vx.id, enabled=False)
    with db.read() as s:
        assert sensitive.check_text(s, "加vx") == (None, [])
    with db.write() as s:
        assert sensitive_admin.delete_words(s, [w.id for w in words]) == 3
        assert [w.word for w in s.exec(select(SensitiveWord)).all()] == ["返利"]

"""目标客户群: tags, condition rows and a saved query, each part narrowing, always within the
viewer's scope; saving versions the product and re-indexes its tags for recommendation."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from commerce import audience
from commerce.catalog.models import ProductSpu, ProductVersion
from commerce.errors import CommerceError, ProductNotFound
from commerce.recommend.models import RecommendProductTag
from crm.customers.models import Customer, SavedQuery
from crm.scope import SYSTEM, Viewer
from tests.support.recommend_data import tagged

ALL = Viewer(1, frozenset({"customers.view_all"}))


@pytest.fixture
def shop(db):
    with db.write() as s:
        tags, ids = tagged(s, {"宝妈": 0, "VIP": 0}, [
            (Customer(name="甲", city="上海", owner_id=7), ("宝妈",)), (Customer(name="乙", city="北京", owner_id=7), ("宝妈",)),
            (Customer(name="丙", city="上海", owner_id=8), ("宝妈", "VIP")), (Customer(name="丁", city="上海", owner_id=8), ()),
            (Customer(name="戊", city="上海", owner_id=7, status="deleted"), ("宝妈",))])
        spu = ProductSpu(code="A", name="奶粉", shelf="on")
        s.add(spu)
        s.flush()
        return {"mom": tags["宝妈"], "vip": tags["VIP"], "spu": spu.id, "ids": ids}


def _names(db, aud, viewer=ALL):
    with db.read() as s:
        rows, total = audience.members(s, aud, viewer)
        assert total == len(rows) == audience.count(s, aud, viewer)
        return sorted(c.name for c in rows)


def test_parts_narrow_and_scope_applies(db, shop):
    city = [{"field": "city", "op": "eq", "value": "上海"}]
    assert _names(db, {"tag_ids": [shop["mom"]]}) == ["丙", "乙", "甲"]  # the recycle bin never counts
    assert _names(db, {"tag_ids": [shop["mom"]], "conditions": city}) == ["丙", "甲"]
    assert _names(db, {"tag_ids": [shop["mom"]], "exclude_tag_ids": [shop["vip"]], "conditions": city}) == ["甲"]
    assert _names(db, {"conditions": city}) == ["丁", "丙", "甲"]
    assert _names(db, {"tag_ids": [shop["mom"]]}, Viewer(7, frozenset())) == ["乙", "甲"]
    assert _names(db, {"tag_ids": [shop["mom"]]}, Viewer(99, frozenset())) == []
    assert _names(db, {"tag_ids": [shop["mom"]]}, SYSTEM) == ["丙", "乙", "甲"]
    assert _names(db, {}) == []  # no audience set: nobody, not everybody


def test_saved_query_is_intersected(db, shop):
    with db.write() as s:
        saved = SavedQuery(user_id=1, name="上海", query={"rows": [{"field": "city", "op": "eq", "value": "上海"}],
                                                           "include_tags": [shop["vip"]]})
        s.add(saved)
        s.flush()
        sid = saved.id
    assert _names(db, {"saved_query_id": sid}) == ["丙"]
    assert _names(db, {"saved_query_id": sid, "tag_ids": [shop["mom"]]}) == ["丙"]
    with db.write() as s:
        s.delete(s.get(SavedQuery, sid))
    assert _names(db, {"saved_query_id": sid}) == []


def test_bad_parts_are_named_and_nothing_is_written(db, shop):
    cases = [({"conditions": [{"field": "nope", "op": "eq", "value": 1}]}, "rows"),
             ({"tag_ids": [999]}, "include_tags"), ({"tag_ids": ["x"]}, "include_tags"),
             ({"saved_query_id": 12345}, "saved_query_id"), ([], "audience"),
             ({"conditions": [{"field": "city", "op": "eq", "value": "x", "lparen": 1}]}, "rows")]
    for raw, field in cases:
        with pytest.raises(CommerceError) as caught, db.write() as s:
            audience.save(s, shop["spu"], raw, user_id=1)
        assert field in caught.value.errors, (raw, caught.value.errors)
    with db.read() as s:
        assert s.get(ProductSpu, shop["spu"]).audience == {}
        assert s.execute(select(ProductVersion)).first() is None
    with pytest.raises(ProductNotFound), db.write() as s:
        audience.save(s, 424242, {"tag_ids": [shop["mom"]]}, user_id=1)


def test_save_versions_and_indexes_target_tags(db, shop):
    with db.write() as s:
        audience.save(s, shop["spu"], {"include_tags": [shop["mom"]], "rows": []}, user_id=3)
        audience.save(s, shop["spu"], {"include_tags": [shop["mom"]], "rows": []}, user_id=3)  # unchanged: no version
    with db.read() as s:
        spu = s.get(ProductSpu, shop["spu"])
        assert spu.audience["tag_ids"] == [shop["mom"]] and spu.version == 2
        versions = s.execute(select(ProductVersion)).scalars().all()
        assert [(v.version, v.summary, v.changed_by) for v in versions] == [(2, "修改目标客户群", 3)]
        assert versions[0].snapshot["audience"]["tag_ids"] == [shop["mom"]]
        assert s.execute(select(RecommendProductTag.tag_id)).scalars().all() == [shop["mom"]]

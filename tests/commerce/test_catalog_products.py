"""商品: spec dimensions generate SKUs; edits keep stock; every change is a version; bad input
names its field and writes nothing."""
from __future__ import annotations

import pytest
from sqlmodel import func, select

from commerce.catalog import categories, products, versions
from commerce.catalog.models import ProductSku, ProductSpu, ProductVersion
from commerce.errors import CommerceError
from commerce.stock.models import StockMovement
from tests.commerce.catalog_fixtures import create, make_tag, tee


def test_two_dimensions_generate_four_skus_with_initial_stock_in_the_ledger(db):
    spu_id = create(db, tee())
    with db.read() as s:
        skus = products.skus_of(s, spu_id)
        assert sorted(k.spec_key for k in skus) == ["颜色=红;尺码=L", "颜色=红;尺码=M", "颜色=蓝;尺码=L", "颜色=蓝;尺码=M"]
        assert {k.on_hand for k in skus} == {5} and {k.price_fen for k in skus} == {9900}
        moves = s.exec(select(StockMovement)).all()
        assert len(moves) == 4 and {(m.kind, m.operator_id, m.reason) for m in moves} == {("in", 1, "新建商品初始库存")}
        assert [v.summary for v in versions.list_versions(s, spu_id)] == ["新建商品"]


def test_editing_dimensions_adds_and_disables_skus_keeping_stock(db):
    spu_id = create(db, tee())
    data = {"spec_dims": [{"name": "颜色", "values": ["红", "绿"]}, {"name": "尺码", "values": ["M", "L"]}],
            "skus": [{"specs": {"颜色": "红", "尺码": "M"}, "price_fen": 8800, "on_hand": 7},
                     {"specs": {"颜色": "绿", "尺码": "M"}, "code": "T100-GM", "price_fen": 9900, "on_hand": 3}]}
    with db.write() as s:
        products.update_spu(s, spu_id, data, user_id=2)
    with db.read() as s:
        by_key = {k.spec_key: k for k in products.skus_of(s, spu_id)}
        assert by_key["颜色=红;尺码=M"].price_fen == 8800 and by_key["颜色=红;尺码=M"].on_hand == 7
        assert by_key["颜色=红;尺码=L"].price_fen == 9900 and by_key["颜色=红;尺码=L"].status == "active"
        assert by_key["颜色=蓝;尺码=M"].status == "disabled" and by_key["颜色=蓝;尺码=M"].on_hand == 5
        assert by_key["颜色=绿;尺码=M"].on_hand == 3 and by_key["颜色=绿;尺码=L"].code.startswith("T100-")
        adjust = s.exec(select(StockMovement).where(StockMovement.kind == "adjust")).one()
        assert (adjust.on_hand_delta, adjust.operator_id) == (2, 2)
        latest = versions.list_versions(s, spu_id)[0]
        assert latest.version == 2 and latest.changed_by == 2
        assert "规格维度" in latest.summary and "售价" in latest.summary and "新增 2 个规格" in latest.summary


def test_saving_without_change_adds_no_version_and_shelf_and_delete_do(db):
    spu_id = create(db, tee())
    with db.write() as s:
        products.update_spu(s, spu_id, {"name": "夏季纯棉T恤"}, user_id=1)
        products.set_shelf(s, spu_id, "on", user_id=1)
        products.delete_spu(s, spu_id, user_id=1)
    with db.read() as s:
        assert [v.summary for v in versions.list_versions(s, spu_id)] == ["删除商品", "已上架", "新建商品"]
    create(db, tee())  # the deleted product's codes are free again


def test_audience_tags_keep_the_other_audience_keys(db):
    with db.write() as s:
        tag = make_tag(s, "宝妈")
    spu_id = create(db, tee())
    with db.write() as s:
        spu = s.get(ProductSpu, spu_id)
        spu.audience = {"conditions": [{"field": "city"}], "saved_query_id": 3}
        s.add(spu)
    with db.write() as s:
        products.update_spu(s, spu_id, {"audience_tag_ids": [tag], "tag_ids": [tag]}, user_id=1)
    with db.read() as s:
        spu = s.get(ProductSpu, spu_id)
        assert spu.audience == {"conditions": [{"field": "city"}], "saved_query_id": 3, "tag_ids": [tag]}
        assert spu.tag_ids == [tag]


@pytest.mark.parametrize("change, field", [
    (lambda d: d["skus"][1].update(price_fen=12.5), "skus.1.price_fen"),
    (lambda d: d["skus"][1].update(price_fen=-1), "skus.1.price_fen"),
    (lambda d: d["skus"][1].update(price_fen="990"), "skus.1.price_fen"),
    (lambda d: d["skus"][2].update(on_hand=1.5), "skus.2.on_hand"),
    (lambda d: d["skus"][2].update(on_hand=-3), "skus.2.on_hand"),
    (lambda d: d["skus"][3].update(code=d["skus"][0]["code"]), "skus"),
    (lambda d: d.update(category_id=999), "category_id"),
    (lambda d: d.update(brand_id=999), "brand_id"),
    (lambda d: d.update(tag_ids=[999]), "tag_ids"),
    (lambda d: d.update(name=""), "name"),
    (lambda d: d["skus"].pop(), "skus"),
])
def test_bad_input_names_the_field_and_writes_nothing(db, change, field):
    data = tee()
    change(data)
    with pytest.raises(CommerceError) as caught, db.write() as s:
        products.create_spu(s, data, user_id=1)
    assert field in caught.value.errors, caught.value.errors
    with db.read() as s:
        for model in (ProductSpu, ProductSku, ProductVersion, StockMovement):
            assert s.exec(select(func.count()).select_from(model)).one() == 0


def test_sku_code_taken_by_another_product_is_refused(db):
    create(db, tee())
    other = tee(code="T200")
    other["skus"][0]["code"] = "T100-RM"
    with pytest.raises(CommerceError) as caught, db.write() as s:
        products.create_spu(s, other, user_id=1)
    assert "T100-RM" in caught.value.message


def test_category_tree_refuses_cycles_and_delete_while_used(db):
    with db.write() as s:
        root = categories.create_category(s, {"name": "服装"})
        child = categories.create_category(s, {"name": "上衣", "parent_id": root.id})
        grand = categories.create_category(s, {"name": "T恤", "parent_id": child.id})
        ids = root.id, child.id, grand.id
    with pytest.raises(CommerceError), db.write() as s:
        categories.update_category(s, ids[0], {"name": "服装", "parent_id": ids[2]})
    create(db, tee(category_id=ids[2]))
    with pytest.raises(CommerceError) as caught, db.write() as s:
        categories.delete_category(s, ids[2])
    assert "1 个商品" in caught.value.message
    with db.read() as s:
        assert categories.descendant_ids(s, ids[0]) == set(ids)
        assert [n["name"] for n in categories.flatten(categories.tree(s))] == ["服装", "上衣", "T恤"]


def test_two_skus_can_swap_codes_in_one_save(db):
    spu_id = create(db, tee())
    swap = {"skus": [{"specs": {"颜色": "红", "尺码": "M"}, "code": "T100-RL"},
                     {"specs": {"颜色": "红", "尺码": "L"}, "code": "T100-RM"}]}
    with db.write() as s:
        products.update_spu(s, spu_id, swap, user_id=1)
    with db.read() as s:
        codes = {k.spec_key: k.code for k in products.skus_of(s, spu_id)}
    assert codes["颜色=红;尺码=M"] == "T100-RL" and codes["颜色=红;尺码=L"] == "T100-RM"


def test_siblings_move_up_and_down(db):
    with db.write() as s:
        ids = [categories.create_category(s, {"name": n}).id for n in ("甲", "乙", "丙")]
        categories.move_category(s, ids[2], "up")
        categories.move_category(s, ids[0], "up")  # already first: stays
    with db.read() as s:
        assert [n["name"] for n in categories.tree(s)] == ["甲", "丙", "乙"]

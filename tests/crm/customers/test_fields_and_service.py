"""数据结构定义 (with its expression index), 枚举管理, and customer validation."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from crm.customers import enums, fields, service
from crm.customers.fieldset import attr_expression
from crm.customers.models import Customer
from crm.errors import CrmError
from crm.scope import SYSTEM


def _indexes(db) -> dict:
    sql = ("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'customer'" if db.is_postgres else
           "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='customer'")
    with db.read() as s:
        return dict(s.execute(text(sql)).all())


def _plan(s, stmt) -> str:
    if s.get_bind().dialect.name == "postgresql":
        # A tiny test table is cheaper to scan; ask the planner whether the index is usable at all.
        s.execute(text("SET LOCAL enable_seqscan = off"))
        compiled = stmt.compile(s.get_bind(), compile_kwargs={"literal_binds": True})
        return " | ".join(r[0] for r in s.execute(text("EXPLAIN " + str(compiled))).all())
    compiled = stmt.compile(s.get_bind(), compile_kwargs={"render_postcompile": True})
    params = tuple(compiled.params[k] for k in compiled.positiontup)
    rows = s.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params).all()
    return " | ".join(r[-1] for r in rows)


def test_creating_a_field_creates_an_index_the_query_plan_uses(db, custom_fields):
    assert "ix_customer_attr_aum" in _indexes(db)
    with db.read() as s:
        plan = _plan(s, select(Customer.id).where(attr_expression("aum", "number") > 500))
    assert "ix_customer_attr_aum" in plan and ("USING INDEX" in plan or "Index" in plan)


def test_deleting_a_field_drops_index_and_values(db, custom_fields, make_customer):
    c = make_customer(name="甲", mobile="13800138000", attrs={"aum": 5, "vip": True})
    with db.write() as s:
        fields.delete_field(s, custom_fields["aum"].id)
    assert "ix_customer_attr_aum" not in _indexes(db)
    with db.read() as s:
        assert s.get(Customer, c.id).attrs == {"vip": True}


def test_field_validation(db, custom_fields):
    with db.write() as s, pytest.raises(CrmError) as exc:
        fields.create_field(s, {"key": "mobile", "label": "可投资资产", "type": "enum"})
    assert set(exc.value.errors) == {"key", "label", "enum_id"}
    with db.write() as s, pytest.raises(CrmError) as exc:
        fields.create_field(s, {"key": "1bad", "label": "x", "type": "colour"})
    assert set(exc.value.errors) == {"key", "type"}


def test_enum_in_use_cannot_be_deleted(db, custom_fields, risk_enum):
    with db.write() as s, pytest.raises(CrmError) as exc:
        enums.delete_enum(s, risk_enum.id)
    assert "风险偏好" in exc.value.message
    with db.write() as s:
        spare = enums.create_enum(s, {"code": "spare", "name": "备用", "items": [{"value": "a", "label": "甲"}]})
        enums.delete_enum(s, spare.id)


def test_customer_normalised_and_typed(db, custom_fields):
    with db.write() as s:
        c = service.create_customer(s, {"name": "张三", "mobile": "+86 １３８ 0013-8000", "email": " ZS@Example.COM ",
                                        "attrs": {"aum": "600.0", "risk": "进取", "vip": "是"}})
    assert (c.mobile, c.email) == ("13800138000", "zs@example.com")
    assert c.attrs == {"aum": 600, "risk": "high", "vip": True}


def test_customer_errors_name_each_field(db, custom_fields):
    with db.write() as s, pytest.raises(CrmError) as exc:
        service.create_customer(s, {"name": "", "mobile": "123", "email": "x@", "gender": "?",
                                    "attrs": {"aum": "很多", "risk": "激进"}})
    assert set(exc.value.errors) == {"name", "mobile", "email", "gender", "attr_aum", "attr_risk"}
    with db.read() as s:
        assert s.scalars(select(Customer)).all() == []


def test_required_custom_field(db, custom_fields):
    with db.write() as s:
        fields.update_field(s, custom_fields["aum"].id, {"label": "可投资资产", "required": "1"})
    with db.write() as s, pytest.raises(CrmError) as exc:
        service.create_customer(s, {"name": "甲", "mobile": "13800138000"})
    assert exc.value.errors == {"attr_aum": "请填写可投资资产"}


def test_duplicates_refused_naming_existing_customer(db, make_customer):
    first = make_customer(name="老客户", mobile="13800138000", email="a@b.cn")
    with db.write() as s, pytest.raises(CrmError) as exc:
        service.create_customer(s, {"name": "新", "mobile": "8613800138000"})
    assert exc.value.errors["mobile"] == f"手机号已被客户「老客户」（编号 {first.id}）使用"
    with db.write() as s, pytest.raises(CrmError) as exc:
        service.create_customer(s, {"name": "新", "email": "A@B.CN"})
    assert "邮箱已被客户「老客户」" in exc.value.errors["email"]
    with db.write() as s:  # editing the customer itself is not a duplicate
        service.update_customer(s, first.id, {"mobile": "13800138000", "city": "上海"}, viewer=SYSTEM)


def test_update_records_growth(db, make_customer):
    from crm.customers.growth import growth_of

    c = make_customer(name="甲", mobile="13800138000")
    with db.write() as s:
        service.update_customer(s, c.id, {"city": "上海"}, operator_id=None, viewer=SYSTEM)
    with db.read() as s:
        kinds = [g.kind for g in growth_of(s, c.id)]
    assert kinds == ["edit", "create"]

"""Helpers for customer-center tests: a custom field or two, a customer, a file to import."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook

from crm.customers import enums, fields, service


@pytest.fixture
def risk_enum(db):
    with db.write() as s:
        return enums.create_enum(s, {"code": "risk", "name": "风险偏好",
                                     "items": "low=保守\nmid=稳健\nhigh=进取"})


@pytest.fixture
def custom_fields(db, risk_enum):
    with db.write() as s:
        aum = fields.create_field(s, {"key": "aum", "label": "可投资资产", "type": "number", "show_in_list": "1"})
        risk = fields.create_field(s, {"key": "risk", "label": "风险偏好", "type": "enum", "enum_id": risk_enum.id})
        vip = fields.create_field(s, {"key": "vip", "label": "是否VIP", "type": "boolean"})
    return {"aum": aum, "risk": risk, "vip": vip}


@pytest.fixture
def make_customer(db):
    def make(**data):
        data.setdefault("name", "客户")
        with db.write() as s:
            return service.create_customer(s, data)
    return make


def xlsx_bytes(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)

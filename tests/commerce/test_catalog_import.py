"""商品导入/导出: a sheet of SKU rows becomes products through the job; a product with a bad row is
not written at all and every bad row is in the error sheet with its column and reason; the export
re-imports as an update."""
from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlmodel import func, select

from commerce.catalog import categories, importing
from commerce.catalog.import_rows import COLUMNS
from commerce.catalog.models import ProductSku, ProductSpu
from commerce.catalog.search import ProductQuery
from crm.jobs.runner import JobRunner, get_job


def _sheet(rows: list[list]) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append([label for _, label in COLUMNS])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def _run(services, rows):
    job = importing.submit_import(services.db, services.settings.var_dir, "商品.xlsx", _sheet(rows), created_by=1)
    JobRunner(services).run_pending()
    return get_job(services.db, job.id)


def test_import_creates_products_and_lists_bad_rows_writing_nothing_of_their_product(services):
    with services.db.write() as s:
        root = categories.create_category(s, {"name": "服装"}).id
        categories.create_category(s, {"name": "T恤", "parent_id": root})
        categories.save_brand(s, {"name": "优衣"})
    rows = [["T100", "纯棉T恤", "", "服装/T恤", "优衣", "颜色:红;尺码:M", "T100-RM", "99.9", "129", 10, 2, "在售", "已上架"],
            ["T100", "纯棉T恤", "", "", "", "颜色:红;尺码:L", "T100-RL", "99.90", "", 5, "", "", ""],
            ["C200", "羽绒服", "", "", "", "", "C200-1", "12.345", "", 1, "", "", ""],
            ["D300", "围巾", "", "", "无此品牌", "", "D300-1", "50", "", 1, "", "", ""],
            ["E400", "帽子", "", "", "", "", "E400-1", "-5", "", "x", "", "", ""]]
    job = _run(services, rows)
    assert job.status == "done" and "新建商品 1" in job.message and "失败 3 行" in job.message
    with services.db.read() as s:
        spu = s.exec(select(ProductSpu)).one()
        assert spu.code == "T100" and spu.shelf == "on" and spu.brand_id is not None
        prices = {k.code: (k.price_fen, k.market_price_fen, k.on_hand) for k in s.exec(select(ProductSku))}
    assert prices == {"T100-RM": (9990, 12900, 10), "T100-RL": (9990, None, 5)}
    sheet = load_workbook(Path(services.settings.var_dir) / job.result_path).active
    errors = [tuple(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert (4, "售价(元)", "售价(元)最多两位小数") in errors
    assert any(r[0] == 5 and r[1] == "品牌" and "无此品牌" in r[2] for r in errors)
    assert any(r[0] == 6 and r[1] == "售价(元)" for r in errors) and any(r[0] == 6 and r[1] == "库存" for r in errors)


def test_export_reimports_as_an_update(services):
    _run(services, [["T100", "纯棉T恤", "", "", "", "颜色:红", "T100-R", "99", "", 3, "", "", ""],
                    ["T100", "纯棉T恤", "", "", "", "颜色:蓝", "T100-B", "99", "", 4, "", "", ""]])
    with services.db.read() as s:
        data = importing.export_xlsx(s, ProductQuery())
    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    assert [c.value for c in ws[1]] == [label for _, label in COLUMNS]
    assert ws.max_row == 3
    ws.cell(row=2, column=8, value="88.00")  # 售价 of the first SKU
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    job = importing.submit_import(services.db, services.settings.var_dir, "导出.xlsx", out, created_by=1)
    JobRunner(services).run_pending()
    assert "更新商品 1" in get_job(services.db, job.id).message
    with services.db.read() as s:
        assert s.exec(select(func.count()).select_from(ProductSpu)).one() == 1
        prices = {k.code: (k.price_fen, k.on_hand) for k in s.exec(select(ProductSku))}
    assert prices == {"T100-R": (8800, 3), "T100-B": (9900, 4)}

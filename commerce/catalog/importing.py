"""商品导入/导出 (xlsx). An upload is a background job like 客户导入: the sheet is read and checked
once (one row per SKU; the rows of one product share its 商品编码), then each product is written in
its own transaction through the same service as the console form — new codes create products,
known codes update them (new spec combinations add SKUs, a 库存 figure is a 盘点调整). A product
with any bad row is not written at all; every bad row is listed in the error sheet with its
column and reason, and the product's other rows say why they were skipped."""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import BinaryIO, Optional

from openpyxl import Workbook
from sqlmodel import Session, select

from commerce.catalog import categories, products
from commerce.catalog.import_rows import COLUMNS, LABELS, SHELF_WORDS, RowError, cell, export_row, header_map, read_row
from commerce.catalog.models import ProductBrand, ProductSku, ProductSpu
from commerce.catalog.search import ProductQuery, conditions
from commerce.errors import CommerceError
from config.db import Database
from crm.customers.import_reader import SUFFIXES, read_rows, store_upload
from crm.customers.importing import write_error_sheet
from crm.jobs.models import Job
from crm.jobs.runner import register_handler, submit

KIND = "product_import"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_EXPORT_ROWS = 200_000
_SKU_KEY = re.compile(r"^skus\.(\d+)\.(\w+)$")
_FIELD_COLUMNS = {"code": "商品编码", "name": "商品名称", "subtitle": "副标题", "price_fen": "售价(元)",
                  "market_price_fen": "划线价(元)", "on_hand": "库存", "low_stock_threshold": "库存预警",
                  "specs": "规格", "spec_key": "规格", "status": "规格状态"}


def submit_import(db: Database, var_dir: Path, filename: str, stream: BinaryIO, *, created_by: Optional[int],
                  now=None) -> Job:
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise CommerceError("只支持 .xlsx 和 .csv 文件", {"file": "只支持 .xlsx 和 .csv 文件"})
    stored = store_upload(Path(var_dir) / "imports", "products", suffix, stream, MAX_UPLOAD_BYTES, CommerceError)
    params = {"path": str(stored.relative_to(var_dir)), "filename": Path(filename).name[:200], "var_dir": str(var_dir)}
    return submit(db, KIND, params, created_by, now=now)


def _read(path: Path) -> tuple[dict[str, list], list[RowError], int]:
    rows = read_rows(path)
    first = next(rows, None)
    if first is None:
        raise CommerceError("文件里没有内容（第一行应为表头）")
    columns = header_map(first[1])
    code_index = next(i for i, k in columns.items() if k == "code")
    groups: dict[str, list] = {}
    errors: list[RowError] = []
    bad_codes: set[str] = set()
    total = 0
    for number, cells in rows:
        total += 1
        if total > MAX_ROWS:
            raise CommerceError(f"一次最多导入 {MAX_ROWS} 行，请拆分文件")
        row = read_row(number, cells, columns, errors)
        code = cell(cells[code_index]) if code_index < len(cells) else ""
        if row is None:
            bad_codes.add(code)
            continue
        groups.setdefault(row.values["code"], []).append(row)
    for code in bad_codes:
        for row in groups.pop(code, []):
            errors.append(RowError(row.number, LABELS["code"], "同一商品的其他行有错误，整个商品未导入"))
    return groups, errors, total


def _lookup(session: Session, rows: list, errors: list[RowError]) -> Optional[dict]:
    """The product's own fields from its first row; 类目 by path (服装/T恤) or unique name, 品牌 by name."""
    first = rows[0].values
    data = {"code": first["code"], "name": first["name"], "subtitle": first["subtitle"]}
    flat = categories.flatten(categories.tree(session))
    if first["category"]:
        paths, names = {}, {}
        for node in flat:
            parent = paths.get(node["parent_id"], "")
            paths[node["id"]] = f"{parent}/{node['name']}" if parent else node["name"]
            names.setdefault(node["name"], []).append(node["id"])
        by_path = {p: i for i, p in paths.items()}
        match = by_path.get(first["category"].strip("/")) or (names.get(first["category"]) or [None, None])
        if isinstance(match, list):
            match = match[0] if len(match) == 1 else None
        if match is None:
            errors.append(RowError(rows[0].number, LABELS["category"], f"类目「{first['category']}」不存在或重名（请写完整路径）"))
            return None
        data["category_id"] = match
    if first["brand"]:
        brand = session.exec(select(ProductBrand.id).where(ProductBrand.name == first["brand"])).first()
        if brand is None:
            errors.append(RowError(rows[0].number, LABELS["brand"], f"品牌「{first['brand']}」不存在"))
            return None
        data["brand_id"] = brand
    dims: dict[str, list] = {}
    for row in rows:
        for name, value in row.sku["specs"].items():
            if value not in dims.setdefault(name, []):
                dims[name].append(value)
    data["spec_dims"] = [{"name": n, "values": v} for n, v in dims.items()]
    data["skus"] = [{k: v for k, v in row.sku.items() if v is not None or k == "market_price_fen"} for row in rows]
    return data


def _write_product(session: Session, rows: list, user_id: Optional[int], errors: list[RowError]) -> Optional[str]:
    """"created" / "updated", or None with the reasons added to `errors` (nothing written)."""
    data = _lookup(session, rows, errors)
    if data is None:
        return None
    existing = session.exec(select(ProductSpu).where(ProductSpu.code == data["code"],
                                                     ProductSpu.deleted_at.is_(None))).first()
    try:
        if existing is None:
            spu = products.create_spu(session, data, user_id=user_id)
        else:
            data.pop("code")
            spu = products.update_spu(session, existing.id, data, user_id=user_id)
        shelf = SHELF_WORDS.get(rows[0].values["shelf"], "")
        if shelf in ("on", "off"):
            products.set_shelf(session, spu.id, shelf, user_id=user_id)
    except CommerceError as exc:
        for key, message in (exc.errors or {"": exc.message}).items():
            match = _SKU_KEY.match(key)
            row = rows[int(match.group(1))] if match and int(match.group(1)) < len(rows) else rows[0]
            column = _FIELD_COLUMNS.get(match.group(2) if match else key.split(".")[0], "")
            errors.append(RowError(row.number, column, str(message)))
        return None
    return "created" if existing is None else "updated"


def run_import(db: Database, job: Job, progress, clock=None) -> dict:
    params = job.params or {}
    var_dir = Path(params["var_dir"])
    groups, errors, total = _read(var_dir / params["path"])
    counts = {"created": 0, "updated": 0}
    done = total - sum(len(r) for r in groups.values())
    progress(done, total, 0, len({e.row for e in errors}))
    for rows in groups.values():
        failed: list[RowError] = []
        try:
            with db.write() as session:
                outcome = _write_product(session, rows, job.created_by, failed)
                if outcome is None:
                    raise _Skip()
        except _Skip:
            outcome = None
        if outcome:
            counts[outcome] += 1
        else:
            flagged = {e.row for e in failed}
            errors += failed + [RowError(r.number, LABELS["code"], "同一商品的其他行有错误，整个商品未导入")
                                for r in rows if r.number not in flagged]
        done += len(rows)
        progress(done, total, counts["created"] + counts["updated"], len({e.row for e in errors}))
    result_path = ""
    if errors:
        sheet = var_dir / "imports" / f"product_errors_{job.id}.xlsx"
        write_error_sheet(sheet, errors)
        result_path = str(sheet.relative_to(var_dir))
    failed_rows = len({e.row for e in errors})
    message = f"共 {total} 行：新建商品 {counts['created']}，更新商品 {counts['updated']}，失败 {failed_rows} 行"
    return {"message": message, "result_path": result_path, "ok": total - failed_rows, "failed": failed_rows,
            "done": total, "total": total}


class _Skip(Exception):
    """Rolls back a product whose save was refused (the reasons are already collected)."""


def template_xlsx() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "商品"
    ws.append([label for _, label in COLUMNS])
    ws.append(["T100", "夏季纯棉T恤", "透气舒适", "服装/T恤", "", "颜色:红;尺码:M", "T100-RM", "99.00", "129.00", 50, 5, "在售", "草稿"])
    ws.append(["T100", "夏季纯棉T恤", "", "", "", "颜色:红;尺码:L", "T100-RL", "99.00", "129.00", 30, 5, "在售", ""])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export_xlsx(session: Session, query: ProductQuery) -> bytes:
    """Every SKU of the products the query finds, in the import layout (re-importable)."""
    flat = categories.flatten(categories.tree(session))
    paths = {}
    for node in flat:
        parent = paths.get(node["parent_id"], "")
        paths[node["id"]] = f"{parent}/{node['name']}" if parent else node["name"]
    brands = {b.id: b.name for b in categories.list_brands(session)}
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("商品")
    ws.append([label for _, label in COLUMNS])
    rows = session.exec(select(ProductSpu, ProductSku).join(ProductSku, ProductSku.spu_id == ProductSpu.id)
                        .where(*conditions(session, query)).order_by(ProductSpu.id, ProductSku.id)
                        .limit(MAX_EXPORT_ROWS))
    for spu, sku in rows:
        ws.append(export_row(spu, sku, paths.get(spu.category_id, ""), brands.get(spu.brand_id, "")))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


register_handler(KIND, run_import)

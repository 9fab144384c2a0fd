"""客户导入: an uploaded .xlsx / .csv becomes customers in the company pool (公司公海) or in a
customer group, with the chosen tags applied. Each import is a background Job (history, progress);
rows with problems are skipped and listed in a downloadable error sheet (row, column, reason).

The file is read and checked in Python once, then written in chunks of CHUNK rows, each chunk one
transaction of a few set-based statements (crm.customers.import_writer) — 100k rows take seconds,
and other writers are never locked out for long.
"""
from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Iterable, Optional

from openpyxl import Workbook

from config.clock import SystemClock
from config.db import Database
from crm.customers.companies import find_or_create_by_names
from crm.customers.fields import enum_items_by_field
from crm.customers.import_columns import import_columns, map_header
from crm.customers.import_reader import SUFFIXES, read_rows, store_upload
from crm.customers.import_rows import CheckedRows, RowChecker, RowError, failed_row_count
from crm.customers.import_writer import write_chunk
from crm.errors import CrmError
from crm.groups.models import CustomerGroup
from crm.jobs.models import Job
from crm.jobs.runner import register_handler, submit
from crm.scope import SYSTEM, Viewer
from crm.tags.models import Tag

KIND = "customer_import"
CHUNK = 5000
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000


def imports_dir(var_dir: Path) -> Path:
    return Path(var_dir) / "imports"


def _check_target(db: Database, group_id: Optional[int], tag_ids: list[int]) -> None:
    with db.read() as session:
        if group_id is not None and session.get(CustomerGroup, group_id) is None:
            raise CrmError("导入目标分组不存在", {"group_id": "分组不存在"})
        for tag_id in tag_ids:
            tag = session.get(Tag, tag_id)
            if tag is None or not tag.enabled:
                raise CrmError("要打的标签不存在或已停用", {"tag_ids": f"标签 {tag_id} 不存在或已停用"})


def submit_import(db: Database, var_dir: Path, filename: str, stream: BinaryIO, *, group_id: Optional[int] = None,
                  tag_ids: Optional[list[int]] = None, created_by: Optional[int] = None,
                  tz: str | None = None, now=None, permissions: Optional[Iterable[str]] = None) -> Job:
    """Stores the upload under var/imports and queues the import job. With the uploader's
    `permissions` (the console passes them), existing customers outside their scope are not updated;
    without, the import acts for the system (CLI, benchmarks)."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise CrmError("只支持 .xlsx 和 .csv 文件", {"file": "只支持 .xlsx 和 .csv 文件"})
    tag_ids = sorted({int(t) for t in tag_ids or []})
    _check_target(db, group_id, tag_ids)
    stored = store_upload(imports_dir(var_dir), "upload", suffix, stream, MAX_UPLOAD_BYTES)
    params = {"path": str(stored.relative_to(var_dir)), "filename": Path(filename).name[:200],
              "group_id": group_id, "tag_ids": tag_ids, "tz": tz, "var_dir": str(var_dir),
              "permissions": None if permissions is None else sorted(set(permissions))}
    return submit(db, KIND, params, created_by, now=now)


def check_file(db: Database, path: Path) -> CheckedRows:
    """Header mapped, every row checked (nothing written)."""
    with db.read() as session:
        columns = import_columns(session)
        enum_items = enum_items_by_field(session)
    rows = read_rows(path)
    first = next(rows, None)
    if first is None:
        raise CrmError("文件里没有内容（第一行应为表头）")
    header_map = map_header(first[1], columns)
    if not any(c.key in ("mobile", "email") for c in header_map.values()):
        raise CrmError("表头缺少「手机号」或「邮箱」列，请使用下载的导入模板")
    checker, out = RowChecker(header_map, enum_items), CheckedRows()
    for number, cells in rows:
        if out.total >= MAX_ROWS:
            raise CrmError(f"一次最多导入 {MAX_ROWS} 行，请拆分文件")
        checker.check(number, cells, out)
    return out


def write_error_sheet(path: Path, errors: list[RowError]) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("导入错误")
    ws.append(["行号", "列", "原因"])
    for e in sorted(errors, key=lambda e: (e.row, e.column)):
        ws.append([e.row, e.column, e.reason])
    wb.save(path)


def run_import(db: Database, job: Job, progress, clock=None) -> dict:
    params = job.params or {}
    var_dir = Path(params["var_dir"])
    clock = clock or SystemClock()
    checked = check_file(db, var_dir / params["path"])
    perms = params.get("permissions")
    viewer = SYSTEM if perms is None else Viewer(job.created_by, frozenset(perms))
    total_rows = checked.total
    errors = list(checked.errors)
    progress(checked.failed_rows, total_rows, 0, checked.failed_rows)
    with db.write() as session:
        company_ids = find_or_create_by_names(session, {r["company"] for r in checked.rows if r.get("company")})
    created = updated = 0
    for start in range(0, len(checked.rows), CHUNK):
        chunk = checked.rows[start:start + CHUNK]
        with db.write() as session:
            c, u, chunk_errors = write_chunk(session, chunk, company_ids=company_ids, group_id=params.get("group_id"),
                                             tag_ids=params.get("tag_ids") or [], operator_id=job.created_by,
                                             now=clock.now(), tz=params.get("tz"), viewer=viewer)
        created, updated, errors = created + c, updated + u, errors + chunk_errors
        progress(checked.failed_rows + start + len(chunk), total_rows, created + updated, failed_row_count(errors))
    result_path = ""
    if errors:
        sheet = imports_dir(var_dir) / f"errors_{job.id}.xlsx"
        write_error_sheet(sheet, errors)
        result_path = str(sheet.relative_to(var_dir))
    failed_rows = failed_row_count(errors)
    message = f"共 {total_rows} 行：新建 {created}，更新 {updated}，失败 {failed_rows}"
    return {"message": message, "result_path": result_path, "ok": created + updated, "failed": failed_rows,
            "done": total_rows, "total": total_rows}


register_handler(KIND, run_import)

"""客户导出: the current 客户档案 filter (view, quick filters, advanced filter, sort, chosen
columns) written to .xlsx or .csv as a background Job. Mobile numbers and e-mail addresses are
masked (138****8000) for users without 查看完整手机号 (pii.view), as in every list."""
from __future__ import annotations

import csv
import secrets
from pathlib import Path
from typing import Iterable, Optional

from openpyxl import Workbook

from config.db import Database
from config.pii import mask_text
from crm.customers.display import Presenter
from crm.customers.listing import ListQuery, chosen_columns, iter_filtered
from crm.errors import CrmError
from crm.jobs.models import Job
from crm.jobs.runner import register_handler, submit

KIND = "customer_export"
FORMATS = ("xlsx", "csv")
PII_COLUMNS = ("mobile", "email")


def exports_dir(var_dir: Path) -> Path:
    return Path(var_dir) / "exports"


def submit_export(db: Database, var_dir: Path, query: ListQuery, columns: list[str], fmt: str, *,
                  user_id: Optional[int], permissions: Iterable[str], tz: str | None = None, now=None) -> Job:
    if fmt not in FORMATS:
        raise CrmError("导出格式只能是 xlsx 或 csv", {"format": "导出格式只能是 xlsx 或 csv"})
    params = {"query": {"view": query.view, "quick": query.quick, "rows": query.rows,
                        "include_tags": query.include_tags, "exclude_tags": query.exclude_tags, "sort": query.sort},
              "columns": list(columns), "format": fmt, "user_id": user_id, "tz": tz, "var_dir": str(var_dir),
              # The permissions at the time of the request decide masking and visibility.
              "permissions": sorted(set(permissions))}
    return submit(db, KIND, params, user_id, now=now)


class _Sink:
    def __init__(self, path: Path, fmt: str):
        self.fmt = fmt
        if fmt == "xlsx":
            self.wb = Workbook(write_only=True)
            self.ws = self.wb.create_sheet("客户")
        else:
            self.fh = open(path, "w", newline="", encoding="utf-8-sig")
            self.writer = csv.writer(self.fh)
        self.path = path

    def append(self, row: list) -> None:
        if self.fmt == "xlsx":
            self.ws.append(row)
        else:
            self.writer.writerow(row)

    def close(self) -> None:
        if self.fmt == "xlsx":
            self.wb.save(self.path)
        else:
            self.fh.close()


def run_export(db: Database, job: Job, progress) -> dict:
    p = job.params or {}
    q = ListQuery(**p["query"])
    perms = set(p.get("permissions") or [])
    masked = "pii.view" not in perms
    tz = p.get("tz")
    folder = exports_dir(Path(p["var_dir"]))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"customers_{job.id}_{secrets.token_hex(6)}.{p['format']}"
    sink = _Sink(path, p["format"])
    count = 0
    try:
        with db.read() as session:
            columns = chosen_columns(session, p.get("columns"))
            presenter = Presenter(session, tz)
            sink.append(["编号"] + [c["label"] for c in columns])
            for batch in iter_filtered(session, p.get("user_id"), perms, q, tz=tz):
                for row in presenter.rows(batch, columns):
                    values = [row["id"]]
                    for c in columns:
                        value = row[c["key"]]
                        values.append(mask_text(value) if masked and c["key"] in PII_COLUMNS and value else value)
                    sink.append(values)
                count += len(batch)
                progress(count, count, count, 0)
    finally:
        sink.close()
    return {"message": f"已导出 {count} 位客户" + ("（手机号与邮箱已脱敏）" if masked else ""),
            "result_path": str(path.relative_to(Path(p["var_dir"]))), "ok": count, "done": count, "total": count}


register_handler(KIND, run_export)

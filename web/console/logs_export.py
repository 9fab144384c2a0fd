"""One export for every log page: the filtered rows as CSV (UTF-8 with BOM, so Excel reads the
Chinese) or as an Excel workbook, named after the page and the moment of export."""
from __future__ import annotations

import csv
import io
from typing import Iterable, Sequence

from flask import send_file
from openpyxl import Workbook

from config.clock import format_local
from web.extensions import services

FORMATS = ("csv", "xlsx")


def _safe(value) -> str:
    # A cell starting with = + - @ is a formula to Excel: a username typed as "=HYPERLINK(…)"
    # must stay text in the admin's spreadsheet.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def send_table(title: str, fmt: str, headers: Sequence[str], rows: Iterable[Sequence]):
    svc = services()
    stamp = format_local(svc.now(), "%Y%m%d_%H%M%S", svc.settings.timezone)
    if fmt == "xlsx":
        wb = Workbook(write_only=True)
        ws = wb.create_sheet(title[:31])
        ws.append(list(headers))
        for row in rows:
            ws.append([_safe(v) for v in row])
        buf = io.BytesIO()
        wb.save(buf)
        buf.seek(0)
        return send_file(buf, as_attachment=True, download_name=f"{title}_{stamp}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    text = io.StringIO()
    out = csv.writer(text)
    out.writerow(headers)
    for row in rows:
        out.writerow([_safe(v) for v in row])
    return send_file(io.BytesIO(text.getvalue().encode("utf-8-sig")), as_attachment=True,
                     download_name=f"{title}_{stamp}.csv", mimetype="text/csv")

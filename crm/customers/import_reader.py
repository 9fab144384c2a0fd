"""Reading an uploaded customer file: .xlsx (streamed, read-only) or .csv in UTF-8 (with or
without BOM) or GBK, as Excel in China often saves it. Yields the header, then each row as a
list of cell values; blank rows are skipped but still counted, so row numbers match the file.
Cells are cleaned of what no database stores (events.safe_json)."""
from __future__ import annotations

import csv
import io
import secrets
from pathlib import Path
from typing import BinaryIO, Iterator

from crm.errors import CrmError
from events.safe_json import scrub

SUFFIXES = (".xlsx", ".csv")


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gbk"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CrmError("CSV 文件编码无法识别（请保存为 UTF-8 或 GBK）", {"file": "CSV 文件编码无法识别"})


def _csv_rows(path: Path) -> Iterator[tuple[int, list]]:
    text = _decode(path.read_bytes())
    for number, row in enumerate(csv.reader(io.StringIO(text)), 1):
        yield number, row


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise CrmError(f"无法读取 Excel 文件：{type(exc).__name__}", {"file": "文件不是有效的 .xlsx"}) from None
    except Exception as exc:  # zipfile.BadZipFile and friends: not an xlsx at all
        raise CrmError(f"无法读取 Excel 文件：{type(exc).__name__}", {"file": "文件不是有效的 .xlsx"}) from None
    try:
        ws = wb.worksheets[0]
        for number, row in enumerate(ws.iter_rows(values_only=True), 1):
            yield number, list(row)
    finally:
        wb.close()


def read_rows(path: Path) -> Iterator[tuple[int, list]]:
    """(row number in the file, cells) for every non-blank row, header first."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise CrmError("只支持 .xlsx 和 .csv 文件", {"file": "只支持 .xlsx 和 .csv 文件"})
    rows = _xlsx_rows(path) if suffix == ".xlsx" else _csv_rows(path)
    for number, cells in rows:
        if any(c is not None and str(c).strip() for c in cells):
            # NUL and lone surrogates (a CSV byte, an xlsx "_x0000_" escape) are cleaned to U+FFFD
            # here, as every entrance must: the database could not store them.
            yield number, scrub(cells)


def store_upload(folder: Path, prefix: str, suffix: str, stream: BinaryIO, max_bytes: int,
                 error: type[CrmError] = CrmError) -> Path:
    """Streams an upload to `folder`, refusing it (with `error`) past `max_bytes` without reading
    the rest, or when it is empty."""
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"{prefix}_{secrets.token_hex(12)}{suffix}"
    size, too_big = 0, False
    with open(stored, "xb") as out:
        while block := stream.read(256 * 1024):
            size += len(block)
            too_big = size > max_bytes
            if too_big:
                break
            out.write(block)
    if too_big or size == 0:
        stored.unlink(missing_ok=True)
        reason = f"文件太大（最多 {max_bytes // (1024 * 1024)} MB）" if too_big else "文件是空的"
        raise error(reason, {"file": reason})
    return stored


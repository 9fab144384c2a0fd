"""客户导入模板: the columns an import file may have — built-in fields, then every custom field —
with Chinese headers, and the downloadable template (.xlsx or .csv) built from them. A file's
header may use the Chinese label or the field key; unknown headers are ignored."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Optional

from openpyxl import Workbook
from sqlmodel import Session

from crm.customers.fields import TYPE_LABELS, enum_items_by_field, list_fields
from crm.customers.models import CustomField


@dataclass(frozen=True)
class ImportColumn:
    key: str
    label: str
    hint: str
    field: Optional[CustomField] = None  # set for custom fields


BUILTIN = (
    ImportColumn("name", "姓名", "新客户必填"),
    ImportColumn("mobile", "手机号", "手机号与邮箱至少填一项；已有客户按手机号、再按邮箱匹配"),
    ImportColumn("email", "邮箱", ""),
    ImportColumn("wechat_id", "微信号", ""),
    ImportColumn("gender", "性别", "男 / 女"),
    ImportColumn("birthday", "生日", "例如 1990-05-01"),
    ImportColumn("city", "城市", ""),
    ImportColumn("source", "来源", ""),
    ImportColumn("company", "公司", "公司名称；不存在时自动创建"),
)


def import_columns(session: Session) -> list[ImportColumn]:
    items = enum_items_by_field(session)
    cols = list(BUILTIN)
    for f in list_fields(session):
        hint = TYPE_LABELS.get(f.type, f.type)
        if f.type == "enum":
            hint += "：" + " / ".join(i["label"] for i in items.get(f.key, []))
        if f.required:
            hint += "（新客户必填）"
        cols.append(ImportColumn(f.key, f.label, hint, f))
    return cols


def map_header(header: list, columns: list[ImportColumn]) -> dict[int, ImportColumn]:
    """Position in the file → column, by Chinese label or key (trimmed; a trailing * is ignored)."""
    by_name = {}
    for c in columns:
        by_name[c.label] = c
        by_name[c.key.lower()] = c
    out = {}
    for i, cell in enumerate(header):
        name = str(cell or "").strip().rstrip("*＊").strip()
        col = by_name.get(name) or by_name.get(name.lower())
        if col is not None and col not in out.values():
            out[i] = col
    return out


def template_xlsx(session: Session) -> bytes:
    cols = import_columns(session)
    wb = Workbook()
    ws = wb.active
    ws.title = "客户导入"
    ws.append([c.label for c in cols])
    example = {"name": "张三", "mobile": "13900000000", "email": "zhangsan@example.com", "gender": "男",
               "birthday": "1990-05-01", "city": "上海", "source": "展会"}
    ws.append([example.get(c.key, "") for c in cols])
    notes = wb.create_sheet("填写说明")
    notes.append(["列名", "说明"])
    for c in cols:
        notes.append([c.label, c.hint])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template_csv(session: Session) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerow([c.label for c in import_columns(session)])
    # utf-8-sig: Excel on Windows opens it with the Chinese headers intact.
    return buf.getvalue().encode("utf-8-sig")

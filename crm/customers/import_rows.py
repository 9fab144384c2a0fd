"""Checking each row of an import file before anything is written: contact details normalised,
types checked against 数据结构定义, duplicates inside the file found. A row with any problem is
left out whole and listed in the error sheet with its row number, column and reason; an empty
cell means "keep the existing value"."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from crm.customers import attrs as attr_values
from crm.customers.import_columns import ImportColumn
from crm.customers.normalize import BadContact, normalize_email, normalize_mobile

TEXT_LIMITS = {"name": 100, "wechat_id": 64, "city": 64, "source": 64, "company": 200}


@dataclass
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class CheckedRows:
    rows: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)  # one per bad cell: a row may have several
    failed_rows: int = 0

    @property
    def total(self) -> int:
        """Rows read from the file (good and refused), not error cells."""
        return len(self.rows) + self.failed_rows


def failed_row_count(errors: list[RowError]) -> int:
    return len({e.row for e in errors})


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class RowChecker:
    """Checks rows one by one, remembering mobiles and e-mails seen earlier in the same file."""

    def __init__(self, header_map: dict[int, ImportColumn], enum_items: dict[str, list[dict]]):
        self.header_map = header_map
        self.enum_items = enum_items
        self.seen_mobile: dict[str, int] = {}
        self.seen_email: dict[str, int] = {}
        self.required_new = [c for c in header_map.values() if c.key == "name" or (c.field and c.field.required)]

    def check(self, number: int, cells: list, out: CheckedRows) -> None:
        clean: dict = {"row_no": number, "attrs": {}}
        problems: list[RowError] = []
        for index, col in self.header_map.items():
            raw = cells[index] if index < len(cells) else None
            try:
                self._one(col, raw, clean)
            except (BadContact, attr_values.BadAttr, ValueError) as exc:
                problems.append(RowError(number, col.label, str(exc)))
        if not problems:
            self._keys(number, clean, problems)
        if problems:
            out.errors.extend(problems)
            out.failed_rows += 1
            return
        missing = [c.label for c in self.required_new if self._blank(c, clean)]
        clean["missing_new"] = "、".join(missing) or None
        out.rows.append(clean)

    @staticmethod
    def _blank(col: ImportColumn, clean: dict) -> bool:
        if col.field is not None:
            return clean["attrs"].get(col.key) is None
        return not clean.get(col.key)

    def _one(self, col: ImportColumn, raw, clean: dict) -> None:
        if col.field is not None:
            value = attr_values.coerce(col.field, raw, self.enum_items.get(col.key))
            if value is not None:
                clean["attrs"][col.key] = value
            return
        if col.key == "mobile":
            clean["mobile"] = normalize_mobile(raw)
        elif col.key == "email":
            clean["email"] = normalize_email(raw)
        elif col.key == "gender":
            text = _text(raw)
            if text not in ("", "男", "女"):
                raise ValueError(f"「{text}」不是性别（男 / 女）")
            clean["gender"] = text or None
        elif col.key == "birthday":
            clean["birthday"] = None if attr_values.is_blank(raw) else date.fromisoformat(attr_values.to_date_text(raw))
        else:
            text = _text(raw)
            if len(text) > TEXT_LIMITS.get(col.key, 100):
                raise ValueError(f"内容太长（最多 {TEXT_LIMITS.get(col.key, 100)} 字）")
            clean[col.key] = text or None

    def _keys(self, number: int, clean: dict, problems: list[RowError]) -> None:
        mobile, email = clean.get("mobile"), clean.get("email")
        if not mobile and not email:
            problems.append(RowError(number, "手机号", "手机号和邮箱至少填写一项（用于识别客户）"))
            return
        if mobile and mobile in self.seen_mobile:
            problems.append(RowError(number, "手机号", f"与第 {self.seen_mobile[mobile]} 行的手机号重复"))
        if email and email in self.seen_email:
            problems.append(RowError(number, "邮箱", f"与第 {self.seen_email[email]} 行的邮箱重复"))
        if not problems:
            if mobile:
                self.seen_mobile[mobile] = number
            if email:
                self.seen_email[email] = number

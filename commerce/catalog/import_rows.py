"""商品导入的一行: the columns of the product sheet (one row per SKU, rows of one product share its
商品编码), reading a row into the catalogue service's shape, and the template / export layout."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from commerce.catalog.money import fen_to_yuan, yuan_to_fen
from commerce.errors import CommerceError
from crm.customers.import_rows import RowError  # the one (row, column, reason) the error sheets list

COLUMNS = [("code", "商品编码"), ("name", "商品名称"), ("subtitle", "副标题"), ("category", "类目"), ("brand", "品牌"),
           ("specs", "规格"), ("sku_code", "SKU编码"), ("price", "售价(元)"), ("market_price", "划线价(元)"),
           ("on_hand", "库存"), ("threshold", "库存预警"), ("status", "规格状态"), ("shelf", "上下架")]
LABELS = dict(COLUMNS)
REQUIRED = ("code", "name", "price")
STATUS_WORDS = {"在售": "active", "停用": "disabled", "": "active", "active": "active", "disabled": "disabled"}
SHELF_WORDS = {"已上架": "on", "上架": "on", "已下架": "off", "下架": "off", "草稿": "draft", "": ""}
_SPEC = re.compile(r"[;；]")


@dataclass
class SheetRow:
    number: int
    values: dict
    sku: dict = field(default_factory=dict)


def header_map(cells: list) -> dict[int, str]:
    """Column index → key, by the header's Chinese labels (order free; unknown columns ignored)."""
    by_label = {label: key for key, label in COLUMNS}
    out = {}
    for index, cell in enumerate(cells):
        key = by_label.get(str(cell or "").strip())
        if key:
            out[index] = key
    missing = [LABELS[k] for k in REQUIRED if k not in out.values()]
    if missing:
        raise CommerceError("表头缺少列：" + "、".join(missing) + "（请使用下载的导入模板）", {"file": "表头缺少必填列"})
    return out


def cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_specs(text: str) -> dict:
    """"颜色:红;尺码:M" → {"颜色": "红", "尺码": "M"}."""
    specs = {}
    for part in _SPEC.split(text or ""):
        if not part.strip():
            continue
        match = re.match(r"([^:：=]*)[:：=](.*)", part.strip())
        if not match or not match.group(1).strip() or not match.group(2).strip():
            raise ValueError(part.strip())
        name, value = match.groups()
        specs[name.strip()] = value.strip()
    return specs


def read_row(number: int, cells: list, columns: dict[int, str], errors: list[RowError]) -> SheetRow | None:
    values = {key: "" for key, _ in COLUMNS}
    for index, key in columns.items():
        if index < len(cells):
            values[key] = cell(cells[index])
    bad = len(errors)
    for key in REQUIRED:
        if not values[key]:
            errors.append(RowError(number, LABELS[key], f"{LABELS[key]}不能为空"))
    sku = {"code": values["sku_code"]}
    for key, target, optional in (("price", "price_fen", False), ("market_price", "market_price_fen", True)):
        try:
            sku[target] = yuan_to_fen(values[key], key, LABELS[key], optional=optional) if values[key] or not optional else None
        except CommerceError as exc:
            errors.append(RowError(number, LABELS[key], exc.message))
    for key, target in (("on_hand", "on_hand"), ("threshold", "low_stock_threshold")):
        if values[key] and not values[key].isdigit():
            errors.append(RowError(number, LABELS[key], f"{LABELS[key]}必须是不小于 0 的整数"))
        elif values[key]:
            sku[target] = int(values[key])
    if values["status"] not in STATUS_WORDS:
        errors.append(RowError(number, LABELS["status"], "规格状态应为「在售」或「停用」"))
    else:
        sku["status"] = STATUS_WORDS[values["status"]]
    if values["shelf"] not in SHELF_WORDS:
        errors.append(RowError(number, LABELS["shelf"], "上下架应为「已上架」「已下架」或「草稿」"))
    try:
        sku["specs"] = parse_specs(values["specs"])
    except ValueError as exc:
        errors.append(RowError(number, LABELS["specs"], f"规格「{exc}」应写成 名称:值，多个用 ; 分隔"))
    return SheetRow(number, values, sku) if len(errors) == bad else None


def export_row(spu, sku, category: str, brand: str) -> list:
    specs = ";".join(f"{k}:{v}" for k, v in (sku.specs or {}).items())
    shelf = {"on": "已上架", "off": "已下架", "draft": "草稿"}.get(spu.shelf, "")
    return [spu.code, spu.name, spu.subtitle, category, brand, specs, sku.code, fen_to_yuan(sku.price_fen),
            fen_to_yuan(sku.market_price_fen), sku.on_hand, sku.low_stock_threshold,
            "停用" if sku.status == "disabled" else "在售", shelf]

"""The 商品 form: reads the posted fields into the catalogue service's shape (prices typed in 元
become exact 分 here; a bad one is refused naming its row and column), and turns the service's
field errors back into the form's input names so each message sits next to its input."""
from __future__ import annotations

import re

from flask import request

from commerce.catalog import specs as spec_rules
from commerce.catalog.money import fen_to_yuan, yuan_to_fen
from commerce.errors import CommerceError
from web.console.forms_common import FORM_ERROR
from web.input_limits import int_values

MAX_DIM_ROWS = 3
MAX_SKU_ROWS = spec_rules.MAX_COMBINATIONS
_SKU_ERROR = re.compile(r"^skus\.(\d+)\.(\w+)$")
SKU_INPUTS = {"price_fen": "price", "market_price_fen": "market", "on_hand": "stock", "low_stock_threshold": "threshold",
              "code": "code", "status": "status", "spec_key": "code"}


def _attributes(text: str) -> list[dict]:
    """One attribute per line, "材质：纯棉" (a full-width or ASCII colon, or =)."""
    rows = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        match = re.match(r"\s*([^:：=]*)[:：=](.*)", line)
        name, value = match.groups() if match else (line, "")
        rows.append({"name": name.strip(), "value": value.strip()})
    return rows


def attributes_text(attributes: list) -> str:
    return "\n".join(f"{a.get('name', '')}：{a.get('value', '')}" for a in attributes or [])


def dims_from_form() -> list[dict]:
    return [{"name": request.form.get(f"dim-{i}-name", ""), "values": request.form.get(f"dim-{i}-values", "")}
            for i in range(MAX_DIM_ROWS)]


def sku_rows_from_form() -> list[dict]:
    """The SKU table as typed (strings), keyed by spec_key."""
    rows = []
    for i in range(MAX_SKU_ROWS):
        key = request.form.get(f"sku-{i}-key")
        if key is None:
            break
        rows.append({"spec_key": key, **{name: request.form.get(f"sku-{i}-{name}", "").strip()
                                         for name in ("code", "price", "market", "stock", "stock0", "threshold", "status")}})
    return rows


def sku_table(dims: list[dict], typed: list[dict], existing: dict) -> list[dict]:
    """Rows for the combinations of `dims`: what was typed for a combination, else the saved SKU,
    else blanks (a new combination)."""
    typed_by_key = {r["spec_key"]: r for r in typed}
    rows = []
    for combo in spec_rules.combinations(dims):
        key = spec_rules.spec_key(combo, dims)
        row = typed_by_key.get(key)
        if row is None and key in existing:
            sku = existing[key]
            row = {"spec_key": key, "code": sku.code, "price": fen_to_yuan(sku.price_fen),
                   "market": fen_to_yuan(sku.market_price_fen), "stock": str(sku.on_hand), "stock0": str(sku.on_hand),
                   "threshold": str(sku.low_stock_threshold), "status": sku.status}
        rows.append({**(row or {"spec_key": key, "code": "", "price": "", "market": "", "stock": "", "threshold": "",
                                "status": "active"}), "label": spec_rules.label(combo)})
    return rows


def spu_data(skus: list[dict]) -> dict:
    """The service's input from the posted form; prices in 元 converted exactly."""
    form = request.form
    data = {key: form.get(key, "") for key in ("code", "name", "subtitle", "description", "link_url")}
    data.update(category_id=form.get("category_id") or None, brand_id=form.get("brand_id") or None,
                attributes=_attributes(form.get("attributes", "")), spec_dims=dims_from_form(),
                tag_ids=int_values(form.getlist("tag_ids")), audience_tag_ids=int_values(form.getlist("audience_tag_ids")),
                one_time=form.get("one_time") == "1", images=int_values(form.getlist("images")))
    appid = form.get("mp_appid", "").strip()
    data["miniprogram"] = {"appid": appid, "path": form.get("mp_path", ""), "title": form.get("mp_title", "")}
    entries = []
    for i, row in enumerate(skus):
        where = f"规格「{row.get('label') or row['spec_key'] or '默认'}」的"
        entry = {"spec_key": row["spec_key"], "code": row["code"], "status": row["status"] or "active",
                 "price_fen": yuan_to_fen(row["price"], f"sku-{i}-price", f"{where}售价"),
                 "market_price_fen": yuan_to_fen(row["market"], f"sku-{i}-market", f"{where}划线价", optional=True),
                 "low_stock_threshold": row["threshold"] or "0"}
        # Only a figure the person changed is a 盘点调整: the one shown when the form opened may be
        # stale by now (orders keep reserving and shipping), and must not be written back.
        if row["stock"] != "" and row["stock"] != row.get("stock0", ""):
            entry["on_hand"] = row["stock"]
        entries.append(entry)
    data["skus"] = entries
    return data


def form_errors(exc: CommerceError) -> dict[str, list[str]]:
    """Service error keys (skus.3.price_fen, spec_dims.0.values) → the form's input names."""
    errors: dict[str, list[str]] = {FORM_ERROR: [exc.message]}
    for key, message in (exc.errors or {}).items():
        match = _SKU_ERROR.match(key)
        if match:
            key = f"sku-{match.group(1)}-{SKU_INPUTS.get(match.group(2), match.group(2))}"
        elif key.startswith("spec_dims."):
            parts = key.split(".")
            key = f"dim-{parts[1]}-{parts[2] if len(parts) > 2 else 'name'}"
        errors.setdefault(key, []).append(str(message))
    return errors

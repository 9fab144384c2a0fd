"""Checks a product (SPU with its SKUs) as sent by the console form or the API, before anything is
written. Every problem names its field in Chinese; one bad SKU refuses the whole save."""
from __future__ import annotations

import re
from typing import Optional

from sqlmodel import Session, select

from commerce.catalog import specs as spec_rules
from commerce.catalog.models import SKU_STATES, ProductBrand, ProductCategory, ProductSku
from commerce.catalog.money import check_fen
from commerce.errors import CommerceError
from crm.tags.models import Tag

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
URL = re.compile(r"^https?://\S{3,490}$")
MAX_STOCK = 10_000_000


def refuse(field: str, message: str):
    raise CommerceError(message, {field: message})


def text(data: dict, key: str, label: str, limit: int, required: bool = False) -> str:
    value = data.get(key)
    if value is None:
        value = ""
    if not isinstance(value, str):
        refuse(key, f"{label}应为文本")
    value = value.strip()
    if required and not value:
        refuse(key, f"{label}不能为空")
    if len(value) > limit:
        refuse(key, f"{label}最多 {limit} 个字")
    return value


def code(value, field: str, label: str) -> str:
    value = str(value or "").strip()
    if not CODE.match(value):
        refuse(field, f"{label}只能由字母、数字、- _ . 组成，1–64 位")
    return value


def ref_id(session: Session, value, field: str, model, label: str) -> Optional[int]:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or isinstance(value, float):
        refuse(field, f"{label}不存在")
    try:
        ident = int(value)
    except (TypeError, ValueError):
        refuse(field, f"{label}不存在")
    if not 0 < ident < 2**63 or session.get(model, ident) is None:
        refuse(field, f"{label}不存在（ID {value}）")
    return ident


def count(value, field: str, label: str, limit: int = MAX_STOCK) -> int:
    """A whole number 0..limit; floats, "1.5", negatives and booleans are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        refuse(field, f"{label}必须是不小于 0 的整数")
    if isinstance(value, str):
        value = value.strip() or "0"
        if not value.isdigit():
            refuse(field, f"{label}必须是不小于 0 的整数")
        value = int(value)
    if not isinstance(value, int) or value < 0:
        refuse(field, f"{label}必须是不小于 0 的整数")
    if value > limit:
        refuse(field, f"{label}不能超过 {limit:,}")
    return value


def tag_ids(session: Session, raw, field: str, label: str) -> list[int]:
    """Shared (not personal) enabled tags, as a sorted unique list."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        refuse(field, f"{label}应为标签 ID 列表")
    ids = []
    for value in raw:
        ident = ref_id(session, value, field, Tag, f"{label}中的标签")
        tag = session.get(Tag, ident)
        if not tag.enabled or tag.owner_id is not None:
            refuse(field, f"{label}中的标签「{tag.name}」已停用或是个人标签")
        ids.append(ident)
    return sorted(set(ids))


def attributes(raw) -> list[dict]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list) or len(raw) > 50:
        refuse("attributes", "商品属性应为列表，最多 50 项")
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            refuse(f"attributes.{i}", f"第 {i + 1} 个属性格式不对")
        name, value = str(item.get("name") or "").strip(), str(item.get("value") or "").strip()
        if not name and not value:
            continue
        if not name or len(name) > 30 or len(value) > 200:
            refuse(f"attributes.{i}", f"第 {i + 1} 个属性：名称 1–30 个字，值最多 200 个字")
        out.append({"name": name, "value": value})
    return out


def miniprogram(raw) -> dict:
    if raw in (None, "", {}):
        return {}
    if not isinstance(raw, dict):
        refuse("miniprogram", "小程序应为 {appid, path, title}")
    out = {k: str(raw.get(k) or "").strip()[:200] for k in ("appid", "path", "title")}
    if any(out.values()) and not out["appid"]:
        refuse("miniprogram", "小程序卡片需要 appid")
    return out if any(out.values()) else {}


def images(raw) -> list[int]:
    """Material ids; that they exist is checked by the caller that owns the material store (web)."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list) or len(raw) > 20:
        refuse("images", "商品图片最多 20 张")
    out = []
    for value in raw:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            refuse("images", "商品图片应为素材 ID")
        if value not in out:
            out.append(value)
    return out


def spu_fields(session: Session, data: dict, current=None) -> dict:
    """The SPU's own fields that `data` carries (absent keys are left as they are on update)."""
    out = {}
    if current is None or "code" in data:
        out["code"] = code(data.get("code"), "code", "商品编码")
    if current is None or "name" in data:
        out["name"] = text(data, "name", "商品名称", 200, required=True)
    for key, label, limit in (("subtitle", "副标题", 300), ("description", "商品详情", 50000)):
        if key in data:
            out[key] = text(data, key, label, limit)
    if "link_url" in data:
        link = text(data, "link_url", "商品链接", 500)
        if link and not URL.match(link):
            refuse("link_url", "商品链接应以 http:// 或 https:// 开头")
        out["link_url"] = link
    if "category_id" in data:
        out["category_id"] = ref_id(session, data["category_id"], "category_id", ProductCategory, "类目")
    if "brand_id" in data:
        out["brand_id"] = ref_id(session, data["brand_id"], "brand_id", ProductBrand, "品牌")
    if "attributes" in data:
        out["attributes"] = attributes(data["attributes"])
    if "images" in data:
        out["images"] = images(data["images"])
    if "tag_ids" in data:
        out["tag_ids"] = tag_ids(session, data["tag_ids"], "tag_ids", "商品标签")
    if "audience_tag_ids" in data:
        # Only the tag part of 目标客户群 is edited here; conditions / saved query stay as they are.
        audience = dict(current.audience or {}) if current is not None else {}
        audience["tag_ids"] = tag_ids(session, data["audience_tag_ids"], "audience_tag_ids", "目标客户群标签")
        out["audience"] = audience
    if "miniprogram" in data:
        out["miniprogram"] = miniprogram(data["miniprogram"])
    if "one_time" in data:
        if not isinstance(data["one_time"], bool):
            refuse("one_time", "one_time 应为 true 或 false")
        out["one_time"] = data["one_time"]
    if "spec_dims" in data or current is None:
        out["spec_dims"] = spec_rules.clean_dims(data.get("spec_dims"))
    return out


def sku_entries(session: Session, raw, dims: list[dict], spu_code: str, existing: dict, *, creating: bool) -> dict:
    """{spec_key: {code, price_fen, market_price_fen, on_hand?, low_stock_threshold, status}} for the
    combinations of `dims`. `existing` is {spec_key: ProductSku} of the product being edited."""
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        refuse("skus", "skus 应为列表")
    combos = {spec_rules.spec_key(c, dims): c for c in spec_rules.combinations(dims)}
    given: dict[str, dict] = {}
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            refuse(f"skus.{i}", f"第 {i + 1} 个 SKU 格式不对")
        key = spec_rules.key_of(entry, dims, i)
        if key not in combos:
            refuse(f"skus.{i}.spec_key", f"第 {i + 1} 个 SKU 的规格「{key or '默认'}」不在规格维度的组合里")
        if key in given:
            refuse(f"skus.{i}.spec_key", f"规格「{spec_rules.label(combos[key])}」重复")
        given[key] = _sku_entry(entry, i, spec_rules.label(combos[key]), existing.get(key))
    if creating:
        missing = [spec_rules.label(c) for k, c in combos.items() if k not in given]
        if missing:
            refuse("skus", "请为每个规格填写售价：" + "、".join(missing[:5]))
    out, codes, serial = {}, {}, len(existing)
    for key, combo in combos.items():
        entry = given.get(key) or _carry(existing.get(key), given)
        if not entry.get("code"):
            serial += 1
            entry["code"] = f"{spu_code}-{serial:02d}"[:64]
        if entry["code"] in codes:
            refuse("skus", f"SKU 编码「{entry['code']}」重复")
        codes[entry["code"]] = key
        out[key] = {**entry, "specs": combo}
    # A code may move between this product's SKUs in one save (each SKU gets its new code), but
    # not onto a SKU that keeps its code: another product's, or one of ours whose combination went away.
    moving = {s.id for k, s in existing.items() if k in out}
    for sku_code in codes:
        taken = session.exec(select(ProductSku.id).where(ProductSku.code == sku_code)).first()
        if taken is not None and taken not in moving:
            own = taken in {s.id for s in existing.values()}
            refuse("skus", f"SKU 编码「{sku_code}」已被" + ("本商品已停用的规格使用" if own else "其他商品使用"))
    return out


def _carry(current, given: dict) -> dict:
    """A combination the caller did not send: keep an existing SKU as it is; a new one (dimensions
    grew) starts at the price of the first SKU sent, with no stock."""
    if current is not None:
        return {"code": current.code, "price_fen": current.price_fen, "market_price_fen": current.market_price_fen,
                "low_stock_threshold": current.low_stock_threshold, "status": "active"}
    first = next(iter(given.values()), {})
    return {"code": "", "price_fen": first.get("price_fen", 0), "market_price_fen": first.get("market_price_fen"),
            "low_stock_threshold": first.get("low_stock_threshold", 0), "status": "active"}


def _sku_entry(entry: dict, i: int, name: str, current) -> dict:
    where = f"规格「{name}」的"
    out = {"code": code(entry["code"], f"skus.{i}.code", f"{where}SKU 编码") if entry.get("code") else
           (current.code if current is not None else "")}
    if "price_fen" in entry or current is None:
        out["price_fen"] = check_fen(entry.get("price_fen"), f"skus.{i}.price_fen", f"{where}售价")
    else:
        out["price_fen"] = current.price_fen
    if "market_price_fen" in entry:
        out["market_price_fen"] = check_fen(entry["market_price_fen"], f"skus.{i}.market_price_fen",
                                            f"{where}划线价", optional=True)
    else:
        out["market_price_fen"] = current.market_price_fen if current is not None else None
    out["low_stock_threshold"] = count(entry.get("low_stock_threshold",
                                             current.low_stock_threshold if current is not None else 0),
                                       f"skus.{i}.low_stock_threshold", f"{where}库存预警值")
    status = entry.get("status", "active")
    if status not in SKU_STATES:
        refuse(f"skus.{i}.status", f"{where}状态应为 " + "/".join(SKU_STATES))
    out["status"] = status
    if "on_hand" in entry and entry["on_hand"] not in (None, ""):
        out["on_hand"] = count(entry["on_hand"], f"skus.{i}.on_hand", f"{where}库存")
    return out

"""规格维度 → SKUs. Dimensions such as 颜色 [红, 蓝] × 尺码 [M, L] give one SKU per combination,
keyed by a canonical spec_key ("颜色=红;尺码=M"). Editing the dimensions adds SKUs for new
combinations and disables (never deletes) SKUs whose combination went away, so their stock,
their orders and their movements stay."""
from __future__ import annotations

import itertools
import re

from commerce.errors import CommerceError

MAX_DIMS = 3
MAX_VALUES = 30
MAX_COMBINATIONS = 300
_SPLIT = re.compile(r"[,，、;；\s]+")
_FORBIDDEN = set("=;")


def _refuse(field: str, message: str):
    raise CommerceError(message, {field: message})


def clean_dims(raw) -> list[dict]:
    """[{"name": "颜色", "values": ["红", "蓝"]}] — values may also come as one string "红,蓝"."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        _refuse("spec_dims", "规格维度应为列表")
    dims, names = [], set()
    for i, dim in enumerate(raw):
        if not isinstance(dim, dict):
            _refuse(f"spec_dims.{i}", f"第 {i + 1} 个规格维度格式不对")
        name = str(dim.get("name") or "").strip()
        values = dim.get("values")
        if isinstance(values, str):
            values = [v for v in _SPLIT.split(values) if v]
        if not name and not values:
            continue  # an empty row of the form
        if not name or len(name) > 20 or set(name) & _FORBIDDEN:
            _refuse(f"spec_dims.{i}.name", f"第 {i + 1} 个规格维度的名称应为 1–20 个字，且不含 = ;")
        if name in names:
            _refuse(f"spec_dims.{i}.name", f"规格维度「{name}」重复")
        if not isinstance(values, list) or not values:
            _refuse(f"spec_dims.{i}.values", f"规格维度「{name}」至少要有一个值")
        clean = []
        for value in values:
            value = str(value).strip()
            if not value or len(value) > 30 or set(value) & _FORBIDDEN:
                _refuse(f"spec_dims.{i}.values", f"规格维度「{name}」的值应为 1–30 个字，且不含 = ;")
            if value in clean:
                _refuse(f"spec_dims.{i}.values", f"规格维度「{name}」的值「{value}」重复")
            clean.append(value)
        if len(clean) > MAX_VALUES:
            _refuse(f"spec_dims.{i}.values", f"规格维度「{name}」最多 {MAX_VALUES} 个值")
        names.add(name)
        dims.append({"name": name, "values": clean})
    if len(dims) > MAX_DIMS:
        _refuse("spec_dims", f"最多 {MAX_DIMS} 个规格维度")
    if len(combinations(dims)) > MAX_COMBINATIONS:
        _refuse("spec_dims", f"规格组合最多 {MAX_COMBINATIONS} 个，请减少规格值")
    return dims


def spec_key(specs: dict, dims: list[dict]) -> str:
    return ";".join(f"{d['name']}={specs[d['name']]}" for d in dims)


def combinations(dims: list[dict]) -> list[dict]:
    """Every {dim: value} combination in the dimensions' order; one empty combination without dims."""
    if not dims:
        return [{}]
    return [dict(zip([d["name"] for d in dims], values))
            for values in itertools.product(*[d["values"] for d in dims])]


def label(specs: dict) -> str:
    """"红 / M" for display; "默认" for a product without dimensions."""
    return " / ".join(str(v) for v in specs.values()) or "默认"


def key_of(entry: dict, dims: list[dict], index: int) -> str:
    """The spec_key an SKU entry of a form or API body is for (given as spec_key or as specs)."""
    if isinstance(entry.get("specs"), dict) and entry["specs"]:
        specs = entry["specs"]
        if set(specs) != {d["name"] for d in dims}:
            _refuse(f"skus.{index}.specs", f"第 {index + 1} 个 SKU 的规格与规格维度不一致")
        return spec_key({k: str(v) for k, v in specs.items()}, dims)
    return str(entry.get("spec_key") or "")

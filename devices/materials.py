"""素材管理: images uploaded once and reused in 内容库 items, 朋友圈 posts and group pushes.
A file is accepted only when its bytes really are a PNG, JPEG, GIF or WebP picture (a renamed
document is refused whatever its name says) and it is under the size limit; it is stored under
the materials folder with a random name, never the uploader's."""
from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Optional

from sqlalchemy import func
from sqlmodel import Session, select

from devices.content import ContentError
from devices.models import ContentItem, Material

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# The real type from the first bytes; SVG is deliberately absent (it can carry scripts).
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}


def sniff_image(data: bytes) -> Optional[str]:
    """"png" | "jpg" | "gif" | "webp" from the file's magic bytes, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def materials_dir(settings) -> Path:
    """settings.materials_dir when configured, else <var_dir>/materials."""
    configured = getattr(settings, "materials_dir", None)
    return Path(configured) if configured else Path(settings.var_dir) / "materials"


def max_bytes(settings) -> int:
    return int(getattr(settings, "material_max_bytes", 0) or DEFAULT_MAX_BYTES)


def _limit_text(limit: int) -> str:
    return f"{limit / 1024 / 1024:.0f} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"


def save_upload(session: Session, settings, filename: str, data: bytes, user_id: Optional[int],
                now: datetime) -> Material:
    filename = Path((filename or "").replace("\\", "/")).name.strip()[:255] or "未命名"
    limit = max_bytes(settings)
    if not data:
        raise ContentError("文件是空的", {"file": "文件是空的"})
    if len(data) > limit:
        raise ContentError(f"文件过大：上限 {_limit_text(limit)}", {"file": f"文件过大：上限 {_limit_text(limit)}"})
    kind = sniff_image(data)
    if kind is None:
        raise ContentError(f"「{filename}」不是图片（仅支持 PNG、JPG、GIF、WebP）",
                           {"file": "文件内容不是受支持的图片"})
    folder = materials_dir(settings) / now.strftime("%Y%m")
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"{secrets.token_hex(16)}.{kind}"
    stored.write_bytes(data)
    material = Material(filename=filename, stored_path=str(stored.relative_to(materials_dir(settings))),
                        mime=IMAGE_TYPES[kind], size=len(data), created_by=user_id, created_at=now)
    session.add(material)
    session.flush()
    return material


def get_material(session: Session, material_id: int) -> Material:
    material = session.get(Material, material_id)
    if material is None:
        raise ContentError("素材不存在或已删除")
    return material


def file_path(settings, material: Material) -> Optional[Path]:
    """The stored file, or None when it is missing or would lie outside the materials folder."""
    root = materials_dir(settings).resolve()
    path = (root / material.stored_path).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path


def list_materials(session: Session, keyword: str = "", page: int = 1, per_page: int = 24) -> tuple[list[Material], int]:
    conditions = [Material.filename.like(f"%{keyword}%")] if keyword else []
    total = session.exec(select(func.count()).select_from(Material).where(*conditions)).one()
    rows = session.exec(select(Material).where(*conditions).order_by(Material.created_at.desc(), Material.id.desc())
                        .offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def delete_material(session: Session, settings, material_id: int) -> None:
    """Refused while a 内容库 item still uses the picture (the post would lose its image)."""
    material = get_material(session, material_id)
    users = [i.title for i in session.exec(select(ContentItem)).all() if material_id in (i.material_ids or [])]
    if users:
        raise ContentError("素材正在被内容使用：" + "、".join(users[:5]) + ("等" if len(users) > 5 else ""))
    path = file_path(settings, material)
    session.delete(material)
    session.flush()
    if path is not None:
        path.unlink(missing_ok=True)

"""海报获客 and 渠道码: a marketer makes one poster per channel (地推、门店、公众号、合作伙伴 …),
each with its own QR code. A scan opens a short 留资 page; a filled form is an "add" and becomes a
lead of the poster's scene, carrying the poster's channel and plan. Scans and adds are counted per
code, so 渠道统计 shows which channel's posters bring people in, not only which get looked at.

The poster itself is drawn here (Pillow): the background colour, the title and subtitle in a
Chinese font, and the QR pointing at `{public base URL}/s/<token>`.

This module also holds what payment codes share with posters (checking the scene/channel/plan a
code points at, drawing a QR, minting tokens). Functions take the caller's Session and never
commit.
"""
from __future__ import annotations

import io
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Optional

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from crm.leads.errors import LeadsError, LeadNotFound
from crm.leads.models import AcquisitionPlan, LeadChannel, LeadScene, QrCode, QrScan

# Scenes whose posters make sense: the poster scene itself and plain web forms (a poster can
# advertise a 表单获客 scene too); the public page posts the same three fields to either.
POSTER_SCENE_TYPES = ("QR_CODE_SCAN", "WEB_FORM")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
# A phone-screen poster (750 × 1334 is the 2× iPhone size most 海报 tools use).
POSTER_SIZE = (750, 1334)
QR_BOX_SIZE = 10  # pixels per QR module (smaller on the poster when a long link needs more modules)
QR_BORDER = 2  # quiet zone, in modules
QR_TOP = 600  # where the QR card starts on the poster
QR_MAX_PIXELS = 460  # the QR never grows past this on the poster, so the card always fits
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)
FONT_DIRS = ("/usr/share/fonts",)  # searched for any *CJK* font when none of the above exists


# --- shared with payment codes ---------------------------------------------------------------

def new_token(session: Session, model) -> str:
    """An unguessable token for a public link (`/s/<token>`, `/pay/<token>`), unique in `model`."""
    while True:
        token = secrets.token_urlsafe(12)  # 16 characters, 96 bits
        if session.exec(select(model.id).where(model.token == token)).first() is None:
            return token


def find_by_token(session: Session, model, token: str):
    """The code behind a public link, or None (tokens are at most 32 characters)."""
    if not token or len(token) > 32:
        return None
    return session.exec(select(model).where(model.token == token)).first()


def get_row(session: Session, model, row_id: int, missing: str):
    row = session.get(model, row_id)
    if row is None:
        raise LeadNotFound(missing)
    return row


def store(session: Session, row):
    session.add(row)
    session.flush()
    return row


def _int_or_none(value, field: str, label: str) -> Optional[int]:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise LeadsError(f"{label}无效", {field: f"请选择有效的{label}"})


def check_links(session: Session, data: dict, scene_types: tuple[str, ...]) -> tuple[LeadScene, Optional[int], Optional[int]]:
    """The scene, channel id and plan id a code points at, each checked: the scene exists and is of
    an allowed type, the channel exists and is active, the plan belongs to that scene. A missing
    channel falls back to the scene's default channel."""
    scene_id = _int_or_none(data.get("scene_id"), "scene_id", "获客场景")
    scene = session.get(LeadScene, scene_id) if scene_id else None
    if scene is None:
        raise LeadsError("请选择获客场景", {"scene_id": "请选择获客场景"})
    if scene.scene_type not in scene_types:
        raise LeadsError("获客场景类型不符", {"scene_id": "该场景类型不能用于此处，请选择其他场景"})
    channel_id = _int_or_none(data.get("channel_id"), "channel_id", "渠道") or scene.default_channel_id
    if channel_id is not None:
        channel = session.get(LeadChannel, channel_id)
        if channel is None or not channel.is_active:
            raise LeadsError("渠道不存在或已停用", {"channel_id": "渠道不存在或已停用"})
    plan_id = _int_or_none(data.get("plan_id"), "plan_id", "获客计划")
    if plan_id is not None:
        plan = session.get(AcquisitionPlan, plan_id)
        if plan is None or plan.scene_id != scene.id:
            raise LeadsError("获客计划不属于该场景", {"plan_id": "获客计划不存在或不属于所选场景"})
    return scene, channel_id, plan_id


def clean_text(data: dict, field: str, label: str, max_len: int, required: bool = False) -> str:
    value = str(data.get(field) or "").strip()
    if required and not value:
        raise LeadsError(f"请填写{label}", {field: f"请填写{label}"})
    if len(value) > max_len:
        raise LeadsError(f"{label}过长", {field: f"{label}不能超过 {max_len} 个字"})
    return value


def _qr(url: str, box_size: int = QR_BOX_SIZE):
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=QR_BORDER)
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_matrix(url: str) -> list[list[bool]]:
    """The QR modules (True = dark) for `url`, border included: what a scanner reads."""
    return _qr(url).get_matrix()


def qr_image(url: str, box_size: int = QR_BOX_SIZE):
    """The QR of `url` as a Pillow image (black on white), `box_size` pixels per module."""
    return _qr(url, box_size).make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    qr_image(url).save(buffer, format="PNG")
    return buffer.getvalue()


# --- poster codes ---------------------------------------------------------------------------

def create_code(session: Session, data: dict) -> QrCode:
    """A new poster/channel code; LeadsError names the bad field."""
    scene, channel_id, plan_id = check_links(session, data, POSTER_SCENE_TYPES)
    title = clean_text(data, "title", "海报标题", 100, required=True)
    subtitle = clean_text(data, "subtitle", "副标题", 200)
    color = str(data.get("color") or "#1f6feb").strip()
    if not COLOR_RE.match(color):
        raise LeadsError("背景色无效", {"color": "背景色应为 #RRGGBB 格式，如 #1f6feb"})
    target = clean_text(data, "target_url", "提交后跳转链接", 1000)
    if target and not re.match(r"^https?://[^\s/]+", target):
        raise LeadsError("跳转链接无效", {"target_url": "跳转链接须以 http:// 或 https:// 开头"})
    return store(session, QrCode(token=new_token(session, QrCode), scene_id=scene.id, channel_id=channel_id,
                                 plan_id=plan_id, title=title, subtitle=subtitle, color=color.lower(), target_url=target))


def get_code(session: Session, code_id: int) -> QrCode:
    return get_row(session, QrCode, code_id, "渠道码不存在或已删除")


def code_by_token(session: Session, token: str) -> Optional[QrCode]:
    return find_by_token(session, QrCode, token)


def list_codes(session: Session, *, scene_id: Optional[int] = None, channel_id: Optional[int] = None) -> list[QrCode]:
    stmt = select(QrCode).order_by(col(QrCode.id).desc())
    if scene_id:
        stmt = stmt.where(QrCode.scene_id == scene_id)
    if channel_id:
        stmt = stmt.where(QrCode.channel_id == channel_id)
    return list(session.exec(stmt))


def record_scan(session: Session, token: str, ip: str) -> QrCode:
    """Counts one scan of the code (the landing page was opened)."""
    code = code_by_token(session, token)
    if code is None:
        raise LeadNotFound("二维码无效或已失效")
    # An UPDATE … SET scans = scans + 1 so simultaneous scans from several web processes all count.
    session.exec(update(QrCode).where(QrCode.id == code.id).values(scans=QrCode.scans + 1))
    session.add(QrScan(qr_code_id=code.id, kind="scan", client_ip=(ip or "")[:64]))
    session.flush()
    session.refresh(code)
    return code


def record_add(session: Session, token: str, lead_id: Optional[int]) -> QrCode:
    """Counts one conversion of the code: a visitor left their details and became `lead_id`."""
    code = code_by_token(session, token)
    if code is None:
        raise LeadNotFound("二维码无效或已失效")
    session.exec(update(QrCode).where(QrCode.id == code.id).values(adds=QrCode.adds + 1))
    session.add(QrScan(qr_code_id=code.id, kind="add", lead_id=lead_id))
    session.flush()
    session.refresh(code)
    return code


def channel_stats(session: Session, scene_id: Optional[int] = None) -> list[dict]:
    """Per channel: codes, scans, adds and conversion (adds ÷ scans), busiest channel first.
    Codes without a channel are reported as 未指定渠道."""
    stmt = (select(QrCode.channel_id, func.count(QrCode.id), func.coalesce(func.sum(QrCode.scans), 0),
                   func.coalesce(func.sum(QrCode.adds), 0))
            .group_by(QrCode.channel_id))
    if scene_id:
        stmt = stmt.where(QrCode.scene_id == scene_id)
    rows = list(session.exec(stmt))
    ids = [r[0] for r in rows if r[0] is not None]
    names = {cid: name for cid, name in session.exec(
        select(LeadChannel.id, LeadChannel.name).where(col(LeadChannel.id).in_(ids)))} if ids else {}
    out = []
    for channel_id, codes, scans, adds in rows:
        scans, adds = int(scans), int(adds)
        out.append({"channel_id": channel_id, "channel_name": names.get(channel_id, "未指定渠道"), "codes": int(codes),
                    "scans": scans, "adds": adds, "conversion": round(adds / scans, 4) if scans else 0.0})
    out.sort(key=lambda r: (-r["scans"], -r["adds"], r["channel_name"]))
    return out


# --- drawing --------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _font_path() -> Optional[str]:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    for folder in FONT_DIRS:
        found = sorted(Path(folder).rglob("*CJK*.tt[cf]")) if Path(folder).is_dir() else []
        if found:
            return str(found[0])
    return None


@lru_cache(maxsize=16)
def _font(size: int):
    from PIL import ImageFont

    path = _font_path()
    if path is None:  # no CJK font on this machine: Chinese renders as boxes, the QR still scans
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(path, size=size)


def _wrap(draw, text: str, font, width: int, max_lines: int) -> list[str]:
    """Breaks Chinese text (no spaces) by measured width; the last line gets an ellipsis."""
    lines, current = [], ""
    for char in text:
        if draw.textlength(current + char, font=font) > width and current:
            lines.append(current)
            current = char
        else:
            current += char
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…"
    return lines


def text_color(hex_color: str) -> tuple[int, int, int]:
    """White on dark backgrounds, near-black on light ones (relative luminance)."""
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return (255, 255, 255) if 0.299 * r + 0.587 * g + 0.114 * b < 160 else (17, 24, 39)


def poster_qr_geometry(url: str) -> tuple[int, int, int]:
    """Where the QR sits on the poster: (left, top, pixels per module), centred on the card."""
    modules = len(qr_matrix(url))
    box = max(2, min(QR_BOX_SIZE, QR_MAX_PIXELS // modules))
    return (POSTER_SIZE[0] - modules * box) // 2, QR_TOP + 40, box


def poster_url(code: QrCode, base_url: str) -> str:
    return f"{base_url.rstrip('/')}/s/{code.token}"


def poster_png(code: QrCode, base_url: str, channel_name: str = "") -> bytes:
    """The poster as PNG: colour, title, subtitle, a white card with the QR and 长按识别二维码."""
    from PIL import Image, ImageDraw

    width, height = POSTER_SIZE
    color = code.color if COLOR_RE.match(code.color or "") else "#1f6feb"
    image = Image.new("RGB", POSTER_SIZE, color)
    draw = ImageDraw.Draw(image)
    ink = text_color(color)
    y = 140
    title_font = _font(64)
    for line in _wrap(draw, code.title, title_font, width - 120, 3):
        draw.text((width // 2, y), line, font=title_font, fill=ink, anchor="ma")
        y += 84
    if code.subtitle:
        y += 20
        sub_font = _font(34)
        for line in _wrap(draw, code.subtitle, sub_font, width - 140, 3):
            draw.text((width // 2, y), line, font=sub_font, fill=ink, anchor="ma")
            y += 50
    url = poster_url(code, base_url)
    x, qr_y, box = poster_qr_geometry(url)
    qr = qr_image(url, box)
    card = (x - 40, QR_TOP, x + qr.width + 40, qr_y + qr.height + 110)
    draw.rounded_rectangle(card, radius=28, fill=(255, 255, 255))
    image.paste(qr, (x, qr_y))
    caption_font = _font(30)
    draw.text((width // 2, qr_y + qr.height + 30), "长按识别二维码", font=caption_font, fill=(55, 65, 81), anchor="ma")
    if channel_name:
        draw.text((width // 2, height - 90), f"渠道：{channel_name}", font=_font(26), fill=ink, anchor="ma")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()

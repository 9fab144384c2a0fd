"""A participant's personal poster: the campaign's template — a background (an uploaded material
image, else the colour), title and subtitle, the QR at the template's position and size — with
the QR carrying the participant's own invite link. Drawn with the lead posters' Pillow/qrcode
helpers (crm.leads.posters), so fonts, wrapping and QR rendering are one implementation."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Optional

from crm.leads import posters as base

SIZE = base.POSTER_SIZE


def qr_geometry(poster: dict, url: str) -> tuple[int, int, int]:
    """(left, top, pixels per module) of the QR on the poster: the template's box, whole modules,
    kept inside the canvas."""
    modules = len(base.qr_matrix(url))
    box = max(2, int(poster.get("qr_size") or 320) // modules)
    side = modules * box
    left = min(max(0, int(poster.get("qr_x") or 0)), SIZE[0] - side)
    top = min(max(0, int(poster.get("qr_y") or 0)), SIZE[1] - side)
    return left, top, box


def _background(poster: dict, background: Optional[Path]):
    from PIL import Image

    color = poster.get("color") if base.COLOR_RE.match(poster.get("color") or "") else "#d9381e"
    if background is not None and background.is_file():
        try:
            with Image.open(background) as img:
                return img.convert("RGB").resize(SIZE), color
        except OSError:  # not an image after all: fall back to the colour, the QR still scans
            pass
    return Image.new("RGB", SIZE, color), color


def poster_png(poster: dict, url: str, nickname: str = "", background: Optional[Path] = None) -> bytes:
    from PIL import ImageDraw

    image, color = _background(poster, background)
    draw = ImageDraw.Draw(image)
    ink = base.text_color(color)
    y = 120
    title_font = base._font(60)
    for line in base._wrap(draw, str(poster.get("title") or ""), title_font, SIZE[0] - 120, 3):
        draw.text((SIZE[0] // 2, y), line, font=title_font, fill=ink, anchor="ma")
        y += 80
    if poster.get("subtitle"):
        sub_font = base._font(32)
        for line in base._wrap(draw, str(poster["subtitle"]), sub_font, SIZE[0] - 140, 3):
            draw.text((SIZE[0] // 2, y + 10), line, font=sub_font, fill=ink, anchor="ma")
            y += 48
    left, top, box = qr_geometry(poster, url)
    qr = base.qr_image(url, box)
    draw.rounded_rectangle((left - 24, top - 24, left + qr.width + 24, top + qr.height + 80), radius=24,
                           fill=(255, 255, 255))
    image.paste(qr, (left, top))
    draw.text((left + qr.width // 2, top + qr.height + 20), "长按识别二维码，加入活动", font=base._font(26),
              fill=(55, 65, 81), anchor="ma")
    if nickname:
        draw.text((SIZE[0] // 2, SIZE[1] - 80), f"{nickname[:20]} 邀请你参加", font=base._font(28), fill=ink, anchor="ma")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()

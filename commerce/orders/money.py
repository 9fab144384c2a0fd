"""Money at the door of 订单: an amount is a whole number of 分 (fen). The API takes integers only
(9.9 is refused, never rounded: a float price is a client bug that would drift); the console and
the platforms speak 元 as text ("9.90"), converted exactly through Decimal."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from commerce.errors import CommerceError

MAX_FEN = 10 ** 12  # 100 亿元: anything larger is a typo


def check_fen(value, field: str, label: str = "金额", *, allow_zero: bool = True) -> int:
    """A whole number of 分 (an int, or digits in a string); floats and booleans are refused."""
    bad = f"{label}必须是以分为单位的整数"
    if isinstance(value, bool) or isinstance(value, float):
        raise CommerceError(bad, {field: bad})
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("-").isdigit():
            raise CommerceError(bad, {field: bad})
        value = int(text)
    if not isinstance(value, int):
        raise CommerceError(bad, {field: bad})
    if value < 0 or (value == 0 and not allow_zero) or value > MAX_FEN:
        message = f"{label}应{'大于' if not allow_zero else '不小于'} 0 且不超过 {MAX_FEN // 100:,} 元"
        raise CommerceError(message, {field: message})
    return value


def yuan_to_fen(value, field: str, label: str = "金额") -> int:
    """元 as typed or sent by a platform ("9.9", 9.9, "12") → 分, exactly; more than 2 decimals refused."""
    bad = f"{label}应为金额（元），最多两位小数"
    if isinstance(value, bool) or value is None:
        raise CommerceError(bad, {field: bad})
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("¥", "").replace("￥", ""))
    except InvalidOperation:
        raise CommerceError(bad, {field: bad}) from None
    if not amount.is_finite() or amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise CommerceError(bad, {field: bad})
    return check_fen(int(amount * 100), field, label)


def fen_text(fen: int) -> str:
    """分 → "¥1,234.50" for pages and messages."""
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"

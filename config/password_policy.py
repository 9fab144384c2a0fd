"""The staff password policy, in one place: crm.people enforces it on every password, and 参数配置
checks the 初始密码 against it before storing one that would then be refused at use."""
from __future__ import annotations

from typing import Optional

MIN_LENGTH = 8
MAX_LENGTH = 128


def problem(password: str) -> Optional[str]:
    """What is wrong with a password (Chinese, shown to staff), or None when it passes."""
    if not password or len(password) < MIN_LENGTH:
        return f"密码至少需要 {MIN_LENGTH} 个字符"
    if len(password) > MAX_LENGTH:
        return f"密码不能超过 {MAX_LENGTH} 个字符"
    if not any(c.isascii() and c.isalpha() for c in password):
        return "密码必须包含字母"
    if not any(c.isdigit() for c in password):
        return "密码必须包含数字"
    return None

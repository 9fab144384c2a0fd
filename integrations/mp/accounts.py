"""微信授权: the 公众号 accounts an operator connects — appid and AppSecret (sealed with the project's
SecretBox, never shown again), the server-config Token and EncodingAESKey, the message mode
(明文/兼容/安全) and the 默认客服 who receives messages of fans not bound to an owned customer.

Each account gets a random callback key: the URL pasted into 公众平台 → 设置与开发 → 基本配置 is
/mp/callback/<key>. Callback outcomes are counted per account (accepted, duplicate, each refusal)."""
from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Optional

from sqlalchemy import func, update
from sqlmodel import Session, select

from config.clock import utcnow
from config.dialect_insert import insert_for
from config.secrets_box import SecretBox
from crm.people.models import User
from integrations import wxcrypto
from integrations.errors import IntegrationError, IntegrationNotFound
from integrations.mp.models import MODES, OUTCOMES, MpAccount, MpCallbackCount

APPID_RE = re.compile(r"^wx[0-9a-zA-Z]{14,30}$")
TOKEN_RE = re.compile(r"^[0-9A-Za-z]{3,32}$")  # 公众平台: 3–32 letters or digits
FIELDS = ("name", "appid", "secret", "token", "aes_key", "mode", "default_user_id", "enabled")


def list_accounts(session: Session) -> list[MpAccount]:
    return list(session.exec(select(MpAccount).order_by(MpAccount.id)))


def get_account(session: Session, account_id: int) -> MpAccount:
    row = session.get(MpAccount, account_id)
    if row is None:
        raise IntegrationNotFound(f"公众号 {account_id} 不存在")
    return row


def by_callback_key(session: Session, key: str) -> Optional[MpAccount]:
    return session.exec(select(MpAccount).where(MpAccount.callback_key == str(key)[:32])).first()


def _user_id(session: Session, value) -> Optional[int]:
    if value in (None, ""):
        return None
    try:
        user = session.get(User, int(value))
    except (TypeError, ValueError, OverflowError):
        user = None
    if user is None or not user.enabled:
        raise IntegrationError("默认客服不存在或已停用", {"default_user_id": "请选择一名启用中的员工"})
    return user.id


def _clean(session: Session, data: dict, existing: Optional[MpAccount]) -> dict:
    errors: dict[str, str] = {}
    name = str(data.get("name") or "").strip()
    appid = str(data.get("appid") or "").strip()
    secret = str(data.get("secret") or "").strip()
    token = str(data.get("token") or "").strip()
    aes_key = str(data.get("aes_key") or "").strip()
    mode = str(data.get("mode") or "safe")
    if not name or len(name) > 100:
        errors["name"] = "请填写公众号名称（最多 100 个字符）"
    if not APPID_RE.match(appid):
        errors["appid"] = "AppID 以 wx 开头，由字母和数字组成（公众平台 → 设置与开发 → 基本配置）"
    else:
        clash = session.exec(select(MpAccount).where(MpAccount.appid == appid)).first()
        if clash is not None and (existing is None or clash.id != existing.id):
            errors["appid"] = f"AppID 已被公众号「{clash.name}」使用"
    if not secret and existing is None:
        errors["secret"] = "请填写 AppSecret"
    elif secret and not re.match(r"^[0-9a-zA-Z]{16,64}$", secret):
        errors["secret"] = "AppSecret 由 16–64 位字母和数字组成"
    if not TOKEN_RE.match(token):
        errors["token"] = "Token 为 3–32 位字母或数字，须与公众平台服务器配置一致"
    if mode not in MODES:
        errors["mode"] = "请选择消息加解密方式"
    if mode != "plain" or aes_key:
        try:
            wxcrypto.aes_key(aes_key)
        except IntegrationError as exc:
            errors["aes_key"] = exc.message
    try:
        default_user_id = _user_id(session, data.get("default_user_id"))
    except IntegrationError as exc:
        errors.update(exc.errors)
        default_user_id = None
    if errors:
        raise IntegrationError("请检查标红的字段", errors)
    enabled = data.get("enabled")
    return {"name": name, "appid": appid, "secret": secret, "token": token, "aes_key": aes_key, "mode": mode,
            "default_user_id": default_user_id, "enabled": True if enabled is None else bool(enabled)}


def save_account(session: Session, box: SecretBox, data: dict, account_id: Optional[int] = None,
                 now: Optional[datetime] = None) -> MpAccount:
    """Creates (account_id None) or updates an account. A blank AppSecret on edit keeps the stored one."""
    now = now or utcnow()
    row = get_account(session, account_id) if account_id is not None else None
    values = _clean(session, data, row)
    if row is None:
        row = MpAccount(name=values["name"], appid=values["appid"], callback_key=secrets.token_urlsafe(16)[:22],
                        created_at=now)
    if values["secret"]:
        if row.appid != values["appid"] or row.secret_sealed:
            row.access_token_sealed, row.access_token_expires_at = "", None  # a new secret: token no longer valid
        row.secret_sealed = box.seal(values["secret"])
    elif row.appid != values["appid"]:
        raise IntegrationError("更换 AppID 时须重新填写 AppSecret", {"secret": "更换 AppID 时须重新填写 AppSecret"})
    for name in ("name", "appid", "token", "aes_key", "mode", "default_user_id", "enabled"):
        setattr(row, name, values[name])
    row.updated_at = now
    session.add(row)
    session.flush()
    return row


def generate_aes_key() -> str:
    """A fresh EncodingAESKey of letters and digits only: 公众平台's form accepts nothing else."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(43))


def open_secret(box: SecretBox, account: MpAccount) -> str:
    if not account.secret_sealed:
        raise IntegrationError("该公众号还没有填写 AppSecret", {"secret": "请填写 AppSecret"})
    return box.open(account.secret_sealed)


def count(session: Session, account_id: int, outcome: str, now: datetime) -> None:
    """Adds one to the account's counter for `outcome` (an UPSERT: concurrent callbacks both count);
    an accepted push also moves the account's 最近推送 time."""
    if outcome == "accepted":
        session.execute(update(MpAccount.__table__).where(MpAccount.__table__.c.id == account_id)
                        .values(last_callback_at=now))
    outcome = outcome if outcome in OUTCOMES else "malformed"
    table = MpCallbackCount.__table__
    stmt = insert_for(session)(table).values(account_id=account_id, outcome=outcome, count=1, last_at=now)
    session.execute(stmt.on_conflict_do_update(index_elements=["account_id", "outcome"],
                                               set_={"count": table.c.count + 1, "last_at": now}))


def counts(session: Session) -> dict[int, dict[str, int]]:
    """{account_id: {outcome: count}} for the overview."""
    out: dict[int, dict[str, int]] = {}
    for account_id, outcome, n in session.exec(select(MpCallbackCount.account_id, MpCallbackCount.outcome,
                                                      func.sum(MpCallbackCount.count))
                                               .group_by(MpCallbackCount.account_id, MpCallbackCount.outcome)):
        out.setdefault(account_id, {})[outcome] = int(n or 0)
    return out


def staff_choices(session: Session) -> list[tuple[int, str]]:
    return [(u.id, u.display_name or u.username)
            for u in session.exec(select(User).where(User.enabled == True).order_by(User.id))]  # noqa: E712

"""The callback endpoint's logic (企业微信 → us): URL verification (GET with echostr) and event
pushes (POST). Every check refuses with a stable reason, answered 403 and counted:

- stale_timestamp: the timestamp is more than `wecom_callback_max_skew_seconds` from our clock;
- bad_signature: msg_signature ≠ sha1(sort(token, timestamp, nonce, Encrypt));
- bad_padding / wrong_receiver / malformed: from integrations.wxcrypto (a key or ReceiveId that
  is not ours, a tampered ciphertext);
- replay: the (nonce, timestamp) of a correctly signed callback already seen.

Accepted events are not trusted as state: callbacks arrive out of order or not at all, so each
one re-fetches the contact (externalcontact/get) or the chat (groupchat/get) and diffs what we
hold, then becomes a ledger event (integrations.wecom.events) for strategies."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from defusedxml import ElementTree
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, delete, func, select

from integrations import wxcrypto
from integrations.errors import CallbackRefused
from integrations.wecom.corps import by_corp_id
from integrations.wecom.models import WecomCallback, WecomCorp, WecomNonce

MAX_BODY = 64 * 1024


@dataclass
class Secrets:
    corp_pk: int
    corp_id: str
    token: str
    aes_key: str


@dataclass
class Accepted:
    corp: Secrets
    fields: dict = field(default_factory=dict)


def load(services, corp_id: str) -> Secrets:
    with services.db.read() as session:
        corp: WecomCorp = by_corp_id(session, corp_id)
        return Secrets(corp.id, corp.corp_id, corp.callback_token, corp.encoding_aes_key)


def count(services, corp_pk: int, accepted: bool, reason: str = "", event: str = "", change_type: str = "") -> None:
    with services.db.write() as session:
        session.add(WecomCallback(corp_pk=corp_pk, accepted=accepted, reason=reason[:32], event=event[:64],
                                  change_type=change_type[:64], received_at=services.now()))


def _check_time(services, timestamp: str) -> None:
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        raise CallbackRefused("malformed", "timestamp 不是整数") from None
    skew = services.settings.wecom_callback_max_skew_seconds
    if abs(services.now().timestamp() - sent) > skew:
        raise CallbackRefused("stale_timestamp", f"时间戳与服务器时间相差超过 {skew} 秒")


def verify_url(services, corp_id: str, args: dict) -> str:
    """GET: the decrypted echostr (what WeCom expects back) for a correctly signed request."""
    corp = load(services, corp_id)
    try:
        _check_time(services, args.get("timestamp", ""))
        return wxcrypto.verify_and_decrypt(corp.token, corp.aes_key, corp.corp_id, args.get("msg_signature", ""),
                                           args.get("timestamp", ""), args.get("nonce", ""), args.get("echostr", ""))
    except CallbackRefused as exc:
        count(services, corp.corp_pk, False, exc.reason, "verify_url")
        raise


def _xml_fields(text: str, what: str) -> dict:
    try:
        root = ElementTree.fromstring(text)
    except Exception:  # noqa: BLE001 - defusedxml raises several kinds (entities, DTDs, syntax)
        raise CallbackRefused("malformed", f"{what}不是合法的 XML") from None
    return {child.tag: (child.text or "").strip() for child in root}


def _take_nonce(services, corp: Secrets, nonce: str, timestamp: str) -> None:
    now = services.now()
    keep = timedelta(seconds=2 * services.settings.wecom_callback_max_skew_seconds)
    try:
        with services.db.write() as session:
            session.exec(delete(WecomNonce).where(WecomNonce.corp_pk == corp.corp_pk, WecomNonce.received_at < now - keep))
            session.add(WecomNonce(corp_pk=corp.corp_pk, nonce=nonce[:64], timestamp=timestamp[:20], received_at=now))
    except IntegrityError:
        raise CallbackRefused("replay", "重复的回调（nonce 与时间戳已使用过）") from None


def receive(services, corp_id: str, args: dict, body: bytes) -> Accepted:
    """POST: checks, decrypts and parses one push; CallbackRefused (counted) otherwise."""
    corp = load(services, corp_id)
    try:
        if len(body) > MAX_BODY:
            raise CallbackRefused("malformed", "回调内容过大")
        timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
        if not nonce or len(nonce) > 64:
            raise CallbackRefused("malformed", "缺少 nonce")
        _check_time(services, timestamp)
        outer = _xml_fields(body.decode("utf-8", "replace"), "回调")
        plain = wxcrypto.verify_and_decrypt(corp.token, corp.aes_key, corp.corp_id, args.get("msg_signature", ""),
                                            timestamp, nonce, outer.get("Encrypt", ""))
        fields = _xml_fields(plain, "解密后的消息")
        _take_nonce(services, corp, nonce, timestamp)
    except CallbackRefused as exc:
        count(services, corp.corp_pk, False, exc.reason)
        raise
    count(services, corp.corp_pk, True, "", fields.get("Event", ""), fields.get("ChangeType", ""))
    return Accepted(corp, fields)


def counts(session: Session, corp_pk: int) -> dict:
    """{"accepted": n, "refused": n, "reasons": {reason: n}} for the console."""
    rows = session.exec(select(WecomCallback.accepted, WecomCallback.reason, func.count()).where(
        WecomCallback.corp_pk == corp_pk).group_by(WecomCallback.accepted, WecomCallback.reason)).all()
    result = {"accepted": 0, "refused": 0, "reasons": {}}
    for accepted, reason, n in rows:
        if accepted:
            result["accepted"] += n
        else:
            result["refused"] += n
            result["reasons"][reason] = result["reasons"].get(reason, 0) + n
    return result


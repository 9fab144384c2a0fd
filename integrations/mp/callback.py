"""The server URL WeChat calls (/mp/callback/<key>), in the order that keeps a forgery cheap:

1. the account by its callback key (unknown or disabled: 404, nothing counted);
2. size cap, then the timestamp within CKB_MP_CALLBACK_MAX_SKEW_SECONDS (stale: refused);
3. the signature — `signature` over (token, timestamp, nonce) in 明文模式, `msg_signature` over
   (token, timestamp, nonce, Encrypt) when encrypt_type=aes — before any parsing of the payload;
4. decryption (bad padding, another appid as receiver: refused), defusedxml parsing;
5. replay (a nonce reused for another message) refused; a retry of a message seen in the last
   seconds answered "success" at once;
6. one short write transaction stores the message (integrations.mp.inbound) and counts it.

Every refusal is counted per account and reason and answered 403; an accepted push is answered
"success" (WeChat then stops retrying). Nothing slow runs before the answer: no API call, no
fan lookup — a fan's unionid is fetched afterwards (integrations.mp.runtime)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from integrations import wxcrypto
from integrations.errors import CallbackRefused
from integrations.mp import accounts, inbound, xmlmsg
from integrations.mp.guard import CallbackMemory
from integrations.mp.models import MpAccount

SUCCESS = "success"


@dataclass(frozen=True)
class Answer:
    status: int
    text: str
    outcome: str = ""  # the counter it went to
    new_openid: str = ""  # a fan to look up after the answer (unionid, subscription)
    account_id: int = 0


def _account(services, key: str) -> Optional[MpAccount]:
    with services.db.read() as s:
        account = accounts.by_callback_key(s, key)
    return account if account is not None and account.enabled else None


def _check_time(services, timestamp: str) -> None:
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        raise CallbackRefused("malformed", "缺少或错误的 timestamp 参数") from None
    if abs(services.now().timestamp() - ts) > services.settings.mp_callback_max_skew_seconds:
        raise CallbackRefused("stale_timestamp", "时间戳超出允许范围（过期或重放的推送）")


def _record_refusal(services, account: MpAccount, exc: CallbackRefused) -> Answer:
    with services.db.write() as s:
        accounts.count(s, account.id, exc.reason, services.now())
    return Answer(403, exc.message, exc.reason)


def verify_url(services, key: str, args: dict) -> Answer:
    """GET: WeChat checks the server URL when the operator saves it; echo `echostr` if signed by us."""
    account = _account(services, key)
    if account is None:
        return Answer(404, "not found")
    try:
        _check_time(services, args.get("timestamp", ""))
        if not wxcrypto.signature_matches(args.get("signature", ""), account.token, args.get("timestamp", ""),
                                          args.get("nonce", "")):
            raise CallbackRefused("bad_signature", "签名 signature 校验失败")
    except CallbackRefused as exc:
        return _record_refusal(services, account, exc)
    return Answer(200, str(args.get("echostr", ""))[:256], "verified")


def _open(account: MpAccount, args: dict, body: bytes) -> dict[str, str]:
    ts, nonce = args.get("timestamp", ""), args.get("nonce", "")
    if args.get("encrypt_type") == "aes":
        if account.mode == "plain":
            raise CallbackRefused("malformed", "公众号设置为明文模式，收到的却是加密推送（请核对消息加解密方式）")
        envelope = xmlmsg.parse(body)
        cipher = envelope.get("Encrypt", "")
        if not cipher:
            raise CallbackRefused("malformed", "加密推送缺少 Encrypt 字段")
        plain = wxcrypto.verify_and_decrypt(account.token, account.aes_key, account.appid,
                                            args.get("msg_signature", ""), ts, nonce, cipher)
        return xmlmsg.parse(plain.encode("utf-8"))
    if account.mode == "safe":
        raise CallbackRefused("malformed", "公众号设置为安全模式，收到的却是明文推送")
    if not wxcrypto.signature_matches(args.get("signature", ""), account.token, ts, nonce):
        raise CallbackRefused("bad_signature", "签名 signature 校验失败")
    return xmlmsg.parse(body)


def receive(services, memory: CallbackMemory, key: str, args: dict, body: bytes) -> Answer:
    account = _account(services, key)
    if account is None:
        return Answer(404, "not found")
    try:
        if len(body) > services.settings.max_body_bytes:
            raise CallbackRefused("too_large", "推送内容超过大小上限")
        _check_time(services, args.get("timestamp", ""))
        msg = _open(account, args, body)
        if not msg.get("FromUserName") or not msg.get("MsgType"):
            raise CallbackRefused("malformed", "推送缺少 FromUserName 或 MsgType")
        mkey = xmlmsg.message_key(msg)
        if not memory.claim_nonce(account.id, args.get("timestamp", ""), args.get("nonce", ""), mkey,
                                  services.settings.mp_callback_max_skew_seconds * 2):
            raise CallbackRefused("replay", "同一 nonce 携带了另一条消息（重放的请求）")
    except CallbackRefused as exc:
        return _record_refusal(services, account, exc)
    now = services.now()
    if memory.seen(account.id, mkey):
        with services.db.write() as s:
            accounts.count(s, account.id, "duplicate", now)
        return Answer(200, SUCCESS, "duplicate")
    with services.db.write() as s:
        stored = inbound.store(s, s.get(MpAccount, account.id), msg, now)
        accounts.count(s, account.id, "accepted" if stored.new else "duplicate", now)
    memory.remember(account.id, mkey)
    return Answer(200, SUCCESS, "accepted" if stored.new else "duplicate",
                  new_openid=msg["FromUserName"] if stored.fan_needs_lookup else "", account_id=account.id)

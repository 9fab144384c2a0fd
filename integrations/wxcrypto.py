"""The callback cryptography 企业微信 and 公众号 share (Tencent's WXBizMsgCrypt scheme), written from
the published algorithm so both integrations and their fake servers use one implementation:

- signature: SHA-1 over the sorted concatenation of token, timestamp, nonce (and the ciphertext for
  msg_signature), hex;
- key: base64 of the 43-character EncodingAESKey plus "=", 32 bytes; IV: its first 16 bytes;
- plaintext: 16 random bytes + 4-byte big-endian length + message + receiver id (corp id / appid),
  PKCS#7-padded to a 32-byte block, AES-256-CBC, base64.

Every failure is a CallbackRefused with a stable reason, so the caller answers 403 and counts it; a
forged callback never reaches the parser."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from integrations.errors import CallbackRefused, IntegrationError

BLOCK = 32


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(str(p) for p in parts)).encode("utf-8")).hexdigest()


def signature_matches(expected: str, *parts: str) -> bool:
    return hmac.compare_digest(sha1_signature(*parts), str(expected or ""))


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte key of a 43-character EncodingAESKey; a wrong one is a settings error."""
    text = str(encoding_aes_key or "")
    if len(text) != 43:
        raise IntegrationError("EncodingAESKey 应为 43 个字符")
    try:
        key = base64.b64decode(text + "=", validate=True)
    except (binascii.Error, ValueError):
        raise IntegrationError("EncodingAESKey 不是合法的 Base64") from None
    if len(key) != 32:
        raise IntegrationError("EncodingAESKey 解码后应为 32 字节")
    return key


def new_aes_key() -> str:
    """A fresh EncodingAESKey (what the platform's settings page generates)."""
    return base64.b64encode(os.urandom(32)).decode("ascii").rstrip("=")


def encrypt(encoding_aes_key: str, message: str, receiver_id: str) -> str:
    key = aes_key(encoding_aes_key)
    body = message.encode("utf-8")
    plain = os.urandom(16) + struct.pack(">I", len(body)) + body + receiver_id.encode("utf-8")
    pad = BLOCK - len(plain) % BLOCK
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")


def decrypt(encoding_aes_key: str, ciphertext: str, receiver_id: str) -> str:
    """The message inside `ciphertext`; refuses bad base64, bad padding and another receiver's message."""
    key = aes_key(encoding_aes_key)
    try:
        raw = base64.b64decode(str(ciphertext or ""), validate=True)
    except (binascii.Error, ValueError):
        raise CallbackRefused("malformed", "密文不是合法的 Base64") from None
    if not raw or len(raw) % 16:
        raise CallbackRefused("malformed", "密文长度不是 AES 分组的整数倍")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(raw) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise CallbackRefused("bad_padding", "密文填充错误（密钥不符或被篡改）")
    content = plain[16:-pad]
    if len(content) < 4:
        raise CallbackRefused("malformed", "密文内容过短")
    (length,) = struct.unpack(">I", content[:4])
    if length > len(content) - 4:
        raise CallbackRefused("malformed", "密文声明的消息长度超出内容")
    message, receiver = content[4:4 + length], content[4 + length:]
    if not hmac.compare_digest(receiver, receiver_id.encode("utf-8")):
        raise CallbackRefused("wrong_receiver", "消息的接收方（ReceiveId）与本企业/公众号不符")
    try:
        return message.decode("utf-8")
    except UnicodeDecodeError:
        raise CallbackRefused("malformed", "消息不是 UTF-8 文本") from None


def verify_and_decrypt(token: str, encoding_aes_key: str, receiver_id: str, msg_signature: str,
                       timestamp: str, nonce: str, ciphertext: str) -> str:
    """Checks msg_signature first (a forged callback costs no decryption), then decrypts."""
    if not signature_matches(msg_signature, token, timestamp, nonce, ciphertext):
        raise CallbackRefused("bad_signature", "消息签名 msg_signature 校验失败")
    return decrypt(encoding_aes_key, ciphertext, receiver_id)


def sign_and_encrypt(token: str, encoding_aes_key: str, receiver_id: str, message: str,
                     timestamp: str, nonce: str) -> tuple[str, str]:
    """(ciphertext, msg_signature) for a reply or, in the fake servers, for a callback."""
    ciphertext = encrypt(encoding_aes_key, message, receiver_id)
    return ciphertext, sha1_signature(token, timestamp, nonce, ciphertext)

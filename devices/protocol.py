"""The device protocol's frames (devices/PROTOCOL.md): parsing with size and depth limits, and
the frames the server sends. Kept free of transport and storage so both sides can share it.
"""
from __future__ import annotations

import json

from devices.errors import ProtocolError
from events.body import json_depth
from events.safe_json import problems, scrub

VERSION = 1
MAX_FRAME_BYTES = 1024 * 1024  # a friends_sync of ~8,000 friends fits; bigger lists come in pages
MAX_DEPTH = 8
HEARTBEAT_SECONDS = 30
HELLO_TIMEOUT_SECONDS = 10
ACK_TIMEOUT_SECONDS = 30

CLOSE_NORMAL = 1000
CLOSE_TOO_BIG = 1009
CLOSE_BAD_FRAME = 4000
CLOSE_AUTH = 4001
CLOSE_DISABLED = 4003
CLOSE_HELLO_TIMEOUT = 4008
CLOSE_REPLACED = 4009

DEVICE_FRAMES = ("hello", "heartbeat", "accounts", "report", "ack", "result")
REPORT_KINDS = ("friend_request", "friend_added", "friend_deleted", "message", "group_member_joined",
                "group_member_left", "moment_posted", "risk_signal", "friends_sync", "groups_sync")


def parse_frame(raw) -> dict:
    """One frame from the phone → dict with a known `type`; ProtocolError names what is wrong."""
    size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
    if size > MAX_FRAME_BYTES:
        raise ProtocolError("frame_too_large", f"消息过大：{size} 字节，上限 {MAX_FRAME_BYTES} 字节", CLOSE_TOO_BIG)
    try:
        frame = json.loads(raw)
    except RecursionError:
        raise ProtocolError("too_deep", f"JSON 嵌套超过 {MAX_DEPTH} 层") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError("malformed_json", f"JSON 格式错误：{exc}") from None
    if json_depth(frame) > MAX_DEPTH:
        raise ProtocolError("too_deep", f"JSON 嵌套超过 {MAX_DEPTH} 层")
    if not isinstance(frame, dict):
        raise ProtocolError("bad_shape", "消息应为 JSON 对象 {\"type\": …, \"id\": …}")
    kind = frame.get("type")
    if kind not in DEVICE_FRAMES:
        raise ProtocolError("unknown_type", f"未知的消息类型：{str(kind)[:32]}")
    fid = frame.get("id")
    if fid is None or isinstance(fid, bool) or not isinstance(fid, (str, int)) or not 0 < len(str(fid)) <= 128:
        raise ProtocolError("bad_id", "每条消息都需要 id（1–128 个字符的字符串或整数）")
    if kind != "report" and problems(frame):
        # NUL / lone surrogates / NaN no database stores: bookkeeping frames (hello, accounts,
        # command results) are cleaned; reports are refused naming the field (devices.reports).
        frame = scrub(frame)
    return frame


def dumps(frame: dict) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"), default=str)


def ack(frame_id, **extra) -> str:
    return dumps({"type": "ack", "id": frame_id, **extra})


def error(frame_id, code: str, message: str) -> str:
    return dumps({"type": "error", "id": frame_id, "code": code, "message": message})


# A phone holds several WeChat accounts; every command names the one that must run it (its wxid),
# and a phone refuses a command for an account it does not hold with this code in its result.
ACCOUNT_NOT_ON_DEVICE = "account_not_on_device"


def command(command_id: int, kind: str, payload: dict, timeout: int, account: str) -> str:
    if not account:
        raise ValueError("a device command must name its account")
    return dumps({"type": "command", "id": command_id, "kind": kind, "account": account, "payload": payload,
                  "timeout": timeout})

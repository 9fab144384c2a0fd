"""群发助手: one message to many groups, now or at a scheduled time, with a per-group delivery report.

Delivery reuses the device commands of 社群推送 (send_text / send_image / send_link /
send_miniprogram with the chatroom as `to`, or a 内容库 item through its `message()`), issued
through the risk budget one per group (idempotency key "sbc:<broadcast>:g<group>:t<try>").
A group whose phone is offline keeps its command queued — the gateway sends it the moment the
phone is back. The sweep (cron, every minute) re-sends a failed or timed-out try while retries
remain, and at the deadline (scheduled time + CKB_GROUP_BROADCAST_DEADLINE_MINUTES) cancels what
is still waiting and reports it failed with the reason; a try already on the phone is resolved by
the gateway's own ack/result timeouts. So every group ends delivered or failed, never 发送中."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from community.errors import CommunityError, CommunityNotFound
from community.groups.broadcast_input import read_body
from community.groups.listing import account_label
from community.groups.models import BROADCAST_STATES, TARGET_STATES, GroupBroadcast, GroupBroadcastTarget
from community.groups.scope import visible_group_ids
from config.clock import as_utc, format_local
from crm.scope import Viewer
from devices.budget_plan import write_with_budget
from devices.commands import CommandError, cancel_command, issue_command
from devices.content import ContentError, item_message
from devices.models import ChatGroup, Device, DeviceCommand, WechatAccount

KIND = {"text": "send_text", "image": "send_image", "link": "send_link", "miniprogram": "send_miniprogram"}
WAITING = ("queued", "deferred")
DELIVERED = ("succeeded",)  # as 社群推送's report reads a command
FAILED = ("failed", "timeout", "refused", "cancelled")


def create(session: Session, viewer: Viewer, data: dict, now: datetime, settings) -> GroupBroadcast:
    """Validates the seed's body and writes the broadcast with one target per group (all or nothing)."""
    ids, msg_type, content, scheduled = read_body(data, settings.group_broadcast_max_groups)
    visible = visible_group_ids(session, viewer, ids)
    missing = [i for i in ids if i not in visible]
    if missing:
        shown = "、".join(str(i) for i in missing[:20]) + (" 等" if len(missing) > 20 else "")
        raise CommunityError(f"群不存在或无权操作：{shown}（共 {len(missing)} 个）",
                             {"groupIds": f"未知的群ID：{shown}"})
    if content.get("content_id"):
        try:
            item_message(session, {"content_id": content["content_id"]}, "probe@chatroom")
        except ContentError as exc:
            raise CommunityError(exc.message, {"content.contentId": exc.message}) from None
    at = as_utc(scheduled) if scheduled and as_utc(scheduled) > now else now
    broadcast = GroupBroadcast(msg_type=msg_type, content=content, scheduled_at=at, created_at=now,
                               deadline_at=at + timedelta(minutes=settings.group_broadcast_deadline_minutes),
                               created_by=viewer.user_id, status="scheduled")
    session.add(broadcast)
    session.flush()
    groups = {g.id: g for g in session.exec(select(ChatGroup).where(col(ChatGroup.id).in_(ids)))}
    session.add_all([GroupBroadcastTarget(broadcast_id=broadcast.id, group_id=i, account_id=groups[i].account_id,
                                          group_name=groups[i].name[:100], updated_at=now) for i in ids])
    session.flush()
    return broadcast


def _payload(session: Session, broadcast: GroupBroadcast, to: str) -> tuple[str, dict]:
    content = broadcast.content or {}
    if content.get("content_id"):
        return item_message(session, {"content_id": content["content_id"]}, to)
    payload = {k: v for k, v in content.items() if v not in (None, "")}
    return KIND[broadcast.msg_type], {"to": to, **payload}


def _issue(session: Session, broadcast: GroupBroadcast, target: GroupBroadcastTarget, now: datetime, settings,
           redis) -> None:
    group = session.get(ChatGroup, target.group_id)
    target.tries += 1
    target.updated_at = now
    if group is None:
        target.state, target.reason = "failed", "群已删除"
        return
    try:
        kind, payload = _payload(session, broadcast, group.chatroom_id)
        command = issue_command(session, target.account_id, kind, payload, source="system",
                                idempotency_key=f"sbc:{broadcast.id}:g{target.group_id}:t{target.tries}",
                                now=now, settings=settings, redis=redis)
    except (CommandError, ContentError) as exc:
        target.state, target.reason = "failed", str(getattr(exc, "message", exc))[:500]
        return
    target.command_id = command.id
    _follow(target, command, broadcast, now)


def _offline(session: Session, account_id: int) -> bool:
    account = session.get(WechatAccount, account_id)
    device = session.get(Device, account.device_id) if account and account.device_id else None
    return device is None or not device.online


def state_of(command: DeviceCommand, offline: bool = False) -> tuple[str, str]:
    """A target's (state, reason) from its command's status."""
    if command.status in DELIVERED:
        return "delivered", ""
    if command.status in FAILED:
        return "failed", (command.error or command.reason or {"cancelled": "已取消", "timeout": "设备未响应"}.get(
            command.status, "发送失败"))[:500]
    if command.status in WAITING and offline:
        return "waiting", "设备离线，上线后自动发送"
    if command.status == "deferred":
        return "sending", f"风控延后：{command.reason}"[:500]
    return "sending", ""


def _follow(target: GroupBroadcastTarget, command: DeviceCommand, broadcast: GroupBroadcast, now: datetime,
            offline: bool = False) -> None:
    target.state, target.reason = state_of(command, offline)
    if target.state == "delivered":
        target.delivered_at = command.finished_at or now
    target.updated_at = now


def dispatch(session: Session, broadcast_id: int, now: datetime, settings, redis) -> int:
    """Issues the first try for every target of a due broadcast; returns how many were issued."""
    broadcast = session.get(GroupBroadcast, broadcast_id)
    if broadcast is None or broadcast.status != "scheduled" or as_utc(broadcast.scheduled_at) > now:
        return 0
    targets = session.exec(select(GroupBroadcastTarget).where(GroupBroadcastTarget.broadcast_id == broadcast.id,
                                                              GroupBroadcastTarget.state == "scheduled")
                           .order_by(GroupBroadcastTarget.id)).all()
    for target in targets:
        _issue(session, broadcast, target, now, settings, redis)
        session.add(target)
    broadcast.status = "sending"
    session.add(broadcast)
    _finish_if_done(session, broadcast, now)
    return len(targets)


def sweep_one(session: Session, broadcast_id: int, now: datetime, settings, redis) -> None:
    """Follows every open target: retries a failed try, marks waiting/sending, fails at the deadline."""
    broadcast = session.get(GroupBroadcast, broadcast_id)
    if broadcast is None or broadcast.status != "sending":
        return
    late = now >= as_utc(broadcast.deadline_at)
    deadline = format_local(broadcast.deadline_at, "%m-%d %H:%M", settings.timezone)
    targets = session.exec(select(GroupBroadcastTarget).where(
        GroupBroadcastTarget.broadcast_id == broadcast.id,
        col(GroupBroadcastTarget.state).in_(("scheduled", "waiting", "sending")))).all()
    offline = {}
    for target in targets:
        command = session.get(DeviceCommand, target.command_id) if target.command_id else None
        if command is None:
            _issue(session, broadcast, target, now, settings, redis)
        elif command.status in FAILED and command.status != "refused" and target.tries <= broadcast.retries and not late:
            _issue(session, broadcast, target, now, settings, redis)
        elif command.status in WAITING and late:
            was_offline = offline.setdefault(target.account_id, _offline(session, target.account_id))
            try:
                cancel_command(session, command.id, now)
            except CommandError:  # it left for the phone meanwhile: the gateway's timeouts decide
                continue
            target.state = "failed"
            target.reason = (f"设备离线，截止 {deadline} 仍未上线，未送达" if was_offline
                             else f"截止 {deadline} 仍未发出（{command.reason or '排队中'}）")[:500]
            target.updated_at = now
        else:
            _follow(target, command, broadcast, now,
                    offline=offline.setdefault(target.account_id, _offline(session, target.account_id)))
        session.add(target)
    _finish_if_done(session, broadcast, now)


def _finish_if_done(session: Session, broadcast: GroupBroadcast, now: datetime) -> None:
    session.flush()
    open_left = session.exec(select(GroupBroadcastTarget.id).where(
        GroupBroadcastTarget.broadcast_id == broadcast.id,
        col(GroupBroadcastTarget.state).in_(("scheduled", "waiting", "sending")))).first()
    if open_left is None:
        broadcast.status, broadcast.finished_at = "done", now
        session.add(broadcast)


def run_due(db, now: datetime, settings, redis) -> dict:
    """The cron step: dispatch due broadcasts, then follow every sending one (one transaction each)."""
    with db.read() as session:
        due = session.exec(select(GroupBroadcast.id).where(GroupBroadcast.status == "scheduled",
                                                           GroupBroadcast.scheduled_at <= now)).all()
        sending = session.exec(select(GroupBroadcast.id).where(GroupBroadcast.status == "sending")).all()
    for bid in due:
        write_with_budget(db, lambda s, bid=bid: dispatch(s, bid, now, settings, redis), settings=settings,
                          redis=redis, now=now)
    for bid in list(sending) + list(due):
        write_with_budget(db, lambda s, bid=bid: sweep_one(s, bid, now, settings, redis), settings=settings,
                          redis=redis, now=now)
    return {"dispatched": len(due), "followed": len(set(sending) | set(due))}


def get(session: Session, viewer: Viewer, broadcast_id: int) -> GroupBroadcast:
    broadcast = session.get(GroupBroadcast, broadcast_id) if 0 < broadcast_id < 2 ** 63 else None
    if broadcast is None or (not viewer.system and broadcast.created_by != viewer.user_id
                             and not viewer.has("community.manage")):
        raise CommunityNotFound(f"群发 {broadcast_id} 不存在或无权查看")
    return broadcast


def report(session: Session, broadcast: GroupBroadcast) -> dict:
    """Per group: name, account, state and reason (live from the commands for open targets)."""
    targets = session.exec(select(GroupBroadcastTarget).where(GroupBroadcastTarget.broadcast_id == broadcast.id)
                           .order_by(GroupBroadcastTarget.id)).all()
    accounts = {a.id: a for a in session.exec(select(WechatAccount).where(
        col(WechatAccount.id).in_({t.account_id for t in targets})))} if targets else {}
    commands = {c.id: c for c in session.exec(select(DeviceCommand).where(
        col(DeviceCommand.id).in_([t.command_id for t in targets if t.command_id])))} if targets else {}
    offline: dict[int, bool] = {}
    rows, tally = [], {"delivered": 0, "failed": 0, "pending": 0}
    for t in targets:
        state, reason, delivered_at = t.state, t.reason, t.delivered_at
        command = commands.get(t.command_id)
        if state in ("waiting", "sending") and command is not None:
            state, reason = state_of(command, offline.setdefault(t.account_id, _offline(session, t.account_id)))
            delivered_at = command.finished_at if state == "delivered" else None
        tally["delivered" if state == "delivered" else "failed" if state == "failed" else "pending"] += 1
        account = accounts.get(t.account_id)
        rows.append({"groupId": t.group_id, "groupName": t.group_name or f"群 #{t.group_id}",
                     "accountId": t.account_id, "account": account_label(account), "status": state,
                     "statusLabel": TARGET_STATES.get(state, state), "reason": reason, "tries": t.tries,
                     "deliveredAt": as_utc(delivered_at).isoformat() if delivered_at else None})
    total = len(rows)
    return {"broadcastId": broadcast.id, "status": broadcast.status,
            "statusLabel": BROADCAST_STATES.get(broadcast.status, broadcast.status), "msgType": broadcast.msg_type,
            "scheduledTime": as_utc(broadcast.scheduled_at).isoformat(),
            "deadline": as_utc(broadcast.deadline_at).isoformat(), "total": total, **tally,
            "deliveryRate": round(100.0 * tally["delivered"] / total, 1) if total else 0.0, "groups": rows}

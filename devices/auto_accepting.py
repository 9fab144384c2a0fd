"""自动通过好友: a new friend request meets the auto-accept rules (devices/autoaccept.py) and,
when one matches, an accept_friend command is issued through the risk budget.

With the budget's counters in Redis, the budget is asked before the write transaction opens
(devices.budget_plan), so a frozen Redis never holds the database write lock; when Redis cannot
answer, the request stays pending for a person to accept and the device log says why.
"""
from __future__ import annotations

from devices import autoaccept
from devices.budget_plan import BudgetUnavailable, write_with_budget
from devices.commands import issue_command
from devices.models import FriendRequest, WechatAccount
from devices.registry import write_log


def auto_accept(services, request_id: int, tz: str):
    """Returns the command issued, or None (no rule matched, already handled, Redis down)."""
    svc, now = services, services.now()
    with svc.db.read() as session:
        request = session.get(FriendRequest, request_id)
        if request is None or request.status != "pending":
            return None
        if autoaccept.choose_rule(session, request, now, tz) is None:
            return None
        account_id, payload = request.account_id, {"request_id": request.id, "wxid": request.from_wxid}
        device_id = session.get(WechatAccount, account_id).device_id or 0
    def work(session):
        request = session.get(FriendRequest, request_id)
        if request is None or request.status != "pending":
            return None
        rule = autoaccept.choose_rule(session, request, now, tz)
        if rule is None:
            return None
        cmd = issue_command(session, account_id, "accept_friend", payload, source="system",
                            idempotency_key=f"autoaccept:{request.id}", now=now, settings=svc.settings,
                            redis=svc.redis)
        if cmd.status == "refused":
            write_log(session, device_id, "command",
                      f"自动通过规则「{rule.name}」未能通过 {request.from_wxid} 的好友请求：{cmd.reason}", now)
            return cmd
        request.status, request.handled_by, request.handled_at = "accepted", f"rule:{rule.id}", now
        session.add(request)
        return cmd

    try:  # the Redis budget is asked before the write transaction, never while holding its lock
        return write_with_budget(svc.db, work, settings=svc.settings, redis=svc.redis, now=now)
    except BudgetUnavailable:
        with svc.db.write() as session:
            write_log(session, device_id, "error", f"风控计数服务（Redis）不可用，{payload['wxid']} 的好友请求未自动通过，"
                      "请稍后在「好友请求」中手动通过", now)
        return None

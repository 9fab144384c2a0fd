"""群打卡: a member who sends the check-in keyword in a group is checked in once per local day
(CheckIn rows; the unique index makes a repeat a no-op), earns the task's points, and the robot
replies with today's rank and the member's total days. `rankings` feeds the 排行榜 page."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from community.rewards.checkin_points import award_checkin
from devices.models import ChatGroup, CheckIn
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin.workbench_base import brief, issue, local_now, note, write_budgeted


def rankings(session: Session, group_ids: list[int] | None = None, since: date | None = None, limit: int = 50) -> list[dict]:
    """Members by points (then days checked in), with their group."""
    stmt = (select(CheckIn.group_id, CheckIn.member_wxid, func.max(CheckIn.nickname), func.count(), func.sum(CheckIn.points),
                   func.max(CheckIn.day))
            .group_by(CheckIn.group_id, CheckIn.member_wxid))
    if group_ids:
        stmt = stmt.where(CheckIn.group_id.in_(group_ids))
    if since:
        stmt = stmt.where(CheckIn.day >= since)
    rows = session.exec(stmt.order_by(func.sum(CheckIn.points).desc(), func.count().desc(), CheckIn.member_wxid).limit(limit)).all()
    return [{"group_id": g, "wxid": w, "nickname": n or w, "days": d, "points": p or 0, "last_day": last}
            for g, w, n, d, p, last in rows]


class CheckInProcessor(Processor):
    key = "workbench.checkin"
    name = "群打卡"
    description = "群成员发送打卡口令即记一次打卡（每人每天一次）并获得积分，机器人回复名次"
    config_fields = (
        ConfigField("keyword", "打卡口令", required=True, templated=False),
        ConfigField("group_ids", "群（为空则全部群）", kind="json", templated=False),
        ConfigField("points", "每次打卡积分", kind="number", default=1, templated=False),
        ConfigField("reply_text", "打卡成功回复", kind="textarea", templated=False,
                    help="{nickname} 昵称、{rank} 今日名次、{days} 累计天数、{points} 累计积分"),
    )

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        return {"chatroom_id": ctx.data.get("chatroom_id"), "member": ctx.data.get("from_wxid")}

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        data = ctx.data
        if not data.get("is_group") or not data.get("chatroom_id"):
            return Outcome(note="不是群消息，不计打卡")
        keyword = str(config.get("keyword") or "").strip()
        if keyword and keyword not in (data.get("text") or ""):
            return Outcome(note=f"消息不含打卡口令「{keyword}」")
        day = local_now(ctx).date()
        wxid = data.get("from_wxid") or ""
        nickname = (data.get("nickname") or wxid)[:100]
        def work(session):
            group = session.exec(select(ChatGroup).where(ChatGroup.account_id == data.get("account_id"),
                                                         ChatGroup.chatroom_id == data["chatroom_id"])).first()
            if group is None:
                return Outcome(note=f"群 {data['chatroom_id']} 尚未同步，未计打卡")
            allowed = [int(g) for g in config.get("group_ids") or []]
            if allowed and group.id not in allowed:
                return Outcome(note=f"群「{group.name}」不在本打卡活动内")
            try:
                with session.begin_nested():
                    checkin = CheckIn(group_id=group.id, member_wxid=wxid, nickname=nickname, day=day,
                                      points=int(config.get("points") or 0), created_at=ctx.services.now())
                    session.add(checkin)
                    session.flush()
            except IntegrityError:
                return Outcome(response={"checked_in": False}, note=f"{nickname} 今天已经打过卡")
            award_checkin(session, checkin, group.account_id, group.name, ctx.services.now())  # 权益 points ledger
            rank = session.exec(select(func.count()).select_from(CheckIn).where(CheckIn.group_id == group.id, CheckIn.day == day)).one()
            days, points = session.exec(select(func.count(), func.sum(CheckIn.points)).where(
                CheckIn.group_id == group.id, CheckIn.member_wxid == wxid)).one()
            response = {"checked_in": True, "rank": rank, "days": days, "points": points or 0}
            reply = str(config.get("reply_text") or "").strip()
            text = f"{nickname} 第 {rank} 位打卡"
            if reply:
                body = (reply.replace("{nickname}", f"@{nickname}").replace("{rank}", str(rank))
                        .replace("{days}", str(days)).replace("{points}", str(points or 0)))
                if "{nickname}" not in reply:
                    body = f"@{nickname} {body}"
                command = issue(session, ctx, group.account_id, "send_text",
                                {"to": group.chatroom_id, "text": body,
                                 "mentions": [wxid]}, "checkin", customer_key=wxid)
                response["command"] = brief(command)
                text += f"，回复{note(command, ctx.services.settings.timezone)}"
            return Outcome(response=response, note=text[:500])

        return write_budgeted(ctx, work)

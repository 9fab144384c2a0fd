"""入群欢迎语 (batched): this step runs N seconds after someone joins a group. It welcomes, in ONE
message that @-mentions them, everyone who joined that group since the last welcome and is
still in it; the steps of the other joiners in the same window find nobody left and say so.

The last welcome's watermark (latest joined_at welcomed) is a BudgetCounter row moved with a
compare-and-set, so two workers running two joiners' steps at once cannot both welcome the
same people. Members come from the group's member list (ChatGroupMember), which the gateway
updates when the phone reports the join.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import false, update
from sqlmodel import Session, select

from config.clock import as_utc
from devices.models import ChatGroup, ChatGroupMember
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin import workbench_counters as counters
from handlers.builtin.workbench_base import brief, issue, note, write_budgeted
from handlers.errors import PermanentError

# The first welcome of a task looks back this far (a task enabled today must not greet last month's joiners).
FIRST_LOOKBACK = timedelta(minutes=10)


def welcome_text(template: str, names: list[str], group_name: str) -> str:
    mentions = " ".join(f"@{n}" for n in names)
    text = template or "欢迎 {members} 加入！"
    if "{members}" not in text:
        text = "{members} " + text
    return text.replace("{members}", mentions).replace("{group}", group_name or "本群")


class GroupWelcomeProcessor(Processor):
    key = "device.group_welcome"
    name = "入群欢迎语（合并）"
    description = "欢迎时间窗内新入群的所有成员，合并为一条 @ 他们的消息；用在「新成员入群」事件，建议延迟若干秒执行"
    config_fields = (
        ConfigField("text", "欢迎语", kind="textarea", required=True, templated=False,
                    help="{members} 替换为 @新成员，{group} 替换为群名称"),
        ConfigField("window_seconds", "合并时间窗（秒）", kind="number", default=30, templated=False),
    )

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        return {"chatroom_id": ctx.data.get("chatroom_id"), "text": config.get("text")}

    @staticmethod
    def _group(session: Session, data: dict) -> ChatGroup:
        group = session.get(ChatGroup, data["group_id"]) if data.get("group_id") else None
        if group is None and data.get("chatroom_id"):
            group = session.exec(select(ChatGroup).where(ChatGroup.account_id == data.get("account_id"),
                                                         ChatGroup.chatroom_id == data["chatroom_id"])).first()
        if group is None:
            raise PermanentError(f"群 {data.get('chatroom_id') or data.get('group_id')} 不存在（设备尚未同步该群）")
        return group

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        now = ctx.services.now()
        tz = ctx.services.settings.timezone

        def work(session):
            group = self._group(session, ctx.data)
            scope, kind = f"wb:welcome:{ctx.strategy_id}:{group.id}", "welcomed"
            counters.ensure(session, scope, counters.FOREVER, kind)
            table = counters.TABLE
            mark = session.execute(select(table.c.last_at).where(table.c.scope == scope, table.c.day == counters.FOREVER,
                                                                 table.c.kind == kind)).scalar()
            since = as_utc(mark) if mark else now - FIRST_LOOKBACK - timedelta(seconds=int(config.get("window_seconds") or 30))
            members = list(session.exec(select(ChatGroupMember).where(
                ChatGroupMember.group_id == group.id, ChatGroupMember.left_at.is_(None),
                ChatGroupMember.joined_via_sync == false(),  # seen by a full sync: an old member, not a join
                ChatGroupMember.joined_at > since, ChatGroupMember.joined_at <= now).order_by(ChatGroupMember.joined_at)))
            if not members:
                return Outcome(request=self.render(ctx, config), response={"welcomed": 0},
                               note="本时间窗的新成员已由同一条欢迎语欢迎，未重复发送"), False
            newest = max(as_utc(m.joined_at) for m in members)
            moved = session.execute(update(table).where(table.c.scope == scope, table.c.day == counters.FOREVER,
                                                        table.c.kind == kind,
                                                        table.c.last_at.is_(None) if mark is None else table.c.last_at == mark)
                                    .values(last_at=newest, count=table.c.count + 1)).rowcount
            if not moved:
                return Outcome(request=self.render(ctx, config), response={"welcomed": 0},
                               note="另一个进程刚刚发送了本群的欢迎语，未重复发送"), False
            wxids = [m.wxid for m in members]
            text = welcome_text(str(config.get("text") or ""), [m.nickname or m.wxid for m in members], group.name)
            payload = {"to": group.chatroom_id, "text": text, "mentions": wxids}
            command = issue(session, ctx, group.account_id, "send_text", payload, "welcome", customer_key="")
            response = {"welcomed": len(wxids), "wxids": wxids, "command": brief(command)}
            result_note = f"欢迎 {len(wxids)} 位新成员（{group.name or group.chatroom_id}）：{note(command, tz)}"
            return Outcome(request=payload, response=response, note=result_note[:500]), command.status == "refused"

        outcome, refused = write_budgeted(ctx, work)
        if refused:  # raised after commit: the refused command stays on record
            raise PermanentError(outcome.note, request=outcome.request, response=outcome.response)
        return outcome

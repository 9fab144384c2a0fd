"""自动点赞: a friend posted a moment; like it (and maybe comment) if the friend is in scope (all,
with one of the tags, or named), it is inside the time window, and neither the account's daily
cap nor the per-friend daily cap is used up. The like itself is paced by the risk budget."""
from __future__ import annotations

import random

from sqlmodel import select

from devices.models import Friend, Moment
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin import workbench_counters as counters
from handlers.builtin.workbench_base import brief, in_window, issue, local_now, note, write_budgeted


class AutoLikeProcessor(Processor):
    key = "workbench.auto_like"
    name = "自动点赞"
    description = "好友发朋友圈后点赞（可附评论），按好友范围、时间段、每号每日上限和每位好友每日上限"
    config_fields = (
        ConfigField("scope", "点赞范围", kind="select", default="all", templated=False,
                    choices=(("all", "全部好友"), ("tags", "指定标签"), ("named", "指定好友"))),
        ConfigField("friend_tags", "好友标签", kind="json", templated=False),
        ConfigField("friend_wxids", "指定好友 wxid", kind="json", templated=False),
        ConfigField("daily_cap", "每号每日上限", kind="number", default=50, templated=False),
        ConfigField("per_friend_daily_cap", "每位好友每日上限", kind="number", default=1, templated=False),
        ConfigField("start_time", "开始时间", default="08:00", templated=False),
        ConfigField("end_time", "结束时间", default="22:00", templated=False),
        ConfigField("comment", "同时评论", kind="boolean", default=False, templated=False),
        ConfigField("comment_texts", "评论内容（随机选一条）", kind="json", templated=False),
    )

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        return {"account_id": ctx.data.get("account_id"), "moment_id": ctx.data.get("moment_id")}

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        data = ctx.data
        account_id, moment_id, wxid = int(data["account_id"]), str(data.get("moment_id") or ""), data.get("friend_wxid") or ""
        local, now = local_now(ctx), ctx.services.now()
        if not in_window(local, config.get("start_time"), config.get("end_time")):
            return Outcome(note=f"不在点赞时间段 {config.get('start_time')}–{config.get('end_time')} 内，未点赞")
        scope = config.get("scope") or "all"
        def work(session):
            if scope != "all":
                friend = session.exec(select(Friend).where(Friend.account_id == account_id, Friend.wxid == wxid)).first()
                if scope == "named" and wxid not in (config.get("friend_wxids") or []):
                    return Outcome(note="不是指定好友，未点赞")
                if scope == "tags" and not (friend and set(friend.tags or []) & set(config.get("friend_tags") or [])):
                    return Outcome(note="好友没有指定标签，未点赞")
            base = f"wb:like:{ctx.strategy_id}:{account_id}"
            if not counters.take(session, base, local.date(), "day", int(config.get("daily_cap") or 0) or None, now):
                return Outcome(note=f"本微信号今日点赞已达上限 {config.get('daily_cap')}，未点赞")
            if not counters.take(session, base, local.date(), f"f:{wxid}", int(config.get("per_friend_daily_cap") or 0) or None, now):
                # Give back the account unit: nothing was liked.
                counters.add(session, base, local.date(), "day", now, -1)
                return Outcome(note=f"今天已给这位好友点赞 {config.get('per_friend_daily_cap')} 次，未点赞")
            like = issue(session, ctx, account_id, "like_moment", {"moment_id": moment_id}, "like", customer_key=wxid)
            response = {"like": brief(like)}
            text = f"点赞：{note(like, ctx.services.settings.timezone)}"
            comments = [c for c in config.get("comment_texts") or [] if c]
            if config.get("comment") and comments and like.status != "refused":
                pick = random.Random(ctx.idempotency_key).choice(comments)
                comment = issue(session, ctx, account_id, "comment_moment", {"moment_id": moment_id, "text": pick},
                                "comment", customer_key=wxid)
                response["comment"] = brief(comment)
                text += f"；评论：{note(comment, ctx.services.settings.timezone)}"
            if like.status != "refused":
                moment = session.exec(select(Moment).where(Moment.account_id == account_id, Moment.moment_id == moment_id)).first()
                if moment is not None:
                    moment.liked = True
                    session.add(moment)
            return Outcome(request=self.render(ctx, config), response=response, note=text[:500])

        return write_budgeted(ctx, work)

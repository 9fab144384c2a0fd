"""关键词自动回复: the first keyword rule a message matches (完全匹配, 包含, or a regular
expression) gets its reply — in the group (mentioning the sender) or in the private chat — unless
the same person was answered by this task within the cool-down."""
from __future__ import annotations

import re
from datetime import timedelta

from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin import workbench_counters as counters
from handlers.builtin.workbench_base import brief, issue, note, write_budgeted
from handlers.errors import PermanentError


def first_match(rules: list[dict], text: str) -> dict | None:
    text = (text or "").strip()
    for rule in rules:
        keyword = rule.get("keyword") or ""
        match = rule.get("match") or "contains"
        if match == "exact" and text == keyword.strip():
            return rule
        if match == "contains" and keyword and keyword in text:
            return rule
        if match == "regex":
            try:
                if re.search(keyword, text):
                    return rule
            except re.error:
                continue
    return None


class KeywordReplyProcessor(Processor):
    key = "workbench.keyword_reply"
    name = "关键词自动回复"
    description = "按关键词规则自动回复私聊或群聊消息，同一客户在冷却时间内只回复一次"
    config_fields = (
        ConfigField("rules", "关键词规则", kind="json", required=True, templated=False,
                    help='[{"match": "exact|contains|regex", "keyword": "价格", "reply": "回复内容"}]'),
        ConfigField("cooldown_minutes", "冷却时间（分钟）", kind="number", default=30, templated=False),
    )

    def validate_config(self, config: dict) -> list[str]:
        errors = super().validate_config(config)
        if not isinstance(config.get("rules"), list) or not config.get("rules"):
            errors.append("关键词规则应为非空列表")
        return errors

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        rule = first_match(config.get("rules") or [], ctx.data.get("text") or "")
        return {"matched": rule, "to": ctx.data.get("chatroom_id") or ctx.data.get("from_wxid")}

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        data = ctx.data
        rule = first_match(config.get("rules") or [], data.get("text") or "")
        if rule is None:
            return Outcome(request=self.render(ctx, config), note="消息未命中任何关键词规则，未回复")
        sender = data.get("from_wxid") or ""
        account_wxid = data.get("account_wxid") or ""
        if sender and sender == account_wxid:
            return Outcome(note="是微信号自己发的消息，不回复")
        now = ctx.services.now()
        cooldown = timedelta(minutes=int(config.get("cooldown_minutes") or 0))
        group = bool(data.get("is_group")) and bool(data.get("chatroom_id"))
        payload = {"to": data["chatroom_id"] if group else sender, "text": rule["reply"]}
        if group:
            payload.update(text=f"@{data.get('nickname') or sender} {rule['reply']}", mentions=[sender])

        def work(session):
            scope = f"wb:kw:{ctx.strategy_id}:{sender}"
            if not counters.take_after(session, scope, "reply", now - cooldown, now):
                return Outcome(request=payload, response={"cooldown": True},
                               note=f"同一客户 {int(cooldown.total_seconds() // 60)} 分钟内已回复过，本次不回复"), False
            command = issue(session, ctx, int(data["account_id"]), "send_text", payload, "reply", customer_key=sender)
            response = {"keyword": rule["keyword"], "command": brief(command)}
            text = f"命中关键词「{rule['keyword']}」：{note(command, ctx.services.settings.timezone)}"
            return Outcome(request=payload, response=response, note=text[:500]), command.status == "refused"

        outcome, refused = write_budgeted(ctx, work)
        if refused:  # raised after commit: the refused command stays on record
            raise PermanentError(outcome.note, request=payload, response=outcome.response)
        return outcome

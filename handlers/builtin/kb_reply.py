"""智能回复: answers a private or group message from the knowledge base (community.kb). Confident
answers go out through conversations.outbound.send (the risk budget decides when); below the
threshold the conversation is flagged 待人工 and its owner notified. In groups it answers only when
@-mentioned or asked a question. Every answer is logged for 已解决 / 未解决."""
from __future__ import annotations

from sqlmodel import select

from community.kb import answer as kb
from community.kb import llm
from community.kb.models import KbAnswerLog
from conversations.models import Conversation
from crm.people.notifications import notify, notify_permission
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin.workbench_base import write_budgeted

SCOPES = {"both": "私聊和群聊", "private": "仅私聊", "group": "仅群聊"}


class KbReplyProcessor(Processor):
    key = "kb.reply"
    name = "智能回复"
    description = "用知识库回答私聊/群聊问题（群里仅在 @ 本号或提问时回答）；匹配度低于阈值转人工并通知负责人"
    external = False
    config_fields = (
        ConfigField("scope", "回答范围", kind="select", choices=tuple(SCOPES.items()), default="both", templated=False),
        ConfigField("min_score", "匹配度阈值（0–1，留空用系统设置 CKB_KB_MIN_SCORE）", kind="number", templated=False),
        ConfigField("use_llm", "用大模型润色答案（需配置 CKB_KB_LLM_URL）", kind="boolean", default=True, templated=False),
        ConfigField("handover_text", "转人工时回复顾客（留空不回复）", kind="textarea", templated=False,
                    default="您的问题已转给人工客服，请稍候～"),
    )

    def validate_config(self, config: dict) -> list[str]:
        errors = super().validate_config(config)
        if config.get("scope", "both") not in SCOPES:
            errors.append("「回答范围」只能是私聊和群聊 / 仅私聊 / 仅群聊")
        score = config.get("min_score")
        if score not in (None, ""):
            try:
                if not 0 <= float(score) <= 1:
                    raise ValueError
            except (TypeError, ValueError):
                errors.append("「匹配度阈值」应为 0 到 1 之间的数")
        return errors

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        return {"question": ctx.data.get("text"), "from": ctx.data.get("from_wxid"), "chatroom_id": ctx.data.get("chatroom_id")}

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        data, svc = ctx.data, ctx.services
        group = bool(data.get("is_group") and data.get("chatroom_id"))
        scope = config.get("scope") or "both"
        if (scope == "private" and group) or (scope == "group" and not group):
            return Outcome(note=f"不在回答范围（{SCOPES.get(scope, scope)}）")
        if data.get("msg_type", "text") != "text" or not (data.get("text") or "").strip():
            return Outcome(note="不是文字消息，不回答")
        peer = data["chatroom_id"] if group else data.get("from_wxid")
        score = config.get("min_score")
        min_score = float(score) if score not in (None, "") else svc.settings.kb_min_score
        with svc.db.read() as s:
            done = s.exec(select(KbAnswerLog).where(KbAnswerLog.step_key == ctx.idempotency_key[:128])).first()
            if done is not None:  # a retried step: the answer (or hand-over) already happened
                return Outcome(response={"log_id": done.id}, note="已回答过（重试不重复发送）")
            conversation = s.exec(select(Conversation).where(
                Conversation.channel == "wechat", Conversation.account_id == data.get("account_id"),
                Conversation.peer_id == peer)).first()
            if conversation is None:
                return Outcome(note="会话尚未记录，未回答")
            if group:
                ok, why = kb.addressed_in_group(s, conversation.account_id, data.get("text", ""), data.get("msg_id") or "")
                if not ok:
                    return Outcome(note=why)
            decision = kb.decide(s, data["text"], min_score)
            owner = kb.owner_of(s, conversation)
        phrased = ""
        if not decision.handed_over and config.get("use_llm", True) and llm.configured(svc.settings):
            passages = [decision.match.answer] if decision.match else []
            phrased = llm.phrase(svc.settings, decision.question, passages) or ""  # outside any transaction

        def work(session):
            conv = session.get(Conversation, conversation.id)
            return kb.answer_in(session, conv, decision, now=svc.now(), step_key=ctx.idempotency_key,
                                reply_to=data.get("from_wxid") or "", phrased=phrased,
                                handover_text=str(config.get("handover_text") or "").strip(), settings=svc.settings)

        log_row = write_budgeted(ctx, work)
        response = {"log_id": log_row.id, "entry_id": log_row.entry_id, "score": log_row.score,
                    "handed_over": log_row.handed_over, "llm": log_row.phrased_by_llm}
        if decision.handed_over:
            title = f"待人工：{conversation.title or peer}"
            body = f"顾客问：{decision.question[:200]}\n{decision.reason}"
            link = "/kb/pending"
            if owner:
                notify(svc.db, owner, title, body, link, source="kb", now=svc.now())
            else:
                notify_permission(svc.db, "kb.manage", title, body, link, source="kb", now=svc.now())
            return Outcome(response=response, note=f"转人工：{decision.reason}"[:500])
        return Outcome(response=response, note=f"已回答（匹配度 {decision.confidence:.2f}）"[:500])

"""Answering one question: retrieve, compare the confidence with the threshold, then either answer
in the conversation (conversations.outbound.send) or hand over (待人工: Conversation.needs_human
with the reason; the owner gets a 站内通知) — and log it either way.

In a group the robot only answers when @-mentioned or when the message reads as a question
(ends in ？/?/吗/呢 or asks 怎么/多少/什么/哪/几/能不能/可以…), so chatter in a busy group is left alone."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlmodel import Session, select

from community.kb import index
from community.kb.models import KbAnswerLog
from conversations.models import ChatMessage, Conversation
from conversations.outbound import Content, send
from devices.models import WechatAccount

QUESTION = re.compile(r"[？?]\s*$|[吗呢么嘛]\s*[？?。!！~～]*\s*$|怎么|怎样|如何|多少|什么|啥|哪|几[天点号个码块]|能不能|"
                      r"可不可以|可以.{0,12}[吗么]|有没有|是不是|为什么|咋")
MIN_QUESTION_CHARS = 2


@dataclass
class Decision:
    question: str
    match: Optional[index.Match]
    confidence: float
    handed_over: bool
    reason: str
    answer: str


def decide(session: Session, question: str, min_score: float) -> Decision:
    question = (question or "").strip()[:500]
    if len(question) < MIN_QUESTION_CHARS:
        return Decision(question, None, 0.0, True, "问题太短，无法判断", "")
    matches = index.snapshot(session).search(question, limit=3)
    best = matches[0] if matches else None
    confidence = round(best.confidence, 4) if best else 0.0
    if best is None:
        return Decision(question, None, 0.0, True, "知识库里没有相关内容", "")
    if confidence < min_score:
        return Decision(question, best, confidence, True,
                        f"匹配度 {confidence:.2f} 低于阈值 {min_score:.2f}（最接近：{best.question[:60]}）", "")
    return Decision(question, best, confidence, False, "", best.answer)


def addressed_in_group(session: Session, account_id: int, text: str, msg_id: str = "") -> tuple[bool, str]:
    """(answer?, why) for a group message: @-mentions of our account, or a question."""
    account = session.get(WechatAccount, account_id)
    if msg_id:
        message = session.exec(select(ChatMessage).where(ChatMessage.channel == "wechat", ChatMessage.account_id == account_id,
                                                         ChatMessage.external_id == msg_id)).first()
        ats = (message.payload or {}).get("at_wxids") or [] if message else []
        if account is not None and account.wxid in ats:
            return True, "群里 @ 了本号"
    if account is not None and account.nickname and f"@{account.nickname}" in (text or ""):
        return True, "群里 @ 了本号"
    if QUESTION.search(text or ""):
        return True, "群消息是一个问题"
    return False, "群消息既没有 @ 本号也不是问题，不回复"


def owner_of(session: Session, conversation: Conversation) -> Optional[int]:
    """Who handles it: the colleague it was transferred to, else the account's assigned staff member."""
    if conversation.assignee_id:
        return conversation.assignee_id
    if conversation.channel == "wechat":
        account = session.get(WechatAccount, conversation.account_id)
        return account.owner_user_id if account else None
    return None


def record(session: Session, decision: Decision, *, conversation: Optional[Conversation], source: str, now: datetime,
           answer: str = "", phrased: bool = False, message_id: Optional[int] = None, step_key: str = "") -> KbAnswerLog:
    m = decision.match
    entry = KbAnswerLog(conversation_id=conversation.id if conversation else None, question=decision.question,
                        entry_id=m.entry_id if m else None, passage_id=m.passage_id if m else None,
                        score=decision.confidence, answer=answer or decision.answer, handed_over=decision.handed_over,
                        reason=decision.reason[:300], phrased_by_llm=phrased, message_id=message_id, source=source,
                        step_key=step_key[:128], created_at=now)
    session.add(entry)
    session.flush()
    return entry


def answer_in(session: Session, conversation: Conversation, decision: Decision, *, now: datetime, step_key: str,
              reply_to: str = "", phrased: str = "", handover_text: str = "", settings=None) -> KbAnswerLog:
    """Sends the answer (or the hand-over notice, if configured) and logs it, in the caller's transaction."""
    at = [reply_to] if conversation.kind == "group" and reply_to else []
    message = None
    if decision.handed_over:
        conversation.needs_human = True
        conversation.needs_human_reason = f"智能回复转人工：{decision.reason}"[:300]
        conversation.updated_at = now
        session.add(conversation)
        if handover_text:
            message = send(session, conversation, Content(text=handover_text, at_wxids=at), source="kb",
                           idempotency_key=f"{step_key}:handover"[:128], now=now, settings=settings)
    else:
        message = send(session, conversation, Content(text=phrased or decision.answer, at_wxids=at), source="kb",
                       idempotency_key=step_key[:128], now=now, settings=settings)
    return record(session, decision, conversation=conversation, source="strategy", now=now, answer=phrased,
                  phrased=bool(phrased), message_id=message.id if message else None, step_key=step_key)

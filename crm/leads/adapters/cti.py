"""电话系统 (CTI) 通话事件: a call coming in opens a lead 通话中; when it ends the agent's summary
and the caller's intent update that same lead, so tags and assignment run again on them.

Wire format (POST /webhooks/cti_calls, JSON):
  X-CTI-Timestamp: <unix seconds>
  X-CTI-Signature: hex(HMAC-SHA256(secret, "{timestamp}.{raw body}"))
  {"event": "call_started" | "call_ended", "call_id", "caller", "callee", "agent",
   "started_at", "ended_at", "duration", "summary", "intent"}
Answer: {"result": "ok"}; errors {"result": "error", "reason": "<reason>", "message": "<原因>"}.

The call id is the lead's external id: call_started creates (stage "created", call_status
通话中), call_ended updates (stage "updated", call_status 通话结束 with summary, intent and
duration). caller → 手机号, summary → 需求描述, intent → 意向度 need no mapping rules.
"""
from __future__ import annotations

from typing import Optional

from crm.leads.adapters.base import (STATUS, Answer, HeaderSignedAdapter, WebhookRefused, json_answer, text_of)
from crm.leads.intake import Submission

STARTED, ENDED = "call_started", "call_ended"
CALL_STATUS = {STARTED: "通话中", ENDED: "通话结束"}
STAGES = {STARTED: "created", ENDED: "updated"}
START_FIELDS = ("caller", "callee", "agent", "started_at")
END_FIELDS = START_FIELDS + ("ended_at", "duration", "summary", "intent")


class CtiCallAdapter(HeaderSignedAdapter):
    key = "cti_calls"
    name = "电话系统通话事件"
    scene_types = ("PHONE_CALL",)
    timestamp_header = "X-CTI-Timestamp"
    signature_header = "X-CTI-Signature"
    suggested_mapping = [
        {"source": "call_status", "target": "call_status", "label": "通话状态"},
        {"source": "agent", "target": "agent", "label": "接听座席"},
        {"source": "duration", "target": "duration", "label": "通话时长（秒）", "type": "number"},
    ]

    def parse(self, body: bytes, headers) -> list:
        payload = self.payload(body)
        event = payload.get("event")
        if event not in STAGES:
            raise WebhookRefused("body", f"不支持的通话事件：{text_of(event)[:32] or '（空）'}")
        call_id = text_of(payload.get("call_id")).strip()
        if not call_id:
            raise WebhookRefused("body", "通话事件缺少 call_id")
        fields = START_FIELDS if event == STARTED else END_FIELDS
        raw = {k: payload[k] for k in fields if payload.get(k) not in (None, "")}
        raw.update(event=event, call_id=call_id, call_status=CALL_STATUS[event])
        return [Submission(raw=raw, external_id=call_id, source="webhook", stage=STAGES[event],
                           meta={"platform": "cti", "call_status": CALL_STATUS[event]})]

    def ok_response(self, results: list) -> Answer:
        return json_answer(200, {"result": "ok"})

    def error_response(self, reason: str, message: str, status: Optional[int] = None) -> Answer:
        return json_answer(status or STATUS.get(reason, 400), {"result": "error", "reason": reason, "message": message})

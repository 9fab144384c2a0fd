"""表单回调: a website or form tool (问卷, 落地页) pushes each submission, signed, in the guide's shape.

Wire format (POST /webhooks/web_form, JSON):
  X-Form-Timestamp: <unix seconds>
  X-Form-Signature: "sha256=" + hex(HMAC-SHA256(secret, "{timestamp}.{raw body}"))
  {"form_id": "contact_us_form_v1", "submission_id": "...",
   "submission_data": {"name", "email", "phone", "company", "message", ...},
   "meta": {"ip_address", "user_agent", "submission_url"}}
Answer: {"ok": true, "accepted": <n>}; errors {"ok": false, "error": "<reason>", "message": "<原因>"}.

submission_id is the external id (a re-sent form makes one lead); form fields with the usual
names (姓名/phone/email/company/message) need no mapping rules.
"""
from __future__ import annotations

from typing import Optional

from crm.leads.adapters.base import (STATUS, Answer, HeaderSignedAdapter, WebhookRefused, count_accepted,
                                     json_answer, text_of)
from crm.leads.intake import Submission

META_KEYS = ("ip_address", "user_agent", "submission_url", "referrer")


class WebFormAdapter(HeaderSignedAdapter):
    key = "web_form"
    name = "表单回调"
    scene_types = ("WEB_FORM",)
    timestamp_header = "X-Form-Timestamp"
    signature_header = "X-Form-Signature"
    prefix = "sha256="

    def parse(self, body: bytes, headers) -> list:
        payload = self.payload(body)
        data = payload.get("submission_data")
        if not isinstance(data, dict):
            raise WebhookRefused("body", "表单回调缺少 submission_data 对象")
        meta = payload.get("meta") if isinstance(payload.get("meta"), dict) else {}
        raw = {"form_id": text_of(payload.get("form_id")), "submission_data": data}
        external_id = text_of(payload.get("submission_id")).strip() or None
        return [Submission(raw=raw, external_id=external_id, source="webhook",
                           meta={k: text_of(meta[k])[:500] for k in META_KEYS if meta.get(k)})]

    def ok_response(self, results: list) -> Answer:
        return json_answer(200, {"ok": True, "accepted": count_accepted(results)})

    def error_response(self, reason: str, message: str, status: Optional[int] = None) -> Answer:
        return json_answer(status or STATUS.get(reason, 400), {"ok": False, "error": reason, "message": message})

"""抖音线索推送: clues left in a Douyin ad form (姓名, 电话, 城市 …) and comments under a video.

Wire format (POST /webhooks/douyin_leads, JSON):
  X-Douyin-Timestamp: <unix seconds>
  X-Douyin-Nonce:     <random string>
  X-Douyin-Signature: hex(HMAC-SHA256(secret, "{timestamp}\\n{nonce}\\n{raw body}"))
  {"event": "lead", "clue_id": "...", "content": {"name", "telephone", "province", "city",
   "ad_id", "ad_name", "advertiser_id", "douyin_user_id", "remark", "create_time"}}
  {"event": "comment", "comment_id": "...", "content": {"douyin_user_id", "nickname", "comment",
   "video_id", "video_title", "create_time"}}
Answer: {"err_no": 0, "err_tips": "success"}; errors {"err_no": <code>, "err_tips": "<原因>"}.

The lead's raw data is `content` with `event` and the id beside it, so 姓名/电话/城市/评论 reach
the standard fields without mapping rules. A comment usually has no phone number: scenes that
take comments set the parameter require_contact to false, or they end up as dead letters.
"""
from __future__ import annotations

from typing import Optional

from crm.leads.adapters.base import (Answer, HeaderSignedAdapter, WebhookRefused, coded_error, json_answer,
                                     text_of)
from crm.leads.intake import Submission

EVENTS = {"lead": "clue_id", "comment": "comment_id"}


class DouyinLeadsAdapter(HeaderSignedAdapter):
    key = "douyin_leads"
    name = "抖音线索推送"
    scene_types = ("SOCIAL_MEDIA_LEAD",)
    timestamp_header = "X-Douyin-Timestamp"
    signature_header = "X-Douyin-Signature"
    nonce_header = "X-Douyin-Nonce"
    joiner = "\n"
    suggested_mapping = [
        {"source": "douyin_user_id", "target": "douyin_user_id", "label": "抖音用户ID"},
        {"source": "ad_name", "target": "ad_name", "label": "广告名称"},
    ]

    def parse(self, body: bytes, headers) -> list:
        payload = self.payload(body)
        event = payload.get("event")
        if event not in EVENTS:
            raise WebhookRefused("body", f"不支持的抖音推送类型：{text_of(event)[:32] or '（空）'}")
        id_field = EVENTS[event]
        external_id = text_of(payload.get(id_field)).strip()
        content = payload.get("content")
        if not external_id or not isinstance(content, dict):
            raise WebhookRefused("body", f"抖音推送缺少 {id_field} 或 content")
        raw = {**content, "event": event, id_field: external_id}
        return [Submission(raw=raw, external_id=f"{event}:{external_id}", source="webhook",
                           meta={"platform": "douyin", "event": event})]

    def ok_response(self, results: list) -> Answer:
        return json_answer(200, {"err_no": 0, "err_tips": "success"})

    def error_response(self, reason: str, message: str, status: Optional[int] = None) -> Answer:
        return coded_error(reason, message, status, "err_no", "err_tips")

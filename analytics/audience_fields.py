"""Segments as audience fields: registers 「RFM 分层」 (rfm_segment) and 「生命周期阶段」 (lifecycle_stage)
into crm's condition fields at start (crm.customers.fieldset.register_field), so a saved customer query,
a tag rule or a group audience can say 「RFM 分层 等于 重要价值客户」 and stay current with each scoring
pass. crm never imports analytics; the web app and the engine's cron wiring call register().

lifecycle_stage is the furthest funnel step reached: 复购 / 首购 / 入群/加好友 (contacted, no purchase) / ""
(the customer's funnel step 首购 is therefore stage 首购 or 复购)."""
from __future__ import annotations

from sqlalchemy import case, select

from analytics import rfm
from analytics.score_models import CustomerScore
from crm.customers.fieldset import register_field
from crm.customers.models import Customer

STAGE_LABELS = {"contact": "入群/加好友", "first": "首购", "repeat": "复购"}
# a funnel step → the stages that are at or past it
STEP_STAGES = {"contact": ["入群/加好友", "首购", "复购"], "first": ["首购", "复购"], "repeat": ["复购"]}


def segment_column():
    label = case({key: label for key, (label, *_) in rfm.SEGMENTS.items()}, value=CustomerScore.segment, else_="")
    return select(label).where(CustomerScore.customer_id == Customer.id).scalar_subquery()


def stage_column():
    contacted = CustomerScore.first_contact_at.is_not(None)
    stage = case((contacted & CustomerScore.second_order_at.is_not(None), STAGE_LABELS["repeat"]),
                 (contacted & CustomerScore.first_order_at.is_not(None), STAGE_LABELS["first"]),
                 (contacted, STAGE_LABELS["contact"]), else_="")
    return select(stage).where(CustomerScore.customer_id == Customer.id).scalar_subquery()


def register() -> None:
    register_field("rfm_segment", "text", "RFM 分层", segment_column())
    register_field("lifecycle_stage", "text", "生命周期阶段", stage_column())


def saved_query_rows(seg) -> list[dict]:
    """Condition rows equivalent to a segment (rfm, or a funnel step without filters); [] if not expressible."""
    if seg.kind == "rfm" and not any((seg.channel_id, seg.scene_id, seg.group_id, seg.cohort)):
        return [{"lparen": 0, "field": "rfm_segment", "op": "eq", "value": rfm.SEGMENTS[seg.key][0], "rparen": 0,
                 "join": "and"}]
    if seg.kind == "funnel" and not any((seg.channel_id, seg.scene_id, seg.group_id, seg.cohort)):
        return [{"lparen": 0, "field": "lifecycle_stage", "op": "in", "value": ",".join(STEP_STAGES[seg.step]),
                 "rparen": 0, "join": "and"}]
    return []

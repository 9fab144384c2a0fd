"""裂变活动 settlement and 积分到期, two cron jobs of the engine's one registry.

Stage rewards go through the executor, never processor.run() from a service ("one door"): each
reached stage is stored as a `fission.stage_reached` event (crm.events_out.emit, source "fission",
event id stage:<participant>:<stage>, so a re-run stores it once) with its reward step — the
stage's 发放积分 / 发放优惠券 / 抽取盲盒 and its config — planned on it the way 定向营销 plans its
sends (engine.own_steps). Retries, dead letters and 事件历史 are the executor's as for any step."""
from __future__ import annotations

from sqlalchemy import update

from community.fission.models import StageReward
from community.fission.settlement import Reached, settle
from community.rewards.ledger import expire_due
from crm.events_out import emit
from engine.cron import CronJob
from engine.own_steps import plan_step
from events.definitions import ensure_builtin

EVENT_CODE = "fission.stage_reached"
EVENT_SPEC = {
    "key": "fission_stage_reached", "code": EVENT_CODE, "name": "裂变阶段达成",
    "remark": "裂变活动的参与者在考察期后达到奖励阶梯（奖励步骤随事件一并生成）",
    "fields": [{"name": n, "type": t, "label": lb, "required": r} for n, t, lb, r in (
        ("customer_id", "number", "客户ID", True), ("campaign_id", "number", "活动ID", True),
        ("campaign_name", "text", "活动名称", False), ("participant_id", "number", "参与者ID", True),
        ("stage_index", "number", "阶梯序号", True), ("stage_name", "text", "阶梯名称", False),
        ("threshold", "number", "门槛", False), ("progress", "number", "当前进度", False),
        ("reward", "text", "奖励方式", False))]}


def _reason(item: Reached) -> str:
    return f"裂变活动「{item.campaign.name}」达成「{item.stage.get('name') or item.stage['threshold']}」"


def _plan(runtime, session, item: Reached, now) -> None:
    services = runtime.services
    processor = runtime.registry.get(item.stage["processor"])
    data = {"customer_id": item.participant.customer_id, "campaign_id": item.campaign.id,
            "campaign_name": item.campaign.name, "participant_id": item.participant.id, "stage_index": item.stage_index,
            "stage_name": item.stage.get("name") or "", "threshold": int(item.stage["threshold"]),
            "progress": item.progress, "reward": processor.name}
    event_id = f"stage:{item.participant.id}:{item.stage_index}"
    result = emit(session, EVENT_CODE, data, services.settings.timezone, source="fission", event_id=event_id, now=now)
    accepted = result.payload["accepted"]
    if not accepted:  # stored before (a re-run after a crash between emit and commit cannot happen: one tx)
        return
    record_id = accepted[0]["record_id"]
    config = {**item.stage.get("config", {}), "customer_id": str(item.participant.customer_id), "reason": _reason(item)}
    plan_step(session, record_id, f"裂变活动 #{item.campaign.id}「{item.campaign.name}」阶梯奖励", processor, config,
              f"fission:{event_id}", now, runtime.registry.max_attempts(processor.key))
    session.execute(update(StageReward.__table__).where(StageReward.__table__.c.id == item.reward_id)
                    .values(event_record_id=record_id))


def settle_campaigns(runtime) -> str:
    services = runtime.services
    now = services.now()
    with services.db.write() as session:
        tally, reached = settle(session, now)
        if reached:
            ensure_builtin(session, [EVENT_SPEC["key"]], extra=[EVENT_SPEC])
        for item in reached:
            _plan(runtime, session, item, now)
    if reached:
        runtime.submit(runtime.scheduler.sweep())  # run the reward steps now; the sweep would within seconds
    if not (tally.valid or tally.lapsed or reached or tally.commissions or tally.reversed):
        return ""
    return (f"裂变结算：有效 {tally.valid}，失效 {tally.lapsed}，达成阶梯 {len(reached)}，"
            f"新增佣金 {tally.commissions}，冲回 {tally.reversed}")


def expire_points(runtime) -> str:
    with runtime.services.db.write() as session:
        n = expire_due(session, runtime.services.now())
    return f"积分到期清零 {n} 笔" if n else ""


CRON_JOBS = (CronJob("fission_settle", "裂变活动结算", {"minute": "*"}, settle_campaigns),
             CronJob("points_expiry", "积分到期", {"hour": 1, "minute": 10}, expire_points))

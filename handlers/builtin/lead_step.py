"""线索处理步骤的共同部分: load the event's lead and its scene, do one pipeline stage in one write
transaction, and when a stage cannot succeed put the lead in 线索死信 with the reason (and the
lead's error field), so it can be re-driven after the scene is fixed.

The scene is read when the step runs — never cached — so an edited rule applies to the next lead.
"""
from __future__ import annotations

from abc import abstractmethod
from typing import Optional

from sqlalchemy import bindparam
from sqlmodel import Session, select

from crm.errors import CrmError
from crm.leads import batch
from crm.leads.intake import Submission, dead_letter
from crm.leads.logs import write_log
from crm.leads.models import Lead, LeadScene
from handlers.base import Outcome, Processor, ProcessorContext
from handlers.errors import PermanentError
from handlers.builtin.http import DRY_RUN_NOTE


def lead_id_of(ctx: ProcessorContext) -> int:
    try:
        return int(ctx.data.get("lead_id"))
    except (TypeError, ValueError):
        raise PermanentError("事件中没有线索ID（lead_id），线索处理步骤只能用于获客场景的线索事件") from None


_LEAD_AND_SCENE = (select(Lead, LeadScene).outerjoin(LeadScene, LeadScene.id == Lead.scene_id)
                   .where(Lead.id == bindparam("lead_id")))


def load_lead(session: Session, lead_id: int) -> tuple[Optional[Lead], Optional[LeadScene]]:
    """The lead and its scene in one query (two session.get() calls cost two round trips)."""
    row = session.execute(_LEAD_AND_SCENE, {"lead_id": lead_id}).first()
    return (row[0], row[1]) if row is not None else (None, None)


def record_failure(ctx: ProcessorContext, lead_id: int, step_name: str, message: str) -> None:
    """A permanent failure: the lead's error, a red log line and a 线索死信 row (re-drivable)."""
    with ctx.services.db.write() as session:
        lead = session.get(Lead, lead_id)
        if lead is None:
            return
        lead.error = f"{step_name}：{message}"[:1000]
        session.add(lead)
        write_log(session, lead.id, "error", f"{step_name}失败：{message}", ok=False, actor=f"strategy:{ctx.strategy_id}")
        row = dead_letter(session, lead.scene_id, "pipeline", Submission(raw={}, source="pipeline"),
                          f"{step_name}失败：{message}", [])
        row.lead_id = lead.id
        session.add(row)


class LeadStep(Processor):
    # It writes only this database, and a re-run of a new lead's stage finds it settled
    # (crm.leads.batch.settled) or redoes it in one transaction: start and outcome are
    # group-committed together, no commit is waited for before it runs.
    external = False

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        return {"lead_id": ctx.data.get("lead_id"), "step": self.name}

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        lead_id = lead_id_of(ctx)
        if ctx.dry_run:
            return Outcome(request=self.render(ctx, config), note=DRY_RUN_NOTE)
        new_lead = ctx.data.get("stage") == "created"  # an update or a re-drive runs its stages again
        state = batch.state_of(ctx.services.db)
        done = state.memo.take(lead_id, self.key) if new_lead else None
        if done is not None:  # a committed batch of this process did this stage
            return Outcome(**done)
        try:
            outcome, batched = self._run_once(ctx, config, lead_id, new_lead, state)
            if batched is not None:
                state.memo.publish(batched)  # committed: the siblings' steps may use it now
            if outcome is None:  # this lead failed inside its batch: alone, as before, to record why
                outcome, _ = self._run_once(ctx, config, lead_id, False, state)
            return outcome
        except CrmError as exc:
            record_failure(ctx, lead_id, self.name, exc.message)
            raise PermanentError(exc.message) from exc
        except PermanentError as exc:
            record_failure(ctx, lead_id, self.name, exc.message)
            raise

    def _run_once(self, ctx: ProcessorContext, config: dict, lead_id: int, new_lead: bool, state):
        """(outcome or None when the lead failed in its batch, the batch's other outcomes or None)."""
        with ctx.services.db.write() as session:
            if new_lead and self.key == "lead.identify":
                batch.serialize_identification(session, ctx.data.get("scene_id"))
            if new_lead:
                done = batch.settled(session, self.key, lead_id, lock=True)
                if done is not None:
                    return Outcome(**done), None
            lead, scene = load_lead(session, lead_id)
            if lead is None:
                raise PermanentError(f"线索 {lead_id} 不存在或已删除")
            strategy = batch.batch_strategy(session, scene, ctx.strategy_id) if new_lead and self.key == "lead.identify" else None
            if strategy is None:
                return self.apply(ctx, config, session, lead, scene), None
            outcomes, error = batch.run_batch(session, lead, scene, strategy, dict(ctx.data), ctx.services.now(),
                                              ctx.services.settings.timezone, state)
            mine = outcomes.pop(lead_id, None)
            if mine is None:
                return None, outcomes
            outcomes[lead_id] = {k: v for k, v in mine.items() if k != self.key}
            return Outcome(**mine[self.key]), outcomes

    @abstractmethod
    def apply(self, ctx: ProcessorContext, config: dict, session: Session, lead: Lead, scene: LeadScene) -> Outcome:
        """Do the stage inside the open write transaction."""

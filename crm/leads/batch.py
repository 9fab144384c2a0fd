"""线索批量处理: the scene pipeline's first three stages (识别客户 → 自动打标签 → 分配) for a batch of
a scene's new leads in ONE write transaction, instead of three transactions per lead.

Measured before (bench/leads.py): each lead cost the worker three write transactions (one per
step) plus the engine's records of each step, all queued on one writer; leads reached ASSIGNED
at about 100/s. Now the 识别客户 step of the first lead of a burst also takes the scene's other
pending leads (up to BATCH_SIZE, in id order) and runs the three stages for each of them in the
same transaction, one after the other — dedupe (which compares with the leads identified before,
crm.leads.identify) and the round-robin pointer see exactly what they would have seen had the
leads been processed one by one in that order. Those leads' own steps then find
their stage settled (in this process's memo, or in the lead log) and return its outcome without
writing anything.

When it is allowed: only when the scene's strategy is the default pipeline shape — enabled, no
condition rows, its first three steps 识别客户, 自动打标签, 分配 (not reassigning), immediate. Then
every new lead of the scene is certain to get exactly these stages, now, so doing them a few
milliseconds early in a sibling's transaction changes nothing an operator configured. Any other
shape (a delay, a condition, reordered steps) runs lead by lead as before. Only leads created
since the strategy last changed, still NEW, without an error and never identified are taken.

Guarantees: the batch is one transaction (a crash leaves every lead of it pending, never half
processed — their own steps process them); each lead runs inside a SAVEPOINT, so a lead that
fails rolls back alone, is left pending for its own step (which records the failure and dead
letter as before) and never blocks or loses the others. On PostgreSQL the batch locks its leads
with FOR UPDATE SKIP LOCKED and a lead's own step locks its row, so two processors never
process one lead twice; SQLite serialises writers anyway. The lead log, the customer's events
and notifications are written by the same functions as the one-by-one path.
"""
from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from datetime import datetime
from typing import Optional

from sqlalchemy import bindparam, exists, select
from sqlmodel import Session

from crm.leads.assignment import apply_assignment, decide
from crm.leads.contact_index import CONTACT_INDEX, ContactIndex
from crm.leads.identify import identify, serialize_identification  # noqa: F401 - the step takes it before its row lock
from crm.leads.intake import event_data
from crm.leads.models import Lead, LeadLog, LeadScene
from crm.customers.service import FIELD_CACHE
from crm.events_out import SHARED_DEFINITIONS
from crm.leads.tagging import KNOWN_LEAD_TAGS, TAG_CACHE, lead_tags, tag_lead
from events.ingestion import SessionDefinitions
from rules.models import Strategy

BATCH_SIZE = 50
# The write lock (SQLite: the whole file) is held for the whole batch and intake waits behind it:
# past MIN_BATCH leads a batch takes no further lead once it has run BATCH_SECONDS. (Cut at a
# time alone, a loaded machine made one-lead batches that read fifty leads each: slower than
# no batch at all.)
MIN_BATCH = 10
BATCH_SECONDS = 0.1
STAGES = ("lead.identify", "lead.tag", "lead.assign")
# The log lines each stage ends with: the marker that the stage is settled.
STAGE_LOGS = {"lead.identify": ("identified",), "lead.tag": ("tagged",), "lead.assign": ("assigned", "held")}
ALL_STAGE_LOGS = tuple(s for stages in STAGE_LOGS.values() for s in stages)
MEMO_LIMIT = 50_000

_LOGS_OF = (select(LeadLog.lead_id, LeadLog.stage, LeadLog.message, LeadLog.detail)
            .where(LeadLog.lead_id.in_(bindparam("ids", expanding=True)),
                   LeadLog.stage.in_(ALL_STAGE_LOGS + ("received",))))


# -- what a stage returns (the step's Outcome fields) ------------------------------------------
def identify_stage(session: Session, lead: Lead, scene: LeadScene, now: datetime, batch_of=None) -> dict:
    result = identify(session, lead, scene, now, batch_of=batch_of)
    return {"request": {"lead_id": lead.id, "dedup": scene.dedup_strategy},
            "response": {"customer_id": result.customer_id, "created": result.created,
                         "matched_by": result.matched_by, "duplicate_of": result.duplicate_of},
            "note": result.note}


def tag_stage(session: Session, lead: Lead, scene: LeadScene, facts: dict, now: datetime, tz, batch_of=None) -> dict:
    given = tag_lead(session, lead, scene, facts, now, tz, batch_of=batch_of)
    return {"request": {"lead_id": lead.id}, "response": {"added": given},
            "note": f"添加标签：{'、'.join(given)}" if given else "没有新标签"}


def assign_stage(session: Session, lead: Lead, scene: LeadScene, facts: dict, now: datetime, tz, actor: str,
                 reassign: bool = False, batch_of=None) -> dict:
    if lead.assignee_user_id is not None and not reassign:
        return {"request": {"lead_id": lead.id}, "response": {"user_id": lead.assignee_user_id},
                "note": "线索已分配，保持原负责人"}
    decision = decide(session, lead, scene, facts, now, tz)
    apply_assignment(session, lead, decision, actor=actor, now=now, batch_of=batch_of)
    return {"request": {"lead_id": lead.id, "method": decision.method},
            "response": {"user_id": decision.user_id, "group_id": decision.group_id, "held": decision.held},
            "note": decision.reason}


# -- settled stages: this process's memo, else the lead log ------------------------------------
class _Memo:
    """Outcomes of stages a committed batch did for leads whose steps have not run yet (bounded:
    a forgotten entry only costs that step one read of the lead log)."""

    def __init__(self):
        self._items: "OrderedDict[tuple[int, str], dict]" = OrderedDict()
        self._lock = threading.Lock()

    def publish(self, outcomes: dict[int, dict[str, dict]]) -> None:
        with self._lock:
            for lead_id, stages in outcomes.items():
                for key, outcome in stages.items():
                    self._items[(lead_id, key)] = outcome
            while len(self._items) > MEMO_LIMIT:
                self._items.popitem(last=False)

    def take(self, lead_id: int, key: str) -> Optional[dict]:
        with self._lock:
            return self._items.pop((lead_id, key), None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class _State:
    """One database's memo and the leads that failed in a batch there (left to their own steps)."""

    def __init__(self):
        self.memo = _Memo()
        self.failed: "OrderedDict[int, None]" = OrderedDict()
        self.lock = threading.Lock()
        # How many leads the next batch reads: a batch cut short by BATCH_SECONDS read leads it
        # never processed (loaded, decrypted, their logs and tags read: a tenth of a batch's
        # time in py-spy when batches of ten read fifty), so the next one reads about what fits.
        self.batch_hint = BATCH_SIZE

    def learn(self, read: int, processed: int) -> None:
        self.batch_hint = BATCH_SIZE if processed >= read else max(MIN_BATCH, min(BATCH_SIZE, processed + processed // 2))

    def remember_failed(self, lead_id: int) -> None:
        with self.lock:
            self.failed[lead_id] = None
            while len(self.failed) > 10_000:
                self.failed.popitem(last=False)

    def failed_ids(self) -> list[int]:
        with self.lock:
            return list(self.failed)


# Per Database object, gone with it: lead ids of one database never meet another's (tests).
_states: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_states_lock = threading.Lock()


def state_of(db) -> _State:
    with _states_lock:
        state = _states.get(db)
        if state is None:
            state = _states[db] = _State()
        return state


def settled(session: Session, key: str, lead_id: int, lock: bool) -> Optional[dict]:
    """The outcome of stage `key` when a batch already did it for this lead's new-lead run; None
    when the step still has to run. `lock` (inside the step's write transaction) takes the lead's
    row first on PostgreSQL, so a batch in another process either finished it or cannot take it."""
    if key not in STAGE_LOGS:
        return None
    if lock and session.get_bind().dialect.name == "postgresql":
        session.execute(select(Lead.id).where(Lead.id == lead_id).with_for_update())
    for _, stage, message, detail in session.execute(_LOGS_OF, {"ids": [lead_id]}):
        if stage in STAGE_LOGS[key] and isinstance(detail, dict) and detail.get("batch"):
            return {"request": {"lead_id": lead_id}, "response": {k: v for k, v in detail.items() if k != "batch"},
                    "note": message}
    return None


# -- the batch --------------------------------------------------------------------------------------
def batch_strategy(session: Session, scene: LeadScene, strategy_id: int) -> Optional[Strategy]:
    """The scene's strategy when it is the default pipeline shape (see the module docstring)."""
    if scene.strategy_id != strategy_id:
        return None
    strategy = session.get(Strategy, strategy_id)
    if strategy is None or not strategy.enabled or strategy.conditions:
        return None
    steps = list(strategy.steps or [])
    if [s.get("processor") for s in steps[:len(STAGES)]] != list(STAGES):
        return None
    for s in steps[:len(STAGES)]:
        if ((s.get("timing") or {}).get("mode") or "immediate") != "immediate":
            return None
    if (steps[2].get("config") or {}).get("reassign"):
        return None
    return strategy


def _pending(session: Session, scene: LeadScene, strategy: Strategy, trigger_id: int, limit: int,
             failed: list[int]) -> list[Lead]:
    started = exists().where(LeadLog.lead_id == Lead.id, LeadLog.stage.in_(ALL_STAGE_LOGS))
    query = (select(Lead).where(Lead.scene_id == scene.id, Lead.status == "NEW", Lead.id != trigger_id,
                                Lead.customer_id.is_(None), Lead.assignee_user_id.is_(None), Lead.error == "",
                                Lead.created_at >= strategy.updated_at, ~started)
             .order_by(Lead.id).limit(limit))
    if failed:
        query = query.where(Lead.id.not_in(failed))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Lead)
    leads = list(session.scalars(query))
    if leads and session.get_bind().dialect.name == "postgresql":
        # Locked now; a batch that committed after this statement's snapshot may have done some.
        done = {row[0] for row in session.execute(
            select(LeadLog.lead_id).where(LeadLog.lead_id.in_([l.id for l in leads]), LeadLog.stage.in_(ALL_STAGE_LOGS)))}
        leads = [l for l in leads if l.id not in done]
    return leads


def _facts(session: Session, scene: LeadScene, leads: list[Lead]) -> dict[int, dict]:
    """Each lead's event data as intake emitted it (the source is in its 接收 log line)."""
    sources = {}
    for lead_id, stage, _, detail in session.execute(_LOGS_OF, {"ids": [l.id for l in leads]}):
        if stage == "received" and isinstance(detail, dict):
            sources[lead_id] = detail.get("source")
    return {l.id: event_data(l.id, scene, dict(l.lead_data or {}), l.channel_id, l.plan_id, "created",
                             sources.get(l.id) or "api") for l in leads}


def _one(session: Session, lead: Lead, scene: LeadScene, facts: dict, now: datetime, tz, actor: str,
         batch_of: int) -> dict[str, dict]:
    out = {"lead.identify": identify_stage(session, lead, scene, now, batch_of)}
    out["lead.tag"] = tag_stage(session, lead, scene, facts, now, tz, batch_of)
    out["lead.assign"] = assign_stage(session, lead, scene, facts, now, tz, actor, batch_of=batch_of)
    return out


def run_batch(session: Session, trigger: Lead, scene: LeadScene, strategy: Strategy, trigger_facts: dict,
              now: datetime, tz, state: _State, limit: int = BATCH_SIZE) -> tuple[dict[int, dict[str, dict]], Optional[Exception]]:
    """Processes `trigger` and up to limit-1 pending leads of its scene in the caller's write
    transaction. Returns (outcomes by lead id and stage, the trigger's own failure or None). A
    lead that fails is rolled back to its savepoint and left pending."""
    actor = f"strategy:{strategy.id}"
    leads = [trigger] + _pending(session, scene, strategy, trigger.id, min(limit, state.batch_hint) - 1, state.failed_ids())
    facts = _facts(session, scene, leads[1:])
    facts[trigger.id] = trigger_facts
    # Lookups that cannot change during the batch, read once for it (see each key's module).
    shared = {SHARED_DEFINITIONS: SessionDefinitions(session), FIELD_CACHE: {}, TAG_CACHE: {},
              KNOWN_LEAD_TAGS: lead_tags(session, [l.id for l in leads]),
              CONTACT_INDEX: ContactIndex(session, scene.id, leads)}
    session.info.update(shared)
    try:
        return _run(session, leads, trigger, scene, facts, now, tz, actor, state)
    finally:
        for key in shared:
            session.info.pop(key, None)


def _run(session: Session, leads: list[Lead], trigger: Lead, scene: LeadScene, facts: dict, now: datetime, tz,
         actor: str, state: _State) -> tuple[dict[int, dict[str, dict]], Optional[Exception]]:
    outcomes: dict[int, dict[str, dict]] = {}
    trigger_error = None
    deadline = time.monotonic() + BATCH_SECONDS
    processed = len(leads)
    for index, lead in enumerate(leads):
        if index >= MIN_BATCH and time.monotonic() > deadline:
            processed = index
            break  # the rest stay pending, untouched: their own steps or the next batch take them
        savepoint = session.begin_nested()
        index = session.info[CONTACT_INDEX]
        marked = index.mark()
        try:
            outcomes[lead.id] = _one(session, lead, scene, facts[lead.id], now, tz, actor, trigger.id)
            savepoint.commit()
        except Exception as exc:  # noqa: BLE001 - whatever it is, it is this lead's: it alone goes back
            savepoint.rollback()
            index.restore(marked)  # what it wrote is gone: so is what the index learnt from it
            if lead.id == trigger.id:
                trigger_error = exc
            else:
                state.remember_failed(lead.id)
    state.learn(len(leads), processed)
    return outcomes, trigger_error

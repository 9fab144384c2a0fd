"""The ingestion path: authenticate, validate, dedupe, store — then answer.

A 2xx means every accepted event is in the event_record table; nothing acknowledged is lost.
Authenticated apps' refused events are stored too, with their reason, for 事件历史;
unauthenticated traffic is only counted and logged.

This is the one door into the ledger: signed apps (`Ingestor.ingest`), producers the server
already trusts (`Ingestor.ingest_trusted`: phones, schedules) and the server's own services
inside their write transaction (`store_trusted`: CRM changes, lead intake, targeted marketing)
all build their rows with the same validation and dedupe key, and insert them the same way.
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Optional

from sqlalchemy import select as sa_select

from config import metrics
from config.services import Services
from events import idempotency
from events.body import parse_events
from events.catalog import CachedApp, Catalog
from events.errors import IngestError, error_body
from events.field_types import FieldsValidator, FieldValueError, parse_datetime
from events.group_commit import GroupCommitter
from events.models import EventDefinition, EventRecord
from events.record_store import writer_for
from events.safe_json import problems, scrub
from events.signature import check_signature, check_timestamp

log = logging.getLogger("ckb.ingest")
TABLE = EventRecord.__table__

REJECT_LABELS = {
    "app_disabled": "应用已禁用",
    "ip_not_allowed": "IP 不在白名单",
    "event_unknown": "事件未注册",
    "event_disabled": "事件已禁用",
    "invalid": "字段校验不通过",
    "bad_shape": "事件格式错误",
}


@dataclass
class IngestRequest:
    body: bytes
    app_key: Optional[str]
    timestamp: Optional[str]
    signature: Optional[str]
    client_ip: str = ""
    idempotency_key: Optional[str] = None


@dataclass
class IngestResult:
    status: int
    payload: dict
    stored_ids: list = field(default_factory=list)


class Ingestor:
    def __init__(self, services: Services, catalog: Catalog, on_stored: Callable[[list], None] | None = None):
        self.services = services
        self.catalog = catalog
        self.on_stored = on_stored or (lambda ids: None)
        self.unauthenticated = Counter()  # code → count, shown on the dashboard
        self._lock = threading.Lock()
        # Signed requests of this process share write transactions (see events.group_commit).
        self.group = GroupCommitter(services.db, _store_group, after_commit=self._group_stored)

    # -- authentication ---------------------------------------------------------------------
    def authenticate(self, req: IngestRequest) -> CachedApp:
        try:
            if not req.app_key:
                raise IngestError(401, "missing_app_key", "缺少 X-App-Key 请求头")
            app = self.catalog.apps.get(req.app_key)
            if app is None:
                raise IngestError(401, "unknown_app", "X-App-Key 无效")
            ts = check_timestamp(req.timestamp, self.services.now().timestamp(),
                                 self.services.settings.signature_tolerance_seconds)
            check_signature(list(app.secrets), ts, req.signature, req.body)
            return app
        except IngestError as exc:
            with self._lock:
                self.unauthenticated[exc.code] += 1
            metrics.EVENTS_UNAUTHENTICATED.labels(exc.code).inc()
            log.warning("unauthenticated ingestion refused", extra={"code": exc.code, "ip": req.client_ip})
            raise

    # -- the whole request ------------------------------------------------------------------
    def ingest(self, req: IngestRequest) -> IngestResult:
        s = self.services.settings
        if len(req.body) > s.max_body_bytes:
            raise IngestError(400, "body_too_large", f"请求体过大：{len(req.body)} 字节，上限 {s.max_body_bytes} 字节")
        app = self.authenticate(req)
        parsed = parse_events(req.body, s.max_body_bytes, s.max_json_depth, s.max_batch_events)
        idem_key = idempotency.check_key(req.idempotency_key)
        now = self.services.now()
        refusal = None
        if not app.enabled:
            refusal = (403, "app_disabled", f"应用「{app.name}」已禁用")
        elif not app.ip_allowed(req.client_ip):
            refusal = (403, "ip_not_allowed", f"来源 IP {req.client_ip} 不在应用「{app.name}」的白名单中")
        single = parsed.single
        rows = [event_row(self.catalog.definitions, s.timezone, app.id, i, ev, now, req, refusal, parsed.plain)
                for i, ev in enumerate(parsed.events)]
        if idem_key is None and not self.services.db.holds_write_turn():
            # Counted and dispatched by the group's leader, once per group, before this wakes. (A
            # caller already inside a write would block whoever leads: it stores inline below.)
            return self.group.run((rows, single, refusal), len(rows))
        # With an Idempotency-Key the key is claimed in the transaction that stores the events,
        # and a concurrent holder of the key makes the claim wait: that request writes alone.
        idem = (idem_key, idempotency.fingerprint("events", req.body)) if idem_key else None
        result = self._store(app, rows, single, refusal, idem, now)
        if result.stored_ids:
            metrics.EVENTS_STORED.labels("api").inc(len(result.stored_ids))
            self.on_stored(result.stored_ids)
        return result

    def _group_stored(self, results: list) -> None:
        stored = [rid for result in results for rid in result.stored_ids]
        if stored:
            metrics.EVENTS_STORED.labels("api").inc(len(stored))
            self.on_stored(stored)

    # -- trusted producers (device gateway, schedules) ------------------------------------------
    def ingest_trusted(self, source: str, origin_key: str, events: list[dict]) -> IngestResult:
        """Events from a producer the server already authenticated (a device on its token, the
        scheduler): the same validation, dedupe and storage as `ingest`, without the HMAC.

        `origin_key` ("device:<id>") scopes the dedupe: an event id seen before from the same
        origin is a duplicate, so a device re-sending an unacknowledged report stores it once.
        Refused events are stored with their reasons, as for apps.
        """
        with self.services.db.write() as session:
            result = store_trusted(session, source, origin_key, events, self.services.now(),
                                   self.services.settings.timezone, self.catalog.definitions)
        if result.stored_ids:
            metrics.EVENTS_STORED.labels(source).inc(len(result.stored_ids))
            self.on_stored(result.stored_ids)
        return result

    def _store(self, app: CachedApp, rows: list, single: bool, refusal, idem, now) -> IngestResult:
        with self.services.db.write() as session:
            conn = session.connection()
            if idem is not None:
                # Inside the transaction that stores the events: a concurrent request with the
                # same key waits on the key's unique index and then sees this one's answer.
                replay = idempotency.claim(conn, app.id, idem[0], idem[1], now, self.services.settings.timezone)
                if replay is not None:
                    return IngestResult(*replay)
            result = _stored(conn, rows, single, refusal)
            if idem is not None:
                idempotency.settle(conn, app.id, idem[0], result.status, result.payload)
        return result


def _stored(conn, rows: list, single: bool, refusal) -> IngestResult:
    """Stores one request's rows in the caller's transaction; its answer."""
    return _store_group(conn, [(rows, single, refusal)])[0]


def _store_group(conn, requests: list[tuple]) -> list[IngestResult]:
    """Stores (rows, single, refusal) of several requests in the caller's transaction; their answers."""
    inserted = insert_groups(conn, [rows for rows, _single, _refusal in requests])
    return [IngestResult(*answer(single, refusal, *lists[:3]), lists[3])
            for (_rows, single, refusal), lists in zip(requests, inserted)]


class SessionDefinitions:
    """Event definitions read through the caller's session (for `store_trusted` inside a
    transaction that may itself have just created one), each code once."""

    def __init__(self, session):
        self.session = session
        self._seen: dict = {}

    def get(self, code: str):
        if code not in self._seen:
            self._seen[code] = self.session.execute(
                sa_select(EventDefinition).where(EventDefinition.code == code)).scalars().first()
        return self._seen[code]


def store_trusted(session, source: str, origin_key: str, events: list[dict], now: datetime, tz: str | None,
                  definitions=None) -> IngestResult:
    """Events from a producer the server already trusts, stored in the caller's write transaction
    (so a lead, its log and its event commit together): the same validation, dedupe and storage
    as `Ingestor.ingest`, without the HMAC. The caller's commit makes them visible; the
    dispatcher's poll picks them up.

    `origin_key` ("device:<id>", "lead", "crm") scopes the dedupe: an event id seen before from the
    same origin is a duplicate, so a re-sent report or a re-run job stores it once. Without an id
    every call is a new event. Refused events are stored with their reasons, as for apps.
    """
    definitions = definitions if definitions is not None else SessionDefinitions(session)
    req = IngestRequest(body=b"", app_key=None, timestamp=None, signature=None)
    rows = []
    for i, ev in enumerate(events):
        row = event_row(definitions, tz, None, i, ev, now, req, None)
        row["source"] = source[:16]
        if row["status"] == "accepted":
            marker = row["external_id"] if row["external_id"] is not None else f"uuid:{uuid.uuid4().hex}"
            row["dedupe_key"] = f"{origin_key}:{marker}"[:256]
        rows.append(row)
    accepted, duplicates, rejected, stored = insert_rows(session.connection(), rows)
    return IngestResult(*answer(False, None, accepted, duplicates, rejected), stored)


# -- one event ------------------------------------------------------------------------------
def event_row(definitions, tz: str, app_id, index: int, ev, now: datetime, req: IngestRequest, refusal,
              plain: bool = False) -> dict:
    """The event_record row for one event: accepted with typed data and its dedupe key, or refused
    with errors naming each field. `definitions.get(code)` gives the event's definition; `plain`
    says the body it came from cannot hold an unstorable value (events.body.ParsedBody)."""
    row = {"app_id": app_id, "source": "api", "received_at": now, "occurred_at": now,
           "client_ip": req.client_ip[:64], "errors": [], "data": {}, "event_code": "",
           "external_id": None, "dedupe_key": None, "event_definition_id": None,
           "matched_count": 0, "outcome": "", "outcome_note": ""}
    if not isinstance(ev, dict):
        return _reject(row, "bad_shape", [{"field": "", "code": "type", "message": "事件应为 JSON 对象"}])
    # NUL, lone surrogates and NaN/Infinity are refused here, whichever door the event came by;
    # the refused record keeps a scrubbed copy (the database could not store the original).
    errors = [] if plain else problems(ev)
    if errors:
        ev = scrub(ev)
    row["event_code"] = str(ev.get("event", ""))[:64]
    data = ev.get("data", {})
    row["data"] = data if isinstance(data, dict) else {}
    ext = ev.get("id")
    if ext is not None:
        if isinstance(ext, (str, int)) and not isinstance(ext, bool) and 0 < len(str(ext)) <= 128:
            row["external_id"] = str(ext)
        else:
            errors.append({"field": "id", "code": "type", "message": "id 应为 1–128 个字符的字符串或整数"})
    if ev.get("occurred_at") is not None:
        try:
            row["occurred_at"] = parse_datetime(ev["occurred_at"], tz)
        except FieldValueError as exc:
            errors.append({"field": "occurred_at", "code": "type", "message": f"occurred_at {exc}"})
    if not isinstance(data, dict):
        errors.append({"field": "data", "code": "type", "message": "data 应为 JSON 对象"})
    if refusal is not None:
        return _reject(row, refusal[1], [{"field": "", "code": refusal[1], "message": refusal[2]}])
    if not row["event_code"]:
        return _reject(row, "bad_shape", [{"field": "event", "code": "missing", "message": "缺少事件代码 event"}] + errors)
    definition = definitions.get(row["event_code"])
    if definition is None:
        return _reject(row, "event_unknown", [{"field": "event", "code": "unknown", "message": f"事件「{row['event_code']}」未注册"}])
    row["event_definition_id"] = definition.id
    if not definition.enabled:
        return _reject(row, "event_disabled", [{"field": "event", "code": "disabled", "message": f"事件「{definition.name}」已禁用"}])
    validator = getattr(definition, "validator", None) or FieldsValidator(definition.fields or [])
    clean, field_errors = validator.normalise(row["data"], tz)
    errors += field_errors
    if errors:
        return _reject(row, "invalid", errors)
    row["data"] = clean
    row.update(status="accepted", reject_reason="", dispatch_status="pending")
    # Without an id, the signature (unique per timestamp+body) keys the event, so an exact
    # replay of a signed request inside the time window is acknowledged but never re-run.
    marker = row["external_id"] if row["external_id"] is not None else f"sig:{(req.signature or '')[-64:]}:{index}"
    row["dedupe_key"] = f"api:{app_id}:{marker}"
    return row


def _reject(row: dict, reason: str, errors: list) -> dict:
    row.update(status="rejected", reject_reason=reason, errors=errors, dispatch_status="skipped",
               outcome="rejected", outcome_note="；".join(e["message"] for e in errors)[:500])
    return row


# -- storage --------------------------------------------------------------------------------
def insert_rows(conn, rows: list) -> tuple[list, list, list, list]:
    """Inserts built rows in the caller's transaction: (accepted, duplicates, rejected, stored ids)."""
    return insert_groups(conn, [rows])[0]


def insert_groups(conn, groups: list[list]) -> list[tuple[list, list, list, list]]:
    """Inserts several requests' rows in the caller's transaction with one multi-row INSERT; for
    each request (accepted, duplicates, rejected, stored ids). A dedupe key seen twice is stored
    once, for its first row in the order given; every later row with it is a duplicate of that
    record. The rows are left as they were (a group commit may store them again after a rollback)."""
    first: dict[str, dict] = {}  # dedupe_key → the first accepted row with it
    for rows in groups:
        for row in rows:
            if row["status"] != "rejected":
                first.setdefault(row["dedupe_key"], row)
    ids: dict[str, int] = {}
    writer = writer_for(conn)
    if first:
        ids.update((key, rid) for rid, key in writer.insert_new(conn, list(first.values())))
    new_keys = set(ids)
    seen_before = [key for key in first if key not in ids]
    if seen_before:
        ids.update((key, rid) for rid, key in conn.execute(
            sa_select(TABLE.c.id, TABLE.c.dedupe_key).where(TABLE.c.dedupe_key.in_(seen_before))))
    answers = []
    for rows in groups:
        accepted, duplicates, rejected, stored = [], [], [], []
        for index, row in enumerate(rows):
            if row["status"] == "rejected":
                # Refused rows have no dedupe key, so nothing conflicts; one at a time keeps each id
                # with its row (they are the rare case).
                rid = writer.insert_one(conn, row)
                rejected.append({"index": index, "record_id": rid, "reason": row["reject_reason"], "errors": row["errors"]})
                continue
            key = row["dedupe_key"]
            if first[key] is row and key in new_keys:
                accepted.append({"index": index, "id": row["external_id"], "record_id": ids[key]})
                stored.append(ids[key])
            else:
                duplicates.append({"index": index, "id": row["external_id"], "record_id": ids[key]})
        answers.append((accepted, duplicates, rejected, stored))
    return answers


def answer(single, refusal, accepted, duplicates, rejected) -> tuple[int, dict]:
    """202 with what was accepted, duplicated and rejected; a refused request (app disabled, IP not
    allowed) answers the error envelope with the rejected events in `details` (each with index,
    record_id, reason and its field errors); a single rejected event answers it with its field
    errors in `details` ({"field", "code", "message"}) and `fields` (field → message)."""
    if refusal is not None:
        return refusal[0], error_body(refusal[1], refusal[2], details=rejected)
    if single and rejected:
        first = rejected[0]
        fields = {e["field"]: e["message"] for e in first["errors"] if e.get("field")}
        return 422, error_body(first["reason"], "事件校验不通过：" + "；".join(e["message"] for e in first["errors"])[:300],
                               fields=fields, details=first["errors"])
    return 202, {"accepted": accepted, "duplicates": duplicates, "rejected": rejected}

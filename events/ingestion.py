"""The ingestion path: authenticate, validate, dedupe, store — then answer.

A 2xx means every accepted event is in the event_record table; nothing acknowledged is lost.
Authenticated apps' refused events are stored too, with their reason, for 事件历史;
unauthenticated traffic is only counted and logged.
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
from sqlalchemy.dialects import postgresql, sqlite

from config.services import Services
from events.body import parse_body
from events.catalog import CachedApp, Catalog
from events.errors import IngestError
from events.field_types import FieldValueError, normalise, parse_datetime
from events.models import EventRecord, IdempotencyKey
from events.signature import check_signature, check_timestamp

log = logging.getLogger("ckb.ingest")
TABLE = EventRecord.__table__
_INSERTS: dict = {}  # dialect name → the compiled-once INSERT … ON CONFLICT DO NOTHING RETURNING id

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
            log.warning("unauthenticated ingestion refused", extra={"code": exc.code, "ip": req.client_ip})
            raise

    # -- the whole request ------------------------------------------------------------------
    def ingest(self, req: IngestRequest) -> IngestResult:
        s = self.services.settings
        if len(req.body) > s.max_body_bytes:
            raise IngestError(400, "body_too_large", f"请求体过大：{len(req.body)} 字节，上限 {s.max_body_bytes} 字节")
        app = self.authenticate(req)
        events, single = parse_body(req.body, s.max_body_bytes, s.max_json_depth, s.max_batch_events)
        if req.idempotency_key:
            if len(req.idempotency_key) > 128:
                raise IngestError(400, "bad_idempotency_key", "Idempotency-Key 最长 128 个字符")
            previous = self._previous_answer(app.id, req.idempotency_key)
            if previous is not None:
                return previous
        now = self.services.now()
        refusal = None
        if not app.enabled:
            refusal = (403, "app_disabled", f"应用「{app.name}」已禁用")
        elif not app.ip_allowed(req.client_ip):
            refusal = (403, "ip_not_allowed", f"来源 IP {req.client_ip} 不在应用「{app.name}」的白名单中")
        rows = [self._row(app, i, ev, now, req, refusal) for i, ev in enumerate(events)]
        result = self._store(app, rows, single, refusal, req.idempotency_key, now)
        if result.stored_ids:
            self.on_stored(result.stored_ids)
        return result

    # -- trusted producers (device gateway, schedules) ------------------------------------------
    def ingest_trusted(self, source: str, origin_key: str, events: list[dict]) -> IngestResult:
        """Events from a producer the server already authenticated (a device on its token, the
        scheduler): the same validation, dedupe and storage as `ingest`, without the HMAC.

        `origin_key` ("device:<id>") scopes the dedupe: an event id seen before from the same
        origin is a duplicate, so a device re-sending an unacknowledged report stores it once.
        Refused events are stored with their reasons, as for apps.
        """
        now = self.services.now()
        producer = CachedApp(id=None, name=source, enabled=True, secrets=(), networks=())  # type: ignore[arg-type]
        req = IngestRequest(body=b"", app_key=None, timestamp=None, signature=None)
        rows = []
        for i, ev in enumerate(events):
            row = self._row(producer, i, ev, now, req, None)
            row["source"] = source[:16]
            if row["status"] == "accepted":
                marker = row["external_id"] if row["external_id"] is not None else f"uuid:{uuid.uuid4().hex}"
                row["dedupe_key"] = f"{origin_key}:{marker}"[:256]
            rows.append(row)
        result = self._store(producer, rows, False, None, None, now)
        if result.stored_ids:
            self.on_stored(result.stored_ids)
        return result

    def _previous_answer(self, app_id: int, key: str) -> Optional[IngestResult]:
        with self.services.db.read() as session:
            row = session.exec(
                sa_select(IdempotencyKey.status_code, IdempotencyKey.response)
                .where(IdempotencyKey.app_id == app_id, IdempotencyKey.key == key)
            ).first()
        if row is None:
            return None
        return IngestResult(row[0], row[1])

    # -- one event --------------------------------------------------------------------------
    def _row(self, app: CachedApp, index: int, ev, now: datetime, req: IngestRequest, refusal) -> dict:
        row = {"index": index, "app_id": app.id, "source": "api", "received_at": now, "occurred_at": now,
               "client_ip": req.client_ip[:64], "errors": [], "data": {}, "event_code": "",
               "external_id": None, "dedupe_key": None, "event_definition_id": None}
        if not isinstance(ev, dict):
            return self._reject(row, "bad_shape", [{"field": "", "code": "type", "message": "事件应为 JSON 对象"}])
        row["event_code"] = str(ev.get("event", ""))[:64]
        data = ev.get("data", {})
        row["data"] = data if isinstance(data, dict) else {}
        errors = []
        ext = ev.get("id")
        if ext is not None:
            if isinstance(ext, (str, int)) and not isinstance(ext, bool) and 0 < len(str(ext)) <= 128:
                row["external_id"] = str(ext)
            else:
                errors.append({"field": "id", "code": "type", "message": "id 应为 1–128 个字符的字符串或整数"})
        if ev.get("occurred_at") is not None:
            try:
                row["occurred_at"] = parse_datetime(ev["occurred_at"], self.services.settings.timezone)
            except FieldValueError as exc:
                errors.append({"field": "occurred_at", "code": "type", "message": f"occurred_at {exc}"})
        if not isinstance(data, dict):
            errors.append({"field": "data", "code": "type", "message": "data 应为 JSON 对象"})
        if refusal is not None:
            return self._reject(row, refusal[1], [{"field": "", "code": refusal[1], "message": refusal[2]}])
        if not row["event_code"]:
            return self._reject(row, "bad_shape", [{"field": "event", "code": "missing", "message": "缺少事件代码 event"}] + errors)
        definition = self.catalog.definitions.get(row["event_code"])
        if definition is None:
            return self._reject(row, "event_unknown", [{"field": "event", "code": "unknown", "message": f"事件「{row['event_code']}」未注册"}])
        row["event_definition_id"] = definition.id
        if not definition.enabled:
            return self._reject(row, "event_disabled", [{"field": "event", "code": "disabled", "message": f"事件「{definition.name}」已禁用"}])
        clean, field_errors = normalise(list(definition.fields), row["data"], self.services.settings.timezone)
        errors += field_errors
        if errors:
            return self._reject(row, "invalid", errors)
        row["data"] = clean
        row.update(status="accepted", reject_reason="", dispatch_status="pending")
        # Without an id, the signature (unique per timestamp+body) keys the event, so an exact
        # replay of a signed request inside the time window is acknowledged but never re-run.
        marker = row["external_id"] if row["external_id"] is not None else f"sig:{(req.signature or '')[-64:]}:{index}"
        row["dedupe_key"] = f"api:{app.id}:{marker}"
        return row

    @staticmethod
    def _reject(row: dict, reason: str, errors: list) -> dict:
        row.update(status="rejected", reject_reason=reason, errors=errors, dispatch_status="skipped",
                   outcome="rejected", outcome_note="；".join(e["message"] for e in errors)[:500])
        return row

    # -- storage ----------------------------------------------------------------------------
    @staticmethod
    def _insert(conn, values: dict):
        # One statement per dialect with the row as bound parameters: SQLAlchemy compiles it once
        # and caches it, where values(**row) built a new statement (and cache key) for every event.
        stmt = _INSERTS.get(conn.dialect.name)
        if stmt is None:
            ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(TABLE)
            stmt = _INSERTS[conn.dialect.name] = ins.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(TABLE.c.id)
        return conn.execute(stmt, values).scalar()

    def _store(self, app: CachedApp, rows: list, single: bool, refusal, idem_key, now) -> IngestResult:
        accepted, duplicates, rejected, stored = [], [], [], []
        first_by_key: dict[str, int] = {}
        with self.services.db.write() as session:
            conn = session.connection()
            for row in rows:
                index = row.pop("index")
                if row["status"] == "rejected":
                    rid = self._insert(conn, row)
                    rejected.append({"index": index, "record_id": rid, "reason": row["reject_reason"], "errors": row["errors"]})
                    continue
                key = row["dedupe_key"]
                ext = row["external_id"]
                if key in first_by_key:
                    duplicates.append({"index": index, "id": ext, "record_id": first_by_key[key]})
                    continue
                rid = self._insert(conn, row)
                if rid is None:
                    rid = conn.execute(sa_select(TABLE.c.id).where(TABLE.c.dedupe_key == key)).scalar()
                    duplicates.append({"index": index, "id": ext, "record_id": rid})
                else:
                    accepted.append({"index": index, "id": ext, "record_id": rid})
                    stored.append(rid)
                first_by_key[key] = rid
            status, payload = self._answer(single, refusal, accepted, duplicates, rejected)
            if idem_key:
                session.add(IdempotencyKey(app_id=app.id, key=idem_key, status_code=status, response=payload, created_at=now))
        return IngestResult(status, payload, stored)

    @staticmethod
    def _answer(single, refusal, accepted, duplicates, rejected) -> tuple[int, dict]:
        if refusal is not None:
            return refusal[0], {"error": {"code": refusal[1], "message": refusal[2]}, "rejected": rejected}
        payload = {"accepted": accepted, "duplicates": duplicates, "rejected": rejected}
        if single and rejected:
            first = rejected[0]
            payload["error"] = {"code": first["reason"], "message": "事件校验不通过", "details": first["errors"]}
            return 422, payload
        return 202, payload

"""POST /api/v1/leads/ingestions: 场景获客's API entrance. A website back end, a CRM or a script
pushes leads into a scene, signed with an app key exactly like /api/v1/events (HMAC over the
timestamp and body, timestamp window, IP allow-list, size and depth limits).

A 202 means the lead is stored: it is processed (identify → tag → assign → respond) by the
scene's strategy afterwards. The same external lead id sent twice to one scene is one lead; a
batch of up to 500 answers lead by lead, and is 400 only when none of them could be stored.
An Idempotency-Key header works as on /api/v1/events (events.idempotency): a retry of the same
request gets the first answer, the same key with another request is 422.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import Blueprint, current_app, request
from sqlalchemy.exc import OperationalError

from crm.leads import intake
from crm.leads.errors import SubmissionRefused
from crm.leads.models import SCENE_TYPES
from crm.leads.scenes import resolve_scene
from crm.leads.webhook_guard import forget_signature, remember_signature
from events import idempotency
from events.body import parse_body
from events.errors import IngestError, error_body
from events.ingestion import IngestRequest
from web.api.common import error_envelope, ok
from web.api.examples import lead_ingest as ex
from web.api.spec import ANY_OBJ, BOOL, INT, STR, api_route, obj
from web.extensions import rate_limiter, runtime, services

bp = Blueprint("api_lead_ingest", __name__, url_prefix="/api/v1")

MAX_BATCH = 500
# PostgreSQL aborts one of two batches that insert the same external ids in opposite orders
# (unique index waits: bench/leads.py --postgres answered 500 to one batch of 500 this way).
# Its transaction is rolled back whole, so it is simply run again.
DEADLOCK_RETRIES = 3
DEADLOCK = "40P01"
# A runaway client is stopped per app; a scene's own limit (rate_limit_per_minute) guards its pipeline.
SCENE_TTL = 5.0
ENVELOPE = ("scene_type", "scene_config_id", "scene_key", "meta", "external_lead_id", "channel_id", "plan_id")

ITEM = {**obj({"scene_type": {"type": "string", "enum": list(SCENE_TYPES)}, "scene_config_id": INT, "scene_key": STR,
               "submission_data": ANY_OBJ, "meta": ANY_OBJ, "external_lead_id": STR, "channel_id": INT, "plan_id": INT},
              ("submission_data",)), "additionalProperties": True}
BATCH = {**obj({"leads": {"type": "array", "items": ITEM, "maxItems": MAX_BATCH}}, ("leads",)), "additionalProperties": True}
STORED = obj({"lead_id": INT, "duplicate": BOOL})
BATCH_RESULT = obj({"results": {"type": "array", "items": ANY_OBJ}, "accepted": INT, "duplicates": INT, "rejected": INT})


def item_error(code: str, message: str, errors: list[dict]) -> dict:
    """One refused lead's error (the envelope's inner object): `fields` maps each field to its
    problem, `details` lists them in order ({"field", "message"})."""
    return error_body(code, message, {e["field"]: e["message"] for e in errors if e["field"]}, errors)["error"]


def field_errors(errors) -> list[dict]:
    """The core names problems as {field: message} or [{"field", "message"}]; the API answers a list."""
    if isinstance(errors, dict):
        return [{"field": k, "message": str(v)} for k, v in errors.items()]
    return [{"field": str(e.get("field", "")), "message": str(e.get("message", ""))} for e in errors or []]


def signed_payload() -> tuple:
    """(app, request, payload) after the checks of POST /api/v1/events: size, HMAC signature,
    timestamp window, app enabled, IP allow-list, JSON depth. Raises IngestError."""
    rt = runtime()
    s = rt.settings
    if request.content_length is not None and request.content_length > s.max_body_bytes:
        raise IngestError(400, "body_too_large", f"请求体过大：{request.content_length} 字节，上限 {s.max_body_bytes} 字节")
    body = request.stream.read(s.max_body_bytes + 1) if request.content_length is None else request.get_data(cache=False)
    req = IngestRequest(body=body, app_key=request.headers.get("X-App-Key"), timestamp=request.headers.get("X-Timestamp"),
                        signature=request.headers.get("X-Signature"), client_ip=request.remote_addr or "",
                        idempotency_key=request.headers.get("Idempotency-Key"))
    app = rt.ingestor.authenticate(req)
    idempotency.check_key(req.idempotency_key)
    if not app.enabled:
        raise IngestError(403, "app_disabled", f"应用「{app.name}」已禁用")
    if not app.ip_allowed(req.client_ip):
        raise IngestError(403, "ip_not_allowed", f"来源 IP {req.client_ip} 不在应用「{app.name}」的白名单中")
    payloads, single = parse_body(body, s.max_body_bytes, s.max_json_depth, s.max_batch_events)
    if not single:
        raise IngestError(400, "bad_shape", "线索接入不接受 events 数组：单条线索直接提交，批量请用 leads 数组")
    return app, req, payloads[0]


def _int_field(item: dict, name: str, errors: list):
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errors.append({"field": name, "message": f"{name} 应为正整数"})
        return None
    return value


def parse_item(item) -> tuple[dict | None, list[dict]]:
    """One lead of the body → (its parts, []) or (None, errors naming each field)."""
    if not isinstance(item, dict):
        return None, [{"field": "", "message": "每条线索应为 JSON 对象"}]
    errors: list[dict] = []
    submission = item.get("submission_data")
    if submission is None:
        errors.append({"field": "submission_data", "message": "缺少 submission_data（表单或平台提交的线索数据）"})
    elif not isinstance(submission, dict):
        errors.append({"field": "submission_data", "message": "submission_data 应为 JSON 对象"})
    meta = item.get("meta", {})
    if not isinstance(meta, dict):
        errors.append({"field": "meta", "message": "meta 应为 JSON 对象"})
    ext = item.get("external_lead_id")
    if ext is not None and (isinstance(ext, bool) or not isinstance(ext, (str, int)) or not 0 < len(str(ext)) <= 128):
        errors.append({"field": "external_lead_id", "message": "external_lead_id 应为 1–128 个字符的字符串或整数"})
    for name in ("scene_type", "scene_key"):
        if item.get(name) is not None and not isinstance(item[name], str):
            errors.append({"field": name, "message": f"{name} 应为字符串"})
    ids = {name: _int_field(item, name, errors) for name in ("scene_config_id", "channel_id", "plan_id")}
    if errors:
        return None, errors
    raw = {k: v for k, v in item.items() if k not in ENVELOPE}
    return {"scene": (ids["scene_config_id"], item.get("scene_type"), item.get("scene_key")),
            "submission": intake.Submission(raw=raw, external_id=None if ext is None else str(ext), meta=meta,
                                            source="api", channel_id=ids["channel_id"], plan_id=ids["plan_id"])}, []


def body_items(payload: dict) -> tuple[list, bool]:
    """(items, is_batch); batch-level fields (a scene, a channel …) are defaults for every item."""
    if "leads" not in payload:
        return [payload], False
    leads = payload["leads"]
    if not isinstance(leads, list) or not leads:
        raise IngestError(400, "bad_shape", "leads 应为非空数组")
    if len(leads) > MAX_BATCH:
        raise IngestError(400, "batch_too_large", f"一批最多 {MAX_BATCH} 条线索，收到 {len(leads)} 条")
    defaults = {k: v for k, v in payload.items() if k != "leads"}
    return [{**defaults, **item} if isinstance(item, dict) else item for item in leads], True


@dataclass(frozen=True)
class SceneRef:
    id: int
    name: str
    rate_limit_per_minute: int


def _known_scenes() -> dict:
    """selector → (expires at, SceneRef), per app. Only which scene a selector names is kept, for
    SCENE_TTL seconds: intake reads the scene itself (enabled? mapping rules?) in its transaction,
    so an edit still applies to the next lead; a new limit or a second enabled scene of a type
    takes effect within SCENE_TTL. Saves a read transaction per single-lead request."""
    return current_app.extensions.setdefault("ckb_lead_api_scenes", {})


def resolve_all(parsed: list, results: dict) -> dict[int, SceneRef]:
    """Scene of every valid item (one lookup per distinct selector); refusals go to `results`."""
    now = services().now().timestamp()
    known, scenes, found = _known_scenes(), {}, {}
    for selector in {part["scene"] for _, part in parsed}:
        hit = known.get(selector)
        if hit is not None and hit[0] > now:
            found[selector] = hit[1]
    missing = {part["scene"] for _, part in parsed} - set(found)
    if missing:
        with services().db.read() as session:
            for selector in missing:
                try:
                    scene = resolve_scene(session, scene_id=selector[0], scene_type=selector[1], key=selector[2])
                except SubmissionRefused as exc:
                    found[selector] = exc
                    continue
                found[selector] = SceneRef(scene.id, scene.name, scene.rate_limit_per_minute)
                known[selector] = (now + SCENE_TTL, found[selector])
    for index, part in parsed:
        if isinstance(found[part["scene"]], SubmissionRefused):
            results[index] = rejected(found[part["scene"]])
        else:
            scenes[index] = found[part["scene"]]
    return scenes


def rejected(exc: SubmissionRefused) -> dict:
    return {"error": item_error("invalid", exc.message, field_errors(exc.errors))}


def throttled(app, scenes) -> tuple[str, int] | None:
    """(message, retry_after) when the app or a scene is over its per-minute limit."""
    rl = rate_limiter()
    limit = services().settings.lead_api_app_limit_per_minute
    allowed, retry = rl.hit(f"leads:app:{app.id}", limit, 60)
    if not allowed:
        return f"应用「{app.name}」请求过于频繁（每分钟最多 {limit} 次），请 {retry} 秒后重试", retry
    for scene in {s.id: s for s in scenes}.values():
        allowed, retry = rl.hit(f"leads:scene:{scene.id}", scene.rate_limit_per_minute, 60)
        if not allowed:
            return f"获客场景「{scene.name}」请求过于频繁（每分钟最多 {scene.rate_limit_per_minute} 次），请 {retry} 秒后重试", retry
    return None


def replay_digest(app, signature: str) -> str:
    """A signed request whose leads carry no external id would create them again if replayed, so its
    signature is remembered like a webhook's (scene 0 = the API's namespace in the nonce table)."""
    return hashlib.sha256(f"api:{app.id}:{signature}".encode()).hexdigest()


@api_route(bp, "/leads/ingestions", "POST", "接收线索（单条或批量 leads，HMAC 签名，同场景 external_lead_id 幂等）", "场景获客",
           body={"oneOf": [ITEM, BATCH]}, auth="hmac",
           responses={"202": {"oneOf": [STORED, BATCH_RESULT]}, "400": "校验失败：error.fields 逐字段说明（批量全部失败时 error.details 逐条说明）",
                      "401": "签名、时间戳错误或重放", "403": "应用禁用或 IP 不允许",
                      "422": "Idempotency-Key 已用于另一个不同的请求", "429": "超过应用或场景的每分钟限额"},
           operation_id="ingestLeads", examples=ex.INGEST_LEADS)
def ingest_leads():
    try:
        app, req, payload = signed_payload()
        items, batch = body_items(payload)
    except IngestError as exc:
        return error_envelope(exc.status, exc.code, exc.message)
    results: dict[int, dict] = {}
    parsed = []
    for index, item in enumerate(items):
        part, errors = parse_item(item)
        if part is None:
            results[index] = {"error": item_error("invalid", "线索校验不通过：" + errors[0]["message"], errors)}
        else:
            parsed.append((index, part))
    scenes = resolve_all(parsed, results) if parsed else {}
    if scenes:
        limited = throttled(app, scenes.values())
        if limited:
            return error_envelope(429, "rate_limited", limited[0], headers={"Retry-After": str(limited[1])})
    digest = None
    if any(part["submission"].external_id is None for i, part in parsed if i in scenes):
        svc = services()
        digest = replay_digest(app, req.signature)
        if not remember_signature(svc.db, 0, digest, svc.now(), svc.settings.signature_tolerance_seconds):
            return error_envelope(401, "replayed", "重复的签名请求（重放）：没有 external_lead_id 的线索请求只接受一次，请用新的时间戳重新签名")
    idem = (req.idempotency_key, idempotency.fingerprint("leads", req.body)) if req.idempotency_key else None
    try:
        status, body = store(app, parsed, scenes, results, (len(items), batch), idem)
    except Exception as exc:
        if digest is not None:  # nothing was stored: the same request may come again as it was
            forget_signature(services().db, 0, digest)
        if isinstance(exc, IngestError):  # the Idempotency-Key belongs to another request
            return error_envelope(exc.status, exc.code, exc.message)
        raise
    return ok(body, status)


def store(app, parsed: list, scenes: dict, results: dict, shape: tuple[int, bool], idem) -> tuple[int, dict]:
    """Every scene's leads in one write transaction, items in their order, with the
    Idempotency-Key (if any) taken and settled in that same transaction — the contract of
    POST /api/v1/events (events.idempotency). Returns the answer: (status, body). A transaction
    PostgreSQL aborted as a deadlock's victim stored nothing, so it is run again."""
    by_scene: dict[int, list] = {}
    for index, part in parsed:
        if index in scenes:
            by_scene.setdefault(scenes[index].id, []).append((index, part["submission"]))
    for attempt in range(DEADLOCK_RETRIES + 1):
        try:
            return _store_once(app, by_scene, dict(results), shape, idem)
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != DEADLOCK or attempt == DEADLOCK_RETRIES:
                raise
    raise AssertionError("unreachable")


def _store_once(app, by_scene: dict, results: dict, shape: tuple[int, bool], idem) -> tuple[int, dict]:
    svc = services()
    tz, now = svc.settings.timezone, svc.now()
    with svc.db.write() as session:
        if idem is not None:
            replay = idempotency.claim(session.connection(), app.id, idem[0], idem[1], now, tz)
            if replay is not None:
                return replay
        for scene_id, group in by_scene.items():
            outcomes = intake.submit_in(session, scene_id, [sub for _, sub in group], tz, now)
            for (index, _), outcome in zip(group, outcomes):
                results[index] = (rejected(outcome) if isinstance(outcome, SubmissionRefused)
                                  else {"lead_id": outcome.lead_id, "duplicate": outcome.duplicate})
        status, body = answer(results, *shape)
        if idem is not None:
            idempotency.settle(session.connection(), app.id, idem[0], status, body)
    return status, body


def answer(results: dict, count: int, batch: bool) -> tuple[int, dict]:
    if not batch:
        only = results[0]
        if "error" in only:
            return 400, {"error": only["error"]}
        return 202, only
    rows = [{"index": i, **results[i]} for i in range(count)]
    stored = [r for r in rows if "lead_id" in r]
    summary = {"results": rows, "accepted": sum(1 for r in stored if not r["duplicate"]),
               "duplicates": sum(1 for r in stored if r["duplicate"]), "rejected": count - len(stored)}
    if not stored:  # the envelope; details are the leads one by one, as `results` of a 202
        return 400, error_body("invalid", f"{count} 条线索均未通过校验，未保存任何线索", details=rows)
    return 202, summary

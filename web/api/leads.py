"""/api/v1/leads: 场景获客 over the API. A website back end, a CRM or a script pushes leads into a
scene (signed with an app key exactly like /api/v1/events), and sales tools list, read, update
and (re)assign them with a bearer token.

A 202 means the lead is stored: it is processed (identify → tag → assign → respond) by the
scene's strategy afterwards. The same external lead id sent twice to one scene is one lead.
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from config.clock import from_local
from config.rate_limit import RateLimiter
from crm.errors import CrmError
from crm.leads import intake
from crm.leads import service as lead_service
from crm.leads.assignment import manual_assign
from crm.leads.errors import SubmissionRefused
from crm.leads.logs import STAGE_LABELS
from crm.leads.models import LEAD_STATUSES, SCENE_TYPES, LeadLog, WebhookNonce
from crm.leads.scenes import resolve_scene
from events.body import parse_body
from events.errors import IngestError
from events.ingestion import IngestRequest
from web.api.common import BadRequest, can_see_pii, error_response, int_arg, iso, json_body, masked, ok
from web.api.spec import ANY_OBJ, BOOL, INT, STR, api_route, obj
from web.auth.guards import api_auth
from web.extensions import runtime, services

bp = Blueprint("api_leads", __name__, url_prefix="/api/v1")
bp.register_error_handler(CrmError, error_response)  # LeadsError 422, SubmissionRefused 400, LeadNotFound 404

MAX_BATCH = 500
# A runaway client is stopped per app; a scene's own limit (rate_limit_per_minute) guards its pipeline.
APP_REQUESTS_PER_MINUTE = 60_000
ENVELOPE = ("scene_type", "scene_config_id", "scene_key", "meta", "external_lead_id", "channel_id", "plan_id")
SORTS = ("created_at", "updated_at", "status", "value", "assigned_at")

ITEM = {**obj({"scene_type": {"type": "string", "enum": list(SCENE_TYPES)}, "scene_config_id": INT, "scene_key": STR,
               "submission_data": ANY_OBJ, "meta": ANY_OBJ, "external_lead_id": STR, "channel_id": INT, "plan_id": INT},
              ("submission_data",)), "additionalProperties": True}
BATCH = {**obj({"leads": {"type": "array", "items": ITEM, "maxItems": MAX_BATCH}}, ("leads",)), "additionalProperties": True}
STORED = obj({"lead_id": INT, "duplicate": BOOL})
FIELD_ERRORS = {"type": "array", "items": obj({"field": STR, "message": STR})}
BATCH_RESULT = obj({"results": {"type": "array", "items": ANY_OBJ}, "accepted": INT, "duplicates": INT, "rejected": INT})
LEAD = {"type": "object", "additionalProperties": True}
LEAD_UPDATE = {**obj({"status": {"type": "string", "enum": list(LEAD_STATUSES)}, "notes": STR,
                      "related_customer_id": INT, "lead_data": ANY_OBJ}), "additionalProperties": False}
ASSIGN = obj({"user_id": INT, "team_id": INT})


# -- ingestion ----------------------------------------------------------------------------------
def refused(status: int, code: str, message: str, errors: list | None = None, **extra):
    response = jsonify({"error": {"code": code, "message": message}, "errors": errors or [], **extra})
    response.status_code = status
    return response


def field_errors(errors) -> list[dict]:
    """The core names problems as {field: message} or [{"field", "message"}]; the API answers a list."""
    if isinstance(errors, dict):
        return [{"field": k, "message": str(v)} for k, v in errors.items()]
    return [{"field": str(e.get("field", "")), "message": str(e.get("message", ""))} for e in errors or []]


def limiter() -> RateLimiter:
    """One limiter per app, on the app's clock (tests drive it); Redis-shared when configured."""
    ext = current_app.extensions
    if "ckb_lead_api_limiter" not in ext:
        svc = services()
        ext["ckb_lead_api_limiter"] = RateLimiter.from_settings(svc.settings, clock=lambda: svc.now().timestamp())
    return ext["ckb_lead_api_limiter"]


def signed_payload() -> tuple:
    """(app, request, payload) after the checks of POST /api/v1/events: size, HMAC signature,
    timestamp window, app enabled, IP allow-list, JSON depth. Raises IngestError."""
    rt = runtime()
    s = rt.settings
    if request.content_length is not None and request.content_length > s.max_body_bytes:
        raise IngestError(400, "body_too_large", f"请求体过大：{request.content_length} 字节，上限 {s.max_body_bytes} 字节")
    body = request.stream.read(s.max_body_bytes + 1) if request.content_length is None else request.get_data(cache=False)
    req = IngestRequest(body=body, app_key=request.headers.get("X-App-Key"), timestamp=request.headers.get("X-Timestamp"),
                        signature=request.headers.get("X-Signature"), client_ip=request.remote_addr or "")
    app = rt.ingestor.authenticate(req)
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


def resolve_all(parsed: list, results: dict) -> dict[int, object]:
    """Scene of every valid item (one lookup per distinct selector); refusals go to `results`."""
    scenes, cache = {}, {}
    with services().db.read() as session:
        for index, part in parsed:
            selector = part["scene"]
            if selector not in cache:
                try:
                    cache[selector] = resolve_scene(session, scene_id=selector[0], scene_type=selector[1], key=selector[2])
                except SubmissionRefused as exc:
                    cache[selector] = exc
            found = cache[selector]
            if isinstance(found, SubmissionRefused):
                results[index] = rejected(found)
            else:
                scenes[index] = found
    return scenes


def rejected(exc: SubmissionRefused) -> dict:
    return {"error": {"code": "invalid", "message": exc.message}, "errors": field_errors(exc.errors)}


def throttled(app, scenes) -> tuple[str, int] | None:
    """(message, retry_after) when the app or a scene is over its per-minute limit."""
    rl = limiter()
    allowed, retry = rl.hit(f"leads:app:{app.id}", APP_REQUESTS_PER_MINUTE, 60)
    if not allowed:
        return f"应用「{app.name}」请求过于频繁（每分钟最多 {APP_REQUESTS_PER_MINUTE} 次），请 {retry} 秒后重试", retry
    for scene in {s.id: s for s in scenes}.values():
        allowed, retry = rl.hit(f"leads:scene:{scene.id}", scene.rate_limit_per_minute, 60)
        if not allowed:
            return f"获客场景「{scene.name}」请求过于频繁（每分钟最多 {scene.rate_limit_per_minute} 次），请 {retry} 秒后重试", retry
    return None


def first_use(app, signature: str) -> bool:
    """A signed request whose leads carry no external id would create them again if replayed, so its
    signature is remembered (scene 0 = the API's namespace in the webhook nonce table)."""
    digest = hashlib.sha256(f"api:{app.id}:{signature}".encode()).hexdigest()
    try:
        with services().db.write() as session:
            session.add(WebhookNonce(scene_id=0, digest=digest, created_at=services().now()))
    except IntegrityError:
        return False
    return True


@api_route(bp, "/leads/ingestions", "POST", "接收线索（单条或批量 leads，HMAC 签名，同场景 external_lead_id 幂等）", "场景获客",
           body={"oneOf": [ITEM, BATCH]}, auth="hmac",
           responses={"202": {"oneOf": [STORED, BATCH_RESULT]}, "400": "校验失败：errors 逐字段说明",
                      "401": "签名、时间戳错误或重放", "403": "应用禁用或 IP 不允许", "429": "超过应用或场景的每分钟限额"})
def ingest_leads():
    try:
        app, req, payload = signed_payload()
        items, batch = body_items(payload)
    except IngestError as exc:
        return refused(exc.status, exc.code, exc.message)
    results: dict[int, dict] = {}
    parsed = []
    for index, item in enumerate(items):
        part, errors = parse_item(item)
        if part is None:
            results[index] = {"error": {"code": "invalid", "message": "线索校验不通过：" + errors[0]["message"]}, "errors": errors}
        else:
            parsed.append((index, part))
    scenes = resolve_all(parsed, results) if parsed else {}
    if scenes:
        limited = throttled(app, scenes.values())
        if limited:
            response = refused(429, "rate_limited", limited[0])
            response.headers["Retry-After"] = str(limited[1])
            return response
        if any(part["submission"].external_id is None for i, part in parsed if i in scenes) and not first_use(app, req.signature):
            return refused(401, "replayed", "重复的签名请求（重放）：没有 external_lead_id 的线索请求只接受一次，请用新的时间戳重新签名")
    store(parsed, scenes, results)
    return answer(results, len(items), batch)


def store(parsed: list, scenes: dict, results: dict) -> None:
    """One intake call (one transaction) per scene, items in their order."""
    by_scene: dict[int, list] = {}
    for index, part in parsed:
        if index in scenes:
            by_scene.setdefault(scenes[index].id, []).append((index, part["submission"]))
    tz = services().settings.timezone
    for scene_id, group in by_scene.items():
        outcomes = intake.submit(services().db, scene_id, [sub for _, sub in group], tz)
        for (index, _), outcome in zip(group, outcomes):
            results[index] = (rejected(outcome) if isinstance(outcome, SubmissionRefused)
                              else {"lead_id": outcome.lead_id, "duplicate": outcome.duplicate})


def answer(results: dict, count: int, batch: bool):
    if not batch:
        only = results[0]
        if "error" in only:
            return refused(400, only["error"]["code"], only["error"]["message"], only["errors"])
        return ok(only, 202)
    rows = [{"index": i, **results[i]} for i in range(count)]
    stored = [r for r in rows if "lead_id" in r]
    summary = {"results": rows, "accepted": sum(1 for r in stored if not r["duplicate"]),
               "duplicates": sum(1 for r in stored if r["duplicate"]), "rejected": count - len(stored)}
    if not stored:
        return refused(400, "invalid", f"{count} 条线索均未通过校验，未保存任何线索", **summary)
    return ok(summary, 202)


# -- reading and working leads ------------------------------------------------------------------
def _day_arg(name: str, end: bool = False):
    """A date (the whole local day; an end date includes its day) or a date-time, as aware UTC."""
    value = request.args.get(name)
    if not value:
        return None
    try:
        if len(value) == 10:
            day = datetime.combine(date.fromisoformat(value), datetime.min.time())
            return from_local(day + timedelta(days=1) if end else day, services().settings.timezone)
        return from_local(datetime.fromisoformat(value), services().settings.timezone)
    except ValueError:
        raise BadRequest(f"查询参数 {name} 应为日期，如 2026-11-22 或 2026-11-22T08:00", {name: "日期格式错误"}) from None


def _choice_arg(name: str, choices, default=None):
    value = request.args.get(name) or default
    if value is not None and value not in choices:
        raise BadRequest(f"查询参数 {name} 应为 {' / '.join(choices)} 之一", {name: f"{name} 取值无效"})
    return value


def _ids_arg(name: str) -> list[int] | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise BadRequest(f"查询参数 {name} 应为逗号分隔的标签 ID，如 3,5", {name: "标签 ID 应为整数"}) from None


LIST_QUERY = [("status", "string", "状态：" + "/".join(LEAD_STATUSES)), ("channel_id", "integer", "渠道"),
              ("scene_config_id", "integer", "获客场景"), ("assigned_to_user_id", "integer", "负责人"),
              ("start_date", "string", "创建日期起（含），如 2026-11-01"), ("end_date", "string", "创建日期止（含）"),
              ("tags_contain_any", "string", "标签 ID，逗号分隔，含任一即可"), ("q", "string", "姓名/手机号/邮箱/公司"),
              ("page", "integer", "页码"), ("size", "integer", "每页条数（最多 200）"),
              ("sort_by", "string", "/".join(SORTS)), ("sort_order", "string", "asc/desc")]


@api_route(bp, "/leads", "GET", "线索列表（筛选、分页、排序）", "场景获客", permission="leads.view", query=LIST_QUERY,
           responses={"200": obj({"items": {"type": "array", "items": LEAD}, "total": INT, "page": INT, "size": INT})})
@api_auth("leads.view")
def list_leads():
    page, size = int_arg("page", 1), int_arg("size", 20, maximum=200)
    with services().db.read() as session:
        rows, total = lead_service.list_leads(
            session, status=_choice_arg("status", LEAD_STATUSES), channel_id=int_arg("channel_id"),
            scene_id=int_arg("scene_config_id"), assignee_user_id=int_arg("assigned_to_user_id"),
            start=_day_arg("start_date"), end=_day_arg("end_date", end=True), tag_ids=_ids_arg("tags_contain_any"),
            q=(request.args.get("q") or "").strip()[:100], page=page, size=size,
            sort_by=_choice_arg("sort_by", SORTS, "created_at"), sort_order=_choice_arg("sort_order", ("asc", "desc"), "desc"))
        items = [lead_service.lead_dict(session, row, mask=not can_see_pii()) for row in rows]
    return ok({"items": items, "total": total, "page": page, "size": size})


def _lead_answer(lead_id: int):
    """The lead with what it was sent as and its processing log; masked as a whole for callers
    without pii.view (the log's words and details may quote a number too)."""
    with services().db.read() as session:
        lead = lead_service.get_lead(session, lead_id)
        out = lead_service.lead_dict(session, lead, mask=not can_see_pii(), raw=True)
        out["logs"] = [{"stage": row.stage, "stage_label": STAGE_LABELS.get(row.stage, row.stage), "ok": row.ok,
                        "message": row.message, "detail": row.detail, "actor": row.actor, "created_at": iso(row.created_at)}
                       for row in session.exec(select(LeadLog).where(LeadLog.lead_id == lead.id).order_by(LeadLog.id))]
    return ok(masked(out))


@api_route(bp, "/leads/<int:lead_id>", "GET", "线索详情（含处理日志）", "场景获客", permission="leads.view",
           responses={"200": LEAD})
@api_auth("leads.view")
def get_lead(lead_id):
    return _lead_answer(lead_id)


@api_route(bp, "/leads/<int:lead_id>", "PUT", "更新线索：状态、备注、关联客户、线索字段", "场景获客", body=LEAD_UPDATE,
           permission="leads.manage", responses={"200": LEAD, "422": "状态流转不允许或字段无效（附原因）"})
@api_auth("leads.manage")
def update_lead(lead_id):
    data = json_body()
    with services().db.read() as session:
        lead_service.get_lead(session, lead_id)  # a readable body for an unknown id is a 404
    unknown = sorted(set(data) - set(LEAD_UPDATE["properties"]))
    if unknown:
        raise BadRequest(f"不能修改的字段：{'、'.join(unknown)}", {k: "不能通过接口修改" for k in unknown}, status=422, code="invalid")
    with services().db.write() as session:
        lead_service.update_lead(session, lead_id, data, actor=g.user.username)
    return _lead_answer(lead_id)


@api_route(bp, "/leads/<int:lead_id>/assign", "POST", "手动分配/重新分配线索（user_id 或 team_id=客户分组）", "场景获客",
           body=ASSIGN, permission="leads.assign", responses={"200": LEAD})
@api_auth("leads.assign")
def assign_lead(lead_id):
    data = json_body()
    with services().db.read() as session:
        lead_service.get_lead(session, lead_id)
    user_id, team_id = data.get("user_id"), data.get("team_id")
    if (user_id is None) == (team_id is None):
        raise BadRequest("请提供 user_id 或 team_id 其中之一", {"user_id": "user_id 与 team_id 二选一"})
    for name, value in (("user_id", user_id), ("team_id", team_id)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise BadRequest(f"{name} 应为整数", {name: f"{name} 应为整数"})
    svc = services()
    with svc.db.write() as session:
        manual_assign(session, lead_id, user_id=user_id, group_id=team_id, actor=g.user.username, now=svc.now(),
                      actor_id=g.user.id)
    return _lead_answer(lead_id)

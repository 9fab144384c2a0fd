"""数据报表: 每日数据报表, 周复盘, 月度数据看板, 目标设置 and the drill-down list behind every number.

Whose figures: `scope=user:3 | department:2 | account:5 | company:0` within what the viewer may see
(analytics.scopes; another team's figures are 404 like an unknown id). Periods: day=2026-12-07,
week=2026-W49, month=2026-12. Every page downloads as xlsx."""
from __future__ import annotations

import io

from flask import Blueprint, abort, g, redirect, render_template, request, send_file, url_for

from analytics import drill as drill_service
from analytics import exports, periods, report_data, reviews, scopes
from analytics import targets as target_store
from analytics.errors import AnalyticsError, ScopeNotFound
from analytics.kpis import SEED_TARGETS, TARGETABLE, fmt, kpi
from analytics.models import TARGET_PERIODS
from analytics.review_models import REVIEW_SECTIONS
from config.clock import to_local
from web.auth.guards import current_viewer, permission_required
from web.console.forms_common import error_map, read
from web.console.report_charts import ranking_option, trend_option
from web.extensions import services

bp = Blueprint("reports", __name__, url_prefix="/reports")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERIOD_ARG = {"day": "day", "week": "week", "month": "month"}
MAX_ID = 2**31 - 1


def _today():
    return to_local(services().now(), services().settings.timezone).date()


def _scope_arg() -> tuple:
    text = (request.args.get("scope") or request.form.get("scope") or "").strip()
    if not text:
        return None, None
    dim, _, ident = text.partition(":")
    if dim not in scopes.DIM_LABELS or not ident.isdigit() or int(ident) > MAX_ID:
        abort(404)
    return dim, int(ident)


def _scope_key(scope) -> str:
    return f"{scope.dim}:{scope.dim_id}"


def _load(kind: str):
    dim, dim_id = _scope_arg()
    try:
        return read(lambda s: report_data.build(s, current_viewer(), kind, dim, dim_id,
                                                request.args.get(PERIOD_ARG[kind]), _today()))
    except ScopeNotFound:
        abort(404)


def _drill_url(metric: str, kind: str, at: str, scope) -> str:
    return url_for("reports.drill", metric=metric, kind=kind, at=at, scope=_scope_key(scope))


def _render(kind: str, template: str, data, **extra):
    key = data.period.key
    return render_template(
        template, data=data, kind=kind, scope_key=_scope_key(data.scope), kpi=kpi,
        fmt_value=lambda m, v: fmt(kpi(m), v),
        drill=lambda metric, scope=None, at=None, k=None: _drill_url(metric, k or kind, at or key, scope or data.scope),
        trend_chart=trend_option(data.trend, data.trend_days,
                                 lambda m, d: _drill_url(m, "day", d.isoformat(), data.scope)),
        ranking_chart=ranking_option(data.ranking, "new_friends",
                                     lambda sc: _drill_url("new_friends", kind, key, sc)) if data.ranking else None,
        ranking_labels=report_data.ranking_labels(), prev_key=data.period.previous().key,
        next_key=data.period.next().key, **extra)


def _xlsx(kind: str, data):
    title = f"{data.scope.title} · {data.period.label}"
    body = exports.figures_xlsx(title, data.figures + data.more, data.ranking, data.ranking_metrics,
                                report_data.ranking_labels())
    name = {"day": "每日数据报表", "week": "周报", "month": "月度数据看板"}[kind]
    return send_file(io.BytesIO(body), mimetype=XLSX, as_attachment=True,
                     download_name=f"{name}_{data.scope.name}_{data.period.key}.xlsx")


@bp.get("/daily")
@permission_required("reports.view")
def daily():
    return _render("day", "reports/daily.html", _load("day"))


@bp.get("/daily/export")
@permission_required("reports.view")
def daily_export():
    return _xlsx("day", _load("day"))


@bp.get("/weekly")
@permission_required("reports.view")
def weekly():
    data = _load("week")
    teams = [scopes.Scope("department", i, n) for i, n in data.visible.departments.items()]
    if data.visible.company:
        teams.insert(0, scopes.Scope("company", 0, "全公司"))
    listing = read(lambda s: reviews.listing(s, teams))
    names = {(t.dim, t.dim_id): t.name for t in teams}
    return _render("week", "reports/weekly.html", data, reviews=listing, team_names=names, sections=REVIEW_SECTIONS)


@bp.get("/weekly/export")
@permission_required("reports.view")
def weekly_export():
    return _xlsx("week", _load("week"))


def _prefill(data) -> dict:
    """The 一、目标&结果 section written from the week's figures against their targets."""
    goals = "；".join(f"{f.label} {f.text('target')}" for f in data.figures if f.target is not None) or "（未设置目标）"
    results = "；".join(f"{f.label} {f.text('actual')}" for f in data.figures)
    rates = [f.achieved for f in data.figures if f.achieved is not None]
    rate = f"{sum(rates) / len(rates):.1f}" if rates else "—"
    return {"goals": f"本周目标：{goals}\n实际结果：{results}\n完成率：{rate}%（各指标达成率平均）"}


@bp.route("/weekly/review", methods=["GET", "POST"])
@permission_required("reports.view", "reports.targets")
def weekly_edit():
    data = _load("week")
    if data.scope.dim not in reviews.REVIEW_DIMS:
        abort(404)
    errors: dict = {}
    review = data.review
    values = {k: getattr(review, k) for k in REVIEW_SECTIONS} if review else _prefill(data)
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in REVIEW_SECTIONS}
        figures = [f.as_dict() for f in data.figures]
        try:
            with services().db.write() as s:
                reviews.save(s, data.scope, data.period, values, figures, g.user.id)
        except AnalyticsError as exc:
            errors = error_map(exc)
        else:
            return redirect(url_for("reports.weekly", week=data.period.key, scope=_scope_key(data.scope), saved=1))
    return _render("week", "reports/weekly_edit.html", data, values=values, errors=errors, sections=REVIEW_SECTIONS)


@bp.get("/monthly")
@permission_required("reports.view")
def monthly():
    return _render("month", "reports/monthly.html", _load("month"))


@bp.get("/monthly/export")
@permission_required("reports.view")
def monthly_export():
    return _xlsx("month", _load("month"))


def _target_scope():
    dim, dim_id = _scope_arg()
    try:
        return read(lambda s: _resolve_target_scope(s, dim, dim_id))
    except ScopeNotFound:
        abort(404)


def _resolve_target_scope(session, dim, dim_id):
    seen = scopes.visible(session, current_viewer())
    scope = scopes.resolve(session, current_viewer(), dim, dim_id, seen)
    if scope.dim not in target_store.TARGET_DIMS:
        raise ScopeNotFound("微信号不设目标", {"scope": "请选择人员、团队或全公司"})
    return scope, seen


@bp.route("/targets", methods=["GET", "POST"])
@permission_required("reports.view", "reports.targets")
def targets():
    scope, seen = _target_scope()
    period = request.values.get("period") or "day"
    if period not in TARGET_PERIODS:
        abort(404)
    errors: dict = {}
    saved = read(lambda s: target_store.listing(s, scope.dim, scope.dim_id))
    values = {k: target_store.display_value(k, saved.get((k, period))) for k in TARGETABLE}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in TARGETABLE}
        parsed: dict = {}
        for key, text in values.items():
            try:
                parsed[key] = target_store.parse_value(key, text)
            except AnalyticsError as exc:
                errors.update(error_map(exc))
        if not errors:
            with services().db.write() as s:
                target_store.save(s, scope.dim, scope.dim_id, period, parsed, g.user.id)
            return redirect(url_for("reports.targets", scope=_scope_key(scope), period=period, saved=1))
    hints = {k: target_store.display_value(k, SEED_TARGETS.get((k, period))) for k in TARGETABLE}
    return render_template("reports/targets.html", scope=scope, seen=seen, period=period, periods=TARGET_PERIODS,
                           keys=TARGETABLE, kpi=kpi, values=values, hints=hints, errors=errors,
                           scope_key=_scope_key(scope))



def _drill():
    metric = request.args.get("metric") or ""
    kind = request.args.get("kind") or "day"
    try:
        kpi(metric)
    except KeyError:
        abort(404)
    if kind not in periods.KINDS:
        abort(404)
    dim, dim_id = _scope_arg()
    tz = services().settings.timezone

    def load(s):
        seen = scopes.visible(s, current_viewer())
        scope = scopes.resolve(s, current_viewer(), dim, dim_id, seen)
        period = periods.parse(kind, request.args.get("at"), _today())
        rows, truncated = drill_service.rows(s, metric, scope, period, tz)
        return scope, period, rows, truncated, seen

    try:
        return read(load)
    except ScopeNotFound:
        abort(404)
    except AnalyticsError:
        abort(404)


@bp.get("/drill")
@permission_required("reports.view")
def drill():
    metric = request.args.get("metric") or ""
    scope, period, rows, truncated, seen = _drill()
    shown = kpi(drill_service.drill_metric(metric))
    back = {"day": "reports.daily", "week": "reports.weekly", "month": "reports.monthly"}[period.kind]
    return render_template("reports/drill.html", scope=scope, period=period, rows=rows, truncated=truncated,
                           k=kpi(metric), shown=shown, args=request.args.to_dict(), seen=seen,
                           back=url_for(back, scope=_scope_key(scope), **{period.kind: period.key}))


@bp.get("/drill/export")
@permission_required("reports.view")
def drill_export():
    metric = request.args.get("metric") or ""
    scope, period, rows, _, _seen = _drill()
    shown = kpi(drill_service.drill_metric(metric))
    body = exports.drill_xlsx(f"{shown.label} · {scope.title} · {period.label}", rows, shown.money)
    return send_file(io.BytesIO(body), mimetype=XLSX, as_attachment=True,
                     download_name=f"明细_{shown.label}_{scope.name}_{period.key}.xlsx")

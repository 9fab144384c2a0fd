"""数据中心 dashboards: 私域运营看板 (overview), 生命周期漏斗 (funnel), 同期群留存 (cohorts) and RFM 客户分层.
Every figure is computed by analytics for the signed-in viewer (crm.scope) and every number links to
the customers behind it (dashboards.segment, in dashboards_segment.py on this blueprint)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from analytics import audience_fields, overview, rfm, segments, snapshot
from analytics.errors import AnalyticsError
from analytics.score_models import RfmRun
from config.clock import parse_iso_instant, to_local
from crm.leads.models import LeadChannel, LeadScene
from crm.people.models import User
from devices.models import ChatGroup
from web.auth.guards import current_viewer, permission_required
from web.console import dashboard_charts as charts
from web.console.forms_common import read
from web.extensions import services

bp = Blueprint("dashboards", __name__)
audience_fields.register()  # RFM 分层 / 生命周期阶段 usable in saved queries, tag rules and group audiences


def yuan(fen) -> str:
    return f"¥{(fen or 0) / 100:,.2f}"


def pct(rate) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def today():
    return to_local(services().now(), services().settings.timezone).date()


def tz():
    return services().settings.timezone


def choices(session) -> dict:
    """Filter pickers: channels, scenes, staff and WeChat groups (names only; figures stay scoped)."""
    return {"channels": session.execute(select(LeadChannel.id, LeadChannel.name).order_by(LeadChannel.name)).all(),
            "scenes": session.execute(select(LeadScene.id, LeadScene.name).order_by(LeadScene.name)).all(),
            "staff": session.execute(select(User.id, User.display_name, User.username).where(User.enabled)
                                     .order_by(User.username)).all(),
            "groups": session.execute(select(ChatGroup.id, ChatGroup.name).order_by(ChatGroup.name).limit(500)).all()}


def parse_filters(**fixed) -> tuple[segments.Segment, dict]:
    """The page's filters as a Segment (`fixed` sets kind/step); bad ones are shown next to their field
    and left out."""
    args = {k: v for k, v in request.args.items() if k in segments.FILTER_ARGS}
    try:
        return segments.parse({**args, **fixed}, today()), {}
    except AnalyticsError as exc:
        clean = {k: v for k, v in args.items() if k not in exc.errors}
        return segments.parse({**clean, **fixed}, today()), {k: [v] for k, v in exc.errors.items()}


def _render(template: str, **ctx):
    return render_template(template, yuan=yuan, pct=pct, seg_url=charts.seg_url, **ctx)


@bp.get("/dashboards", endpoint="overview")
@permission_required("dashboards.view")
def overview_page():
    seg, errors = parse_filters(kind="buyers")
    data = read(lambda s: {**overview.compute(s, current_viewer(), seg, tz(), lambda: snapshot.totals(s, current_viewer())),
                           "choices": choices(s)})
    data["as_of"] = parse_iso_instant(data.get("as_of"))  # totals read from the last scoring pass
    option = charts.trend(data["days"], data["trends"], overview.TREND_METRICS, money={"gmv_fen"})
    rankings = {d: charts.ranking(rows, f"{label}贡献") for d, label in overview.CONTRIBUTION_DIMS.items()
                if (rows := data["contribution"][d]) and all(r["params"] for r in rows[:1])}
    return _render("dashboards/overview.html", data=data, seg=seg, errors=errors, trend=option, rankings=rankings,
                   zone_name=tz(),
                   dims=overview.CONTRIBUTION_DIMS, args=seg.params())



@bp.get("/dashboards/funnel", endpoint="funnel")
@permission_required("dashboards.view")
def funnel_page():
    seg, errors = parse_filters(kind="funnel", step="contact")
    data = read(lambda s: {**snapshot.funnel_steps(s, current_viewer(), seg), "choices": choices(s),
                           "run": rfm.last_run(s)})
    return _render("dashboards/funnel.html", data=data, seg=seg, errors=errors, chart=charts.funnel(data["steps"]),
                   args=seg.params())


@bp.get("/dashboards/cohorts", endpoint="cohorts")
@permission_required("dashboards.view")
def cohorts_page():
    seg, errors = parse_filters(kind="funnel", step="contact")
    months = request.args.get("months", 12, type=int) or 12
    data = read(lambda s: {"table": snapshot.retention(s, current_viewer(), seg, today(), months, tz()),
                           "choices": choices(s), "run": rfm.last_run(s)})
    return _render("dashboards/cohorts.html", data=data, seg=seg, errors=errors, args=seg.params(), months=months)


@bp.get("/dashboards/rfm", endpoint="rfm")
@permission_required("dashboards.view")
def rfm_page():
    data = read(lambda s: {"rows": snapshot.rfm_summary(s, current_viewer()),
                           "run": rfm.last_run(s)})

    def params_for(row):
        return segments.Segment(kind="rfm", key=row["key"]).params()

    return _render("dashboards/rfm.html", data=data, pie=charts.segments_pie(data["rows"], params_for),
                   bars=charts.segment_amounts(data["rows"], params_for), params_for=params_for, modes=rfm.MODES,
                   high=rfm.HIGH)


@bp.post("/dashboards/rfm/refresh")
@permission_required("dashboards.view", "reports.view_all")
def rfm_refresh():
    """重新计算 (with the chosen cut points): rescoring touches every customer, so it needs 查看全公司的数据."""
    mode = request.form.get("mode") or "quintile"
    raw = {k: [v for v in (request.form.get(f"{k}{i}") for i in range(4))] for k in ("r", "f", "m")}
    svc = services()
    try:
        cuts = rfm.clean_cuts(mode, raw)
        with svc.db.write() as s:
            run: RfmRun = snapshot.rebuild(s, svc.now(), tz(), cuts, triggered_by=current_viewer().user_id)
            summary = f"{run.customers} 位客户，{run.buyers} 位有购买"
    except AnalyticsError as exc:
        flash(exc.message + "".join(f"：{v}" for v in exc.errors.values()), "danger")
    else:
        flash(f"已重新计算 RFM 与生命周期：{summary}", "success")
    return redirect(url_for("dashboards.rfm"))


from web.console import dashboards_segment  # noqa: E402,F401 - the drill-down routes on this blueprint

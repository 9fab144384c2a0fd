"""The door behind every dashboard number: the customers of a segment with the page's filters
(dashboards.segment), paged; 导出 xlsx; 保存为客户查询 (a live audience, for RFM 分层 and unfiltered funnel
steps); 批量打标签 (any segment: the tag is then the audience for 定向营销, tag rules and group push)."""
from __future__ import annotations

import io

from flask import abort, flash, redirect, request, send_file, url_for
from openpyxl import Workbook
from sqlalchemy import func, select

from analytics import audience_fields, segments
from analytics.errors import AnalyticsError
from analytics.rfm import SEGMENTS
from analytics.score_models import CustomerScore
from config.clock import format_local
from crm.customers import saved_queries
from crm.customers.models import Customer
from crm.errors import CrmError
from crm.people.models import User
from crm.tags.apply import apply_tags
from web.auth.guards import current_viewer, has_permission, permission_required
from web.console.dashboards import _render, bp, today, tz, yuan
from web.console.forms_common import read
from web.extensions import services
from web.input_limits import int_values, page_number

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000  # rows per xlsx download; larger sets: narrow the filters or tag them
COLUMNS = ("客户ID", "姓名", "微信号", "负责人", "首次触达", "首购时间", "最近购买", "购买次数", "消费金额（元）", "RFM 分层")


def _segment() -> segments.Segment:
    try:
        return segments.parse(request.values, today())
    except AnalyticsError as exc:
        abort(422, description=exc.message + "：" + "；".join(f"{k} {v}" for k, v in exc.errors.items()))


def _rows(session, seg, offset: int, limit: int) -> list[tuple]:
    owner = func.coalesce(func.nullif(User.display_name, ""), User.username)
    stmt = (select(Customer.id, Customer.name, Customer.wechat_id, owner, CustomerScore.first_contact_at,
                   CustomerScore.first_order_at, CustomerScore.last_order_at, CustomerScore.order_count,
                   CustomerScore.monetary_fen, CustomerScore.segment)
            .outerjoin(CustomerScore, CustomerScore.customer_id == Customer.id)
            .outerjoin(User, User.id == Customer.owner_id)
            .where(segments.customers_clause(seg, current_viewer(), tz()))
            .order_by(Customer.id).offset(offset).limit(limit))
    return [(*r[:9], SEGMENTS[r[9]][0] if r[9] else "") for r in session.execute(stmt)]


@bp.get("/dashboards/segment", endpoint="segment")
@permission_required("dashboards.view")
def segment_page():
    seg = _segment()
    page = page_number(request.args.get("page"))

    def load(s):
        from crm.tags.service import choices

        tags = [(t.id, t.name) for t in choices(s, current_viewer().user_id) if t.enabled and t.kind != "auto"] \
            if has_permission("tags.apply") else []
        return {"total": segments.count(s, seg, current_viewer(), tz()), "rows": _rows(s, seg, (page - 1) * PAGE_SIZE, PAGE_SIZE), "tags": tags}

    data = read(load)
    pages = max(1, -(-data["total"] // PAGE_SIZE))
    return _render("dashboards/segment.html", seg=seg, data=data, page=page, pages=pages, args=seg.params(),
                   savable=bool(audience_fields.saved_query_rows(seg)), fmt=format_local, money=yuan)


@bp.get("/dashboards/segment/export", endpoint="segment_export")
@permission_required("dashboards.view", "customers.export")
def segment_export():
    seg = _segment()
    book = Workbook(write_only=True)
    sheet = book.create_sheet(seg.label()[:31])
    sheet.append(list(COLUMNS))
    with services().db.read() as s:
        for r in _rows(s, seg, 0, EXPORT_LIMIT):
            sheet.append([r[0], r[1], r[2] or "", r[3] or "", format_local(r[4]) if r[4] else "",
                          format_local(r[5]) if r[5] else "", format_local(r[6]) if r[6] else "", r[7] or 0,
                          round((r[8] or 0) / 100, 2), r[9]])
    buf = io.BytesIO()
    book.save(buf)
    buf.seek(0)
    name = f"{seg.label()}-{today().isoformat()}.xlsx"
    return send_file(buf, as_attachment=True, download_name=name,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.post("/dashboards/segment/save", endpoint="segment_save")
@permission_required("dashboards.view", "customers.view")
def segment_save():
    seg = _segment()
    rows = audience_fields.saved_query_rows(seg)
    back = url_for("dashboards.segment", **seg.params())
    if not rows:
        flash("这组客户带有时间或渠道等筛选，不能保存为动态查询；请用「批量打标签」保存为受众", "danger")
        return redirect(back)
    try:
        with services().db.write() as s:
            row = saved_queries.save_query(s, current_viewer().user_id, request.form.get("name", ""),
                                           {"rows": rows})
    except CrmError as exc:
        flash(exc.message, "danger")
        return redirect(back)
    flash(f"已保存为客户查询「{row.name}」，在客户档案的查询方案中使用；也可作为标签规则与群推送的条件", "success")
    return redirect(url_for("customers.index", saved=row.id))


@bp.post("/dashboards/segment/tag", endpoint="segment_tag")
@permission_required("dashboards.view", "tags.apply")
def segment_tag():
    seg = _segment()
    tag_ids = int_values(request.form.getlist("tag_ids"))
    svc = services()
    try:
        if not tag_ids:
            raise CrmError("请选择标签", {"tag_ids": "请选择标签"})
        with svc.db.write() as s:
            ids = segments.customer_ids(s, seg, current_viewer(), tz())
            added = apply_tags(s, ids, tag_ids, current_viewer().user_id, source="manual", now=svc.now(), tz=tz())
    except CrmError as exc:
        flash(exc.message + "".join(f"：{v}" for v in (exc.errors or {}).values()), "danger")
    else:
        flash(f"已为 {len(ids)} 位客户打标签（新增 {added} 个标签关联）", "success")
    return redirect(url_for("dashboards.segment", **seg.params()))

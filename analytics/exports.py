"""xlsx downloads of the reports and drill-down lists (openpyxl, already a dependency of 客户导入).
Money cells hold 元 as numbers so a spreadsheet can sum them; rates hold percent numbers."""
from __future__ import annotations

import io
from typing import Iterable

from openpyxl import Workbook

from analytics.drill import DrillRow
from analytics.reports import Figure

FIGURE_HEADER = ["指标", "单位", "实际", "目标", "达成率(%)", "上期", "环比(%)", "去年同期", "同比(%)", "口径"]


def _num(value, money: bool):
    if value is None:
        return None
    return round(value / 100, 2) if money else value


def _book() -> tuple[Workbook, object]:
    book = Workbook()
    return book, book.active


def _bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def figures_xlsx(title: str, figures: list[Figure], ranking: Iterable[dict] = (), ranking_metrics=(),
                 ranking_labels=()) -> bytes:
    book, sheet = _book()
    sheet.title = "报表"
    sheet.append([title])
    sheet.append(FIGURE_HEADER)
    for f in figures:
        unit = "元" if f.money else f.unit
        target = _num(f.target, f.money)
        sheet.append([f.label, unit, _num(f.actual, f.money), target, f.achieved, _num(f.previous, f.money), f.mom,
                      _num(f.year_ago, f.money), f.yoy, f.definition])
    rows = list(ranking)
    if rows:
        ranks = book.create_sheet("排行")
        ranks.append(["名称"] + list(ranking_labels))
        money = {"gmv_fen", "refund_fen"}
        for row in rows:
            ranks.append([row["scope"].name] + [_num(row["values"][m], m in money) for m in ranking_metrics])
    return _bytes(book)


def drill_xlsx(title: str, rows: list[DrillRow], money: bool) -> bytes:
    book, sheet = _book()
    sheet.title = "明细"
    sheet.append([title])
    sheet.append(["时间", "日期", "对象", "类型", "金额(元)" if money else "数量", "微信号ID", "员工ID"])
    for r in rows:
        sheet.append([r.when, r.day, r.label, r.kind, _num(r.amount, money), r.account_id, r.user_id])
    return _bytes(book)

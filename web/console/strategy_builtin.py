"""导入内置策略 on 自动化策略管理: imports the manual's example strategies (engine.builtin_strategies)
once — existing ones are skipped — and shows what was added, skipped or refused."""
from __future__ import annotations

from flask import g, render_template

from engine.builtin_strategies import GROUP, import_builtin_strategies
from web.auth.guards import permission_required
from web.console.strategies import bp
from web.extensions import runtime


@bp.post("/strategies/import-builtin")
@permission_required("strategies.manage")
def import_builtin():
    rt = runtime()
    report = import_builtin_strategies(rt.services.db, rt.registry, rt.settings.timezone, g.user.username)
    rt.invalidate()
    return render_template("strategies/builtin_report.html", report=report, group=GROUP)

"""策略运行: today's engine counters (events received and refused, strategies matched, steps done,
failing, dead, delayed steps waiting) for the people who watch the engine (运行监控). analytics may
not import the engine, so the page hands the counters in as the "engine_today" provider."""
from __future__ import annotations

from sqlmodel import Session

from analytics.panels import register
from analytics.panels.base import Door, Panel, PanelContext

PROVIDER = "engine_today"


@register
class EngineRuns(Panel):
    key = "engine_runs"
    title = "策略运行"
    permission = "monitor.view"
    page = "monitor.index"
    description = "今日事件接入、策略匹配与步骤执行（运行监控）"
    wide = True

    def data(self, session: Session, ctx: PanelContext) -> dict:
        counts = ctx.providers[PROVIDER](session)
        return {"counts": counts, "door": Door("monitor.index", {}),
                "rejected_door": Door("history.index", {"outcome": "rejected"}),
                "dead_door": Door("deadletters.index", {}), "delayed_door": Door("tasks.index", {"status": "pending"})}

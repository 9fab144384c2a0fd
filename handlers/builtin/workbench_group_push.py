"""社群推送 / 群发 and 定时提醒: one message to every chosen group — text, or an item of the 内容库
(text, link, image, mini-program card) — one command per group through the risk budget, spaced
by the task's interval on top of the budget's own 3–8 s group gaps. The retry step re-sends to
the groups whose send failed or timed out. `delivery_report` reads the commands back per group:
sent / failed / why."""
from __future__ import annotations

from sqlmodel import Session, col, select

from devices.content import ContentError, item_message
from devices.models import ChatGroup, DeviceCommand
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin.workbench_base import STATUS_LABELS, first_step_key, issue, spaced, write_budgeted
from handlers.errors import PermanentError, RetryableError

DELIVERED = ("succeeded",)
IN_FLIGHT = ("queued", "sent", "acked", "deferred")
FAILED = ("failed", "timeout", "refused", "cancelled")


def message(session: Session, config: dict, to: str) -> tuple[str, dict]:
    """(command kind, payload) for one group."""
    try:
        return item_message(session, config, to)
    except ContentError as exc:
        raise PermanentError(exc.message) from None


class GroupPushProcessor(Processor):
    key = "workbench.group_push"
    name = "社群推送"
    description = "向多个微信群发送同一条消息（文字或内容库内容），每群一条指令，按间隔发送"
    config_fields = (
        ConfigField("group_ids", "群", kind="json", required=True, templated=False),
        ConfigField("text", "消息内容", kind="textarea", templated=False),
        ConfigField("content_id", "内容库内容ID", kind="number", templated=False),
        ConfigField("interval_seconds", "群间间隔（秒）", kind="number", default=5, templated=False),
    )

    def validate_config(self, config: dict) -> list[str]:
        errors = super().validate_config(config)
        if not isinstance(config.get("group_ids"), list) or not config.get("group_ids"):
            errors.append("请至少选择一个群")
        if not config.get("text") and not config.get("content_id"):
            errors.append("请填写消息内容或选择内容库内容")
        return errors

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        return {"group_ids": config.get("group_ids"), "text": config.get("text"), "content_id": config.get("content_id")}

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        now = ctx.services.now()
        gap = float(config.get("interval_seconds") or 0)

        def work(session):
            results, counts = [], {}
            groups = {g.id: g for g in session.exec(select(ChatGroup).where(col(ChatGroup.id).in_([int(i) for i in config["group_ids"]])))}
            for index, group_id in enumerate(int(i) for i in config["group_ids"]):
                group = groups.get(group_id)
                if group is None:
                    results.append({"group_id": group_id, "status": "missing", "reason": "群不存在或已删除"})
                    counts["missing"] = counts.get("missing", 0) + 1
                    continue
                kind, payload = message(session, config, group.chatroom_id)
                command = issue(session, ctx, group.account_id, kind, payload, f"g{group_id}",
                                not_before=spaced(now, index, gap) if index else None)
                results.append({"group_id": group_id, "command_id": command.id, "status": command.status, "reason": command.reason})
                counts[command.status] = counts.get(command.status, 0) + 1
            return results, counts

        results, counts = write_budgeted(ctx, work)
        summary = "，".join(f"{STATUS_LABELS.get(k, '群不存在' if k == 'missing' else k)} {v}" for k, v in sorted(counts.items()))
        text = f"推送 {len(results)} 个群：{summary}"
        if results and all(r["status"] in ("refused", "missing") for r in results):
            raise PermanentError(text + "；" + "；".join(sorted({r['reason'] for r in results}))[:300], response={"groups": results})
        return Outcome(request=self.render(ctx, config), response={"groups": results}, note=text[:500])


class GroupPushRetryProcessor(Processor):
    key = "workbench.group_push_retry"
    name = "社群推送失败重试"
    description = "推送完成后，对发送失败或超时的群重新发送（用在社群推送之后，延迟执行）"
    config_fields = (ConfigField("retries", "重试次数", kind="number", default=1, templated=False),)

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        return {"retries": config.get("retries")}

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        prefix = first_step_key(ctx.idempotency_key)

        def work(session):
            tried = tries_by_group(session, prefix)
            latest = {gid: t[-1] for gid, t in tried.items()}
            pending = [c for c in latest.values() if c.status in IN_FLIGHT and c.status != "deferred"]
            if pending:
                raise RetryableError(f"还有 {len(pending)} 个群在发送中，稍后再检查", retry_after=60)
            failed = [c for c in latest.values() if c.status in ("failed", "timeout")]
            tries = {gid: len(t) for gid, t in tried.items()}
            resent = 0
            for group_id, command in latest.items():
                if command.status not in ("failed", "timeout") or tries[group_id] > int(config.get("retries") or 0):
                    continue
                issue(session, ctx, command.account_id, command.kind, dict(command.payload), f"g{group_id}:r{tries[group_id]}")
                resent += 1
            return failed, resent

        failed, resent = write_budgeted(ctx, work)
        if not failed:
            return Outcome(note="所有群均已送达或已有结论，无需重试")
        if resent:
            raise RetryableError(f"已重发 {resent} 个失败的群，稍后检查结果", retry_after=120)
        return Outcome(note=f"{len(failed)} 个群重试后仍失败")


def _group_of(key: str, prefix: str) -> int:
    return int(key[len(prefix) + 2:].split(":", 1)[0])


def commands_of(session: Session, prefix: str) -> list[DeviceCommand]:
    return list(session.exec(select(DeviceCommand).where(col(DeviceCommand.idempotency_key).startswith(f"{prefix}:g"))
                             .order_by(DeviceCommand.id)))


def tries_by_group(session: Session, prefix: str) -> dict[int, list[DeviceCommand]]:
    out: dict[int, list[DeviceCommand]] = {}
    for command in commands_of(session, prefix):  # ordered by id: the last try is last
        out.setdefault(_group_of(command.idempotency_key, prefix), []).append(command)
    return out


def latest_by_group(session: Session, prefix: str) -> dict[int, DeviceCommand]:
    return {gid: tries[-1] for gid, tries in tries_by_group(session, prefix).items()}


def push_runs(session: Session, strategy_id: int, limit: int = 20) -> list[str]:
    """The prefixes of this task's pushes, newest first (one per schedule firing)."""
    keys = session.exec(select(DeviceCommand.idempotency_key).where(
        col(DeviceCommand.idempotency_key).like(f"%:{strategy_id}:0:g%")).order_by(col(DeviceCommand.id).desc())).all()
    out: list[str] = []
    for key in keys:
        record = key.split(":", 1)[0]
        prefix = f"{record}:{strategy_id}:0"
        if key.startswith(prefix + ":g") and prefix not in out:
            out.append(prefix)
        if len(out) >= limit:
            break
    return out


def delivery_report(session: Session, prefix: str) -> dict:
    """Per group: the latest command's status in words, why it failed, and how many tries."""
    tried = tries_by_group(session, prefix)
    latest = {gid: t[-1] for gid, t in tried.items()}
    groups = {g.id: g for g in session.exec(select(ChatGroup).where(col(ChatGroup.id).in_(list(latest))))} if latest else {}
    rows, tally = [], {"delivered": 0, "failed": 0, "in_flight": 0}
    for group_id, c in sorted(latest.items()):
        state = "delivered" if c.status in DELIVERED else "failed" if c.status in FAILED else "in_flight"
        tally[state] += 1
        group = groups.get(group_id)
        rows.append({"group_id": group_id, "group": group.name if group else f"#{group_id}", "status": c.status,
                     "status_label": STATUS_LABELS.get(c.status, c.status), "state": state,
                     "why": c.error or c.reason, "tries": len(tried[group_id]), "command_id": c.id,
                     "finished_at": c.finished_at})
    total = len(rows)
    return {"rows": rows, "total": total, **tally,
            "rate": round(100.0 * tally["delivered"] / total, 1) if total else 0.0}

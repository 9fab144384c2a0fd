"""`cunkebao jobs`: 任务调度 from a shell — list every job with its schedule, next and last run;
change a schedule (or switch a job off); queue a 立即执行 for the scheduler leader."""
from __future__ import annotations

import click

from engine import cron_requests
from engine.cron_registry import catalog, last_runs, save_schedule
from engine.cron_schedule import local_label, next_runs
from engine.crm_wiring import all_cron_jobs
from engine.errors import JobError, JobNotFound
from engine.models import CRON_RUN_STATUS_LABELS


def _rt():
    from web.cli import _runtime  # the command group's own factory (devices' jobs included)

    return _runtime()


def _jobs(rt) -> list:
    return all_cron_jobs(rt.settings, rt.extra_cron_jobs)


@click.group("jobs")
def jobs():
    """任务调度：列出定时任务、修改执行时间、立即执行。"""


@jobs.command("list")
def jobs_list():
    """每个定时任务的键、名称、执行时间、下次运行与最近一次结果。"""
    rt = _rt()
    tz, now = rt.settings.timezone, rt.services.now()
    with rt.services.db.read() as s:
        entries, last = catalog(s, _jobs(rt)), last_runs(s)
    for e in entries:
        nxt = next_runs(e.job.cron, tz, now, 1) if e.enabled else []
        run = last.get(e.key)
        recent = f"{CRON_RUN_STATUS_LABELS.get(run.status, run.status)} {run.summary[:40]}" if run else "尚未运行"
        click.echo("\t".join([e.key, e.name, e.schedule, "启用" if e.enabled else "停用",
                              local_label(nxt[0], tz) if nxt else "—", recent]))


@jobs.command("set")
@click.argument("key")
@click.argument("schedule")
@click.option("--disable", is_flag=True, help="停用（到点不再运行）")
def jobs_set(key, schedule, disable):
    """修改执行时间：HH:MM 或 5 段 cron 表达式（分 时 日 月 周）。"""
    rt = _rt()
    try:
        with rt.services.db.write() as s:
            entry = save_schedule(s, _jobs(rt), key, schedule, not disable, "cli", rt.services.now())
    except JobError as exc:
        raise click.ClickException(exc.errors.get("schedule") or exc.message) from None
    click.echo(f"已保存「{entry.name}」：{entry.schedule}{'' if entry.enabled else '（已停用）'}；调度进程几秒内生效")


@jobs.command("run")
@click.argument("key")
def jobs_run(key):
    """立即执行一次（由调度进程运行；已在排队时不会重复）。"""
    rt = _rt()
    with rt.services.db.read() as s:
        if key not in {e.key for e in catalog(s, _jobs(rt))}:
            raise click.ClickException(JobNotFound("找不到这个定时任务").message + f"：{key}")
    click.echo(cron_requests.request_run(rt.services.db, key, "cli", rt.services.now()).message)

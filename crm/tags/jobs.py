"""「自动打标签」 now, for the tags an operator ticked: a background Job (crm.jobs) so the page
answers at once and shows progress while each tag runs. Importing this module registers the
handler; the console's tags blueprint imports it.
"""
from __future__ import annotations

from config.db import Database
from crm.jobs.models import Job
from crm.jobs.runner import register_handler, submit
from crm.tags.autotag import run_auto_tags

KIND = "auto_tag"


def submit_autotag(db: Database, tag_ids: list[int], created_by: int | None, tz: str, now=None) -> Job:
    return submit(db, KIND, {"tag_ids": sorted(set(tag_ids)), "tz": tz}, created_by, now=now)


def handle(db: Database, job: Job, progress) -> dict:
    params = job.params or {}
    tag_ids = [int(t) for t in params.get("tag_ids") or []]
    progress(0, len(tag_ids), 0, 0)
    report = run_auto_tags(db, tag_ids or None, tz=params.get("tz"),
                           progress=lambda done, total: progress(done, total, done, 0))
    failed = len(report.failed) + len(report.skipped)
    return {"message": report.summary(), "ok": len(report.runs) - len(report.failed), "failed": failed,
            "done": len(report.runs), "total": len(report.runs) + len(report.skipped)}


register_handler(KIND, handle)

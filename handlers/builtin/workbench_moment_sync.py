"""朋友圈同步: at each scheduled slot, every chosen account posts the next item of the task's
内容库 list it has not posted yet (MomentPost: never the same item twice on one account), with
the visibility by tags, and a random delay between accounts so they do not all post at once."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from devices.models import ContentItem, MomentPost
from handlers.base import ConfigField, Outcome, Processor, ProcessorContext
from handlers.builtin.workbench_base import STATUS_LABELS, brief, issue, write_budgeted


def moment_payload(item: ContentItem, visibility: str, tags: list[str]) -> dict:
    payload = {"text": item.text or item.title, "media": [f"material:{m}" for m in item.material_ids or []],
               "visibility": {"mode": visibility or "all", "tags": list(tags or [])}}
    if item.kind == "link" and item.link:
        payload["link"] = dict(item.link)
    return payload


def next_item(session: Session, account_id: int, content_ids: list[int]) -> ContentItem | None:
    posted = set(session.exec(select(MomentPost.content_id).where(MomentPost.account_id == account_id,
                                                                 col(MomentPost.content_id).in_(content_ids))))
    for content_id in content_ids:
        if content_id not in posted:
            item = session.get(ContentItem, content_id)
            if item is not None and item.enabled:
                return item
    return None


class MomentSyncProcessor(Processor):
    key = "workbench.moment_sync"
    name = "朋友圈同步"
    description = "每个微信号发布内容列表中下一条未发过的内容到朋友圈，可按标签设置可见范围，账号之间随机间隔"
    config_fields = (
        ConfigField("content_ids", "内容", kind="json", required=True, templated=False),
        ConfigField("account_ids", "微信号", kind="json", required=True, templated=False),
        ConfigField("visibility", "可见范围", kind="select", default="all", templated=False,
                    choices=(("all", "所有人"), ("include", "指定标签可见"), ("exclude", "指定标签不可见"))),
        ConfigField("visibility_tags", "标签", kind="json", templated=False),
        ConfigField("delay_min_seconds", "账号间最短间隔（秒）", kind="number", default=30, templated=False),
        ConfigField("delay_max_seconds", "账号间最长间隔（秒）", kind="number", default=180, templated=False),
    )

    def render(self, ctx: ProcessorContext, config: dict) -> dict:
        return {"accounts": config.get("account_ids"), "contents": config.get("content_ids")}

    def run(self, ctx: ProcessorContext, config: dict) -> Outcome:
        now = ctx.services.now()
        content_ids = [int(i) for i in config.get("content_ids") or []]
        accounts = [int(i) for i in config.get("account_ids") or []]
        # Seeded by the step's key: a retried step spreads the accounts the same way.
        rng = random.Random(ctx.idempotency_key)
        rng.shuffle(accounts)
        low, high = int(config.get("delay_min_seconds") or 0), int(config.get("delay_max_seconds") or 0)

        def work(session):
            rng = random.Random(ctx.idempotency_key)
            rng.shuffle(list(accounts))  # the same draws as above: every pass spaces the posts alike
            offset, results = 0.0, []
            for account_id in accounts:
                item = next_item(session, account_id, content_ids)
                if item is None:
                    results.append({"account_id": account_id, "status": "skipped", "reason": "内容已全部发过"})
                    continue
                command = issue(session, ctx, account_id, "post_moment",
                                moment_payload(item, config.get("visibility"), config.get("visibility_tags")),
                                f"a{account_id}", not_before=now + timedelta(seconds=offset) if offset else None)
                if command.status != "refused":
                    try:
                        with session.begin_nested():
                            session.add(MomentPost(account_id=account_id, content_id=item.id, command_id=command.id, posted_at=now))
                    except IntegrityError:
                        pass  # a retried step: this account already has the post
                results.append({"account_id": account_id, "content_id": item.id, **brief(command)})
                offset += rng.uniform(low, max(low, high))
            return results

        results = write_budgeted(ctx, work)
        counts: dict[str, int] = {}
        for r in results:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        summary = "，".join(f"{STATUS_LABELS.get(k, '跳过' if k == 'skipped' else k)} {v}" for k, v in sorted(counts.items()))
        return Outcome(request=self.render(ctx, config), response={"accounts": results},
                       note=f"{len(accounts)} 个微信号发朋友圈：{summary}"[:500])

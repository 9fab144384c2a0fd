"""定时任务 of 智能推荐: the tables are rebuilt every hour at :40 (configured zone); the engine's cron
registry reads CRON_SPECS (key, name, cron fields, fn(services) -> summary)."""
from __future__ import annotations

from commerce.recommend.refresh import compute, store


def refresh(services) -> str:
    with services.db.read() as session:  # the long part holds no write lock
        counted = compute(session, services.now())
    with services.db.write() as session:
        build = store(session, counted)
        return (f"商品推荐数据刷新：{build.purchases} 条购买记录，{build.pairs} 对常一起购买，"
                f"{build.segments} 个客群，用时 {build.seconds:.1f} 秒")


CRON_SPECS = [("recommend_refresh", "商品推荐数据刷新", {"minute": 40}, refresh)]

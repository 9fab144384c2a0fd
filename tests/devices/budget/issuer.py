"""A worker process issuing add-friend commands for one account (run by test_processes.py).

Usage: python -m tests.devices.budget.issuer DB_URL REDIS_URL|- ACCOUNT_ID FIRST COUNT NOW_ISO START_AT
Several threads issue in parallel, each command in its own write transaction, starting at the
wall-clock START_AT so that two processes really overlap.
"""
from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from config.db import Database
from config.settings import Settings
from devices.commands import issue_command


def main(argv: list[str]) -> None:
    db_url, redis_url, account_id, first, count, now_iso, start_at = argv
    settings = Settings(database_url=db_url, redis_url="" if redis_url == "-" else redis_url,
                        secret_key="issuer", run_background=False)
    db = Database(db_url)
    now = datetime.fromisoformat(now_iso)

    def one(i: int) -> str:
        with db.write() as s:
            return issue_command(s, int(account_id), "add_friend", {"wxid": f"wxid_target_{i}", "greeting": "你好"},
                                 idempotency_key=f"add:{i}", now=now, settings=settings).status

    time.sleep(max(0.0, float(start_at) - time.time()))
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(one, range(int(first), int(first) + int(count))))
    db.dispose()
    print(",".join(statuses))


if __name__ == "__main__":
    main(sys.argv[1:])

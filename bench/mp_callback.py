"""公众号 push handling: how long our server takes to answer WeChat (it retries after 5 s), for
安全模式 pushes (signature + AES + store + route + event), their retries (answered from memory),
and 明文模式 pushes as the same-run baseline (the ratio shows what decryption costs).

Run: .venv/bin/python bench/mp_callback.py [--messages 1000]
(about 1 minute; an in-process Flask app over a fresh temporary SQLite database; no network).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config.clock import ManualClock  # noqa: E402
from config.settings import Settings  # noqa: E402
from integrations.mp import accounts, runtime  # noqa: E402
from tests.support.fake_mp import MpPusher  # noqa: E402
from web import create_app  # noqa: E402
from web.migrate import upgrade  # noqa: E402

APPID = "wx1234567890abcdef"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _run(client, deliveries) -> list[float]:
    out = []
    for delivery in deliveries:
        start = time.perf_counter()
        resp = delivery.post(client)
        out.append(time.perf_counter() - start)
        assert resp.status_code == 200, resp.get_data(as_text=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ckb-bench-mp-"))
    try:
        url = f"sqlite:///{tmp / 'cunkebao.db'}"
        upgrade(url)
        clock = ManualClock()
        settings = Settings(var_dir=tmp, database_url=url, secret_key="bench", run_background=False,
                            mp_api_base="http://127.0.0.1:9")  # no fan lookups leave the machine
        app = create_app(settings, clock=clock)
        svc = app.extensions["ckb"].services
        pushers = {}
        for mode in ("plain", "safe"):
            with svc.db.write() as s:
                account = accounts.save_account(s, svc.secret_box, {
                    "name": f"bench {mode}", "appid": APPID + mode[:2], "secret": "0123456789abcdef0123",
                    "token": "benchToken", "aes_key": accounts.generate_aes_key(), "mode": mode})
            pushers[mode] = MpPusher(account.appid, account.token, account.aes_key, clock, mode=mode,
                                     path=f"/mp/callback/{account.callback_key}")
        client = app.test_client()
        n = args.messages
        plain = _run(client, [pushers["plain"].text(f"o_fan_{i % 200}", f"消息 {i}", msg_id=i) for i in range(n)])
        safe_deliveries = [pushers["safe"].text(f"o_fan_{i % 200}", f"消息 {i}", msg_id=i) for i in range(n)]
        safe = _run(client, safe_deliveries)
        retries = _run(client, [pushers["safe"].text(f"o_fan_{i % 200}", f"消息 {i}", msg_id=i) for i in range(n)])
        runtime.drain(30)
        print(f"{n} pushes each (200 fans), SQLite, in-process client")
        print(f"{'kind':<22}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
        for name, values in (("明文 (baseline)", plain), ("安全模式 AES", safe), ("安全模式 retry", retries)):
            print(f"{name:<22}{_pct(values, .5):>10.2f}{_pct(values, .99):>10.2f}{statistics.mean(values) * 1000:>10.2f}")
        print(f"safe / plain p50 ratio: {_pct(safe, .5) / _pct(plain, .5):.2f}; "
              f"retry / safe p50 ratio: {_pct(retries, .5) / _pct(safe, .5):.2f}; WeChat's budget: 5000 ms")
        svc.db.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Issue 13 benchmark: attribution of fission invitations through the device gateway.

Phones report `friend_added` over real WebSockets to one server process (`cunkebao serve`); each
report is applied, attributed with every anti-fraud check (new person, self-invitation, dedup by
person across participants, depth cap) and acknowledged in one transaction, so the ack latency is
the attribution latency. Two phases in the same run, same server, same number of reports:
- baseline: plain new friends (no campaign code: the fission sink looks once and returns);
- fission: friends arriving with a participant's code (`state` fis-<code>), 90 % new people,
  5 % self-invitations and 5 % people already invited by another participant (both refused
  with their reason).
Prints invitations/s, p50/p99 attribution latency (send → ack), the fission/baseline ratio and
whether 10,000 invitations per minute (166.7/s) is met. Bounded: --reports per phase (default
3000) and a 120 s cap per phase; 127.0.0.1 only, SQLite in a fresh temporary var dir.

Run: /work/main/.venv/bin/python bench/fission.py [--reports 3000] [--phones 8] [--seeds 200]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import Proc, wait_port  # noqa: E402

GOAL_PER_S = 10_000 / 60
PHASE_CAP_S = 120.0
CLI = [sys.executable, "-m", "web.cli"]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


class Phone:
    """One raw protocol connection carrying one account; reports sent one after another."""

    def __init__(self, url: str, token: str, wxid: str):
        from websockets.sync.client import connect

        self.ws = connect(url, open_timeout=10, max_size=8 * 1024 * 1024).__enter__()
        self.n = 0
        assert self._ask({"type": "hello", "id": "h", "token": token})["type"] == "welcome"
        self.wxid = wxid
        self.account_id = self._ask({"type": "accounts", "id": "a", "accounts": [{"wxid": wxid, "nickname": wxid}]})["accounts"][wxid]

    def _ask(self, frame: dict) -> dict:
        self.ws.send(json.dumps(frame, ensure_ascii=False))
        while True:
            answer = json.loads(self.ws.recv(timeout=30))
            if answer.get("id") == frame["id"]:
                return answer

    def report(self, data: dict) -> float:
        self.n += 1
        t0 = time.perf_counter()
        answer = self._ask({"type": "report", "id": f"{self.wxid}-{self.n}", "kind": "friend_added", "account": self.wxid,
                            "data": data})
        if not answer.get("ok"):
            raise RuntimeError(answer)
        return (time.perf_counter() - t0) * 1000


def run_phase(phones: list[Phone], items: list[list[dict]]) -> tuple[float, list[float]]:
    """Each phone sends its own list; returns (elapsed seconds, latencies in ms)."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + PHASE_CAP_S

    def work(phone, reports):
        mine = []
        for data in reports:
            if time.monotonic() > deadline:
                break
            mine.append(phone.report(data))
        with lock:
            latencies.extend(mine)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=work, args=(p, r)) for p, r in zip(phones, items)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return time.perf_counter() - t0, latencies


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=3000, help="reports per phase")
    ap.add_argument("--phones", type=int, default=8)
    ap.add_argument("--seeds", type=int, default=200, help="seed participants with their own code")
    ap.add_argument("--port", type=int, default=5091)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ckb-bench-fission-"))
    env = {**os.environ, "CKB_VAR_DIR": str(tmp / "var"), "CKB_SECRET_KEY": "bench-fission", "CKB_SECURE_COOKIES": "false",
           "PYTHONPATH": str(ROOT)}
    os.environ.update({k: env[k] for k in ("CKB_VAR_DIR", "CKB_SECRET_KEY")})
    server, phones = None, []
    try:
        (tmp / "var").mkdir(parents=True, exist_ok=True)
        subprocess.run(CLI + ["init"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        from community.fission import campaigns, participants
        from community.fission.models import Invitation
        from config.services import Services
        from config.settings import load_settings
        from crm.customers.models import Customer
        from devices.registry import add_device
        from sqlmodel import func, select

        services = Services.from_settings(load_settings())
        with services.db.write() as s:
            tokens = [add_device(s, f"裂变压测{i}", f"127.0.0.1:{args.port}")[1] for i in range(args.phones)]
        server = Proc("server", CLI + ["serve", "--port", str(args.port), "--workers", "1", "--threads", str(args.phones + 20)],
                      env, tmp)
        wait_port(args.port)
        url = f"ws://127.0.0.1:{args.port}/devices/ws"
        time.sleep(1.0)
        for i, token in enumerate(tokens):
            for attempt in range(10):  # the server may still be importing when its port opens
                try:
                    phones.append(Phone(url, token, f"wx_bench_pool{i}"))
                    break
                except (TimeoutError, OSError):
                    if attempt == 9:
                        raise RuntimeError(f"the server does not answer; see {tmp / 'server.log'}") from None
                    time.sleep(1.0)
        now = services.now()
        with services.db.write() as s:
            values = campaigns.clean(s, {"name": "压测裂变", "kind": "invite", "account_ids": [str(p.account_id) for p in phones],
                                         "stages": [{"threshold": 3, "processor": "rewards.grant_points", "config": {"points": 10}}]},
                                      now - timedelta(hours=1), now + timedelta(days=7))
            campaign = campaigns.create(s, values, None, now)
            campaigns.set_status(s, campaign.id, "active", now)
            seeds = []
            for i in range(args.seeds):
                customer = Customer(name=f"种子{i}", wechat_id=f"wx_seed{i}", created_at=now - timedelta(days=1))
                s.add(customer)
                s.flush()
                seeds.append((participants.join(s, campaign, customer, f"wx_seed{i}", now=now)[0].code, f"wx_seed{i}"))

        rng = random.Random(13)
        per_phone = args.reports // args.phones
        baseline = [[{"wxid": f"wx_plain_{p}_{n}", "nickname": f"普通好友{n}"} for n in range(per_phone)] for p in range(args.phones)]
        fission, expected = [], {"pending": 0, "refused": 0}
        invited: list[str] = []
        for p in range(args.phones):
            mine = []
            for n in range(per_phone):
                code, seed_wxid = rng.choice(seeds)
                roll = rng.random()
                if roll < 0.05:  # the participant adds themselves
                    wxid = seed_wxid
                elif roll < 0.10 and invited:  # someone already invited, through another participant's code
                    wxid = rng.choice(invited)
                else:
                    wxid = f"wx_new_{p}_{n}"
                    invited.append(wxid)
                mine.append({"wxid": wxid, "nickname": f"新朋友{n}", "state": f"fis-{code}"})
            fission.append(mine)

        base_s, base_lat = run_phase(phones, baseline)
        fis_s, fis_lat = run_phase(phones, fission)
        with services.db.read() as s:
            by_status = dict(s.exec(select(Invitation.status, func.count()).group_by(Invitation.status)).all())
        base_rate, fis_rate = len(base_lat) / base_s, len(fis_lat) / fis_s
        figures = {
            "phones": args.phones, "seed_participants": args.seeds, "reports_per_phase": per_phone * args.phones,
            "baseline_reports_per_s": round(base_rate, 1), "baseline_p50_ms": round(pct(base_lat, 50), 2),
            "baseline_p99_ms": round(pct(base_lat, 99), 2),
            "invitations_per_s": round(fis_rate, 1), "invitations_per_min": round(fis_rate * 60),
            "attribution_p50_ms": round(pct(fis_lat, 50), 2), "attribution_p99_ms": round(pct(fis_lat, 99), 2),
            "attribution_mean_ms": round(statistics.fmean(fis_lat), 2) if fis_lat else None,
            "ratio_fission_vs_baseline_throughput": round(fis_rate / base_rate, 3) if base_rate else None,
            "invitations": by_status,
            "goal_10k_per_min_met": fis_rate >= GOAL_PER_S,
        }
        print(json.dumps(figures, ensure_ascii=False, indent=2))
        return 0 if figures["goal_10k_per_min_met"] else 1
    finally:
        for phone in phones:
            phone.ws.close()
        if server is not None:
            server.stop()
        if sys.exc_info()[0] is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""Issues 4 and 15 benchmark: simulated phones on one gateway process — connection time, command
ack latency (goal p99 ≤ 200 ms) and memory per connected device (issue 15: 10,000 phones at
≤ 50 KiB each).

Run: .venv/bin/python bench/devices.py [--phones 10000] [--gateway async|flask] [--commands 2000] [--rate 100]
(a few minutes at 10,000 phones; everything on 127.0.0.1 in a fresh temporary var dir, SQLite).

--gateway async (default): `cunkebao gateway`, one asyncio event loop for every phone
(devices/async_gateway.py); memory is that process's RSS.
--gateway flask: the embedded endpoint, `cunkebao serve --workers 1 --threads <phones + 100>`:
with gunicorn's gthread worker and flask-sock every open WebSocket holds one worker thread for
its lifetime (plus simple-websocket's reader thread), so the thread pool must be larger than the
fleet; memory is the gunicorn worker's RSS.

The phones run in --clients processes (default one per 2,500 phones: one simulator loop cannot
drive 10,000 phones' hellos in reasonable time), each phone with one WeChat account, a few
friends and no groups, so connecting is mostly the gateway's work, not the sync reports'. The
bench raises its soft open-files limit to the hard one (children inherit it); the gateway raises
its own.

Commands are issued from this process through devices.commands.issue_command (the risk budget),
one send_text per account at --rate per second; the server, which did not issue them, finds them
by its 0.5 s database poll on SQLite, or is woken by NOTIFY on PostgreSQL (--database-url;
devices/command_wakeup.py). Figures:
- ack latency: sent_at → acked_at, both stamped by the server (acked_at when the ack is stored);
- result latency: sent_at → finished_at (the simulated phone answers after 50–200 ms);
- pickup delay: created_at → sent_at (the cross-process poll; in-process issues wake delivery at once);
- memory per device: (gateway RSS with the fleet connected − RSS before) / phones (the gunicorn
  worker's RSS for --gateway flask).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import device_commands  # noqa: E402
from bench.ingest import CLI, Proc, wait_port  # noqa: E402

GOAL_ACK_P99_MS = 200.0
GOAL_KIB_PER_PHONE = 50.0


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def threads_of(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--phones", type=int, default=10000)
    ap.add_argument("--gateway", choices=("async", "flask"), default="async")
    ap.add_argument("--clients", type=int, default=0, help="simulator processes (default: one per 2,500 phones)")
    ap.add_argument("--threads", type=int, default=16, help="the async gateway's database thread pool")
    ap.add_argument("--commands", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=100.0, help="commands issued per second")
    ap.add_argument("--port", type=int, default=5077)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--database-url", default="", help="an EMPTY PostgreSQL database (default: SQLite in the temp dir); "
                    "on PostgreSQL commands issued here wake the server's delivery by NOTIFY instead of its 0.5 s poll")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    clients = args.clients or max(1, -(-args.phones // 2500))
    tmp = Path(tempfile.mkdtemp(prefix="ckb-bench-devices-"))
    env = {**os.environ, "CKB_VAR_DIR": str(tmp / "var"), "CKB_SECRET_KEY": "bench-devices", "CKB_SECURE_COOKIES": "false"}
    if args.database_url:
        env["CKB_DATABASE_URL"] = args.database_url
    os.environ.update({k: env[k] for k in ("CKB_VAR_DIR", "CKB_SECRET_KEY", "CKB_DATABASE_URL") if k in env})
    started = time.monotonic()
    server = None
    fleets: list = []
    try:
        subprocess.run([CLI, "init"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        from config.settings import load_settings
        from config.services import Services
        from devices.registry import add_device

        services = Services.from_settings(load_settings())
        with services.db.write() as s:
            tokens = [add_device(s, f"压测手机{i:04d}", f"127.0.0.1:{args.port}")[1] for i in range(args.phones)]

        if args.gateway == "async":
            server = Proc("server", [CLI, "gateway", "--port", str(args.port), "--threads", str(args.threads)], env, tmp)
            server_label = f"1 process (cunkebao gateway: asyncio, {args.threads} database threads)"
        else:
            threads = args.phones + 100
            server = Proc("server", [CLI, "serve", "--port", str(args.port), "--workers", "1", "--threads", str(threads)], env, tmp)
            server_label = f"1 process (gunicorn gthread), {threads} threads"
        wait_port(args.port)
        time.sleep(1.0)
        worker = server.p.pid if args.gateway == "async" else server.children()[0]
        rss_before, threads_before = rss_kib(worker), threads_of(worker)

        # The phones run in their own processes, as real phones would: their event loops do not
        # share a GIL with this process's command issuing, nor with each other.
        t0 = time.monotonic()
        readies = []
        for c in range(clients):
            part = tokens[c::clients]
            tokens_file, ready = tmp / f"tokens-{c}.txt", tmp / f"fleet-ready-{c}.json"
            tokens_file.write_text("\n".join(part) + "\n")
            readies.append(ready)
            fleets.append(Proc(f"fleet-{c}", [
                CLI, "devices", "simulate", "--count", str(len(part)), "--tokens-file", str(tokens_file),
                "--url", f"ws://127.0.0.1:{args.port}/devices/ws", "--message-rate", "0", "--moment-rate", "0",
                "--friend-request-rate", "0", "--join-rate", "0", "--min-send-gap", "0",
                "--accounts", "1", "--friends", "2", "--groups", "0", "--seed", str(c + 1),
                "--ready-file", str(ready)], env, tmp))
        while not all(r.exists() for r in readies):
            for c, fleet in enumerate(fleets):
                if fleet.p.poll() is not None:
                    raise RuntimeError(f"the simulated fleet did not come up; see {tmp / f'fleet-{c}.log'}")
            if time.monotonic() - t0 > 600:
                raise RuntimeError(f"the simulated fleet did not come up in 600 s; see {tmp}")
            time.sleep(0.2)
        connect_all = time.monotonic() - t0
        parts = [json.loads(r.read_text()) for r in readies]
        stats = {key: sum(p[key] for p in parts) for key in ("connected", "refused", "accounts")}
        connect_times = [t for p in parts for t in p["connect_seconds"]]
        time.sleep(2.0)
        rss_after, threads_after = rss_kib(worker), threads_of(worker)

        t_issue = time.monotonic()
        queued = device_commands.issue_at_rate(services, args.commands, args.rate, "devices")
        issue_seconds = time.monotonic() - t_issue
        commands = device_commands.figures(services, queued)
        rss_end = rss_kib(worker)

        figures = {
            "phones": args.phones, "connected": stats["connected"], "refused": stats["refused"], "accounts": stats["accounts"],
            "gateway": args.gateway, "server": server_label, "client_processes": clients, "open_files_limit": nofile,
            "database": "postgresql" if args.database_url else "sqlite",
            "connect_all_s": round(connect_all, 1),
            "connect_p50_ms": round(pct(connect_times, 50) * 1000), "connect_p99_ms": round(pct(connect_times, 99) * 1000),
            "commands_issued": args.commands, "commands_queued": len(queued),
            "issue_rate_per_s": round(args.commands / issue_seconds, 1),
            **{k: v for k, v in commands.items() if k != "commands"},
            "gateway_rss_before_mib": round(rss_before / 1024, 1), "gateway_rss_connected_mib": round(rss_after / 1024, 1),
            "gateway_rss_end_mib": round(rss_end / 1024, 1),
            "memory_per_device_kib": round((rss_after - rss_before) / max(1, stats["connected"]), 1),
            "gateway_threads_before": threads_before, "gateway_threads_connected": threads_after,
            "ack_goal_met": commands["ack_p99_ms"] is not None and commands["ack_p99_ms"] <= GOAL_ACK_P99_MS,
            "memory_goal_met": (rss_after - rss_before) / max(1, stats["connected"]) <= GOAL_KIB_PER_PHONE,
            "total_s": round(time.monotonic() - started, 1),
        }
        print(json.dumps(figures, ensure_ascii=False, indent=2))
        out = ROOT / "bench" / "out"
        out.mkdir(exist_ok=True)
        (out / f"devices-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2))
        return 0 if figures["ack_goal_met"] and stats["connected"] == args.phones else 1
    finally:
        for fleet in fleets:
            fleet.stop()  # SIGTERM to its own process group: the phones hang up
        if server is not None:
            server.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}")


if __name__ == "__main__":
    sys.exit(main())

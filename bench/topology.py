"""The scale-out topology of README «Running at scale», two of each, on this machine:
PostgreSQL (started by this bench on loopback), 2 web processes (`serve --no-background`),
2 `worker`s, 1 `scheduler` (the cron leader), 2 `gateway`s, each gateway with its own fleet of
simulated phones.

Run: .venv/bin/python bench/topology.py [--phones 400] [--rate 400] [--seconds 20]   (~3 min)

What it shows, with figures:
1. every process is up and sees the others: /readyz answers 200 on both web processes, and the
   process_heartbeat rows list each kind (web, worker, scheduler, gateway) with one cron leader;
2. events offered open-loop at --rate through both web processes at once (half each), matched by
   1,000 strategies (~4.6 matches per event, one immediate 「写日志」 step each) and run by both
   workers: e2e completions/s and immediate-step p50/p99, as in bench/ingest.py;
3. meanwhile device commands issued in this process at --command-rate reach phones held by the
   two gateway processes: pickup (NOTIFY across processes), ack and result p50/p99.
The ratio's denominator is a bare Flask endpoint (bench/baseline_app.py) measured in the same run
with the same gunicorn options as one web process × 2.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import device_commands, e2e_stats  # noqa: E402
from bench.ingest import CLI, PY, Proc, free_port, fresh_env, init_and_seed, save_results, wait_port, wrk, write_requests  # noqa: E402
from bench.openloop import OpenLoop  # noqa: E402
from bench.pg_cluster import PostgresCluster  # noqa: E402


def readyz(port: int, timeout: float = 60) -> int:
    deadline = time.time() + timeout
    status = 0
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as resp:
                status = resp.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 0
        if status == 200:
            return status
        time.sleep(1)
    return status


def live_processes(services) -> list[dict]:
    from sqlmodel import select

    from engine.process_models import ProcessHeartbeat

    with services.db.read() as s:
        rows = s.exec(select(ProcessHeartbeat).where(ProcessHeartbeat.stopped_at.is_(None))).all()
    now = services.now()
    return [{"kind": r.kind, "roles": sorted(r.roles or []), "pid": r.pid, "leader": r.is_leader,
             "beat_age_s": round((now - r.beat_at).total_seconds(), 1), "info": r.info}
            for r in rows if (now - r.beat_at).total_seconds() < 3 * r.interval_seconds]


def run(args) -> dict:
    t0 = time.time()
    work = Path(tempfile.mkdtemp(prefix="ckb-bench-topology-"))
    env, _ = fresh_env(work)
    env["CKB_PROCESS_HEARTBEAT_SECONDS"] = "2"
    r: dict = {"config": vars(args) | {"cores": os.cpu_count(), "work_dir": str(work)}}
    procs: list[Proc] = []
    cluster = PostgresCluster(work)
    try:
        db = env["CKB_DATABASE_URL"] = cluster.start()
        info = init_and_seed([PY, "-m", "bench.seed"], env)
        os.environ.update({k: env[k] for k in ("CKB_VAR_DIR", "CKB_SECRET_KEY", "CKB_DATABASE_URL")})
        from config.services import Services
        from config.settings import load_settings
        from devices.registry import add_device

        services = Services.from_settings(load_settings())
        gateway_ports = [free_port() for _ in range(2)]
        half = args.phones // 2
        with services.db.write() as s:
            tokens = [add_device(s, f"拓扑手机{i:04d}", "")[1] for i in range(args.phones)]

        base_port = free_port()
        base = Proc("baseline", [PY, "bench/baseline_app.py", "--port", str(base_port), "--workers", "2", "--threads", "4"], env, work)
        procs.append(base)
        web_ports = [free_port() for _ in range(2)]
        for n, port in enumerate(web_ports):
            procs.append(Proc(f"web{n}", [CLI, "serve", "--port", str(port), "--workers", "1", "--threads", "4", "--no-background"],
                              env, work))
        for n in range(2):
            procs.append(Proc(f"worker{n}", [CLI, "worker"], env, work))
        procs.append(Proc("scheduler", [CLI, "scheduler"], env, work))
        for n, port in enumerate(gateway_ports):
            procs.append(Proc(f"gateway{n}", [CLI, "gateway", "--host", "127.0.0.1", "--port", str(port)], env, work))
        for port in [base_port, *web_ports, *gateway_ports]:
            wait_port(port, 60)

        ready_files = []
        for n, port in enumerate(gateway_ports):
            part = tokens[:half] if n == 0 else tokens[half:]
            tokens_file, ready = work / f"tokens{n}.txt", work / f"fleet{n}-ready.json"
            tokens_file.write_text("\n".join(part) + "\n")
            ready_files.append(ready)
            procs.append(Proc(f"fleet{n}", [CLI, "devices", "simulate", "--count", str(len(part)), "--tokens-file", str(tokens_file),
                                            "--url", f"ws://127.0.0.1:{port}/devices/ws", "--message-rate", "0", "--moment-rate", "0",
                                            "--friend-request-rate", "0", "--join-rate", "0", "--min-send-gap", "0",
                                            "--ready-file", str(ready)], env, work))
        deadline = time.time() + 240
        while not all(f.exists() for f in ready_files):
            if time.time() > deadline:
                raise RuntimeError(f"the fleets did not come up; see {work}/fleet*.log")
            time.sleep(0.5)
        fleets = [json.loads(f.read_text()) for f in ready_files]
        r["phones_connected"] = sum(f["connected"] for f in fleets)

        r["readyz"] = [readyz(port) for port in web_ports]
        time.sleep(5)  # a beat of every process after the fleets connected
        r["processes"] = live_processes(services)
        kinds: dict[str, int] = {}
        for p in r["processes"]:
            kinds[p["kind"]] = kinds.get(p["kind"], 0) + 1
        r["process_kinds"] = kinds
        r["leaders"] = sum(1 for p in r["processes"] if p["leader"])
        print(f"up: {kinds}, cron leaders {r['leaders']}, /readyz {r['readyz']}, phones {r['phones_connected']}/{args.phones}",
              flush=True)

        req = work / "base.txt"
        write_requests(req, info["app_key"], info["secret"], 30000, 1, "base", 1)
        wrk(base_port, req, 3, 32)
        r["baseline"] = wrk(base_port, req, args.baseline_seconds, 32)
        base.stop()
        procs.remove(base)
        print(f"baseline {r['baseline']['req_per_s']:.0f} req/s", flush=True)

        # Events through both web processes, and commands to both gateways, at the same time.
        loops = [OpenLoop(port, info["app_key"], info["secret"], f"e2e{n}") for n, port in enumerate(web_ports)]
        sent: list[dict] = [{}, {}]
        commands: dict = {}

        def offer(n: int) -> None:
            sent[n] = loops[n].run(args.rate / 2, args.seconds, batch=max(1, int(args.rate / 40)))

        def command() -> None:
            count = int(args.command_rate * args.seconds)
            commands["ids"] = device_commands.issue_at_rate(services, count, args.command_rate, "topology")

        threads = [threading.Thread(target=offer, args=(n,)) for n in range(2)] + [threading.Thread(target=command)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ids = loops[0].record_ids + loops[1].record_ids
        waited, left = e2e_stats.wait_drained(db, min(ids), max(ids), args.drain_timeout) if ids else (0.0, 0)
        r["e2e"] = e2e_stats.analyse(db, ids) | {"offered_rate": args.rate, "accepted": len(ids),
                                                  "drain_seconds": waited, "incomplete_after_drain": left,
                                                  "request_p99_ms": max(s.get("request_p99_ms", 0) for s in sent)}
        r["commands"] = device_commands.figures(services, commands.get("ids", []))
        r["processes_after"] = live_processes(services)
    finally:
        for p in reversed(procs):
            p.stop()
        cluster.stop()
    r["elapsed_seconds"] = time.time() - t0
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return r


def table(r: dict) -> str:
    base = r["baseline"]["req_per_s"]
    e, c = r["e2e"], r["commands"]
    rate = e.get("e2e_events_per_s") or 0
    return "\n".join([
        f"PostgreSQL, 2 web + 2 worker + 1 scheduler + 2 gateway processes, {r['config']['cores']} cores",
        f"processes alive: {r['process_kinds']}  cron leaders: {r['leaders']}  /readyz: {r['readyz']}",
        f"phones connected: {r['phones_connected']} of {r['config']['phones']} (two gateways)",
        f"baseline Flask 202: {base:.0f} req/s",
        f"e2e @{r['config']['rate']:.0f} events/s offered via 2 web: {rate:.0f} events/s complete = {rate / base:.2f}×, "
        f"immediate step p50 {e.get('step_p50_ms') or 0:.0f} / p99 {e.get('step_p99_ms') or 0:.0f} ms, "
        f"{e.get('matches_per_event', 0):.1f} matches/event, {e['incomplete_after_drain']} incomplete after drain",
        f"commands @{r['config']['command_rate']:.0f}/s via 2 gateways: {c['statuses']}  pickup p50 {c['pickup_p50_ms']} / "
        f"p99 {c['pickup_p99_ms']} ms  ack p50 {c['ack_p50_ms']} / p99 {c['ack_p99_ms']} ms  "
        f"result p50 {c['result_p50_ms']} / p99 {c['result_p99_ms']} ms",
    ])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phones", type=int, default=400, help="split over the two gateways")
    ap.add_argument("--rate", type=float, default=400.0, help="events/s offered, half to each web process")
    ap.add_argument("--command-rate", type=float, default=20.0, help="device commands/s issued from this process")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--baseline-seconds", type=int, default=10)
    ap.add_argument("--drain-timeout", type=float, default=90.0)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install -y wrk")
    r = run(args)
    print()
    print(table(r))
    save_results("topology", r)


if __name__ == "__main__":
    main()

"""Issue 5 §5 benchmark: a burst of leads through POST /api/v1/leads/ingestions with dedup on.

Run: .venv/bin/python bench/leads.py                 (50,000 leads; ~10–20 minutes on 2 cores)
     .venv/bin/python bench/leads.py --leads 2000    (smoke run, ~1 minute)

One WEB_FORM scene (dedup BY_PHONE_OR_EMAIL, one tag rule, round-robin to 5 salespeople) on a
fresh SQLite var dir, served on 127.0.0.1 by `cunkebao serve` (gunicorn) with a `cunkebao
worker` processing the leads while they arrive. Of the leads, a known number repeat an earlier
lead's phone or e-mail (10 %: they must be found as duplicates, exactly) and a known number are
re-deliveries of an earlier external id (2 %: they must not create a lead). Which leads are
duplicates and how many customers they make depends on the order the server got them (concurrent
requests reorder them; see bench/lead_dedupe.py), so every lead is checked against the one-by-one
model replayed in the order the server identified them, and the counts expected if they had come
in the order sent are printed beside. The leads go in three
phases: single-lead requests, batches of 100, batches of 500; a same-run baseline (a bare Flask
app answering 202, same gunicorn options, same client) is the denominator of the ratios.
Results are printed and written to bench/out/leads-<timestamp>.json.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.e2e_stats import connect  # noqa: E402
from bench.lead_dedupe import compare, replay  # noqa: E402
from bench.ingest import CLI, PY, Proc, free_port, fresh_env, init_and_seed, profile, save_results, start_servers  # noqa: E402
from bench.pg_cluster import PostgresCluster  # noqa: E402
from events.signature import sign  # noqa: E402

PATH = "/api/v1/leads/ingestions"
SALES = 5


# -- the leads ------------------------------------------------------------------------------------
def phone(seq: int) -> str:
    # A bijection of seq onto 9 digits (3^18 is coprime with 10^9): distinct, not 13900000001-like junk.
    return "13" + f"{(seq * 387420489 + 123456789) % 10**9:09d}"


def plan_leads(n: int, seed: int, person_share: float, ext_share: float) -> tuple[list[dict], dict]:
    """n lead items and the exact outcome: `person` items repeat an original's phone or e-mail (with
    a fresh other contact), `ext` items are re-deliveries of an earlier item's external id."""
    rng = random.Random(seed)
    n_person, n_ext = round(n * person_share), round(n * ext_share)
    n_orig = n - n_person - n_ext
    head = min(n_orig, max(10, n // 50))  # repeats need something earlier to repeat
    rest = ["orig"] * (n_orig - head) + ["person"] * n_person + ["ext"] * n_ext
    rng.shuffle(rest)
    items: list[dict] = []
    originals: list[int] = []
    for seq, kind in enumerate(["orig"] * head + rest, start=1):
        if kind == "ext":
            items.append(dict(items[rng.randrange(len(items))]))
            continue
        data = {"name": f"客户{seq}", "phone": phone(seq), "email": f"u{seq}@bench.example.com",
                "message": "对产品A感兴趣，想了解价格" if seq % 3 == 0 else "想咨询一下", "region": rng.choice(["广东", "上海", "北京"])}
        if kind == "person":
            original = items[rng.choice(originals)]["submission_data"]
            key = "phone" if seq % 2 else "email"
            data[key] = original[key]
        else:
            originals.append(len(items))
        items.append({"external_lead_id": f"L{seq}", "submission_data": data, "meta": {"ip_address": "10.0.0.1"}})
    contacts = {it["external_lead_id"]: (it["submission_data"]["phone"], it["submission_data"]["email"]) for it in items}
    return items, {"leads_sent": n, "leads_created": n - n_ext, "ext_repeats": n_ext, "person_repeats": n_person,
                   "contacts": contacts,
                   "tagged": sum(1 for i in {it["external_lead_id"]: it for it in items}.values()
                                 if "产品A" in i["submission_data"]["message"])}


# -- seeding (run in a child process pointed at the benchmark's var dir) -----------------------------
def seed() -> dict:
    from config.settings import load_settings
    from crm.people import service as people
    from crm.tags.models import Tag, TagCategory
    from engine.lead_scenes import save_scene
    from engine.runtime import Runtime
    from events.apps import create_app_record

    rt = Runtime.from_settings(load_settings())
    svc = rt.services
    people.ensure_builtin_roles(svc.db)
    users = [people.create_user(svc.db, f"sales{i}", "Bench12345", display_name=f"销售{i}", roles=["sales"]).id
             for i in range(1, SALES + 1)]
    with svc.db.write() as s:
        app, secret = create_app_record(s, svc.secret_box, {"name": "线索压测", "ip_allowlist": ["127.0.0.1/32"]})
        category = TagCategory(name="线索标签")
        s.add(category)
        s.flush()
        tag = Tag(category_id=category.id, name="产品A意向")
        s.add(tag)
        s.flush()
        scene, _ = save_scene(s, {
            "name": "官网表单", "key": "bench_form", "scene_type": "WEB_FORM", "dedup_strategy": "BY_PHONE_OR_EMAIL",
            "rate_limit_per_minute": 100_000,
            "tagging_rules": [{"name": "产品A意向", "rows": [{"field": "message", "op": "contains", "value": "产品A",
                                                          "lparen": 0, "rparen": 0, "join": "and"}], "tags": [tag.id]}],
            "assignment_rules": {"rules": [{"name": "轮询", "rows": [], "method": "round_robin", "user_ids": users}]},
        }, registry=rt.registry, box=svc.secret_box, author="bench")
        info = {"app_key": app.app_key, "secret": secret, "scene_id": scene.id, "tag_id": tag.id, "users": users}
    rt.invalidate()
    return info


# -- the client -------------------------------------------------------------------------------------
class Sender:
    """Posts pre-serialised bodies over keep-alive connections, signing each just before sending."""

    def __init__(self, port: int, path: str, key: str, secret: str, deadline: float):
        self.port, self.path, self.key, self.secret, self.deadline = port, path, key, secret, deadline
        self.lock = threading.Lock()
        self.next = 0
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.answers: list[tuple[int, dict]] = []  # (job index, JSON answer) of 202s
        self.first_ok = self.last_ok = None
        self.errors = 0
        self.ok_status = 202

    def headers_for(self, body: bytes) -> dict:
        ts = int(time.time())
        return {"Content-Type": "application/json", "X-App-Key": self.key, "X-Timestamp": str(ts),
                "X-Signature": sign(self.secret, ts, body)}

    def _worker(self, jobs: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        while time.time() < self.deadline:
            with self.lock:
                index = self.next
                self.next += 1
            if index >= len(jobs):
                break
            body = jobs[index]
            headers = self.headers_for(body)
            start = time.time()
            try:
                conn.request("POST", self.path, body=body, headers=headers)
                resp = conn.getresponse()
                payload, status = resp.read(), resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                with self.lock:
                    self.errors += 1
                continue
            done = time.time()
            with self.lock:
                self.latencies.append(done - start)
                self.statuses[status] = self.statuses.get(status, 0) + 1
                if status == self.ok_status:
                    self.answers.append((index, json.loads(payload)))
                    self.first_ok = self.first_ok or done
                    self.last_ok = done
        conn.close()

    def run(self, jobs: list[bytes], connections: int) -> dict:
        start = time.time()
        threads = [threading.Thread(target=self._worker, args=(jobs,), daemon=True) for _ in range(connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        lat = sorted(self.latencies) or [0.0]
        seconds = (self.last_ok or time.time()) - start
        return {"requests": len(self.latencies), "planned": len(jobs), "seconds": seconds,
                "req_per_s": len(self.latencies) / seconds if seconds > 0 else 0.0, "statuses": self.statuses,
                "errors": self.errors, "p50_ms": 1000 * lat[len(lat) // 2], "p99_ms": 1000 * lat[int(len(lat) * 0.99)],
                "first_ok": self.first_ok, "last_ok": self.last_ok}


def bodies(items: list[dict], batch: int, scene_id: int) -> list[bytes]:
    dumps = lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":")).encode()  # noqa: E731
    if batch == 1:
        return [dumps({"scene_config_id": scene_id, **item}) for item in items]
    return [dumps({"scene_config_id": scene_id, "leads": items[i:i + batch]}) for i in range(0, len(items), batch)]


def stored(sender: Sender, batch: int) -> tuple[int, int, int]:
    """(leads answered stored, of which duplicates, refused) from the 202 answers."""
    ok = dup = refused = 0
    for _, answer in sender.answers:
        rows = [answer] if batch == 1 else answer["results"]
        for row in rows:
            if "lead_id" in row:
                ok += 1
                dup += bool(row["duplicate"])
            else:
                refused += 1
    return ok, dup, refused


# -- reading the outcome back -----------------------------------------------------------------------
def epoch(value) -> float:
    dt = datetime.fromisoformat(str(value))
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).timestamp()


def wait_assigned(db: str, expected: int, deadline: float, stall_seconds: float) -> tuple[int, float]:
    """Polls until `expected` leads are ASSIGNED, nothing moved for `stall_seconds`, or the deadline."""
    conn = connect(db)
    try:
        last, moved = -1, time.time()
        while True:
            n = conn.execute("SELECT COUNT(*) FROM lead WHERE status = 'ASSIGNED'").fetchone()[0]
            if n != last:
                last, moved = n, time.time()
            if n >= expected or time.time() > deadline or time.time() - moved > stall_seconds:
                return n, time.time()
            time.sleep(0.5)
    finally:
        conn.close()


def identification(conn, contacts: dict) -> dict:
    """Every lead checked against the one-by-one model (bench.lead_dedupe) replayed in the order
    the server identified the leads (its 「识别客户」 log lines): the differences, and the counts the
    model gives for that order."""
    rows = {r[0]: r[1:] for r in conn.execute(
        "SELECT id, external_id, duplicate_of_id, customer_id, customer_is_new FROM lead").fetchall()}
    order = [r[0] for r in conn.execute("SELECT lead_id FROM lead_log WHERE stage = 'identified' ORDER BY id").fetchall()]
    expected = replay((i, *contacts[rows[i][0]]) for i in order if i in rows)
    stored = {i: (rows[i][1], rows[i][2], bool(rows[i][3])) for i in expected}
    problems = compare(expected, stored)
    return {"identified": len(order), "model_differences": len(problems), "model_first_differences": problems[:5],
            "model_duplicates": sum(1 for e in expected.values() if e.duplicate_of is not None),
            "model_matches": sum(1 for e in expected.values() if not e.created),
            "model_customers": len({e.customer for e in expected.values()})}


def outcome(db: str, scene_id: int, tag_id: int, contacts: dict) -> dict:
    conn = connect(db)
    try:
        q = lambda sql, *a: conn.execute(sql, a).fetchone()[0]  # noqa: E731
        statuses = dict(conn.execute("SELECT status, COUNT(*) FROM lead GROUP BY status").fetchall())
        spans = [epoch(b) - epoch(a) for a, b in conn.execute(
            "SELECT created_at, assigned_at FROM lead WHERE assigned_at IS NOT NULL").fetchall()]
        per_user = [n for (n,) in conn.execute(
            "SELECT COUNT(*) FROM lead WHERE assignee_user_id IS NOT NULL GROUP BY assignee_user_id ORDER BY 1")]
        spans.sort()
        return {"leads": q("SELECT COUNT(*) FROM lead WHERE scene_id = ?", scene_id), "statuses": statuses,
                "duplicate_of_set": q("SELECT COUNT(*) FROM lead WHERE duplicate_of_id IS NOT NULL"),
                "customer_matches": q("SELECT COUNT(*) FROM lead WHERE customer_id IS NOT NULL AND NOT customer_is_new"),
                "customers": q("SELECT COUNT(*) FROM customer"),
                "tagged": q("SELECT COUNT(DISTINCT lead_id) FROM lead_tag WHERE tag_id = ?", tag_id),
                "last_assigned_at": epoch(q("SELECT MAX(assigned_at) FROM lead")) if statuses.get("ASSIGNED") else None,
                "per_user": per_user, "dead_letters": q("SELECT COUNT(*) FROM lead_dead_letter"),
                "lead_error": q("SELECT COUNT(*) FROM lead WHERE error != ''"),
                "assign_p50_s": spans[len(spans) // 2] if spans else None,
                "assign_p99_s": spans[int(len(spans) * 0.99)] if spans else None,
                **identification(conn, contacts)}
    finally:
        conn.close()


# -- the run ----------------------------------------------------------------------------------------
def start_worker(args, env: dict, work: Path, procs: list) -> None:
    workers = [Proc(f"worker{n}", [CLI, "worker"], env, work) for n in range(args.worker_processes)]
    procs += workers
    if args.profile:  # py-spy raw stacks of the lead pipeline (the first worker), kept in the work dir
        profile(workers[0].p.pid, args.profile, work / "worker.spy")


def run(args) -> dict:
    t0 = time.time()
    deadline = t0 + args.time_limit
    work = Path(tempfile.mkdtemp(prefix="ckb-bench-leads-"))
    env, db = fresh_env(work)
    env.pop("CKB_REDIS_URL", None)  # one machine: the rate-limit counters stay in each process
    items, expected = plan_leads(args.leads, args.seed, args.person_share, args.ext_share)
    contacts = expected.pop("contacts")
    r: dict = {"config": vars(args) | {"cores": os.cpu_count(), "work_dir": str(work)}, "expected": expected}
    procs: list[Proc] = []
    cluster = PostgresCluster(work) if args.postgres else None
    try:
        if cluster is not None:
            db = env["CKB_DATABASE_URL"] = cluster.start()
            print(f"PostgreSQL started on 127.0.0.1:{cluster.port}", flush=True)
        info = init_and_seed([PY, "bench/leads.py", "--seed-only"], env)
        base, _ = start_servers(args, env, work, procs)
        n1 = int(len(items) * args.single_share)
        n100 = n1 + int((len(items) - n1) / 2)
        phases = [("single", 1, items[:n1]), ("batch100", 100, items[n1:n100]), ("batch500", 500, items[n100:])]
        scene_id = info["scene_id"]
        base_jobs = bodies(items[:min(n1, args.baseline_requests)], 1, scene_id)
        r["baseline"] = Sender(args.base_port, "/api/v1/events", info["app_key"], info["secret"], deadline).run(base_jobs, args.connections)
        base.stop()
        procs.remove(base)
        print(f"{'baseline':9s} {r['baseline']['req_per_s']:8.0f} req/s   p50 {r['baseline']['p50_ms']:6.1f} ms  "
              f"p99 {r['baseline']['p99_ms']:6.1f} ms", flush=True)
        if not args.worker_after:
            start_worker(args, env, work, procs)
            time.sleep(3)
        first_ok, answered = None, {"stored": 0, "duplicates": 0, "refused": 0}
        for name, batch, chunk in phases:
            sender = Sender(args.port, PATH, info["app_key"], info["secret"], deadline)
            p = r[name] = sender.run(bodies(chunk, batch, scene_id), args.connections)
            ok, dup, refused = stored(sender, batch)
            p.update(leads=len(chunk), leads_stored=ok, duplicates=dup, refused=refused,
                     leads_per_s=ok / p["seconds"] if p["seconds"] > 0 else 0.0)
            answered = {"stored": answered["stored"] + ok, "duplicates": answered["duplicates"] + dup,
                        "refused": answered["refused"] + refused}
            first_ok = first_ok or p["first_ok"]
            print(f"{name:9s} {p['leads_per_s']:8.0f} leads/s accepted ({p['req_per_s']:.0f} req/s)  p50 {p['p50_ms']:6.1f} ms  "
                  f"p99 {p['p99_ms']:6.1f} ms  statuses {p['statuses']} errors {p['errors']}", flush=True)
        r["answered"] = answered
        if args.worker_after:  # the ingest tier alone above; processing is timed from the worker's start
            start_worker(args, env, work, procs)
            first_ok = time.time()
        assigned, _ = wait_assigned(db, expected["leads_created"], deadline, args.stall_seconds)
        o = r["outcome"] = outcome(db, scene_id, info["tag_id"], contacts)
        last = o["last_assigned_at"]
        r["processed_per_s"] = assigned / (last - first_ok) if last and first_ok and last > first_ok else 0.0
        r["processing_seconds"] = (last - first_ok) if last and first_ok else None
    finally:
        for p in reversed(procs):
            p.stop()
        if cluster is not None:
            cluster.stop()
    r["elapsed_seconds"] = time.time() - t0
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return r


def checks(r: dict) -> list[tuple[str, object, object]]:
    e, o, a = r["expected"], r["outcome"], r["answered"]
    return [("leads stored", o["leads"], e["leads_created"]),
            ("answered duplicate (external id)", a["duplicates"], e["ext_repeats"]),
            ("refused", a["refused"], 0),
            ("leads identified once each", o["identified"], e["leads_created"]),
            ("leads differing from the one-by-one model", o["model_differences"], 0),
            ("duplicates found (lead.duplicate_of_id)", o["duplicate_of_set"], o["model_duplicates"]),
            ("matched existing customer", o["customer_matches"], o["model_matches"]),
            ("customers created", o["customers"], o["model_customers"]),
            ("tagged 产品A意向", o["tagged"], e["tagged"]),
            ("ASSIGNED", o["statuses"].get("ASSIGNED", 0), e["leads_created"])]


def report(r: dict) -> str:
    base = r["baseline"]["req_per_s"] or 1.0
    cfg = r["config"]
    lines = [f"{'PostgreSQL' if cfg.get('postgres') else 'SQLite'}: {cfg['workers']} web processes × {cfg['threads']} threads, "
             f"{cfg.get('worker_processes', 1)} worker process(es), {cfg['cores']} cores",
             f"{'figure':32s} {'throughput':>18s}  {'latency':26s} {'vs baseline':>11s}",
             f"{'baseline Flask 202 (1/req)':32s} {base:13.0f} req/s  p50 {r['baseline']['p50_ms']:.1f} / p99 {r['baseline']['p99_ms']:.1f} ms {'1.00×':>11s}"]
    for name, label in (("single", "accepted, 1 lead/request"), ("batch100", "accepted, 100 leads/request"),
                        ("batch500", "accepted, 500 leads/request")):
        p = r.get(name)
        if p:
            lines.append(f"{label:32s} {p['leads_per_s']:11.0f} leads/s  p50 {p['p50_ms']:.1f} / p99 {p['p99_ms']:.1f} ms "
                         f"{p['leads_per_s'] / base:10.2f}×")
    o = r["outcome"]
    lines.append(f"{'processed to ASSIGNED':32s} {r['processed_per_s']:11.0f} leads/s  first accept → last assigned "
                 f"{r['processing_seconds'] or 0:.1f} s {r['processed_per_s'] / base:7.2f}×")
    lines.append(f"{'created → assigned per lead':32s} {'':18s}  p50 {o['assign_p50_s'] or 0:.1f} / p99 {o['assign_p99_s'] or 0:.1f} s")
    lines.append(f"statuses {o['statuses']}  per salesperson {o['per_user']}  dead letters {o['dead_letters']}")
    for label, got, want in checks(r):
        lines.append(f"  {label:42s} {got!s:>8s} expected {want!s:>8s}  {'OK' if got == want else 'MISMATCH'}")
    e = r["expected"]
    lines.append(f"  (had they arrived in the order sent: {e['person_repeats']} duplicates, {e['person_repeats']} matches, "
                 f"{e['leads_created'] - e['person_repeats']} customers; the model's counts follow the order identified)")
    for problem in o.get("model_first_differences") or []:
        lines.append(f"  model difference: {problem}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--leads", type=int, default=50_000)
    ap.add_argument("--single-share", type=float, default=0.2, help="share sent one lead per request; the rest half in 100s, half in 500s")
    ap.add_argument("--person-share", type=float, default=0.10, help="leads repeating an earlier phone or e-mail")
    ap.add_argument("--ext-share", type=float, default=0.02, help="re-deliveries of an earlier external id")
    ap.add_argument("--baseline-requests", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=2, help="gunicorn processes (one per core)")
    ap.add_argument("--threads", type=int, default=4, help="gthread threads per gunicorn process")
    ap.add_argument("--connections", type=int, default=16, help="client threads, each with a keep-alive connection")
    ap.add_argument("--time-limit", type=float, default=3600, help="seconds for the whole run; phases stop sending at it")
    ap.add_argument("--stall-seconds", type=float, default=120, help="stop waiting when no lead got assigned for this long")
    ap.add_argument("--worker-after", action="store_true",
                    help="start the worker after the last lead is accepted (ingest figures without processing beside them)")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--port", type=int, default=0, help="0: a free port (several benches may run at once)")
    ap.add_argument("--base-port", type=int, default=0, help="0: a free port")
    ap.add_argument("--worker-processes", type=int, default=1, help="`cunkebao worker` processes turning leads into ASSIGNED")
    ap.add_argument("--postgres", action="store_true",
                    help="run on a PostgreSQL server this bench starts on loopback (initdb in the temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary var dir and server logs")
    ap.add_argument("--profile", type=int, default=0, metavar="SECONDS",
                    help="py-spy record the worker for SECONDS from its start (worker.spy, kept with --keep)")
    ap.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.seed_only:
        print("SEEDJSON " + json.dumps(seed()))
        return
    args.port = args.port or free_port()
    args.base_port = args.base_port or free_port()
    r = run(args)
    print()
    print(report(r))
    r["checks"] = [{"check": c, "got": g, "expected": w, "ok": g == w} for c, g, w in checks(r)]
    save_results("leads", r)


if __name__ == "__main__":
    main()

"""智能回复 at 1,000 entries: accuracy, hand-over precision/recall and answer latency (p50/p99)
without an LLM, against a naive substring matcher measured in the same run on the same questions.

Builds a fresh migrated SQLite database under a temp directory, imports the 50-entry base of
tests/data/kb_entries.json plus generated distractor entries up to --entries (per-product price /
stock / usage / shelf-life Q&A for 200 invented products, and a few documents split into passages),
then asks every question of tests/data/kb_questions.json (304 labelled: 224 in scope, 80 to hand
over) --rounds times through community.kb.answer.decide — the same call the 智能回复 step makes,
including the index freshness check against the database.

Baseline: an entry answers when one of its phrasings is a substring of the question or the
question of one of them (longest wins); otherwise hand over.

    .venv/bin/python bench/kb.py                  # 1,000 entries, 3 rounds
    .venv/bin/python bench/kb.py --entries 5000 --rounds 1 --time-limit 120
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.db import Database  # noqa: E402
from config.settings import Settings  # noqa: E402
from community.kb.answer import decide  # noqa: E402
from community.kb.entries import import_rows  # noqa: E402
from community.kb.models import KbEntry  # noqa: E402
from sqlmodel import select  # noqa: E402
from web.migrate import upgrade  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
BRANDS = ["暖阳", "小橡果", "云朵", "青禾", "萌宝", "森林", "星河", "晨露", "蜜桃", "北极"]
ITEMS = ["婴儿润肤乳", "儿童牙膏", "吸管杯", "爬行垫", "安抚奶嘴", "宝宝洗发水", "儿童餐椅", "辅食机", "温奶器", "护臀膏",
         "儿童防晒霜", "婴儿枕", "学步鞋", "磨牙棒", "米粉", "果泥", "睡袋", "背带", "浴盆", "体温计"]
ASPECTS = [("价格", "{p}多少钱", ["{p}什么价", "{p}怎么卖"], "{p} 现价 {n} 元，会员 95 折。"),
           ("库存", "{p}有货吗", ["{p}还有库存吗", "{p}缺货吗"], "{p} 目前有货，下单后 48 小时内发出。"),
           ("使用", "{p}怎么用", ["{p}使用方法", "{p}用法说明"], "{p} 请按说明书使用，首次使用前清洗消毒。"),
           ("保质期", "{p}保质期多久", ["{p}能放多久", "{p}有效期"], "{p} 保质期 {m} 个月，开封后尽快用完。"),
           ("适用年龄", "{p}几个月宝宝能用", ["{p}适合多大宝宝", "{p}适用年龄"], "{p} 适合 {k} 个月以上的宝宝。")]


def generated(count: int, rnd: random.Random) -> list[dict]:
    rows = []
    products = [f"{b}{i}" for b in BRANDS for i in ITEMS]
    for p in products:
        for topic, q, alts, a in ASPECTS:
            if len(rows) >= count:
                return rows
            fill = {"p": p, "n": rnd.randint(19, 399), "m": rnd.choice([12, 18, 24, 36]), "k": rnd.choice([0, 3, 6, 12])}
            rows.append({"key": f"gen-{len(rows)}", "topic": f"商品·{topic}", "question": q.format(**fill),
                         "alternatives": [x.format(**fill) for x in alts], "answer": a.format(**fill),
                         "keywords": [p]})
    return rows


def naive(entries: list[dict], question: str) -> str:
    best, length = "handover", 0
    for e in entries:
        for phrase in [e["question"], *e["alternatives"]]:
            if (phrase in question or question in phrase) and len(phrase) > length:
                best, length = e["key"], len(phrase)
    return best


def score(pairs: list[tuple[str, str]]) -> dict:
    correct = sum(got == want for got, want in pairs)
    tp = sum(got == want == "handover" for got, want in pairs)
    fp = sum(got == "handover" != want for got, want in pairs)
    fn = sum(want == "handover" != got for got, want in pairs)
    return {"accuracy": correct / len(pairs), "precision": tp / max(1, tp + fp), "recall": tp / max(1, tp + fn)}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=300.0)
    args = ap.parse_args()
    base = json.loads((DATA / "kb_entries.json").read_text("utf-8"))["entries"]
    questions = json.loads((DATA / "kb_questions.json").read_text("utf-8"))
    entries = base + generated(max(0, args.entries - len(base)), random.Random(7))
    min_score = Settings().kb_min_score
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        db = Database(url)
        started = time.perf_counter()
        with db.write() as s:
            import_rows(s, entries)
        print(f"entries: {len(entries)} imported in {time.perf_counter() - started:.1f}s; questions: {len(questions)} "
              f"({sum(q['expect'] == 'handover' for q in questions)} to hand over); threshold {min_score}")
        with db.read() as s:
            t0 = time.perf_counter()
            decide(s, "预热", min_score)  # the first call builds the index
            print(f"index build (first answer): {(time.perf_counter() - t0) * 1000:.0f} ms")
            ids = {e.id: e.key for e in s.exec(select(KbEntry))}
            latencies, pairs, deadline = [], [], time.monotonic() + args.time_limit
            for r in range(args.rounds):
                for q in questions:
                    t = time.perf_counter()
                    d = decide(s, q["q"], min_score)
                    latencies.append((time.perf_counter() - t) * 1000)
                    if r == 0:
                        pairs.append(("handover" if d.handed_over else ids[d.match.entry_id], q["expect"]))
                if time.monotonic() > deadline:
                    print(f"time limit reached after {r + 1} rounds")
                    break
        db.dispose()
    base_lat, base_pairs = [], []
    for q in questions:
        t = time.perf_counter()
        got = naive(entries, q["q"])
        base_lat.append((time.perf_counter() - t) * 1000)
        base_pairs.append((got, q["expect"]))
    ours, theirs = score(pairs), score(base_pairs)
    print(f"BM25+jieba+bigrams: accuracy {ours['accuracy']:.1%}, hand-over precision {ours['precision']:.1%}, "
          f"recall {ours['recall']:.1%}; answer p50 {pct(latencies, .5):.2f} ms, p99 {pct(latencies, .99):.2f} ms "
          f"({len(latencies)} answers)")
    print(f"baseline substring:  accuracy {theirs['accuracy']:.1%}, hand-over precision {theirs['precision']:.1%}, "
          f"recall {theirs['recall']:.1%}; p50 {pct(base_lat, .5):.2f} ms, p99 {pct(base_lat, .99):.2f} ms")
    print(f"ratio: accuracy ×{ours['accuracy'] / max(theirs['accuracy'], 1e-9):.2f} of baseline; "
          f"p99 latency ×{pct(latencies, .99) / max(pct(base_lat, .99), 1e-9):.2f} of baseline; goal p99 ≤ 50 ms: "
          f"{'met' if pct(latencies, .99) <= 50 else 'MISSED'}")


if __name__ == "__main__":
    main()

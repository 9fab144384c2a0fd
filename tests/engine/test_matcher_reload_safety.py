"""durable_rules memory safety across reloads of several event types (regression).

durable_rules 2.0.28 frees uninitialised pointers when a state that never ran an action is
deleted; with two event types and one reload that crashed the process. The scenario runs in a
subprocess so a crash fails this test instead of killing the test run.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import random, resource
    from datetime import datetime, timezone
    from engine.matcher import CompiledStrategy, DurableMatcher, PythonMatcher
    from rules.conditions import parse_conditions
    fields = [{"name": "status", "type": "text", "label": "状态"}, {"name": "n", "type": "number", "label": "数"}]
    def node(v, k):
        return parse_conditions([{"lparen": 0, "field": "status", "op": "eq", "value": v, "rparen": 0, "join": "or"},
                                 {"lparen": 0, "field": "n", "op": "gt", "value": k, "rparen": 0, "join": "and"}], fields)
    rng = random.Random(7)
    now = datetime.now(timezone.utc)
    durable, python = DurableMatcher(), PythonMatcher()
    second = DurableMatcher()  # another matcher in the same process (two apps in one test run)
    codes = ["a", "b", "c"]
    rss = None
    for round_ in range(300):
        code = rng.choice(codes)
        strategies = [CompiledStrategy(i, (i,), node(str(rng.randint(0, 3)), rng.randint(0, 9))) for i in range(rng.randint(0, 6))]
        for m in (durable, python, second):
            m.load(code, strategies)
        for _ in range(3):
            c = rng.choice(codes)
            data = {"status": str(rng.randint(0, 3)), "n": rng.randint(0, 9)}
            assert durable.match(c, data, now) == python.match(c, data, now) == second.match(c, data, now)
        if round_ == 50:
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss
    print("growth_kb", growth)
    assert growth < 20_000, growth
""")


def test_reloading_several_event_types_is_memory_safe():
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"exit {run.returncode}\n{run.stdout}\n{run.stderr[-3000:]}"
    assert "growth_kb" in run.stdout

"""导入内置策略: every built-in strategy validates against its built-in event and the registered
processors, lands disabled in 内置策略, and a second import adds nothing and keeps edits."""
from __future__ import annotations

from sqlmodel import select

from engine.builtin_strategies import BUILTIN_STRATEGIES, GROUP, import_builtin_strategies
from rules.models import Strategy, StrategyGroup
from tests.engine.conftest import engine_services, kit, runtime  # noqa: F401 - fixtures


def test_import_is_complete_disabled_and_idempotent(kit):
    db, registry = kit.svc.db, kit.rt.registry
    report = import_builtin_strategies(db, registry, "Asia/Shanghai", "admin")
    assert report["refused"] == [] and report["skipped"] == []
    assert report["created"] == [s["name"] for s in BUILTIN_STRATEGIES]
    with db.write() as s:
        rows = list(s.exec(select(Strategy)))
        assert {r.name for r in rows} == set(report["created"]) and not any(r.enabled for r in rows)
        edited = next(r for r in rows if r.name == "生日祝福短信")
        edited.remark = "改过"
        s.delete(next(r for r in rows if r.name == "大额交易感谢"))
    again = import_builtin_strategies(db, registry, "Asia/Shanghai", "admin")
    assert again["created"] == ["大额交易感谢"] and len(again["skipped"]) == len(BUILTIN_STRATEGIES) - 1
    assert again["events"] == []
    with db.read() as s:
        assert s.exec(select(Strategy.remark).where(Strategy.name == "生日祝福短信")).one() == "改过"
        assert len(s.exec(select(StrategyGroup).where(StrategyGroup.name == GROUP)).all()) == 1


def test_a_strategy_that_no_longer_validates_is_refused_alone(kit, monkeypatch):
    broken = {**BUILTIN_STRATEGIES[0], "name": "坏策略", "steps": [{"processor": "no.such", "config": {},
                                                                    "timing": {"mode": "immediate"}}]}
    monkeypatch.setattr("engine.builtin_strategies.BUILTIN_STRATEGIES", [broken, BUILTIN_STRATEGIES[1]])
    report = import_builtin_strategies(kit.svc.db, kit.rt.registry, "Asia/Shanghai")
    assert report["created"] == [BUILTIN_STRATEGIES[1]["name"]]
    assert [r["item"] for r in report["refused"]] == ["坏策略"] and "no.such" in report["refused"][0]["reason"]

"""Migration 0016: 付款码 / 订单获客 scenes created before it get 线索·生成订单 after 分配 in their
pipeline strategy (a new saved version says why); other scenes are untouched."""
from sqlmodel import select

from alembic import command
from engine.lead_scenes import save_scene
from engine.runtime import Runtime
from rules.models import Strategy, StrategyVersion
from web.migrate import alembic_config


def _steps(db, strategy_id) -> list[str]:
    with db.read() as s:
        return [step["processor"] for step in s.get(Strategy, strategy_id).steps]


def test_old_sale_scenes_get_the_order_step(settings, services, db):
    rt = Runtime(services)
    strategies = {}
    with db.write() as s:
        for key, scene_type in (("pay", "PAYMENT_CODE"), ("shop", "ORDER_SYNC"), ("form", "WEB_FORM")):
            scene, _ = save_scene(s, {"name": key, "key": key, "scene_type": scene_type, "dedup_strategy": "BY_PHONE"},
                                  registry=rt.registry, box=services.secret_box, author="test")
            strategies[key] = scene.strategy_id
        for sid in strategies.values():  # as the scenes were saved before this change
            row = s.get(Strategy, sid)
            row.steps = [step for step in row.steps if step["processor"] != "lead.order"]
            s.add(row)
    rt.stop()
    old = _steps(db, strategies["form"])
    cfg = alembic_config(settings.resolved_database_url())
    command.downgrade(cfg, "0015")
    command.upgrade(cfg, "head")
    expected = ["lead.identify", "lead.tag", "lead.assign", "lead.order", "lead.respond"]
    assert _steps(db, strategies["pay"]) == expected and _steps(db, strategies["shop"]) == expected
    assert _steps(db, strategies["form"]) == old
    with db.read() as s:
        pay = s.get(Strategy, strategies["pay"])
        latest = s.exec(select(StrategyVersion).where(StrategyVersion.strategy_id == pay.id)
                        .order_by(StrategyVersion.version.desc())).first()
    assert pay.version == 2 and latest.version == 2 and "线索·生成订单" in latest.summary
    assert [step["processor"] for step in latest.snapshot["steps"]] == expected
    command.downgrade(cfg, "0015")
    command.upgrade(cfg, "head")  # a second run adds nothing
    assert _steps(db, strategies["pay"]) == expected

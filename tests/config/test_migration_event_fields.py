"""Migration 0012: crm.customer_created's camelCase fields become snake_case in existing
strategies (conditions, processor placeholders, saved versions) and in events not yet dispatched."""
from sqlmodel import select

from engine.authoring import create_strategy
from events.definitions import import_builtin
from events.models import EventDefinition, EventRecord
from handlers.registry import default_registry
from rules.groups import create_group
from rules.models import Strategy, StrategyVersion
from web.migrate import alembic_config

from alembic import command

OLD_FIELDS = ["customerId", "customerName", "mobile", "email", "ownerId", "source", "city", "createdAt", "operatorId"]


def _old_world(db, services):
    """A database as issue 8 left it: the definition, a strategy and an event in the camelCase style."""
    with db.write() as s:
        import_builtin(s)
        definition = s.exec(select(EventDefinition).where(EventDefinition.code == "crm.customer_created")).one()
        definition.fields = [{**f, "name": OLD_FIELDS[i]} for i, f in enumerate(definition.fields)]
        s.add(definition)
        s.flush()
        group = create_group(s, "新客")
        strategy = create_strategy(s, {
            "name": "欢迎新客", "group_id": group.id, "event_id": definition.id,
            "conditions": [{"lparen": 0, "field": "ownerId", "op": "gt", "value": "0", "rparen": 0, "join": "and"}],
            "steps": [{"processor": "sms", "config": {"mobile": "${mobile}",
                                                      "content": "${customerName}您好（客户 ${ customerId }，'customerName' 原样）"}}]},
            default_registry(services), "UTC", "test")
        s.add(EventRecord(source="crm", event_code="crm.customer_created", event_definition_id=definition.id,
                          data={"customerId": 7, "customerName": "张三"}, dispatch_status="pending"))
        return strategy.id


def test_upgrade_renames_and_downgrade_restores(settings, services, db):
    sid = _old_world(db, services)
    cfg = alembic_config(settings.resolved_database_url())
    command.downgrade(cfg, "0011")
    command.upgrade(cfg, "0012")
    with db.read() as s:
        fields = [f["name"] for f in s.exec(select(EventDefinition).where(EventDefinition.code == "crm.customer_created")).one().fields]
        strategy = s.get(Strategy, sid)
        version = s.exec(select(StrategyVersion).where(StrategyVersion.strategy_id == sid)).first()
        record = s.exec(select(EventRecord)).one()
    assert fields[:2] == ["customer_id", "customer_name"] and "created_at" in fields and "operator_id" in fields
    assert strategy.conditions[0]["field"] == "owner_id"
    assert strategy.steps[0]["config"]["content"] == "${customer_name}您好（客户 ${ customer_id }，'customerName' 原样）"
    assert version.snapshot["steps"][0]["config"]["content"].startswith("${customer_name}")
    assert version.snapshot["conditions"][0]["field"] == "owner_id"
    assert record.data == {"customerId": 7, "customerName": "张三", "customer_id": 7, "customer_name": "张三"}
    command.downgrade(cfg, "0011")
    with db.read() as s:
        assert s.get(Strategy, sid).conditions[0]["field"] == "ownerId"
    command.upgrade(cfg, "head")

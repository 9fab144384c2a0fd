"""规则列表 on the tag rule page: add rule 2 in the same editor, see both listed, delete it; a
second SQL rule is refused next to its field."""
from __future__ import annotations

from crm.tags import multirule
from crm.tags.models import Tag, TagCategory
from tests.web.conftest import get_csrf_token


def test_add_list_and_delete_rule_two(client, admin_user, login, app_db):
    with app_db.write() as s:
        cat = TagCategory(name="地区")
        s.add(cat)
        s.flush()
        t = Tag(category_id=cat.id, name="一线城市", kind="auto",
                rule={"mode": "conditions", "rows": [{"field": "city", "op": "eq", "value": "上海"}]})
        s.add(t)
        s.flush()
        tid = t.id
    login(client)
    page = client.get(f"/tags/{tid}/rule").get_data(as_text=True)
    assert "规则列表" in page and f"/tags/{tid}/rules/0" in page
    assert client.get(f"/tags/{tid}/rules/0").status_code == 200 and client.get(f"/tags/{tid}/rules/5").status_code == 404
    token = get_csrf_token(client, f"/tags/{tid}/rule")
    headers = {"X-CSRFToken": token}
    bad = client.post(f"/tags/{tid}/rules/0", json={"rule": {"mode": "sql", "sql": "SELECT id FROM customer"}},
                      headers=headers)
    assert bad.status_code == 422 and "规则 2 起只能选择" in bad.get_data(as_text=True)
    ok = client.post(f"/tags/{tid}/rules/0", headers=headers, json={"rule": {
        "name": "北京", "mode": "conditions", "rows": [{"field": "city", "op": "eq", "value": "北京"}]}})
    assert ok.status_code == 200 and ok.get_json()["redirect"].endswith(f"/tags/{tid}/rule")
    assert "规则 2：北京" in client.get(f"/tags/{tid}/rule").get_data(as_text=True)
    with app_db.read() as s:
        assert [r["name"] for r in multirule.alternatives(s.get(Tag, tid))] == ["北京"]
    assert client.post(f"/tags/{tid}/rules/0/delete", data={"csrf_token": token}).status_code == 302
    with app_db.read() as s:
        assert multirule.alternatives(s.get(Tag, tid)) == []

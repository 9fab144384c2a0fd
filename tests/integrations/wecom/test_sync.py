"""The acceptance corp (3 departments, 20 employees, 500 external contacts, 30 groups) synced
exactly, and a second sync after changes on WeCom's side diffs correctly."""
from __future__ import annotations

from sqlmodel import func, select

from crm.customers.models import Customer
from crm.people import service as people
from crm.people.models import Department, UserDepartment
from crm.tags.models import CustomerTag, Tag
from integrations.wecom.models import WecomContact, WecomDepartment, WecomGroupChat, WecomMember, WecomTagMap
from integrations.wecom.sync import run_sync, sync_all


def _count(session, model, *where):
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


def test_acceptance_corp_syncs_exactly_and_diffs(wecom_services, fake_corp, corp_pk):
    svc = wecom_services
    fake_corp.populate(departments=3, employees=20, contacts=500, groups=30)
    people.ensure_builtin_roles(svc.db)
    sales = people.create_user(svc.db, "u01", "Passw0rd123", display_name="员工01")  # matched by UserID
    named = people.create_user(svc.db, "zhang", "Passw0rd123", display_name="员工02")  # matched by unique name

    summary = sync_all(svc, corp_pk)
    assert summary["org"] == {"departments": 3, "members": 20, "matched": 2, "unmatched": 18}
    assert summary["contacts"]["contacts"] == 500 and summary["contacts"]["customers_created"] == 500
    assert summary["groups"] == {"groups": 30, "new": 30, "dismissed": 0}
    with svc.db.read() as s:
        assert _count(s, WecomDepartment) == 3
        depts = {d.name: d for d in s.exec(select(Department))}
        assert {"总部", "销售1部", "销售2部"} <= set(depts)
        assert depts["销售1部"].parent_id == depts["总部"].id
        assert _count(s, WecomMember) == 20
        by_user = {m.userid: m for m in s.exec(select(WecomMember))}
        assert (by_user["u01"].user_id, by_user["u01"].matched_by) == (sales.id, "username")
        assert (by_user["u02"].user_id, by_user["u02"].matched_by) == (named.id, "name")
        assert s.get(UserDepartment, (sales.id, depts["总部"].id)) is not None
        assert all(not m.user_id or not m.userid.startswith("admin") for m in by_user.values())
        contacts = {c.external_userid: c for c in s.exec(select(WecomContact))}
        assert len(contacts) == 500 and all(c.customer_id for c in contacts.values())
        assert len({c.customer_id for c in contacts.values()}) == 500
        assert len(contacts["wm000001"].follow_users) == 2 and len(contacts["wm000002"].follow_users) == 1
        first = s.get(Customer, contacts["wm000001"].customer_id)
        assert (first.name, first.source, first.owner_id) == ("客户001", "企业微信", sales.id)
        assert _count(s, WecomTagMap) == 4
        vip = s.exec(select(Tag).where(Tag.name == "重要客户")).one()
        assert _count(s, CustomerTag, CustomerTag.tag_id == vip.id) == 100
        assert _count(s, WecomGroupChat) == 30
        chat = s.exec(select(WecomGroupChat).where(WecomGroupChat.chat_id == "wr0001")).one()
        assert chat.member_count == 9 and chat.owner_userid == "u01"
    assert fake_corp.requests_to("/cgi-bin/externalcontact/batch/get_by_user")
    assert all(len(r.json()["userid_list"]) <= 100 and r.json()["limit"] <= 100
               for r in fake_corp.requests_to("/cgi-bin/externalcontact/batch/get_by_user"))

    # Changes on WeCom's side: a contact renamed, one gone, one new; a chat dismissed; a tag added.
    fake_corp.contacts["wm000003"]["external_contact"]["name"] = "改名客户"
    del fake_corp.contacts["wm000004"]
    fake_corp.add_contact("wm999999", "新来的", "u05", unionid="oU000007")  # same person as wm000007
    del fake_corp.chats["wr0002"]
    fake_corp.expire_tokens()  # the next calls must refresh the token (42001) transparently
    again = sync_all(svc, corp_pk)
    assert again["contacts"] == {"contacts": 500, "new": 1, "changed": 1, "removed": 1, "customers_created": 0}
    assert again["groups"] == {"groups": 29, "new": 0, "dismissed": 1}
    with svc.db.read() as s:
        c = {c.external_userid: c for c in s.exec(select(WecomContact))}
        assert c["wm000004"].deleted_at is not None
        assert (c["wm999999"].customer_id, c["wm999999"].linked_by) == (c["wm000007"].customer_id, "unionid")
        assert s.get(Customer, c["wm000003"].customer_id).name == "客户003"  # our record is not renamed behind our back
        assert c["wm000003"].name == "改名客户"


def test_our_tags_are_created_in_wecom(wecom_services, fake_corp, corp_pk):
    fake_corp.add_tag_group("客户等级", ["重要客户"])
    run_sync(wecom_services, corp_pk, "tags")
    with wecom_services.db.write() as s:
        category_id = s.exec(select(Tag).where(Tag.name == "重要客户")).one().category_id
        s.add(Tag(category_id=category_id, name="高意向", kind="manual"))
    summary = run_sync(wecom_services, corp_pk, "tags")
    assert summary["pushed"] == 1
    assert "高意向" in {t["name"] for g in fake_corp.tag_groups for t in g["tag"]}
    with wecom_services.db.read() as s:
        row = s.exec(select(WecomTagMap).where(WecomTagMap.name == "高意向")).one()
        assert row.tag_id is not None and row.group_name == "客户等级"

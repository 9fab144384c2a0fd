"""智能回复 as a strategy step on device.message: a confident answer goes out through the one send
path and is logged; an out-of-scope question flags the conversation 待人工 and notifies its owner;
in a group only @-mentions and questions are answered; an LLM (a fake provider on 127.0.0.1)
phrases the answer, and a slow one falls back to the retrieved text."""
from __future__ import annotations

import pytest
from sqlmodel import select

from community.kb.models import KbAnswerLog
from community.kb.review import mark, pending, resolution_rate, take_over
from config.secrets_box import SecretBox
from conversations.models import ChatMessage, Conversation
from crm.people import service as people
from crm.people.models import Notification
from devices.models import WechatAccount
from tests.community.kb_world import load_base, store_message
from tests.engine.conftest import engine_services, kit, runtime  # noqa: F401 - the engine these tests drive
from tests.engine.test_workbench_kit import Bench
from tests.support import with_settings
from tests.support.fake_llm import FakeLlm


@pytest.fixture
def bench(kit):  # noqa: F811
    return Bench(kit)


@pytest.fixture
def world(bench, kit):  # noqa: F811
    owner = people.create_user(bench.svc.db, "owner01", "Owner12345", display_name="客服小王").id
    a = bench.account("wx_robot", "贝贝乐客服")
    with bench.svc.db.write() as s:
        s.get(WechatAccount, a).owner_user_id = owner
    bench.friend(a, "wx_c1")
    bench.group(a, "mama@chatroom", "宝妈群")
    ids = load_base(bench.svc.db, bench.svc.now())
    kit.strategy("device.message", [], [{"processor": "kb.reply", "config": {"scope": "both", "use_llm": True,
                                                                             "handover_text": "已为您转人工～"},
                                         "timing": {"mode": "immediate"}}], name="智能回复")
    return {"a": a, "owner": owner, "ids": ids}


def say(bench, a, sender, text, room="", msg_id="", at_wxids=None):
    bench._n += 1
    msg_id = msg_id or f"m{bench._n}"
    data = {"from_wxid": sender, "nickname": sender, "text": text, "msg_type": "text", "msg_id": msg_id}
    if room:
        data["chatroom_id"] = room
    if at_wxids:
        data["at_wxids"] = at_wxids
    store_message(bench.svc.db, a, data, bench.svc.now(), msg_id)
    bench.report("device.message", {"account_id": a, "account_wxid": "wx_robot", "from_wxid": sender, "nickname": sender,
                                    "chatroom_id": room, "is_group": bool(room), "text": text, "msg_type": "text",
                                    "msg_id": msg_id})
    bench.rt.tick()


def logs(bench) -> list[KbAnswerLog]:
    with bench.svc.db.read() as s:
        return list(s.exec(select(KbAnswerLog).order_by(KbAnswerLog.id)))


def test_a_private_question_is_answered_and_logged(bench, world):
    say(bench, world["a"], "wx_c1", "满多少钱包邮啊")
    sends = bench.commands("send_text")
    assert len(sends) == 1 and sends[0].payload["to"] == "wx_c1"
    assert "满 99 元包邮" in sends[0].payload["text"]
    [log] = logs(bench)
    assert log.entry_id == world["ids"]["ship_fee"] and not log.handed_over and log.score >= 0.2
    with bench.svc.db.read() as s:
        out = s.exec(select(ChatMessage).where(ChatMessage.direction == "out")).one()
    assert out.id == log.message_id and out.command_id == sends[0].id


def test_an_out_of_scope_question_goes_to_the_owner_as_pending(bench, world):
    say(bench, world["a"], "wx_c1", "帮我订一张去北京的机票")
    [log] = logs(bench)
    assert log.handed_over and log.score < 0.2
    with bench.svc.db.read() as s:
        conv = s.exec(select(Conversation).where(Conversation.peer_id == "wx_c1")).one()
        notes = s.exec(select(Notification).where(Notification.user_id == world["owner"])).all()
        assert conv.needs_human and "智能回复转人工" in conv.needs_human_reason
        assert [c.id for c in pending(s, world["owner"], view_all=False)] == [conv.id]
        assert pending(s, world["owner"] + 999, view_all=False) == []  # someone else's: not in their list
    assert len(notes) == 1 and "机票" in notes[0].body and notes[0].link == "/kb/pending"
    assert [c.payload["text"] for c in bench.commands("send_text")] == ["已为您转人工～"]
    with bench.svc.db.write() as s:
        take_over(s, conv.id, world["owner"], False, bench.svc.now())
    with bench.svc.db.read() as s:
        assert not s.get(Conversation, conv.id).needs_human


def test_in_a_group_only_questions_and_mentions_are_answered(bench, world):
    a = world["a"]
    say(bench, a, "wx_m1", "今天带宝宝去公园了", room="mama@chatroom")
    assert bench.commands("send_text") == []
    say(bench, a, "wx_m1", "奶粉开罐后能放多久？", room="mama@chatroom")
    say(bench, a, "wx_m2", "@贝贝乐客服 纸尿裤尺码对照", room="mama@chatroom")
    say(bench, a, "wx_m3", "纸尿裤漏尿", room="mama@chatroom", at_wxids=["wx_robot"])
    sends = bench.commands("send_text")
    assert [c.payload["to"] for c in sends] == ["mama@chatroom"] * 3
    assert [c.payload.get("mentions") or c.payload.get("at_wxids") for c in sends] == [["wx_m1"], ["wx_m2"], ["wx_m3"]]
    assert "4 周内吃完" in sends[0].payload["text"] and "按体重选" in sends[1].payload["text"]


def test_resolution_rate_counts_marked_answers(bench, world):
    for text in ("积分会过期吗", "怎么查物流", "门店几点开门", "周杰伦的新歌好听吗"):
        say(bench, world["a"], "wx_c1", text)
    rows = logs(bench)
    with bench.svc.db.write() as s:
        for row, verdict in zip(rows, ("resolved", "resolved", "unresolved", "unresolved")):
            mark(s, row.id, verdict, world["owner"], bench.svc.now())
    with bench.svc.db.read() as s:
        rate = resolution_rate(s)
    assert (rate["rated"], rate["resolved"], rate["rate"], rate["handed_over"]) == (4, 2, 50.0, 1)
    assert rate["meets_target"] is False


@pytest.fixture
def llm():
    server = FakeLlm().start()
    yield server
    server.stop()


def _with_llm(bench, llm, **extra):
    sealed = SecretBox(bench.svc.settings.resolved_secret_key()).seal("sk-test-123")
    svc = with_settings(bench.svc, kb_llm_url=llm.url, kb_llm_key=sealed, kb_llm_model="fake-1", **extra)
    bench.rt.services = svc
    bench.svc = svc


def test_an_llm_phrases_the_answer_from_the_retrieved_passage(bench, world, llm):
    _with_llm(bench, llm)
    llm.reply = "亲～{context} 有问题随时找我哦"
    say(bench, world["a"], "wx_c1", "退款多久到账")
    [req] = llm.requests
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer sk-test-123"
    assert req["body"]["model"] == "fake-1" and "退款多久到账" in req["body"]["messages"][-1]["content"]
    [send] = bench.commands("send_text")
    assert send.payload["text"].startswith("亲～仓库签收退货后") and send.payload["text"].endswith("随时找我哦")
    assert logs(bench)[0].phrased_by_llm


def test_a_slow_or_failing_llm_falls_back_to_the_retrieved_answer(bench, world, llm):
    _with_llm(bench, llm, kb_llm_timeout_seconds=0.3)
    llm.delay = 1.0
    say(bench, world["a"], "wx_c1", "退款多久到账")
    llm.delay, llm.status = 0.0, 500
    say(bench, world["a"], "wx_c1", "运费多少")
    texts = [c.payload["text"] for c in bench.commands("send_text")]
    assert texts[0].startswith("仓库签收退货后") and texts[1].startswith("全场满 99 元包邮")
    assert [row.phrased_by_llm for row in logs(bench)] == [False, False]


def test_the_step_is_registered_with_a_validated_config(kit):  # noqa: F811
    processor = kit.rt.registry.get("kb.reply")
    assert processor.name == "智能回复"
    assert processor.validate_config({"scope": "both", "min_score": "0.3"}) == []
    errors = processor.validate_config({"scope": "everywhere", "min_score": "2"})
    assert any("回答范围" in e for e in errors) and any("匹配度阈值" in e for e in errors)

"""The shipped book's exchanges (scripts_kb/): its questions back and the branches each reply takes,
in its own words. Marked `book`: a trainer who edits these answers edits these tests; the engine
behind them is tested on the fixture book in test_branches.py.
"""
import pytest

from voicebot.dialog import Escalate, Hangup, Heard, Policy, Record, Say, Started

from helpers import records, said, turn

pytestmark = pytest.mark.book


@pytest.fixture
def book(shipped_book):
    return shipped_book


@pytest.fixture
def matcher(shipped_matcher):
    return shipped_matcher


@pytest.fixture
def policy(shipped_book, shipped_matcher):
    """A fresh call's policy on the shipped book, greeting already said."""
    p = Policy(shipped_book, shipped_matcher)
    p.handle(Started(0.0))
    return p


def test_owner_yes(policy, book):
    ask = said(turn(policy, "机主是什么意思啊"))
    assert ask == ["方便问一下，您现在的卡是用自己身份证办理的吗？"]
    reply = turn(policy, "对，是我自己的身份证")
    assert said(reply)[0] == f"那您就是这个{book.settings['号码']}号的机主了。"
    assert not policy.ended


def test_owner_no_guides_to_hang_up(policy):
    turn(policy, "机主是什么意思啊")
    reply = turn(policy, "不是，是我老婆的身份证办的")
    assert said(reply)[0].startswith("那我们为了机主的利益就先不为您开通了")
    assert reply[-1] == Hangup("guided_hangup")


def test_cancel_confirm_callback_and_own_number(policy, book):
    first = said(turn(policy, "你赶紧把这个业务给我取消了"))
    assert first == [f"好的，帮您记录，是取消{book.settings['号码']}号码的{book.settings['业务']}业务吗？"]
    confirm = turn(policy, "是的")
    assert records(confirm) == [("cancel", "你赶紧把这个业务给我取消了 / 是的")]
    assert said(confirm) == ["取消之后还给您回电话吗？"]
    assert [r.fields for r in confirm if isinstance(r, Record)] == [
        {"business": book.settings["业务"], "number": book.settings["号码"]}]
    callback = turn(policy, "好的，可以")
    assert records(callback) == [] and said(callback) == ["请问是本机吗？"]   # filed once the number is known
    own = turn(policy, "对，就是本机")
    assert own[-1] == Hangup("guided_hangup")
    assert [r.fields for r in own if isinstance(r, Record) and r.kind == "callback"] == [
        {"own_number": True, "number": book.settings["号码"]}]


def test_cancel_callback_on_another_number_said_digit_by_digit(policy):
    turn(policy, "你赶紧把这个业务给我取消了")
    turn(policy, "是的")
    turn(policy, "要回的")
    other = turn(policy, "不是，打我另一个号，幺三九幺二三四五六七八")
    assert [r.fields["number"] for r in other if isinstance(r, Record) and r.kind == "callback"] == ["13912345678"]


def test_cancel_no_callback(policy):
    turn(policy, "你赶紧把这个业务给我取消了")
    turn(policy, "是的")
    reply = turn(policy, "不用了，不用回电话")
    assert reply[-1] == Hangup("guided_hangup") and not [r for r in records(reply) if r[0] == "callback"]


def test_complaint_about_agent_calmed(policy, book):
    first = said(turn(policy, "你工号多少，我要投诉你"))
    assert book.settings["工号"] in first[0] and "歉意" in first[0]
    calmed = turn(policy, "好吧")
    assert not any(isinstance(a, Escalate) for a in calmed) and not policy.ended


def test_complaint_about_agent_not_calmed_escalates_silently(policy):
    turn(policy, "你工号多少，我要投诉你")
    reply = turn(policy, "不行，我就是要投诉你")
    assert said(reply) == ["那我帮您进行记录反馈，到时由我们的上级部门给您回复，好吧。"]
    assert ("complaint", "你工号多少，我要投诉你 / 不行，我就是要投诉你") in records(reply)
    assert [r.fields for r in reply if isinstance(r, Record) and r.kind == "complaint"] == [{"about": "agent"}]
    assert any(isinstance(a, Escalate) for a in reply) and reply[-1] == Hangup("escalated")
    assert not any("10086" in line and "投诉" in line for line in said(reply))   # never sent to 10086


def test_called_before_yes_and_no(book, matcher):
    for reply_text, start in (("是的开通了", "感谢您的支持"), ("没有，我不需要", "没有关系")):
        p = Policy(book, matcher)
        p.handle(Started(0))
        ask = said(turn(p, "你们不是给我打过电话了吗"))
        assert ask[-1] == f"您看您已经开通{book.settings['业务']}业务了是吗？"
        reply = turn(p, reply_text)
        assert said(reply)[0].startswith(start) and reply[-1] == Hangup("answered")


def test_who_allowed_refuses_then_no_more_contact_is_sensitive(policy):
    first = said(turn(policy, "谁让你们给我打电话的"))
    assert first[0] == "非常抱歉，打扰到您了。" and first[-1].endswith("吗？")
    reply = said(turn(policy, "不接受"))
    assert reply == ["如果您不接受这种方式，请问您希望以后用哪种方式联系您呢？"]
    final = turn(policy, "哪种方式都不要，别再找我了")
    assert [k for k, _ in records(final)] == ["sensitive", "offer"] and final[-1] == Hangup("guided_hangup")


def test_who_allowed_refuses_then_names_a_channel(policy):
    turn(policy, "谁让你们给我打电话的")
    turn(policy, "不接受")
    final = turn(policy, "以后有事给我发短信吧")
    prefs = [r for r in final if isinstance(r, Record) and r.kind == "contact_preference"]
    assert [r.fields["channel"] for r in prefs] == ["短信"] and final[-1] == Hangup("guided_hangup")


def test_315_telemarketing_same_exchange(policy):
    turn(policy, "三一五都曝光电话营销诈骗了你们怎么还在外呼")
    assert said(turn(policy, "不接受")) == ["如果您不接受这种方式，请问您希望以后用哪种方式联系您呢？"]


def test_no_rebate_never_opens_anything(policy):
    ask = said(turn(policy, "以前开通了为什么没有收到返还的话费"))
    assert ask == ["请问您当时是接到我们的电话邀请开通的，还是您自己办理的呢？"]   # 思路: invited or not
    assert said(turn(policy, "是你们打电话邀请我开的")) == ["请问您确定已经开通了吗？"]
    reply = turn(policy, "是开通了")
    assert "10086" in said(reply)[0] and reply[-1] == Hangup("guided_hangup")
    assert not any(isinstance(a, Say) and a.reason == "offer_accepted" for a in reply)


def test_earlier_problem_is_asked_and_recorded_without_promise(policy):
    assert said(turn(policy, "你们之前的问题还没处理完呢"))[-1] == "您之前向我们反映过问题是吗？"
    details = said(turn(policy, "是的"))
    assert "什么时间" in details[-1] and "什么问题" in details[-1]
    final = turn(policy, "上个月反映的信号问题一直没人回我")
    assert said(final) == ["我会帮您反馈相关部门，催促给您抓紧处理，您看好吧。"]
    assert records(final) == [("earlier_problem", "你们之前的问题还没处理完呢 / 是的 / 上个月反映的信号问题一直没人回我")]
    fields = [r.fields for r in final if isinstance(r, Record)][0]
    assert fields["when"] == "上个月" and fields["replied"] == "no" and "信号" in fields["what"]


def test_abroad_agrees_to_later_call(policy):
    first = said(turn(policy, "我在国外接听你们的电话收费吗"))
    assert "收费" in first[0]
    reply = turn(policy, "好的")
    assert said(reply) == ["祝您愉快，再见。"] and reply[-1] == Hangup("answered")


def test_harassment_offer_to_record_do_not_call(policy):
    turn(policy, "你凭什么打电话骚扰我，推荐你们的业务")
    reply = turn(policy, "好，你记下来吧")
    assert [k for k, _ in records(reply)] == ["do_not_call", "offer"]


def test_reply_that_is_a_new_question_is_answered_as_such(policy):
    turn(policy, "机主是什么意思啊")
    reply = turn(policy, "等一下，你先告诉我现在咱们的通话有录音吗")
    assert reply[0].entry == "q24_recording"


def test_second_visit_four_steps(book, matcher):
    p = Policy(book, matcher)
    sv = book.protocol("second_visit")
    opening = said(p.handle(Started(0.0, second_visit=True)))
    assert opening == [book.fill(sv["identity"]), book.fill(sv["apology_confirm"])]
    purpose = said(turn(p, "对，是我"))
    assert purpose == [book.fill(sv["purpose"])]
    closing = turn(p, "好的可以")
    assert said(closing) == [book.fill(sv["closing"])] and closing[-1] == Hangup("second_visit_done")


def test_bare_assent_answers_an_open_question(policy):
    turn(policy, "机主是什么意思啊")
    assert said(turn(policy, "嗯"))[0].startswith("那您就是这个")


def test_offer_verdicts(book, matcher):
    yes = Policy(book, matcher)
    yes.handle(Started(0))
    assert [a.reason for a in turn(yes, "好的可以") if isinstance(a, Say)][0] == "offer_pitch"   # willing to hear
    assert [a.reason for a in turn(yes, "行，给我开一个吧") if isinstance(a, Say)] == ["offer_confirm"]
    assert turn(yes, "确认")[-1] == Hangup("offer_accepted")
    no = Policy(book, matcher)
    no.handle(Started(0))
    reply = turn(no, "不需要")
    assert said(reply)[0].startswith("没有关系") and reply[-1] == Hangup("offer_declined")


def test_ten_turn_call_says_address_form_at_most_three_times(policy, book):
    title = book.settings["称呼"]
    lines = []
    for q in ["你们太垄断了吧", "你公司在哪你叫什么名字", "你们负责人叫什么", "来电显示为什么是零一零一零零八六",
              "你凭什么打电话骚扰我推荐业务", "你们太垄断了吧", "你们负责人叫什么", "你们移动有什么权利查我资料",
              "来电显示为什么是零一零一零零八六", "你公司在哪你叫什么名字"]:
        lines += said(turn(policy, q))
    raw = sum(book.get(e).answer[0].count("{称呼}") for e in ["q03_monopoly", "q10_office_name", "o_manager_name"])
    assert raw > 0
    assert sum(line.count(title) for line in lines) == 3


def test_unsure_short_yes_to_an_open_question_is_taken(policy):
    turn(policy, "你赶紧把这个业务给我取消了")
    reply = policy.handle(Heard(10.0, "是等", confidence=0.45))
    assert said(reply) == ["取消之后还给您回电话吗？"]
    unsure_question = policy.handle(Heard(12.0, "那个什么东西", confidence=0.45))
    assert said(unsure_question) == ["很抱歉，我刚才没有听清楚，请您重复一遍，好吗？"]

"""The book's exchanges (issue 7): the bot asks back, and the customer's reply picks the branch.

Runs on the fixture book (tests/data/book); the shipped book's own exchanges are in
test_book_exchanges.py (marked `book`).
"""
from voicebot.dialog import Escalate, Hangup, Heard, Policy, Record, Say, Started

from helpers import records, said, turn


def fields(actions, kind):
    return [r.fields for r in actions if isinstance(r, Record) and r.kind == kind]


def test_owner_yes(policy, fixture_book):
    ask = said(turn(policy, "机主是什么意思啊"))
    assert ask == [fixture_book.get("owner").ask]
    reply = turn(policy, "对，是我自己的身份证")
    assert said(reply)[0] == f"那{fixture_book.settings['号码']}就是您本人的号码。"
    assert not policy.ended


def test_owner_no_guides_to_hang_up(policy):
    turn(policy, "机主是什么意思啊")
    reply = turn(policy, "不是，是我老婆的身份证办的")
    assert said(reply)[0] == "那这次就不给您开通了，本人来办才行。"
    assert reply.branch == ("owner", "phrases")          # 老婆 is one of the branch's phrases
    assert reply[-1] == Hangup("guided_hangup")


def test_cancel_confirm_callback_and_own_number(policy, fixture_book):
    settings = fixture_book.settings
    first = said(turn(policy, "你赶紧把这个业务给我取消了"))
    assert first == [f"好的，是要取消{settings['号码']}上的{settings['业务']}吗？"]
    confirm = turn(policy, "是的")
    assert records(confirm) == [("cancel", "你赶紧把这个业务给我取消了 / 是的")]
    assert said(confirm) == ["取消后需要回电吗？"]
    assert fields(confirm, "cancel") == [{"business": settings["业务"], "number": settings["号码"]}]
    callback = turn(policy, "好的，可以")
    assert records(callback) == [] and said(callback) == ["回电打本机吗？"]   # filed once the number is known
    own = turn(policy, "对，就是本机")
    assert own[-1] == Hangup("guided_hangup")
    assert fields(own, "callback") == [{"own_number": True, "number": settings["号码"]}]


def test_cancel_callback_on_another_number_said_digit_by_digit(policy):
    turn(policy, "你赶紧把这个业务给我取消了")
    turn(policy, "是的")
    turn(policy, "要回的")
    other = turn(policy, "不是，打我另一个号，幺三九幺二三四五六七八")
    assert [f["number"] for f in fields(other, "callback")] == ["13912345678"]


def test_cancel_no_callback(policy):
    turn(policy, "你赶紧把这个业务给我取消了")
    turn(policy, "是的")
    reply = turn(policy, "不用了，不用回电话")
    assert reply[-1] == Hangup("guided_hangup") and not fields(reply, "callback")


def test_complaint_about_agent_calmed(policy, fixture_book):
    first = said(turn(policy, "你工号多少，我要投诉你"))
    assert first == [fixture_book.fill(fixture_book.get("complain_agent").answer[0]), "请您原谅好吗？"]
    assert fixture_book.settings["工号"] in first[0]
    calmed = turn(policy, "好吧")
    assert calmed.branch == ("complain_agent", "calm")
    assert not any(isinstance(a, Escalate) for a in calmed) and not policy.ended


def test_complaint_about_agent_not_calmed_escalates_silently(policy):
    turn(policy, "你工号多少，我要投诉你")
    reply = turn(policy, "不行，我就是要投诉你")
    assert said(reply) == ["我把您的意见记下来，由上级部门回复您。"]
    assert ("complaint", "你工号多少，我要投诉你 / 不行，我就是要投诉你") in records(reply)
    assert fields(reply, "complaint") == [{"about": "agent"}]
    assert any(isinstance(a, Escalate) for a in reply) and reply[-1] == Hangup("escalated")


def test_who_allowed_refuses_then_no_more_contact_is_sensitive(policy):
    first = said(turn(policy, "谁让你们给我打电话的"))
    assert first == ["打扰您了，很抱歉。", "您愿意接听我们这样的电话吗？"]
    assert said(turn(policy, "不接受")) == ["那以后用什么方式联系您比较好？"]
    final = turn(policy, "哪种方式都不要，别再找我了")
    assert [k for k, _ in records(final)] == ["sensitive", "offer"] and final[-1] == Hangup("guided_hangup")


def test_who_allowed_refuses_then_names_a_channel(policy):
    turn(policy, "谁让你们给我打电话的")
    turn(policy, "不接受")
    final = turn(policy, "以后有事给我发短信吧")
    assert [f["channel"] for f in fields(final, "contact_preference")] == ["短信"]
    assert final[-1] == Hangup("guided_hangup")


def test_earlier_problem_is_asked_and_recorded_without_promise(policy):
    assert said(turn(policy, "你们之前的问题还没处理完呢")) == ["您以前跟我们反映过问题是吗？"]
    assert said(turn(policy, "是的")) == ["是什么时间、什么问题？有人回复过您吗？"]
    final = turn(policy, "上个月反映的信号问题一直没人回我")
    assert said(final) == ["我帮您催一下相关部门。"]
    assert records(final) == [("earlier_problem", "你们之前的问题还没处理完呢 / 是的 / 上个月反映的信号问题一直没人回我")]
    [found] = fields(final, "earlier_problem")
    assert found["when"] == "上个月" and found["replied"] == "no" and "信号" in found["what"]


def test_abroad_agrees_to_later_call(policy):
    assert said(turn(policy, "我在国外接听你们的电话收费吗"))[0] == "您在国外接听是收费的，长话短说。"
    reply = turn(policy, "好的")
    assert said(reply) == ["好的，旅途愉快，再见。"] and reply[-1] == Hangup("answered")


def test_abroad_names_a_return_date_and_a_callback_is_filed(policy):
    turn(policy, "我在国外接听你们的电话收费吗")
    reply = turn(policy, "我下个月十号回国")
    assert said(reply) == ["好的，记下了，回国后再联系您，再见。"] and reply[-1] == Hangup("answered")
    [callback] = fields(reply, "callback")
    assert callback["return_date"].startswith("下个月")


def test_reply_that_is_a_new_question_is_answered_as_such(policy):
    turn(policy, "机主是什么意思啊")
    reply = turn(policy, "等一下，你先告诉我现在咱们的通话有录音吗")
    assert reply[0].entry == "recording"


def test_second_visit_four_steps(fixture_book, fixture_matcher):
    p = Policy(fixture_book, fixture_matcher)
    sv = fixture_book.protocol("second_visit")
    opening = said(p.handle(Started(0.0, second_visit=True)))
    assert opening == [fixture_book.fill(sv["identity"]), fixture_book.fill(sv["apology_confirm"])]
    purpose = said(turn(p, "对，是我"))
    assert purpose == [fixture_book.fill(sv["purpose"])]
    closing = turn(p, "好的可以")
    assert said(closing) == [fixture_book.fill(sv["closing"])] and closing[-1] == Hangup("second_visit_done")


def test_second_visit_wrong_number_ends_the_call(fixture_book, fixture_matcher):
    p = Policy(fixture_book, fixture_matcher)
    p.handle(Started(0.0, second_visit=True))
    reply = turn(p, "不是，你打错了")
    assert said(reply) == [fixture_book.fill(fixture_book.protocol("second_visit")["wrong_number"])]
    assert reply[-1] == Hangup("wrong_number")


def test_bare_assent_answers_an_open_question(policy, fixture_book):
    turn(policy, "机主是什么意思啊")
    assert said(turn(policy, "嗯"))[0] == f"那{fixture_book.settings['号码']}就是您本人的号码。"


def test_offer_verdicts(fixture_book, fixture_matcher):
    yes = Policy(fixture_book, fixture_matcher)
    yes.handle(Started(0))
    assert [a.reason for a in turn(yes, "好的可以") if isinstance(a, Say)][0] == "offer_pitch"   # willing to hear
    assert [a.reason for a in turn(yes, "行，给我开一个吧") if isinstance(a, Say)] == ["offer_confirm"]
    assert turn(yes, "确认")[-1] == Hangup("offer_accepted")
    no = Policy(fixture_book, fixture_matcher)
    no.handle(Started(0))
    reply = turn(no, "不需要")
    assert said(reply) == [fixture_book.fill(fixture_book.offer.declined)] and reply[-1] == Hangup("offer_declined")


def test_unsure_short_yes_to_an_open_question_is_taken(policy, fixture_book):
    turn(policy, "你赶紧把这个业务给我取消了")
    reply = policy.handle(Heard(10.0, "是等", confidence=0.45))
    assert said(reply) == ["取消后需要回电吗？"]
    unsure_question = policy.handle(Heard(12.0, "那个什么东西", confidence=0.45))
    assert said(unsure_question) == [fixture_book.fill(fixture_book.protocol("not_heard")["say"][0])]

"""What the book forbids, as data (scripts_kb/rules.yaml and the entries' `must_not`): detection by
clause, by sound, negation-aware; what it costs a fluent answer; what `kb check` says about it; and
the call-wide caps of 特殊问题3 over a whole call's agent lines."""
from __future__ import annotations

import re

import shutil
from pathlib import Path

import pytest

from voicebot import kb, rules
from voicebot.drill import call_rules, feedback_lines, score_answer, standard_lines

from helpers import ROOT

BOOK = ROOT / "scripts_kb"


def broken(book, matcher, entry_id: str, text: str) -> set[str]:
    return {v.rule for v in score_answer(book.get(entry_id), text, book, matcher).violations}


# ---------------------------------------------------------------- the data

def test_every_general_rule_quotes_the_book_and_is_used(book) -> None:
    used = {r for e in book for r in e.must_not}
    used |= {r for x in book.exercises for step in x.steps for r in step.must_not}  # drill steps
    for rule in book.rules.values():
        assert rule.book and rule.description, rule.id
        assert "“" in rule.book or "（" in rule.book, f"{rule.id}: quote the book's own words"
        assert rule.scope in ("all", "general") or rule.id in used, f"{rule.id} is listed by no entry"
    # The cases the issue names are all there, on the entries the book says them for.
    wanted = {"q05_caller_id": "different_numbers", "q06_hk_macau_taiwan": "free_abroad",
              "sp_abroad_charge": "free_abroad", "q10_office_name": "office_location", "s_work_id": "personal_name",
              "q27_store_complaint": "promise_reply", "c_check_data": "promise_reply", "c_earlier_problem": "promise_reply",
              "q18_cant_get_through": "promise_callback", "q12_called_before": "promise_callback",
              "q13_no_rebate": "open_on_the_spot", "q14_other_business": "open_on_the_spot",
              "sp_cancel": "cancel_on_the_spot", "q28_complain_agent": "complaint_to_10086",
              "q01_identity": "hang_up_to_verify", "q17_signal": "promise_visit"}
    for entry_id, rule_id in wanted.items():
        assert rule_id in book.get(entry_id).must_not, (entry_id, rule_id)
    # Where the book itself promises a reply or sends to 10086, the entry does not carry the rule.
    assert "promise_reply" not in book.get("q28_complain_agent").must_not
    assert "promise_reply" not in book.get("sp_abroad_why_pay").must_not
    assert "promise_callback" not in book.get("q28_complain_agent").must_not
    # The offer's closing (今后有更优惠的活动我们再联系您) is no promised reply: only callbacks are.
    closing = "没有关系，今后有更优惠的活动我们再联系您，那就不打扰您了"
    assert rules.check([book.rules["promise_callback"]], closing, book.settings) == ()
    for entry_id in ("q13_no_rebate", "q17_signal", "q19_why_call_10086"):
        assert "complaint_to_10086" not in book.get(entry_id).must_not


def test_the_books_own_answers_pass_their_own_rules(book) -> None:
    for entry in book:
        if entry.language != "zh":
            continue
        text = "。".join(standard_lines(entry, book))
        claims = [r for r in book.rules_for(entry) if r.kind == "claim"]
        assert rules.check(claims, text, book.settings) == (), entry.id


# ---------------------------------------------------------------- detection

@pytest.mark.parametrize("entry_id, said, rule_id", [
    ("q06_hk_macau_taiwan", "港澳台接听是免费的", "free_abroad"),
    ("q06_hk_macau_taiwan", "您去香港接电话不收费", "free_abroad"),
    ("sp_abroad_charge", "您在国外接我们的电话是免费的", "free_abroad"),
    ("q05_caller_id", "10086和01010086是两个不同的号码", "different_numbers"),
    ("q05_caller_id", "01010086不是我们的号码", "different_numbers"),
    ("q10_office_name", "我们办公地点在西单", "office_location"),
    ("q10_office_name", "我叫小王", "personal_name"),
    ("s_work_id", "工号不方便告诉您", "refuse_work_id"),
    ("q27_store_complaint", "处理好了给您回电话", "promise_reply"),
    ("c_earlier_problem", "我们会派工程师上门给您看看", "promise_visit"),
    ("q14_other_business", "非常抱歉，我现在就帮您取消", "open_on_the_spot"),
    ("q13_no_rebate", "很抱歉，我这边帮您开通一下", "open_on_the_spot"),
    ("sp_cancel", "好的，已经帮您取消了", "cancel_on_the_spot"),
    ("q28_complain_agent", "我工号是8086，您可以打10086投诉我", "complaint_to_10086"),
    ("q01_identity", "您要是不信可以先挂了打10086核实一下", "hang_up_to_verify"),
    ("q24_recording", "我们这个电话没有录音", "deny_recording"),
    # General detectors (rules.yaml), on entries whose own rules never foresaw the phrasing.
    ("q12_called_before", "没有关系，那我现在就直接给您开通上，一个月就10块", "act_on_the_spot"),
    ("p_315_gala", "您放心，我这边已经先帮您把流量加油包开通了", "act_on_the_spot"),
    ("q18_cant_get_through", "我帮您记下来，让前台处理好了给您回电话", "promise_callback"),
    ("c_check_data", "您的建议我记下了，有结果了我们会第一时间通知您", "promise_reply"),
    ("o_department", "我们是客服中心的外呼回访部门，办公室就在西直门那边的移动大楼里", "office_location"),
    ("s_praise", "谢谢，您要是觉得我服务好，可以表扬一下我，我叫李娜", "personal_name"),
    ("q20_reach_you", "我把我这边的座机号码留给您，您有事直接打给我就行", "personal_contact"),
    ("c_check_data", "我们会看一下您的通话和短信内容，再推荐适合您的业务", "sees_content"),
])
def test_a_forbidden_claim_is_found(book, matcher, entry_id: str, said: str, rule_id: str) -> None:
    assert rule_id in broken(book, matcher, entry_id, said)


@pytest.mark.parametrize("entry_id, said", [
    ("q06_hk_macau_taiwan", "港澳台接听不是免费的，是要收费的"),
    ("q06_hk_macau_taiwan", "港澳台并不免费"),
    ("q05_caller_id", "10086和01010086不是两个号码，是一样的"),
    ("q27_store_complaint", "您的意见我记录反馈，我们不会给您回复的"),
    ("q14_other_business", "非常抱歉，我们无权为您取消，稍后您拨打10086咨询取消方式"),
    ("q24_recording", "不是没有录音，是有录音的"),
    ("p_remember_number", "我们没有权限私自记录您的号码"),
    ("q08_owner", "那我们为了机主的利益就先不为您开通了"),
    ("q20_reach_you", "直接找我是找不到的，您可以让前台记录反馈给我"),
    ("q26_charge_refund", "所以没办法直接折现抵话费"),
    ("q04_315_telemarketing", "我们是正规的外呼，跟电话诈骗完全不一样"),
])
def test_a_negated_claim_is_no_claim(book, matcher, entry_id: str, said: str) -> None:
    entry = book.get(entry_id)
    claims = {r.id for r in book.rules_for(entry) if r.kind == "claim"}
    assert not claims & broken(book, matcher, entry_id, said), said


def test_claims_are_heard_by_sound(book, matcher) -> None:
    # whisper's homophones: 恢复 for 回复, 回店 for 回电.
    assert "promise_reply" in broken(book, matcher, "c_check_data", "您的建议我记录了，到时候恢复您")
    assert "promise_reply" in broken(book, matcher, "q27_store_complaint", "处理好了给您回店话")
    # whisper's traditional characters and spaced words (vosk) are read the same way.
    assert "free_abroad" in broken(book, matcher, "q06_hk_macau_taiwan", "港澳台 接聽 是 免費 的")
    assert "different_numbers" in broken(book, matcher, "q05_caller_id", "零幺零幺零零八六 不是 我們 的 號碼")


def test_the_claim_is_found_in_its_own_clause(book) -> None:
    rule = book.rules["free_abroad"]
    # The place is in one clause, 免费 in another about something else: no claim.
    assert rules.check([rule], "您去港澳台是要收费的，咨询10086是免费的", {}) == ()
    hit = rules.check([rule], "大陆是不收的，港澳台也是免费的", {})
    assert len(hit) == 1 and hit[0].said == "港澳台也是免费的"


@pytest.mark.parametrize("entry_id, said, book_clause", [
    ("q24_recording", "您放心，我们这个电话是没有录音的。", "有录音"),
    ("sp_abroad_charge", "您在国外接听我们的电话是免费的，您放心。", "收费"),
    ("q23_why_not_now", "开通成功以后也不会有短信通知您。", "短信通知"),
    ("q14_other_business", "非常抱歉，您就不用稍后拨打10086咨询取消方式了。", "10086"),
])
def test_a_fact_said_with_the_books_polarity_reversed_contradicts_it(book, entry_id: str, said: str, book_clause: str) -> None:
    """No rule written for these phrasings: the clause states one of the book answer's facts negated
    (or the book's negated fact as true)."""
    v = rules.contradiction("。".join(standard_lines(book.get(entry_id), book)), said)
    assert v is not None and v.rule == rules.CONTRADICTION_RULE and v.severity == "contradicts", said
    assert book_clause in v.message and v.said in said


@pytest.mark.parametrize("entry_id, said", [
    ("q24_recording", "是的，我们的电话都是有录音的，这是为了保证服务质量。"),   # same polarity
    ("q05_roaming_10086", "您在漫游状态下拨打10086。"),                          # mentions, asserts nothing opposite
    ("q12_called_before", "真是抱歉，又打扰您了。"),                               # 打扰 is no fact
    ("c_harassment", "以后不再向您推荐服务了，好吧？"),                            # the book says both 推荐 and 不再推荐
    ("q04_315_telemarketing", "如果您不接受这种方式，请问您希望用哪种方式联系您？"),  # a condition asserts nothing
    ("p_remember_number", "我们没有权限私自记您的电话号码。"),                      # 没有权限 = 无权
])
def test_a_fact_said_with_the_books_polarity_is_no_contradiction(book, entry_id: str, said: str) -> None:
    assert rules.contradiction("。".join(standard_lines(book.get(entry_id), book)), said) is None


# ---------------------------------------------------------------- what it costs a fluent answer

FLUENT_WRONG = [
    ("q06_hk_macau_taiwan", "您去港澳台接听电话是免费的，目前大陆31个省都不收漫游费，港澳台也在里面，有疑问您可以打10086咨询。"),
    ("q05_caller_id", "先生，由于系统识别原因，您那边可能显示10086或01010086，10086和01010086是不一样的号码，都是北京移动的，您可以放心。"),
    ("q27_store_complaint", "我可以把您的宝贵意见记录下来，向相关部门反馈，您再注意观察，处理完我们给您回电话，好吧？"),
    ("q10_office_name", "对不起先生，我们的办公地点在西单，如果有需要办理的业务可以到我们的营业厅；我们对外统一使用工号，我的工号是8086，我叫小王。"),
    ("q28_complain_agent", "我工号是8086，您先别着急，别生气，如果您觉得我做得不好，您可以拨打10086投诉，希望您能谅解。"),
]
PARTIAL = {"q06_hk_macau_taiwan": "港澳台接听是要收费的。", "q05_caller_id": "这是系统的原因，没关系的。",
           "q27_store_complaint": "您的意见我帮您记录一下。", "q10_office_name": "对不起，我们的办公地点不方便透露。",
           "q28_complain_agent": "您先别生气，我哪里做得不好我跟您道歉。"}


@pytest.mark.parametrize("entry_id, text", FLUENT_WRONG)
def test_a_fluent_wrong_answer_scores_below_an_honest_partial_one(book, matcher, entry_id: str, text: str) -> None:
    entry = book.get(entry_id)
    wrong = score_answer(entry, text, book, matcher)
    partial = score_answer(entry, PARTIAL[entry_id], book, matcher)
    assert wrong.content >= 50, "the wrong answer is fluent: it shares most of the book's words"
    assert any(v.severity == "contradicts" for v in wrong.violations)
    assert wrong.total < partial.total, (wrong.total, partial.total)
    lines = feedback_lines(wrong, entry, book)
    v = next(v for v in wrong.violations if v.severity == "contradicts")
    rule = book.rules[v.rule]
    assert any(rule.description in line and rule.book in line and v.said in line for line in lines)


# ---------------------------------------------------------------- kb check

def _copy_book(tmp_path: Path) -> Path:
    dest = tmp_path / "book"
    shutil.copytree(BOOK, dest)
    return dest


def _problems(path: Path) -> list[str]:
    return [str(p) for p in kb.load(path).problems]


def test_kb_check_reports_malformed_rules_with_file_and_line(tmp_path: Path) -> None:
    path = _copy_book(tmp_path)
    text = (path / "rules.yaml").read_text(encoding="utf-8")
    (path / "rules.yaml").write_text(text + """
- id: promise_reply
  description: again
  book: 问题27“（不能承诺回复）”
  examples: [回复您]
- id: bad_regex
  description: 坏的正则
  book: 问题1“要正面回答”
  patterns: ['(未闭合']
- id: no_examples
  description: 什么也找不到
  book: 问题1“要正面回答”
- id: odd_kind
  kind: sometimes
  examples: [随便]
- just a string
""", encoding="utf-8")
    problems = _problems(path)
    joined = "\n".join(problems)
    assert "duplicate rule id 'promise_reply'" in joined
    assert "bad regular expression '(未闭合'" in joined
    assert "no_examples has no `examples` or `patterns`" in joined
    assert "unknown kind 'sometimes'" in joined and "odd_kind needs a `description`" in joined
    assert "odd_kind needs `book`" in joined
    assert "a rule must be a mapping" in joined
    assert all(p.startswith(str(path / "rules.yaml") + ":") and ":0:" not in p for p in problems), problems


def test_kb_check_reports_unknown_rule_ids_and_bad_must_not(tmp_path: Path) -> None:
    path = _copy_book(tmp_path)
    q = path / "questions.yaml"
    text = q.read_text(encoding="utf-8")
    text = re.sub(r"  must_not: \[same_rights, no_need_10086[^\]]*\]", "  must_not: [same_rights, no_such_rule]", text, count=1)
    text = re.sub(r"  must_not: \[wont_improve[^\]]*\]", "  must_not: wont_improve", text, count=1)
    q.write_text(text, encoding="utf-8")
    joined = "\n".join(_problems(path))
    assert "q19_why_call_10086: must_not names unknown rule 'no_such_rule'" in joined
    assert "`must_not` must be a list" in joined


def test_kb_check_flags_a_rule_the_books_own_answer_breaks(tmp_path: Path) -> None:
    """问题28 promises a reply (到时由我们的上级部门给您回复): promise_reply on it contradicts the book."""
    path = _copy_book(tmp_path)
    q = path / "questions.yaml"
    text = q.read_text(encoding="utf-8")
    marker = "  must_not: [complaint_to_10086,"
    assert marker in text
    q.write_text(text.replace(marker, "  must_not: [promise_reply, complaint_to_10086,", 1), encoding="utf-8")
    # 问题17 sends the customer to 10086: complaint_to_10086 on it contradicts the book too.
    text = q.read_text(encoding="utf-8").replace("  must_not: [apology_first, promise_visit,",
                                                 "  must_not: [complaint_to_10086, apology_first, promise_visit,", 1)
    q.write_text(text, encoding="utf-8")
    joined = "\n".join(_problems(path))
    assert "q28_complain_agent: the book's own answer breaks its rule 'promise_reply'" in joined
    assert "q17_signal: the book's own answer breaks its rule 'complaint_to_10086'" in joined


def test_kb_check_command_fails_on_a_broken_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from voicebot.cli import main
    path = _copy_book(tmp_path)
    (path / "rules.yaml").write_text("- id: x\n  description: d\n  book: b“c”\n  patterns: ['[']\n", encoding="utf-8")
    assert main(["--kb", str(path), "kb", "check"]) != 0
    err = capsys.readouterr()
    assert "bad regular expression" in err.out + err.err


# ---------------------------------------------------------------- the call-wide caps

def test_words_to_avoid_count_over_a_whole_call(book) -> None:
    lines = ["先生您好，这里是北京移动10086客服", "对，先生，是有录音的", "对，咱们这是为了服务质量",
             "先生，对不起，给您带来不便", "对，咱们再联系", "对，先生，再见"]
    violations, counts = call_rules(lines, book)
    assert counts["先生"] == 4 and counts["对"] == 4 and counts["咱"] == 2     # 对不起 is no filler 对
    assert {v.rule for v in violations} == {"overuse_先生", "overuse_对"}
    assert all("特殊问题3" in v.message and v.severity == "style" for v in violations)
    # Each line alone is within the cap: only the whole call breaks it.
    assert all(call_rules([line], book)[0] == () for line in lines)
    # The book's general rules hold on every line of a call, whichever challenge it answers.
    call = lines + ["您要投诉的话挂机后打10086投诉吧", "我这边帮您查了一下，您这个业务没开通"]
    broken = {v.rule: v for v in call_rules(call, book)[0]}
    assert {"complaint_sent_to_10086", "look_up_data", "overuse_先生", "overuse_对"} == set(broken)
    assert broken["look_up_data"].said == "我这边帮您查了一下" and broken["look_up_data"].severity == "contradicts"


# ---------------------------------------------------------------- the general frames on new wordings

# Wordings of the book's forbidden moves that no rule lists (written for this test, none of them in
# any graded file): each must be caught by a frame (actor + act + object), whatever its words.
NEW_WORDINGS = [
 ("q09_using_it", "您先开着，等处理完了我让同事给您回个电话说一下情况。"),
 ("q09_using_it", "这事我记下了，过两天我打给您。"),
 ("q27_suggestion", "您的建议我们记下了，处理结果会短信通知您。"),
 ("q27_suggestion", "我们领导会亲自给您回电话的。"),
 ("q27_suggestion", "三个工作日内会有人跟您联系的。"),
 ("q22_everyone", "您放心，从今天起我们这边不会再有任何人打扰您了。"),
 ("q22_everyone", "我这就把您的号码拉进黑名单，以后绝不会再打给您。"),
 ("q17_signal", "信号不好是因为您住的地方太偏了，跟我们没关系。"),
 ("q17_signal", "估计是您手机设置有问题，您自己检查一下吧。"),
 ("q13_no_rebate", "我这边给您把返还的话费补上，明天就能到账。"),
 ("q13_no_rebate", "我马上帮您把钱退回来。"),
 ("q14_other_business", "没问题，彩铃我这边直接给您取消了。"),
 ("q14_other_business", "国际漫游我这就帮您开通好。"),
 ("q13_my_account", "我这边看到您上个月用了三个G流量。"),
 ("q13_my_account", "我刚查了，您的套餐是38元的。"),
 ("c_check_data", "您的短信内容我们后台是能查到的。"),
 ("c_check_data", "我们会把您的使用数据卖给合作的公司。"),
 ("q15_how_number", "您的号码是从别的公司买来的名单。"),
 ("q15_how_number", "号码是银行那边给我们的。"),
 ("q10_office_name", "我们公司就在朝阳区建国路那边。"),
 ("q10_office_name", "我姓刘，您叫我小刘就行。"),
 ("q20_reach_you", "您加我微信吧，有事随时找我。"),
 ("q20_reach_you", "我把我的手机号告诉您，您直接打给我。"),
 ("s_work_id", "工号这个不方便告诉您。"),
 ("q28_complain_agent", "您要投诉的话拨打10086就可以了。"),
 ("q28_complain_agent", "投诉请您直接找10086客服。"),
 ("q01_identity", "您要是不信，挂了电话自己打10086问问。"),
 ("q01_identity", "您可以挂断后回拨10086确认一下我的身份。"),
 ("q22_everyone", "这个优惠谁去营业厅都能办。"),
 ("q22_everyone", "这个优惠以后随时都有，不着急。"),
 ("q06_hk_macau_taiwan", "在香港接电话不收钱的。"),
 ("q05_caller_id", "01010086跟10086不是一回事。"),
 ("q03_monopoly", "您不拒绝的话系统就默认给您开通了。"),
 ("q03_monopoly", "我先给您开上，不满意再取消。"),
 ("q09_using_it", "这个业务具体怎么样我也说不好。"),
 ("q09_using_it", "这个我真不知道，您问别人吧。"),
 ("sp_complaint", "这都是您自己操作失误造成的。"),
 ("sp_manager", "这种客户我见多了，您就别闹了。"),
 ("q18_cant_get_through", "人工台我也打不进去，您就别打了。"),
 ("sp_do_not_call", "您去营业厅办个免打扰就行了。"),
]

# Honest answers that name a forbidden move only to refuse it, negate it, or make it on the
# customer's consent (不会再回电话给您, 看不到您的通话内容, 您同意的话我们才能开通): no rule fires.
HONEST = [
 ("q27_suggestion", "您的建议我记录下来了，会反馈给相关部门，但是我们这边不会再回电话给您，请您谅解。"),
 ("q27_suggestion", "我们没办法承诺给您回复，不过意见一定会反馈上去。"),
 ("q22_everyone", "以后我们尽量不用电话打扰您，好吗？"),
 ("q13_my_account", "我这边查不到您的详细资料，您挂机后拨打10086查询一下好吗？"),
 ("q13_my_account", "很抱歉，我们外呼坐席没有权限查看您的资料。"),
 ("q14_other_business", "很抱歉，我们是外呼坐席，权限不同，没法为您取消彩铃，您稍后拨打10086咨询取消方式。"),
 ("q10_office_name", "办公地点不方便透露，我的工号是8086。"),
 ("q20_reach_you", "您没办法直接找到我，不过可以通过前台的记录把意见反馈给我。"),
 ("q03_monopoly", "您同意的话我们才能帮您开通，不同意我们是不会开的。"),
 ("q03_monopoly", "如果您愿意，我现在就可以在线为您办理。"),
 ("q01_identity", "您放心，我们就是北京移动10086的客服热线，不用挂机核实。"),
 ("q06_hk_macau_taiwan", "港澳台接听不是免费的，是要收费的。"),
 ("q05_caller_id", "01010086和10086是一样的，都是北京移动的客服热线。"),
 ("c_check_data", "我们看不到您的通话内容，只是分析使用习惯。"),
 ("c_check_data", "您的资料我们绝对不会卖给任何公司。"),
 ("q15_how_number", "号码是系统随机抽取的，不是从别处买来的。"),
 ("q17_signal", "很抱歉给您带来不便，建议您本机拨打10086咨询。"),
 ("sp_do_not_call", "好的，您的要求我马上反馈，以后避免用电话的方式联系您，好吗？"),
 ("q28_complain_agent", "我的工号是8086，您先别着急，您的意见我记录下来，会反馈给相关部门。"),
 ("q09_using_it", "现在很多用户在用，确实挺实用的。"),
 ("q22_everyone", "不是所有用户都有，只有电话邀请的用户才能享受。"),
 ("q13_no_rebate", "很抱歉，返还的事我这边查不到，您稍后联系10086前台工作人员查询一下。"),
 ("sp_complaint", "您先别生气，您反映的事情我已经记录好，马上帮您反馈并处理。"),
 ("q18_cant_get_through", "很抱歉，可能人工台比较忙，您稍后再拨打试试。"),
 ("q12_called_before", "非常抱歉又打扰您了，以后有更优惠的活动我们再联系您。"),
 ("q17_signal", "可能是您所在的位置信号不太好，给您带来不便很抱歉。"),
 ("q13_no_rebate", "可能是您当时没有开通成功，您稍后联系10086前台查询一下。"),
 ("q13_my_account", "我这边不太清楚您的套餐情况，您可以拨打10086查询。"),
 ("q23_why_not_now", "开通成功后我们会发短信通知您。"),
 ("q09_using_it", "我再跟您说一遍，这个业务每月10元。"),
]


def contradicting(book, entry_id: str, text: str) -> list[str]:
    from voicebot.drill import check_rules
    return [v.rule for v in check_rules(book.get(entry_id), text, book)[0] if v.severity == "contradicts"]


def test_general_frames_catch_new_wordings_of_the_forbidden_moves(book) -> None:
    missed = [(e, t) for e, t in NEW_WORDINGS if not contradicting(book, e, t)]
    assert missed == []


def test_general_frames_spare_refused_negated_and_consented_moves(book) -> None:
    flagged = [(e, t, contradicting(book, e, t)) for e, t in HONEST if contradicting(book, e, t)]
    assert flagged == []


def test_a_general_rule_is_narrowed_by_the_entrys_own_book_answer(book) -> None:
    """问题23's book says 我们现在为您开通 and 特殊问题1 promises to call back: the patterns the book
    says are dropped for that entry only; the rest of the rule still holds there."""
    from voicebot.drill import rules_of
    q23 = {r.id: r for r in rules_of(book.get("q23_why_not_now"), book)}
    q09 = {r.id: r for r in rules_of(book.get("q09_using_it"), book)}
    assert 0 < len(q23["agent_acts"].patterns) < len(book.rules["agent_acts"].patterns)
    assert q09["agent_acts"].patterns == book.rules["agent_acts"].patterns
    assert contradicting(book, "q23_why_not_now", "我们现在为您开通，系统有一个默认的过程。") == []
    assert "agent_acts" in contradicting(book, "q09_using_it", "我现在就为您开通。")
    assert contradicting(book, "sp_abroad", "等您回来我们再跟您联系，好吗？") == []
    assert contradicting(book, "q09_using_it", "过两天我们再跟您联系。") == ["promise_contact"]


# ---------------------------------------------------------------- protocol drill steps (scorer4)

# The trainee's line at a protocol drill's first step breaking the book's protocol (written for this
# test, not taken from a graded file): hang up, guess instead of asking again, argue with the
# complaint, push the offer on thanks or praise.
DRILL_WRONG = [
 ("d_noisy", "您那边太吵了，我先挂了，回头您自己再打10086吧。", "hang_up_on_customer"),
 ("d_speak_louder", "声音有点小，您先挂断，等方便了再自己打过来。", "hang_up_on_customer"),
 ("d_not_heard", "很抱歉没听清，估计您是想办流量包，我已经给您开通了。", "guess_unheard"),
 ("d_complaint_listen", "您先别生气，排队的人多也难免，您就多体谅一下我们同事。", "argue_with_complaint"),
 ("d_praise", "谢谢，您这么满意，干脆现在就开一个吧。", "push_offer_on_thanks"),
 ("d_thanks", "不客气，您要真想谢我，就把套餐办了吧。", "push_offer_on_thanks"),
]

DRILL_HONEST = [
 ("d_noisy", "对不起，您那边有点吵，我听不太清楚，请您换个安静点的地方好吗？"),
 ("d_not_heard", "很抱歉，我没有听清楚，您是想问流量包的事吗？"),
 ("d_complaint_listen", "您先别生气，您慢慢说，我都记着呢。"),
 ("d_speak_louder", "对不起，您的声音有些小，请您稍大一些声好吗？"),
 ("d_thanks", "不客气，您还有别的问题吗？"),
 ("d_praise", "谢谢，这是我们应该做的，很高兴为您服务！"),
]


def _drill_step(book, drill_id: str):
    from voicebot.drill import step_entry
    return step_entry(book, next(x for x in book.exercises if x.id == drill_id), 1)


@pytest.mark.parametrize("drill_id, said, rule_id", DRILL_WRONG)
def test_a_drill_step_is_held_to_the_books_protocol(book, drill_id: str, said: str, rule_id: str) -> None:
    from voicebot.drill import check_rules
    found = [v.rule for v in check_rules(_drill_step(book, drill_id), said, book)[0] if v.severity == "contradicts"]
    assert rule_id in found, found


def test_honest_drill_lines_break_no_rule(book) -> None:
    from voicebot.drill import check_rules
    flagged = [(d, t, [v.rule for v in check_rules(_drill_step(book, d), t, book)[0]])
               for d, t in DRILL_HONEST if check_rules(_drill_step(book, d), t, book)[0]]
    assert flagged == []


def test_indirect_questions_and_consent_conditions(book) -> None:
    """打10086问问是不是移动的 tells the customer to hang up (a statement, not a question back);
    您如果觉得可以 makes the move on the customer's consent."""
    assert "hang_up_to_verify" in contradicting(book, "q05_caller_id", "您先挂了电话打10086问问这个号码是不是移动的。")
    assert contradicting(book, "q01_who_allowed", "您如果觉得可以，我们在线就能为您办理。") == []
    assert contradicting(book, "sp_do_not_call", "以后尽量不用打电话的方式打扰您了。") == []


def test_a_work_id_point_in_the_books_words_must_be_said(book, matcher) -> None:
    """工号 and the number alone make the point 明确告诉工号 but not the book's 我的工号是: below the full line."""
    from voicebot.drill import score_answer
    entry = book.get("s_work_id")
    full = score_answer(entry, "我的工号是8086。", book, matcher).total
    bare = score_answer(entry, "8086号。", book, matcher).total
    assert full == pytest.approx(100.0, abs=0.5) and bare < full - 10


# New wordings of the frames added by scorer4 (none taken from a graded file), and honest neighbours.
SCORER4_WRONG = [
 ("q10_office_name", "您喊我老李就行，有事找我。", "personal_name"),
 ("q09_using_it", "这个业务我也不太熟悉，您见谅。", "professes_ignorance"),
 ("q09_using_it", "要不您找其他同事问问？", "dismissive"),
 ("q23_why_not_now", "开通以后不会通知您，您自己上营业厅查吧。", "no_sms_notice"),
 ("q06_hk_macau_taiwan", "港澳台都算在大陆31个省里面。", "hk_in_mainland"),
 ("q22_everyone", "这个活动一直都有，您随时可以开。", "offer_for_everyone"),
 ("q02_why_my_data", "麻烦您把身份证号报给我核对一下。", "ask_personal_data"),
 ("s_work_id", "工号您就记1234吧。", "wrong_work_id"),
 ("f_foreign_caller", "This is Beijing Mobile. We have a new package for you. Shall I open it?", "pitch_in_english"),
]

SCORER4_HONEST = [
 ("q06_hk_macau_taiwan", "港澳台不属于大陆31个省之内，接听是要收费的。"),
 ("s_work_id", "我的工号是8086，您记一下。"),
 ("q19_why_call_10086", "您稍后拨打10086，前台的工作人员会给您答复的。"),
 ("q26_charge_refund", "先收取费用，之后返给您优惠券。"),
 ("q09_using_it", "不好意思，这个我跟您详细说一下。"),
]


@pytest.mark.parametrize("entry_id, said, rule_id", SCORER4_WRONG)
def test_scorer4_frames_catch_new_wordings(book, entry_id: str, said: str, rule_id: str) -> None:
    assert rule_id in contradicting(book, entry_id, said)


def test_scorer4_frames_spare_honest_answers(book) -> None:
    flagged = [(e, t, contradicting(book, e, t)) for e, t in SCORER4_HONEST if contradicting(book, e, t)]
    assert flagged == []


# ---------------------------------------------------------------- scorer5: a claim's two poles, as data

# New wordings (written for this test, none taken from a graded file): a claim of the book's answer
# stated the other way round, or a move no frame knew yet.
SCORER5_WRONG = [
 ("q15_how_number", "您的号码是我们特意筛选出来的优质客户。", "opposite_random"),
 ("q15_how_number", "这个号码不是随机的，是系统挑中的。", "opposite_random"),
 ("p_315_gala", "这个钱移动是不收的，都是sp商自己扣。", "opposite_collect"),
 ("sp_abroad_rate", "在那边接听和在大陆接听收费标准不同。", "opposite_same"),
 ("q11_accent", "我们跟本地员工对业务的熟练程度还是有区别的。", "opposite_same"),
 ("o_department", "想办理的话只能您自己到营业厅去办。", "opposite_online"),
 ("p_315_measures", "我们这边是不接受外界监督的。", "opposite_supervision"),
 ("q09_using_it", "您到底想问什么？", "impatient_with_customer"),
 ("q21_your_benefit", "您就当帮我完成这个月的任务吧。", "plead_for_self"),
 ("sp_manager", "领导，这有个客户在闹，您来应付一下。", "disparage_customer"),
 ("q27_mandarin", "是您那边的网络太差了，我说得很清楚。", "blame_device"),
 ("q09_using_it", "我是北京移动合作方的客服。", "not_beijing_mobile"),
 ("q09_using_it", "我们这边不算移动的正式员工。", "not_beijing_mobile"),
 ("q08_owner", "不是机主也没关系，照样办。", "open_for_non_owner"),
 ("f_foreign_caller", "Beijing Mobile here. You have to speak Chinese to me.", "order_foreigner_about"),
 ("d_not_heard_1", "我明白您是想问流量包的资费，已经帮您查好了。", "guess_unheard"),
 ("d_speak_louder_1", "声音那么小，谁听得清啊。", "impatient_with_customer"),
 ("d_dialect_1", "您这口音太难懂了，换个人跟我说吧。", "disparage_customer"),
 ("d_praise_1", "谢谢，回头给我点个五星呗。", "ask_for_rating"),
 ("q03_monopoly", "您就别犹豫了，赶快办上吧。", "pressure_customer"),
 ("d_complaint_listen_1", "营业厅的事不归我们管，您去营业厅投诉吧。", "complaint_sent_to_10086"),
 ("d_no_response_1", "一直不说话，那我挂了。", "hang_up_on_customer"),
 ("d_thanks_1", "不客气，要不要再开一个套餐？", "push_offer_on_thanks"),
 ("d_complaint_listen_1", "您别急，我给您解释一下为什么要排队。", "argue_with_complaint"),
 ("q01_identity", "我们不是10086，是帮移动做推广的公司。", "not_beijing_mobile"),
 ("q05_area_code", "您在外地显示的还是北京的号码，不会有区号。", "area_code_display"),
 ("p_315_gala", "这次曝光的事我们移动也有责任。", "gala_involves_us"),
 ("q23_why_not_now", "开通了也不会有任何提示，您自己留意话费吧。", "opposite_sms_notice"),
 ("q18_cant_get_through", "我帮您记下来，让前台回头打回去给您。", "promise_contact"),
 ("q20_reach_you", "您存一下我的手机，有事直接打我。", "personal_contact"),
 ("q27_store_complaint", "那个营业员我们保证严肃处理。", "promise_outcome"),
 ("sp_abroad", "那我从头给您讲一下这个业务吧。", "keep_talking_abroad"),
 ("sp_do_not_call", "不想接的话您自己到营业厅去登记。", "self_service_opt_out"),
 ("c_called_again", "您上回跟我们反映的时候没说清楚，这不怪我们。", "blame_customer"),
 ("d_not_heard_1", "您是想问资费对吧，我跟您说一下。", "guess_unheard"),
 ("d_dialect_1", "您能不能好好说话？", "impatient_with_customer"),
 ("q03_monopoly", "您今天必须给个答复。", "pressure_customer"),
]

SCORER5_HONEST = [
 ("q15_how_number", "您的号码是系统随机抽到的，不是特意挑的。"),
 ("q11_accent", "我口音跟北京人不一样，但我们确实是北京移动的客服。"),
 ("sp_abroad_rate", "收费标准和您在国内接电话是一样的。"),
 ("p_315_gala", "这个钱不是我们赚的，我们只负责代收。"),
 ("o_department", "您也可以去营业厅办理，电话里也能直接办。"),
 ("q27_suggestion", "谢谢您支持我们的工作。"),
 ("sp_abroad", "我们想给您介绍流量加油包的优惠，不过您在国外接电话是收费的。"),
 ("q06_hk_macau_taiwan", "只有内地31个省不收漫游费，港澳台接电话要收费。"),
 ("p_sell_data", "欢迎您监督我们的工作，有意见随时提。"),
 ("d_off_topic_1", "非常抱歉，现在是工作时间，跟业务无关的问题不方便回答。"),
 ("d_not_heard_1", "很抱歉，我没有听清楚，请您重复一遍好吗？"),
 ("d_complaint_listen_1", "您先别生气，您慢慢说，我听着呢。"),
 ("q24_recording", "没有提前跟您说就录音了，真是抱歉，我们的通话是有录音的。"),
 ("p_protect_info", "员工不按规范操作会受到严肃处理。"),
 ("d_no_response_1", "喂，您好，电话已经接通了，请问您能听到我的声音吗？"),
 ("q27_mandarin", "谢谢您的建议，我们以后会加强普通话的锻炼，不理解的地方您随时问。"),
 ("o_store_location", "您可以问一下10086前台，他们会告诉您最近的营业厅在哪。"),
 ("q05_area_code", "您在外地的话，来电显示会是当地区号加上10086。"),
 ("p_315_gala", "曝光的是厂家和sp商，跟北京移动10086没关系，我们只负责代收。"),
 ("q14_other_business", "我们不是10086前台，是外呼坐席，权限不同。"),
 ("q26_charge_refund", "这个活动不会多收您的钱，也没有额外收费。"),
 ("d_not_heard_1", "很抱歉，您刚才说的我没听清，请您重复一遍好吗？"),
 ("sp_complaint", "您先别生气，您反映的事情我记好了，马上帮您反馈。"),
 ("q03_monopoly", "您可以再考虑考虑，不着急。"),
]


@pytest.mark.parametrize("entry_id, said, rule_id", SCORER5_WRONG)
def test_scorer5_claims_stated_the_other_way_round_are_caught(book, entry_id: str, said: str, rule_id: str) -> None:
    """Caught, by the rule named (an earlier check, such as the book-fact polarity, may catch it first:
    an `opposite` rule is then checked on its own)."""
    found = _contradicting_any(book, entry_id, said)
    rule = book.rules[rule_id]
    if rule.kind == rules.OPPOSITE_KIND:
        book_text = "。".join(standard_lines(book.get(entry_id), book))
        assert found and rules.opposed([rule], book_text, said, book.settings) is not None, found
    else:
        assert rule_id in found, found


def _contradicting_any(book, item_id: str, text: str) -> list[str]:
    """Contradicting rules on an entry, or on a drill step named `d_…_N`."""
    from voicebot.drill import check_rules, step_entry
    if item_id.startswith("d_"):
        drill_id, n = item_id.rsplit("_", 1)
        entry = step_entry(book, next(x for x in book.exercises if x.id == drill_id), int(n))
    else:
        entry = book.get(item_id)
    return [v.rule for v in check_rules(entry, text, book)[0] if v.severity == "contradicts"]


def test_scorer5_poles_spare_honest_answers(book) -> None:
    flagged = [(e, t, _contradicting_any(book, e, t)) for e, t in SCORER5_HONEST if _contradicting_any(book, e, t)]
    assert flagged == []


def test_the_book_decides_which_pole_an_entry_holds(book) -> None:
    """An `opposite` rule is listed on no entry: where the book states one pole (问题15 随机抽取) the other
    is wrong; where it states both (问题6: 要收费 and 不收取国际漫游费) or neither, the rule says nothing."""
    from voicebot.drill import standard_lines
    charge = book.rules["opposite_charge"]
    sides = lambda entry_id: {p.side for p in rules.poles(charge, "。".join(standard_lines(book.get(entry_id), book)), book.settings)}
    assert sides("sp_abroad_rate") == {0} and sides("q05_roaming_10086") == {1} and sides("q06_hk_macau_taiwan") == {0, 1}
    rate = "。".join(standard_lines(book.get("sp_abroad_rate"), book))
    assert rules.opposed([charge], rate, "您在国外接听这通电话不花钱。", book.settings) is not None
    assert rules.opposed([charge], rate, "您在国外接听这通电话也是要花钱的。", book.settings) is None
    recording = "。".join(standard_lines(book.get("q24_recording"), book))
    assert rules.opposed([charge], recording, "这个业务是免费的。", book.settings) is None   # no pole there: the rule is silent
    assert _contradicting_any(book, "q24_recording", "这个业务是免费的。") == ["unsupported_money"]   # a money claim 问题24 never makes
    found = rules.opposed([book.rules["opposite_random"]], "号码也是随机抽取到的。", "是专门挑出来的号码。", book.settings)
    assert found is not None and "随机抽取到的" in found.message and "专门挑出来的号码" in found.message
    assert rules.opposed([book.rules["opposite_random"]], "号码也是随机抽取到的。", "是不是专门挑的？", book.settings) is None


def test_a_rule_narrowed_whole_where_the_book_makes_its_move(book) -> None:
    """d_ringback: the book hangs up (直接挂断), so hanging up in any words is right there (narrow: rule);
    opening the call is not."""
    assert _contradicting_any(book, "d_ringback_1", "先挂了吧。") == []
    assert _contradicting_any(book, "d_ringback_1", "我直接挂掉。") == []
    assert "speak_on_foreign_ringback" in _contradicting_any(book, "d_ringback_1", "您好，这里是北京移动10086。")
    assert "hang_up_on_customer" in _contradicting_any(book, "d_noisy_1", "您那边太吵了，那我就挂了。")


def test_a_filler_only_answer_is_above_a_contradicting_one(book, matcher) -> None:
    """嗯嗯 to a thanks says nothing, but nothing wrong: the honest floor, above an answer pushing the
    offer; silence stays 0."""
    from voicebot.drill import HONEST_FLOOR
    entry = book.get("s_thanks")
    filler = score_answer(entry, "嗯嗯。", book, matcher)
    push = score_answer(entry, "别客气，您要谢我就办一个流量加油包吧。", book, matcher)
    assert not filler.no_answer and filler.total == HONEST_FLOOR
    assert "push_offer_on_thanks" in {v.rule for v in push.violations} and push.total < filler.total
    assert score_answer(entry, "  。", book, matcher).total == 0


def test_kb_check_reports_malformed_opposite_rules(tmp_path: Path) -> None:
    path = _copy_book(tmp_path)
    text = (path / "rules.yaml").read_text(encoding="utf-8")
    (path / "rules.yaml").write_text(text + """
- id: pole_without_patterns
  kind: opposite
  description: 没有说法
  book: 问题15“号码也是随机抽取到的”
  examples: [随机]
- id: pole_bad_topic
  kind: opposite
  description: 话题不对
  book: 问题15“号码也是随机抽取到的”
  patterns: ['随机']
  topic: lots
- id: claim_with_opposites
  description: 不该有 opposites
  book: 问题15“号码也是随机抽取到的”
  patterns: ['随机']
  opposites:
    patterns: ['挑']
  narrow: sometimes
""", encoding="utf-8")
    joined = "\n".join(_problems(path))
    assert "pole_without_patterns (kind opposite) needs `patterns`" in joined
    assert "pole_bad_topic: `topic` must be a whole number" in joined
    assert "claim_with_opposites: `opposites` belongs to kind opposite" in joined
    assert "unknown narrow 'sometimes'" in joined


# ---- scorer6: claims the book does not make, by class (kind unsupported), in wordings written for this test

UNSUPPORTED = [
    ("q21_your_benefit", "您看流量加油包每月只要10元，办满三个月还送您2个G。", "unsupported_number"),
    ("q15_how_number", "号码是系统随机抽取的，我们市场拓展部门专门负责这一片。", "unsupported_identity"),
    ("q09_using_it", "这个业务挺实用的，用了以后保证您再也不会超流量。", "unsupported_guarantee"),
]
SUPPORTED = [
    ("q26_charge_refund", "这是短期的优惠活动，先收费再送优惠券，所以没办法直接折现。"),   # refusing 折现 claims nothing
    ("q13_no_rebate", "很抱歉，您稍后咨询前台10086，让同事帮您查一下返还是怎么回事。"),   # 返还: the customer's word, looked into
    ("c_check_data", "您的资料我们绝对不会卖给任何公司。"),
]


def test_unsupported_claims_of_a_risky_class_are_caught_in_any_wording(book) -> None:
    for entry_id, text, rule in UNSUPPORTED:
        assert rule in contradicting(book, entry_id, text), (entry_id, text)
    for entry_id, text in SUPPORTED:
        assert contradicting(book, entry_id, text) == [], (entry_id, text)


def test_unsupported_feedback_names_the_term_and_the_clause(book) -> None:
    from voicebot.drill import check_rules
    found = [v for v in check_rules(book.get("q21_your_benefit"), UNSUPPORTED[0][1], book)[0] if v.rule == "unsupported_number"]
    assert found and "三个月" in found[0].message and found[0].said == "办满三个月还送您2个G"


def test_unsupported_offer_and_english_at_protocol_steps(book) -> None:
    """A step whose book line has no offer (thanks, closing, no response) is no place to push it, even as a
    question; the foreign caller gets the book's English lines, not an English sale."""
    from voicebot.drill import check_rules, step_entry
    steps = {x.id: x for x in book.exercises}
    closing = step_entry(book, steps["d_closing"], 1)
    rules_hit = lambda entry, text: [v.rule for v in check_rules(entry, text, book)[0] if v.severity == "contradicts"]
    assert "unsupported_offer" in rules_hit(closing, "好的，不过您考虑一下加油包，明天给个准话行吗？")
    assert rules_hit(closing, "好的，那就不打扰您了，祝您生活愉快，再见。") == []
    foreign = step_entry(book, steps["d_foreign"], 1)
    assert "unsupported_english" in rules_hit(foreign, "This is Beijing Mobile. Would you like to subscribe to our data plan?")
    assert rules_hit(foreign, "This is Beijing Mobile. Can you speak Chinese, please?") == []


def test_unsupported_rule_shape_is_checked() -> None:
    """`support` is a share from 0 to 100 and belongs to kind unsupported; kb check names the fix."""
    problems: list[str] = []
    node = {"id": "x_claim", "description": "d", "book": "b", "patterns": ["外包"], "support": 50}
    assert rules.build_rule(node, problems.append, "rules.yaml").support == 0
    assert "belongs to kind unsupported" in problems[-1]
    node = dict(node, kind="unsupported", support=150)
    assert rules.build_rule(node, problems.append, "rules.yaml").support == 0
    assert "from 0 to 100" in problems[-1]
    rule = rules.build_rule(dict(node, support=60), problems.append, "rules.yaml")
    assert rule.kind == "unsupported" and rule.support == 60 and rule.severity == "contradicts"


def test_an_alternative_question_with_haishi_asks_and_a_haishi_suggestion_tells() -> None:
    """还是 opens a suggestion (还是您去营业厅问问吧) but also the second half of an alternative question
    (…的，还是您自己去营业厅办的呢？), which asks which and refers the customer nowhere."""
    spans = rules.clause_spans("您是接到电话办的，还是自己去营业厅或者网上办的呢？")
    assert all(rules.asks(clause, asked) for clause, asked in spans[1:]), spans
    for suggestion in ("还是您去营业厅问问吧？", "还是您去营业厅办吧", "还是您打10086问问？"):
        clause, asked = rules.clause_spans(suggestion)[0]
        assert not rules.asks(clause, asked), suggestion


def test_a_risky_term_on_the_books_own_claim_is_no_unsupported_claim(book) -> None:
    """The claim, not its syllables: an act the book's lines do for the customer outright (问题23 我们现在为您开通)
    said with 已经, or a guarantee that the customer is asked first (3.15 经过您的同意才会为您开通), restates
    the book; the same act where the book only does it on the customer's consent is still the trainee's own."""
    def flagged(entry_id: str, text: str) -> rules.Violation | None:
        entry = book.get(entry_id)
        kinds = [r for r in book.rules.values() if r.kind == rules.UNSUPPORTED_KIND]
        lines = standard_lines(entry, book) + [book.fill(k) for k in entry.key_points]
        return rules.unsupported(kinds, lines, text, book.settings)
    assert flagged("q23_why_not_now", "我这边已经在帮您开通了，系统有个默认过程，请您谅解") is None
    assert flagged("p_315_gala", "开通之前我们保证先征得您的同意，资费也很透明") is None
    found = flagged("p_315_gala", "这个业务我这边已经先帮您开好了，资费也很透明")
    assert found is not None and found.rule == "unsupported_act"
    assert flagged("q13_my_account", "您回头打10086前台查一下，好吗") is None
    found = flagged("q23_why_not_now", "我们保证三天之内给您把这个业务开好")
    assert found is not None


def test_a_condition_and_its_result_are_one_claim_for_unsupported(book) -> None:
    """您要是…，接听就全免了: the result alone repeats the book's words (接听), the condition with it is the
    trainee's own offer; the book's own line on the same entry stays clear."""
    entry = book.get("q06_hk_macau_taiwan")
    kinds = [r for r in book.rules.values() if r.kind == rules.UNSUPPORTED_KIND]
    lines = standard_lines(entry, book) + [book.fill(k) for k in entry.key_points]
    found = rules.unsupported(kinds, lines, "港澳台接听是收费的，如果您办个套餐，接听就全免了", book.settings)
    assert found is not None and found.rule == "unsupported_money"
    assert rules.supported("接听就全免了", rules.reference(lines, book.settings)) >= rules.SUPPORT_MIN   # alone: the book's words
    assert rules.unsupported(kinds, lines, lines[0], book.settings) is None


# ---------------------------------------------------------------- scorer8: v7's misses, by class

def _step_or_entry(book, item_id: str):
    from voicebot.drill import step_entry
    exercises = {x.id: x for x in book.exercises}
    return step_entry(book, exercises[item_id], 1) if item_id in exercises else book.get(item_id)


def claims_flagged(book, item_id: str, text: str) -> set[str]:
    from voicebot.drill import check_rules
    return {v.rule for v in check_rules(_step_or_entry(book, item_id), text, book)[0] if v.severity == "contradicts"}


def test_a_differs_claim_is_about_its_subject(book) -> None:
    """不一样 after a number says the numbers differ only when nothing else stands as its subject: the
    权限 of the outbound seat differs from 10086's (问题19 与呼入的权限不一样), the numbers do not."""
    rule = [book.rules["different_numbers"]]
    for honest in ("外呼这边跟10086前台的权限是不一样的", "我们和10086呼入的业务范围不同"):
        assert rules.check(rule, honest, book.settings) == (), honest
    for claim in ("01010086跟10086其实不一样", "01010086跟10086的号码不同", "10086和01010086打来的不是同一个号"):
        assert rules.check(rule, claim, book.settings), claim


def test_an_alternative_question_ending_in_de_asks() -> None:
    """A的，还是B的？ without 呢 asks which (您是自己在网上开的，还是营业员帮您开的？); a 还是 suggestion
    still tells, with or without a question mark."""
    spans = rules.clause_spans("您是自己在网上开的，还是您自己去营业厅开的？")
    assert rules.asks(*spans[1]), spans
    for suggestion in ("还是您自己去营业厅开吧？", "还是您自己打10086？", "还是您自己办的。"):
        assert not rules.asks(*rules.clause_spans(suggestion)[0]), suggestion


def test_a_statement_is_supported_by_the_books_statements_only(book) -> None:
    """特殊问题 取消: the book asks 取消之后还给您回电话吗？ — it does not promise one. Said as a statement
    (办完我们给您回个电话说一声) it is the trainee's promise; asked back, it is the book's question."""
    found = claims_flagged(book, "sp_cancel", "好的，记下了，等取消办完我们这边给您回个电话说一声。")
    assert found & {"unsupported_contact", "promise_contact"}, found
    assert claims_flagged(book, "sp_cancel", "好的，帮您记录。取消以后还需要给您回个电话吗？") == set()
    entry = book.get("sp_cancel")
    ref = rules.reference(standard_lines(entry, book), book.settings)
    said = "取消之后给您回电话"
    assert rules.supported(said, ref, question=True) > rules.supported(said, ref, question=False)


def test_a_clause_that_is_only_its_term_is_the_claim(book) -> None:
    """再见 alone has no content of its own to be supported by: it is judged with the clause before it, so
    ending the call where the book asks back (服务用语1 请您重复一遍好吗？) is caught, and the book's own
    closing (特殊问题5) is not."""
    assert "unsupported_ending" in claims_flagged(book, "d_not_heard", "听不懂您说的，那就先这样，拜拜。")
    assert "unsupported_ending" in claims_flagged(book, "q04_315_telemarketing",
                                                 "电话外呼是正规的服务方式，您不想接的话我就不打扰了。")
    from voicebot.drill import check_rules, step_entry
    no_response = next(x for x in book.exercises if x.id == "d_no_response")
    closing = step_entry(book, no_response, 3)
    assert check_rules(closing, "对不起，听不到您任何回应，以后有优惠再联系您，祝您愉快，再见！", book)[0] == ()
    assert "unsupported_ending" not in claims_flagged(book, "d_not_heard", "很抱歉，我没听清楚，麻烦您再说一遍好吗？")


@pytest.mark.parametrize("item_id, said, rule_id", [
    # a cause or an authority the book does not give
    ("q05_caller_id", "号码前面多了个010，是基站转接的时候加上去的", "unsupported_cause"),
    ("q16_why_call_not_sms", "工信部有要求，营销短信现在发不出去，只好打电话", "unsupported_cause"),
    # a use of the recording or the data the book does not give
    ("q24_recording", "录下来是拿去研究您平时喜欢什么业务的", "unsupported_purpose"),
    # the company or the agent gains
    ("q21_your_benefit", "您办了我们公司这个季度能多赚一点", "unsupported_profit"),
    # a procedure the book does not have
    ("sp_unsure_business", "您截个图发过来，我一看就知道是不是这个业务", "unsupported_procedure"),
    # arguing with a praise, blaming the customer's habits
    ("d_praise", "哪里，我今天其实说得很差劲", "unsupported_blame"),
    ("q16_why_call_not_sms", "短信您平时根本不看，我们只好打电话", "unsupported_blame"),
    # pushing the offer when asked for the work id
    ("d_work_id", "我的工号是8086，您看这个加油包办不办？", "unsupported_offer"),
])
def test_scorer8_classes_catch_claims_the_book_does_not_make(book, item_id: str, said: str, rule_id: str) -> None:
    assert rule_id in claims_flagged(book, item_id, said), claims_flagged(book, item_id, said)


@pytest.mark.parametrize("item_id, said", [
    ("q05_caller_id", "这是系统识别的原因，两个号码是一样的，都是北京移动的客服热线"),
    ("q16_why_call_not_sms", "不是因为什么政策，是好多用户觉得自己开业务麻烦，打电话能直接在线办"),
    ("q16_why_call_not_sms", "按活动规定的方式，我们打电话给您在线解答，也能直接办理"),
    ("q24_recording", "是有录音的，是为了提高服务质量，出了问题方便查询"),
    ("q21_your_benefit", "我们没有任何好处，也不赚您的钱，就是想把好的服务提供给您"),
    ("sp_unsure_business", "没关系，您收到的短信大概是什么内容，多久收到一次呢？"),
    ("d_praise", "谢谢您的夸奖，这是我们应该做的"),
    ("d_work_id", "我的工号是8086，您记一下"),
])
def test_scorer8_classes_spare_honest_answers(book, item_id: str, said: str) -> None:
    assert claims_flagged(book, item_id, said) == set(), said


def test_a_number_the_book_gives_otherwise_is_caught_however_bookish_the_clause(book) -> None:
    """问题6 says 31个省: the same unit with another number changes the book's fact, even in a clause of the
    book's own words (which would otherwise count as the book's claim); the book's number is no claim."""
    assert "unsupported_number" in claims_flagged(book, "q06_hk_macau_taiwan", "只有大陆内25个省才不收取国际漫游费，港澳台不在内")
    assert claims_flagged(book, "q06_hk_macau_taiwan", "只有大陆内三十一个省才不收漫游费，港澳台不在内，接听是要收费的") == set()


def test_zhuyaoshi_is_no_condition_and_a_question_word_after_buzhidao_tells(book) -> None:
    """主要是 (mainly) holds 要是 but sets no condition: 主要是给新入网的用户推荐 states a pole (the book: 为老客户
    推荐); 我也不知道为什么… is a statement with an indirect question, 您知道为什么吗 still asks."""
    assert "opposite_old_customers" in claims_flagged(book, "o_department", "我们是外呼回访部门，主要是给新开户的用户推荐优惠")
    assert claims_flagged(book, "o_department", "我们是客服中心的外呼回访部门，主要是给老客户推荐优惠，也能直接办理") == set()
    assert not rules.asks("我也不知道为什么要这样安排")
    assert rules.asks("您知道为什么吗")
    assert "professes_ignorance" in claims_flagged(book, "q19_why_call_10086", "我也不知道为什么非得让您打10086，您理解一下")


def test_a_callback_promised_in_either_word_order(book) -> None:
    """我们给您回个电话 and 我们回电话给您 are one promise (特殊问题 取消 only asks whether the customer wants one)."""
    for said in ("好的记下了，取消完我们回电话给您", "好的记下了，取消完我们这边给您回个电话"):
        assert claims_flagged(book, "sp_cancel", said) & {"promise_contact", "unsupported_contact"}, said


def test_blaming_the_customers_voice_is_impatience(book) -> None:
    """服务用语3 says 您的声音有些小，请您声音稍大一些好吗: 您说话也太轻了 / 我什么都听不清 blame the customer instead."""
    assert "impatient_with_customer" in claims_flagged(book, "d_speak_louder", "哎呀您说话也太轻了，我什么都听不清")
    assert claims_flagged(book, "d_speak_louder", "对不起，您的声音有些小，我这边听不太清，请您大点声好吗？") == set()


def test_blaming_how_customers_read_sms_is_no_reason_the_book_gives(book) -> None:
    """问题16's reason is that users find opening a business troublesome: 短信大家都不看 blames the customers."""
    assert "unsupported_blame" in claims_flagged(book, "q16_why_call_not_sms", "发短信的话用户们都不看，只能打电话")
    assert claims_flagged(book, "q16_why_call_not_sms", "好多用户觉得自己开业务挺麻烦的，打电话能直接解答，也能在线办") == set()


# ---------------------------------------------------------------- lead round 8: classes read from v8's misses, in other words

ROUND8_CLAIMS = [
    # what the customer's data or the recording is used for
    ("q24_recording", "有录音的，这些录音后面会用来做客户画像，请您理解。", "unsupported_purpose"),
    ("q02_why_my_data", "核对一下资料，主要是要录进我们的大数据系统里。", "unsupported_purpose"),
    # transfers the book never makes
    ("q27_mandarin", "谢谢您的建议，那我给您换一位普通话好的同事来说。", "unsupported_transfer"),
    ("q11_accent", "您要是听不惯，我帮您转接到北京本地的坐席。", "unsupported_transfer"),
    # the agent undermining their own competence, the company admitting a fault the book denies
    ("q11_accent", "说实话我刚入职，好多业务还不熟。", "unsupported_competence"),
    ("p_315_gala", "那件事我们移动其实也有过错，现在都在改。", "unsupported_fault"),
    # 10086 or a store said not to handle what the book sends the customer there for
    ("o_store_location", "营业厅的位置10086不负责的，您自己地图上搜吧。", "unsupported_limits"),
    # amounts and periods the book never gives, said with a lone numeral before the unit
    ("q24_recording", "有录音，录音在系统里留两个月就清掉。", "unsupported_amount"),
    ("sp_abroad_rate", "在国外接我们的电话，按每分钟三块钱收。", "per_minute_rate"),
    # a goodbye said alone, after a negated condition: the negation is the condition's
    ("q01_who_allowed", "外呼是我们服务的一种形式。您要是听不进去，那我就挂了。", "hang_up_on_customer"),
    ("q01_who_allowed", "外呼是我们服务的一种形式，能让您先知道优惠。拜拜。", "unsupported_ending"),
    # pressure: a negated condition, then the claim
    ("q03_monopoly", "我们是征求您的意见，不过您这次不办以后就办不了了。", "pressure_customer"),
    ("q26_charge_refund", "这是短期优惠活动，其实您不开也要扣这笔钱的。", "unsupported_money"),
    # the foreign caller: no English transfer, no free call, no name
    ("f_foreign_caller", "This is Beijing Mobile. My name is Tom.", "unsupported_english_moves"),
    ("f_foreign_caller", "This is Beijing Mobile. The call is free, don't worry.", "unsupported_english_moves"),
    # Hong Kong and Macau said to be inside the 31 provinces' rule
    ("q06_hk_macau_taiwan", "大陆31个省外加澳门都不收国际漫游费。", "hk_in_mainland"),
]

ROUND8_HONEST = [
    ("o_manager_name", "不好意思，我们领导的姓名不方便向您透露，您有什么事我帮您转达。"),
    ("o_manager_name", "您的意见我给您转过去，负责人这边会知道的。"),
    ("q23_why_not_now", "不好意思，我这就在给您办着呢，系统有个默认过程，开好了短信通知您。"),
    ("q26_charge_refund", "这是短期活动，先收费，然后送您优惠券用。"),
    ("q15_how_number", "号码是随机抽到的，老用户才有这个优惠，十块钱一个月，五个G。"),
    ("q24_recording", "有录音的，是为了提高服务质量，保障双方权益，有问题好查。"),
    ("q05_roaming_10086", "您在外地打的10086是当地的，北京的业务那边查不了也办不了，您拨01010086，也免费。"),
    ("q21_your_benefit", "我们没什么好处，就是想把好服务推荐给您这样的老用户。"),
    ("p_spam_sms", "垃圾短信的治理得全社会一块儿来，您收到可以发到10086999举报。"),
]


def test_round8_classes_catch_claims_in_new_wordings(book) -> None:
    """Each claim contradicts the book; the rule named is the class written for it, but a claim is as well
    caught by an earlier class (转接 is also a cause the book never gives, 两个月 any number)."""
    missed = [(e, t, r) for e, t, r in ROUND8_CLAIMS if not contradicting(book, e, t)]
    assert missed == []


def test_round8_classes_spare_honest_answers(book) -> None:
    flagged = [(e, t, contradicting(book, e, t)) for e, t in ROUND8_HONEST if contradicting(book, e, t)]
    assert flagged == []


def test_a_lone_numeral_before_a_unit_is_a_value_and_a_month_before_an_amount_is_per_month() -> None:
    assert rules.unit_digits("按一分钟一块钱算") == "按1分钟1块钱算"
    assert rules.unit_digits("一个月十块钱") == "每月十块钱" and rules.unit_digits("10块钱一个月") == "10块钱每月"
    assert rules.unit_digits("等一个月才开") == "等1个月才开"
    assert rules.unit_digits("一块儿治理") == "一块儿治理" and rules.unit_digits("稍等一下") == "稍等一下"


def test_a_bare_clause_has_no_book_support() -> None:
    assert rules.bare("再见") and rules.bare("挂了") and not rules.bare("开通成功会有短信通知")


# ---------------------------------------------------------------- lead round 9: read from v9's misses, in other words

ROUND9_CLAIMS = [
    # a phone number the entry's lines never give: the hotline is a setting, and the customer naming it
    # (你们10086的普通话) does not make sending them there the book's move
    ("q27_mandarin", "谢谢指正，我们会多练普通话，您还有意见的话打10086说说我的情况。"),
    # the recording denied at any step, not only where the customer asks about it
    ("q16_why_call_not_sms", "好多用户嫌自己办麻烦，所以打电话给您解答，这个电话也不录音，您随便说。"),
    # the cancel without the number check the book asks for
    ("sp_cancel", "好的给您记上，取消流量加油包，手机号就不用核对了。"),
    # the customer's consent assumed from the call
    ("q16_why_call_not_sms", "打电话办方便，您电话里没说不要就算同意了。"),
    # a time of day promised for an act
    ("c_earlier_problem", "这个问题我这边处理，今天下午就给您弄好。"),
]

ROUND9_HONEST = [
    ("q08_owner", "您这张卡是用自己身份证办的吗？不是的话今天先不给您开了，以后您想开可以再打电话问我们怎么开。"),
    ("p_315_measures", "保护客户通信秘密是我们的职责，315以后管理更严了，您的资料我们绝对不外泄。"),
    ("p_315_gala", "那次曝光的是厂家和sp的事，跟移动没关系。再说我们这次联系您，是您同意了才给您开。"),
    ("q01_who_allowed", "不好意思打扰您，我们这是北京移动10086的正常外呼，能让您早点知道新优惠。"),
    ("q24_recording", "是有录音的，不录音的话出了问题没法查，请您理解。"),
]


# ---------------------------------------------------------------- lead round 10: read from v10's misses, in other words

ROUND10_CLAIMS = [
    ("q01_who_allowed", "外呼是我们的一种服务形式，这个电话您接通了就算默认同意办理了。"),
    ("c_harassment", "我是按工作职责联系您的，您接起来就是同意听推荐了。"),
    ("q27_store_complaint", "我把意见记下来反馈给相关部门，那个营业员这就会被辞退。"),
    ("p_protect_info", "我们有完善的保护规定，不过外包公司那边我们管不着。"),
    ("sp_abroad", "您在国外接听要收费，那您现在就决定办不办吧。"),
    ("sp_cancel", "好的给您记录，取消流量加油包，不必核对了。"),
    ("d_noisy", "对不起听不清您讲话，您先听我说，加油包一个月十块钱五个G。"),
]

ROUND10_HONEST = [
    ("q27_store_complaint", "您的意见我记下来向相关部门反馈，您回头再留意一下，好吗？"),
    ("o_store_location", "您要办业务可以打10086问问前台，那边会告诉您离您最近的网点。"),
    ("q03_monopoly", "我们不是强制您开，您可以再想想，想好了回头打10086也能办，就是没有这个优惠了。"),
    ("p_protect_info", "保护客户的通信秘密是我们的责任，我们有一整套信息安全管理规定。"),
]


def contradicting_item(book, item_id: str, text: str) -> list[str]:
    """`contradicting` for an entry or a protocol drill's first step."""
    from voicebot.drill import check_rules
    return [v.rule for v in check_rules(_step_or_entry(book, item_id), text, book)[0] if v.severity == "contradicts"]




# ---------------------------------------------------------------- lead round 11: read from v11's misses, in other words
# Classes: the caller's number as a personal phone; the customer or "the system" as the cause; the agent
# looking into the account in any tense; the offer "even without the call"; not going to practise; put up
# with it; a place named for a store; impatience with an accent; someone else to take the call; coercion
# (必须, 不办就停机); another operator's name, also in English; an English move to activate; opening again;
# giving up when the line is quiet.

ROUND11_CLAIMS = [
    ("q01_identity", "这个来电有时候显示的是我们员工的个人手机，您别担心。"),
    ("q12_called_before", "因为您上回没给准话，所以系统又安排了一次。"),
    ("q16_why_call_not_sms", "是系统自动判断您更适合电话沟通，所以今天给您打过来。"),
    ("q13_no_rebate", "我这边给您调一下返还记录看看到没到账。"),
    ("sp_unsure_business", "您别着急，我们这边翻一下您的业务清单就知道了。"),
    ("q22_everyone", "这个优惠就算没接到电话也照样能享受。"),
    ("q27_mandarin", "谢谢您的建议，不过我们不打算专门去练普通话。"),
    ("q27_mandarin", "您就将就着听吧，我们都这么说话。"),
    ("o_store_location", "最近的营业厅在国贸地铁站旁边，您过去就行。"),
    ("d_dialect", "您这口音太重了，麻烦说普通话。"),
    ("d_dialect", "您让家里年轻人来听一下电话吧。"),
    ("d_opening", "您好，北京移动10086，您这个号码被抽中了，必须办理流量加油包。"),
    ("d_opening", "您好，这里是北京联通客服，工号8086。"),
    ("d_foreign", "This is China Unicom. Can you speak Chinese?"),
    ("d_foreign", "This is Beijing Mobile. I can activate the data plan for you."),
    ("q13_no_rebate", "那我这边再给您补开一遍就好了。"),
    ("d_speak_louder", "对不起，您声音有点小，听不清那我就不问了。"),
]

ROUND11_HONEST = [
    ("q13_my_account", "抱歉，我们外呼这边查不到您的详细资料，您打10086问问前台。"),
    ("q16_why_call_not_sms", "电话里有什么疑问能直接给您解答，还能在线帮您办理。"),
    ("q15_how_number", "您的号码是系统随机抽取的，您放心。"),
    ("q22_everyone", "这个优惠只有电话邀请的用户才有，没接到电话也就没有。"),
    ("q27_mandarin", "感谢您的建议，以后我们会加强普通话的锻炼。"),
    ("d_dialect", "对不起，请您讲普通话好吗？"),
    ("d_foreign", "This is Beijing Mobile. Can you speak Chinese? My English is broken, sorry to trouble you."),
    ("o_store_location", "您要办业务可以咨询10086前台，他会告诉您就近的网点。"),
    ("q01_identity", "您可以看一下来电显示是10086，这是北京移动客户服务专用号码。"),
]


def test_a_negated_condition_before_ye_does_not_negate_the_claim(book) -> None:
    """不打电话邀请也有: the negation is the condition's; 没接到电话的也不会有 keeps its own negation."""
    from voicebot import rules
    rule = book.rules["offer_for_everyone"]
    assert [h.negated for h in rules.hits(rule, "这个优惠不打电话邀请也有", book.settings)] == [False]
    assert all(h.negated for h in rules.hits(rule, "这个优惠没接到电话的也不会有", book.settings))


def test_an_a_not_a_after_shuo_qingchu_is_told_not_asked() -> None:
    from voicebot import rules
    assert not rules.asks("是您上次没说清楚要不要")
    assert rules.asks("您到底要不要")
    assert rules.asks("您还没决定要不要办吗")


# ---------------------------------------------------------------- lead round 12: read from v12's misses, in other words
# Classes: another phone than the customer's own; "call this number and ask for me"; joining a complaint
# about a store; a promise of no more calls; a shared work id; a rough range of months (两三个月 is no 23);
# a phone number the entry never gives; a purpose after a look-into verb; the company's quota as a cause;
# where the number came from; 长期 where the book says 短期; English asking for a number; another
# service phrase's line (方言's where the customer is only hard to hear).

ROUND12_CLAIMS = [
    ("q17_signal", "您可以借朋友的手机打10086问一下。"),
    ("q18_cant_get_through", "您晚点回拨这个号码找我就行。"),
    ("d_closing", "那不打扰您了，有事找我就可以，祝您心情愉快。"),
    ("q27_store_complaint", "那家营业厅老是这样，您下次换一家吧。"),
    ("d_complaint_listen", "您别生气，那边确实就是不行，我们也常听说。"),
    ("sp_do_not_call", "好的，以后就不会再给您打电话了。"),
    ("q10_office_name", "我的工号是8086，这个工号是我们几个人合用的。"),
    ("p_spam_sms", "这个问题两三个月就能解决。"),
    ("q02_why_my_data", "核对资料是为了给您寄礼品卡。"),
    ("c_check_data", "资料是保密的，不过我们会抽查您的通话录音。"),
    ("q21_your_benefit", "这是公司给我们定的任务，办不够不能下班。"),
    ("q15_how_number", "您的号码是您在营业厅办卡时填写的。"),
    ("q26_charge_refund", "这个优惠活动是长期的，一直都有。"),
    ("o_store_location", "您可以打10086666问问附近的网点。"),
    ("d_foreign", "This is Beijing Mobile. Please give me your phone number."),
    ("d_not_heard", "对不起，请您换一个安静点的地方好吗？"),
    ("d_dialect", "对不起，您的声音有些小，麻烦您声音稍大一些。"),
]

ROUND12_HONEST = [
    ("c_called_again", "非常抱歉，我再给您登记一次，以后尽量不再用电话联系您。"),
    ("sp_do_not_call", "好的，您的要求我会马上反馈，以后避免用电话联系您。"),
    ("q20_reach_you", "对不起，您直接找我是找不到的，可以通过前台的记录反馈给我。"),
    ("d_closing", "那就不打扰您了，祝您每天都开开心心的，再见。"),
    ("q26_charge_refund", "我们这是一个短期的优惠活动，先收费，再送优惠券。"),
    ("q01_identity", "您看来电显示是10086，感谢您长期对移动的支持。"),
    ("q15_how_number", "因为您是北京移动的用户，号码是随机抽取的。"),
    ("d_noisy", "对不起，听不清您讲话，请您换个安静点的地方可以吗？"),
    ("d_speak_louder", "不好意思，您声音有点小，能稍微大点声吗？"),
    ("d_not_heard", "不好意思，我没听清楚，您能重复一遍吗？"),
    ("q05_roaming_10086", "您可以拨打01010086，这个是北京的客服号。"),
]


def test_a_rough_range_before_a_measure_is_no_number() -> None:
    from voicebot.text import numerals_to_digits
    assert numerals_to_digits("一两个月就能清理") == "一两个月就能清理"
    assert numerals_to_digits("两三天") == "两三天"
    assert numerals_to_digits("工号八零三四") == "工号8034"   # digits read one by one stay a number
    assert numerals_to_digits("三十一个省") == "31个省"


def test_another_service_phrase_is_named_with_its_situation(book) -> None:
    from voicebot.drill import check_rules, other_situation
    entry = _step_or_entry(book, "d_speak_louder")
    found = other_situation(entry, "对不起，您的声音有些小，麻烦您换一个安静点的地方好吗？", book)
    assert found is not None and found.rule == "other_situation" and found.severity == "contradicts"
    assert "嘈杂" in found.message and "声音稍大一些" in found.message   # the other situation, and this step's line
    assert other_situation(entry, "很抱歉，我听不清您讲话，请您大点声音可以吗？", book) is None   # this drill's second line
    assert other_situation(book.get("q01_identity"), "请您使用普通话好吗？", book) is None      # entries have no situation
    assert [v.rule for v in check_rules(entry, "对不起，请您使用普通话好吗？", book)[0]] == ["other_situation"]


def test_term_is_claim_is_checked_and_keeps_the_book_claim_from_excusing_the_term(book) -> None:
    problems: list[str] = []
    node = {"id": "x_claim", "description": "d", "book": "b", "patterns": ["总部"], "term_is_claim": True}
    assert not rules.build_rule(node, problems.append, "rules.yaml").term_is_claim
    assert "belongs to kind unsupported" in problems[-1]
    assert not rules.build_rule(dict(node, kind="unsupported", term_is_claim="yes"), problems.append, "rules.yaml").term_is_claim
    assert "true or false" in problems[-1]
    lines = ["建议您本机拨打10086咨询"]
    framed = rules.build_rule(dict(node, kind="unsupported", patterns=["家里人"], support=90, term_is_claim=False),
                              problems.append, "rules.yaml")
    named = rules.build_rule(dict(node, kind="unsupported", patterns=["家里人"], support=90, term_is_claim=True),
                             problems.append, "rules.yaml")
    said = "楼下大爷大妈和家里人拨打10086咨询"
    assert rules.unsupported([framed], lines, said, book.settings) is None        # the rest is the book's claim: excused
    assert rules.unsupported([named], lines, said, book.settings) is not None


# ---------------------------------------------------------------- lead round 13: read from v13's misses, in other words
# Classes: looking up a work order; 10086 said to know or do less than it does; a thorough guarantee; an
# audit or a contract as the cause; the offer kept for later; the local 10086 doing it after all; 不收…费
# abroad; a call transferred to the agent; no more visits; a remark about the customer off the line; a
# price changed in 块 (the book's 元); a later step's line said first (the book counts before it closes).

ROUND13_CLAIMS = [
    ("c_earlier_problem", "我帮您调一下上次的工单看看进度。"),
    ("o_internal_staff", "这是外呼的专属活动，前台那边不清楚的。"),
    ("p_spam_sms", "您举报以后垃圾短信很快就能彻底没有了。"),
    ("q23_why_not_now", "开通前要先审核一下您的资质。"),
    ("q01_who_allowed", "打电话联系您是您入网合同里写好的。"),
    ("q03_monopoly", "您慢慢考虑，这个优惠名额一直给您保留着。"),
    ("q05_roaming_10086", "打的是当地的10086，他们照样能给您办。"),
    ("q06_hk_macau_taiwan", "您到港澳台接听不收漫游费的。"),
    ("q20_reach_you", "您打10086报我工号，前台会把电话转给我。"),
    ("sp_cancel", "好的，取消之后我们就不会再回访您了。"),
    ("d_manager", "领导您来一下，这客户一直在吵。"),
    ("d_opening", "您好，北京移动10086，流量加油包每月只要八块钱，您了解一下吗？"),
    ("d_off_topic", "抱歉，您的问题超出了我们的受理范围，我们要结束这通电话了。"),
    ("d_no_response", "对不起，听不到您任何回应，以后有优惠再联系您。"),
    ("q14_other_business", "其他业务您去营业厅办吧，10086也办不了。"),
]

ROUND13_HONEST = [
    ("q20_reach_you", "您找不到我，不过前台同事会把您的意见记下来转给我。"),
    ("q02_why_my_data", "核实资料是为了保证给您开通业务的时候准确。"),
    ("q05_roaming_10086", "您漫游时打的是当地的10086，不能查询或办理北京的业务，您可以拨打01010086。"),
    ("d_off_topic", "非常抱歉，现在是工作时间，业务以外的问题不方便回答您。"),
    ("d_no_response", "电话已接通，请问您能听到我的声音吗？"),
    ("d_opening", "您好，这里是北京移动10086客服，工号8086，邀请您体验流量加油包，每月10元5个G，您看方便了解一下吗？"),
    ("c_earlier_problem", "很抱歉，请问您是什么时间反馈的，反馈的是什么问题？"),
    ("o_internal_staff", "我们是客服中心的外呼部门，您可以打10086前台问一下。"),
]


def test_a_later_steps_line_said_first_skips_the_books_count(book) -> None:
    from voicebot.drill import step_entry, step_too_early
    drill = next(x for x in book.exercises if x.id == "d_no_response")
    closing = "对不起，听不到您任何回应，以后有优惠再联系您，祝您愉快，再见！"
    early = step_too_early(step_entry(book, drill, 1), closing, book)
    assert early is not None and early.rule == "step_too_early" and "第3步" in early.message
    assert step_too_early(step_entry(book, drill, 3), closing, book) is None        # its own step
    assert step_too_early(step_entry(book, drill, 1), "电话已接通，请问您能听到我的声音吗？", book) is None
    assert step_too_early(book.get("q01_identity"), closing, book) is None         # an entry has no steps


# ---------------------------------------------------------------- lead round 14: read from v14's misses, in other words
# Classes: a phone number the entry never gives inside a book sentence; 总部/集团; self-service channels
# (APP, 网上营业厅); 营业厅 where the entry sends the customer to 10086; promotion moved to SMS or WeChat;
# the agent's own use as proof; asking for a rating; a booked slot or no queue; a surname given; a cause
# (资料过期, 结算, 成本, a business the customer opened); a purpose (欠费) inside an indirect question; the
# customer's earlier registration blamed; "everyone can"; opening for a non-owner or without consent;
# the fee said not to pass through us (3.15); partners said to manage themselves; keep pitching abroad.

ROUND14_CLAIMS = [
    ("p_spam_sms", "垃圾短信您可以免费发到10086888举报，有专人受理。"),
    ("q05_caller_id", "我们是移动集团的客服热线，显示01010086也是一样的。"),
    ("q14_other_business", "其他业务您下载我们的手机APP就能自己开。"),
    ("q19_why_call_10086", "我们外呼坐席权限不一样，您这个问题到营业厅去问吧。"),
    ("c_harassment", "抱歉打扰了，以后就换成微信给您推送优惠信息。"),
    ("q09_using_it", "这个业务我家里人一直在用，挺好的。"),
    ("s_thanks", "不客气，挂机后麻烦给我一个五星好评。"),
    ("o_store_location", "您打10086，前台能帮您预约网点，到了不用排队。"),
    ("o_manager_name", "负责人的名字不方便说，他姓李。"),
    ("q23_why_not_now", "要等系统出账以后才能开通。"),
    ("q02_why_my_data", "核对资料是因为您的实名信息已经失效了。"),
    ("q02_why_my_data", "跟您核实一下，主要是为了看看您有没有欠费。"),
    ("c_called_again", "又打扰您了，是您之前留的号码登记得不完整。"),
    ("q15_how_number", "这个优惠所有的用户打10086都可以办。"),
    ("q08_owner", "不是本人的话也没事，我们照样可以给您开通。"),
    ("p_315_gala", "这个钱我们移动根本不经手，是厂家直接扣的。"),
    ("p_protect_info", "合作伙伴接触信息，归他们自己公司管理。"),
    ("sp_abroad_rate", "收费跟国内一样，我快速把业务给您讲完吧。"),
    ("d_closing", "好的先生，先生您看，先生那就不打扰了，祝先生心情愉快。"),
]

ROUND14_HONEST = [
    ("p_spam_sms", "您可以把垃圾短信免费转发到10086999举报。"),
    ("q05_caller_id", "由于系统识别的原因，有的区域会显示01010086，和10086一样都是北京移动的客服热线。"),
    ("q14_other_business", "其他业务麻烦您稍后拨打10086咨询一下开通方式。"),
    ("q18_cant_get_through", "可能人工台比较忙，您稍后再拨一次，或者到就近的营业厅咨询。"),
    ("q03_monopoly", "您不同意的话，我们是无权给您开通的。"),
    ("q25_other_number", "如果您想给另一个号开通，挂机后拨打10086咨询一下开通方式。"),
    ("d_closing", "好的，以后有更优惠的活动我们再联系您，那就不打扰您了，祝您心情愉快，再见！"),
    ("q02_why_my_data", "我们跟您确认一下资料有没有问题，是为了给您开通的时候准确无误。"),
    ("p_315_gala", "我们只负责代收这笔费用，具体问题您可以咨询手机厂家。"),
    ("q09_using_it", "现在很多用户都在用，用了以后反映效果不错。"),
]


def test_a_negated_condition_then_its_own_negated_result_is_two_facts() -> None:
    """您不同意我们是无权给您开通的: two negated facts, not one whose negations cancel."""
    from voicebot.rules import contradicted, facts
    book = "您同意我们可以在线为您办理，您不同意我们是无权给您开通的。"
    assert [f.negated for f in facts(book)] == [False, True, True]
    assert contradicted(book, "您不同意，我们是无权给您开通的。") is None
    assert contradicted(book, "我们是有权给您开通的。") is not None


# ---------------------------------------------------------------- lead round 15: read from v15's misses, in other words
# Classes: a partner, outsourcer or branch centre as who we are; the agent seeing all the customer's data;
# no record needed; 港澳台 counted as domestic; switching the recording off; asking for the reason before
# giving the work id; calling back from the system; doing another number "along the way"; pushing the
# offer where the customer was not heard; asking a foreigner to speak English. False alarms fixed: 催他们
# 赶紧 (the departments, not the customer), 帮您记录取消 (a record), 不是非要 (a negation), 很正常,
# 改一点点, 以后不再用电话方式打扰您, 以后有优惠活动再联系您, 名字对外不说, a note's act (找当班负责人).

ROUND15_CLAIMS = [
    ("q01_identity", "我们是北京移动委托的第三方客服，来电显示是10086，您放心。"),
    ("q02_why_my_data", "您的套餐和余额我们这边都能看到，核对一下只是走个形式。"),
    ("q04_315_telemarketing", "您不想接以后就不接，我这边不用做任何登记。"),
    ("q06_hk_macau_taiwan", "香港现在也算国内，接听不收国际漫游费。"),
    ("q24_recording", "您介意的话，我先把录音停掉。"),
    ("s_work_id", "您先说一下要工号干什么，我再决定告诉不告诉您。"),
    ("p_remember_number", "号码系统里有，我改天回拨给您。"),
    ("q25_other_number", "另一个号我这边顺带一起给您在线办了。"),
    ("d_not_heard", "没听清也没关系，我先给您介绍一下流量加油包。"),
    ("f_foreign_caller", "This is Beijing Mobile. Could you speak English, please?"),
]

ROUND15_HONEST = [
    ("c_earlier_problem", "我帮您反馈给相关部门，催他们赶紧给您处理。"),
    ("sp_cancel", "好的，帮您记录取消，是13800138000这个号码的流量加油包吗？"),
    ("q03_monopoly", "不是非要您开通，您同意我们可以在线办理，不同意我们无权给您开。"),
    ("q05_area_code", "您在外地，显示所在地的区号加10086，这个很正常，是北京移动的客服热线。"),
    ("q27_agent_feedback", "谢谢您的建议，我会一点点改正的。"),
    ("sp_do_not_call", "好的，您的要求我马上反馈，尽快处理，以后不再用电话方式打扰您了。"),
    ("d_closing", "那就不打扰您了，以后有优惠活动再联系您，祝您心情愉快，再见。"),
    ("q10_office_name", "办公地点不方便透露，名字我们对外都不说，统一用工号8086。"),
    ("d_manager", "请您稍等，我马上叫领导来接听（按下静音键，找当班负责人简要说明情况）"),
    ("o_internal_staff", "我们是外呼部门，您稍后打10086前台咨询这项活动，都能查到的。"),
]


# ---------------------------------------------------------------- lead round 16: read from v16's misses, in other words
# Classes: the protection said to be still in the works; a dialect said to be fine; asking the customer to
# speak lower; free wherever you are (不管在哪儿 is no question); an SMS the entry never sends; not pressing
# mute for the manager; another city's "Mobile" in English; the owner as whoever pays; the front desk said
# unable to pass on opinions; a later time to keep pitching; rewards and referrals; the offer as good in
# the store; everyone called; only the plan name visible; no more outbound calls; looking it up in the
# system; the local 10086 doing it after all; only in the store. False alarms fixed: 记不清很正常 (the
# customer's), 还是您自己办的呀 (an alternative question), 当面 as the customer's wish, 肯定熟悉.

ROUND16_CLAIMS = [
    ("p_sell_data", "保护机制目前还在完善中，欢迎您监督。"),
    ("d_dialect", "没关系，您说四川话也行，我尽量听。"),
    ("d_speak_louder", "您小点声说就行，我这边听得见。"),
    ("d_opening", "您好，北京移动10086，流量加油包每月10元，而且无论您在哪里接电话都不收费。"),
    ("d_closing", "好的，回头我把优惠内容发条短信给您，祝您心情愉快，再见。"),
    ("d_manager", "请您稍等，我不按静音了，我跟领导说的您都能听到。"),
    ("f_foreign_caller", "Hello, this is Shanghai Mobile. Can you speak Chinese?"),
    ("q08_owner", "机主就是每个月付这个号话费的人。"),
    ("q20_reach_you", "您找不到我，前台也没法把意见转给我们这边。"),
    ("c_harassment", "抱歉打扰，以后改到周末再给您推荐。"),
    ("s_thanks", "不客气，您多帮我介绍几个朋友来办呀。"),
    ("q01_who_allowed", "这个活动在网上营业厅也都能办，我们就是提醒您一下。"),
    ("p_315_measures", "3.15以后我们就减少外呼了。"),
    ("q12_called_before", "我在系统里帮您看看开没开通。"),
]

ROUND16_HONEST = [
    ("sp_unsure_business", "没关系，记不清很正常，您平时收到的是什么内容的信息？"),
    ("q13_no_rebate", "您当时是我们电话邀请您开通的，还是您自己办理的呀？"),
    ("o_store_location", "您想去营业厅当面办的话，可以咨询10086前台，他会给您介绍就近的网点。"),
    ("o_internal_staff", "您也是移动的同事，那您对这些肯定熟悉，我们是外呼部门，工号8086。"),
    ("q23_why_not_now", "系统有个默认的处理过程，开好了会给您发短信通知的。"),
    ("q16_why_call_not_sms", "很多用户觉得自己开业务麻烦，所以改成打电话在线给您办。"),
    ("f_foreign_caller", "Hello, this is China Mobile in Beijing. Can you speak Chinese?"),
    ("q08_owner", "机主就是这张卡是用谁的身份证办的。"),
    ("sp_do_not_call", "您的要求我马上反馈，以后尽量不打电话了。"),
    ("q10_office_name", "办公地点不方便透露，您有业务要办的话营业厅都可以办。"),
]


# ---------------------------------------------------------------- lead round 17: read from v17's misses, in other words
# Classes: no other channel left (the customer must watch out alone); the device's settings as the cause;
# the number recommended by a store from spending; doing it yourself in the store; "not our problem"; no
# more contact whatever happens; a relative's landline; the work id not usually given, or another id;
# digging out records; a complaint met with "it happens, go off-peak"; one-sided rights; the coupon before
# the charge; the call's cost on us; management needs no care; staff keeping data; spam solved; answering
# an off-topic question; the offer before saying who we are (二访); a manager who does not take calls; no
# SMS after opening; a foreigner asked for a passport.

ROUND17_CLAIMS = [
    ("q04_315_telemarketing", "您不接受电话的话，我们就没有其他办法联系您了。"),
    ("q05_caller_id", "显示01010086是您手机来电设置的原因。"),
    ("q15_how_number", "您的号码是根据您的消费情况筛出来推荐给我们的。"),
    ("q16_why_call_not_sms", "您了解清楚后自己到营业厅办一下就行。"),
    ("c_called_again", "这是系统自动拨的，不是我们这边的问题。"),
    ("q17_signal", "您可以用家里的座机打10086反映一下。"),
    ("s_work_id", "我们通常不报工号的，您有事跟我说吧。"),
    ("s_work_id", "您记一下，我的工号是6080。"),
    ("d_complaint_listen", "您别生气，排队是常有的事，下次您错峰去就好了。"),
    ("q24_recording", "是有录音的，主要是保护我们公司自己的权益。"),
    ("q26_charge_refund", "这个是先送您优惠券，用完了再收费。"),
    ("sp_abroad_why_pay", "这通电话的话费由我们公司承担，您放心。"),
    ("p_sell_data", "我们系统本身很安全，管理上不用操心。"),
    ("p_remember_number", "个别情况下我们员工可以自己存客户号码。"),
    ("p_spam_sms", "垃圾短信我们已经基本治理完了。"),
    ("d_off_topic", "吃过了，谢谢您，咱们说回流量加油包吧。"),
    ("d_second_visit", "您好，上次的流量加油包您考虑好了吗？"),
    ("sp_manager", "我们领导在开会，不方便接电话。"),
    ("q27_agent_feedback", "谢谢您的意见，开通以后也不会有短信打扰您。"),
    ("f_foreign_caller", "This is Beijing Mobile. May I have your passport number?"),
]

ROUND17_HONEST = [
    ("q04_315_telemarketing", "如果您不接受这种方式，请问您希望以后用哪种方式联系您呢？"),
    ("q16_why_call_not_sms", "今天来电就是在线解答您的疑问，并且给您提供在线办理的机会。"),
    ("c_called_again", "非常抱歉又打扰您了，是我们工作没有做好，我再帮您记录一次。"),
    ("s_work_id", "好的，您记一下，我的工号是8086。"),
    ("q24_recording", "是有录音的，主要是为了保障双方的合法权益。"),
    ("q26_charge_refund", "这是短期的优惠活动，先收取费用，然后再送优惠券。"),
    ("sp_abroad_why_pay", "现在咱们之间的通话确实收费，我们把您的要求记下来，等您回来再联系您。"),
    ("d_second_visit", "您好，这里是北京移动10086客服，我的工号是8086。"),
    ("q23_why_not_now", "系统有一个默认的处理过程，开通成功之后会有短信通知您的。"),
    ("p_spam_sms", "垃圾信息治理任务是长期而艰巨的，我们也将加大治理力度。"),
]


# ---------------------------------------------------------------- lead rounds 18 and 19: read from v18's and v19's misses, in other words
# Classes (round 18, recogniser-style text): a purpose of grading the customer; opening first and
# explaining after; the offer for every user; a colleague blamed; an agent saying the work id is not for
# telling; seeing the customer's records; a source the customer "registered"; no one can stop leaks; data
# made public; an English transfer to a colleague; taking the customer's silence as a yes; the agent's own
# quota; a staff member's home town; a complaint excused. Round 19: the customer's whereabouts as the
# cause; a work id that changes by shift; a colleague still learning; opening takes effect at once; a
# landline instead of the customer's own phone; the front desk's notes that never reach us; a note on the
# account as a made-up exception; supervision kept inside; data opened to partners; hurrying the pitch
# abroad; dialling back the number without checking; a guess said as a question; a nickname after 客服; a
# manager who need not come; the plan used abroad; the owner as whoever uses the phone; a customer listed.
# Left: a cause or a source in a short clause otherwise made of the entry's words (显示01010086是因为您人在
# 外地: 71 % of it is the book's) is not flagged; the clause's support decides, not the term alone.

ROUND18_CLAIMS = [
    ("q02_why_my_data", "核对资料是为了给您做个信用评分。"),
    ("q04_315_telemarketing", "您点头的话我先给您开上，开好了再跟您讲资费。"),
    ("q09_using_it", "这个优惠面向全部客户，谁来办都一样。"),
    ("q12_called_before", "上回是我同事没给您讲明白，我再给您介绍一下。"),
    ("q28_complain_agent", "您别生气，工号这个不便告诉您。"),
    ("c_check_data", "我们这边可以看到您的通话记录，所以知道您喜欢什么。"),
    ("p_sell_data", "信息泄露这种事谁也保证不了。"),
    ("p_315_measures", "以后客户资料会公开出来接受检查。"),
    ("f_foreign_caller", "Please hold on, I will get a colleague who speaks English."),
    ("d_not_heard", "抱歉没听清，那我就当您是想办了。"),
    ("d_thanks", "不用谢，您帮我开一个就行，我这月还差两单。"),
    ("d_praise", "谢谢，我们这儿的客服都是北京人。"),
    ("d_complaint_listen", "您别生气，营业厅那天可能人太多了忙不过来。"),
]

ROUND18_HONEST = [
    ("q06_hk_macau_taiwan", "您到港澳台接听是要收费的目前只有大陆三十一个省不收漫游费港澳台不算在里面"),
    ("q03_monopoly", "我们并不是要求您开通本次来电就是征求您的意见的您不同意我们是无权给您开通的"),
    ("p_315_gala", "这件事跟北京移动没有任何关系我们只负责代收这笔费用具体问题您可以咨询手机厂家"),
    ("q13_no_rebate", "给您添麻烦了请问您当时是电话邀请开通的还是您自己办的呢"),
    ("c_check_data", "公司只是分析客户的使用习惯，这里面没有您的具体内容，请您放心。"),
]

ROUND19_CLAIMS = [
    ("q10_office_name", "我们的工号是按班次轮换的，今天是8086。"),
    ("q11_accent", "我们这边的同事业务还在熟悉，说不清的地方您多包涵。"),
    ("q16_why_call_not_sms", "电话里办好了立即生效，不用等。"),
    ("q17_signal", "您换个座机打10086反映一下。"),
    ("q20_reach_you", "前台那边记下来的意见转不到我们这儿。"),
    ("q26_charge_refund", "我给您备注一下，这次就不先扣费了。"),
    ("p_sell_data", "监督是我们内部的事，不用您操心。"),
    ("p_315_measures", "客户资料以后会对合作商家开放一部分。"),
    ("sp_cancel", "回电的话我直接打您这个号就行了。"),
    ("d_not_heard", "抱歉没听清，您是想问上个月的话费吧？"),
    ("d_second_visit", "您好，我是北京移动客服小王。"),
    ("sp_manager", "您跟我说就行，我转告给领导，他就不用来接了。"),
    ("sp_abroad", "流量加油包在国外也能用，挺划算的。"),
    ("q08_owner", "机主就是平时用这个号码的人。"),
]

ROUND19_HONEST = [
    ("q05_area_code", "您人在外地的话，来电显示就是当地区号加10086，也是北京移动的客服热线。"),
    ("q05_roaming_10086", "您在外地打10086是免费的，北京的业务拨01010086。"),
    ("q02_why_my_data", "主要是怕开通的时候出差错，所以跟您确认一下资料。"),
    ("q17_signal", "很抱歉给您带来不便，建议您用本机拨打10086反映。"),
    ("sp_manager", "请您稍等，我马上叫领导来接听。"),
]


ROUND20_CLAIMS = [
    ("q03_monopoly", "您慢慢考虑，这个价格我们给您保留到下个月。"),
    ("q06_hk_macau_taiwan", "澳门那边现在也按国内的标准收费了。"),
    ("q09_using_it", "网上营业厅也在搞这个活动，谁办都是一样的。"),
    ("q10_office_name", "您打10086报我的工号，他们就能帮您联系上我。"),
    ("q14_other_business", "等加油包开好了，我就可以顺便帮您弄别的业务。"),
    ("q16_why_call_not_sms", "以后我们不会给您发任何短信。"),
    ("q19_why_call_10086", "您别挂，我这边直接把电话转接到人工客服。"),
    ("q22_everyone", "能被抽中的都是网龄满三年以上的客户。"),
    ("q25_other_number", "您家里那个号码，我这边也顺便一起办了吧。"),
    ("c_called_again", "为了表示歉意，我们给您的账户送二十块钱话费。"),
    ("c_check_data", "我这边帮您把这个号码设置成不接收推荐。"),
    ("p_sell_data", "我可以帮您check一下是谁调取过您的信息。"),
    ("p_protect_info", "合作伙伴是完全接触不到客户资料的。"),
    ("o_store_location", "这个优惠只能去营业厅办的。"),
]

ROUND20_HONEST = [
    ("q20_reach_you", "很抱歉，您没法直接找到我，您的意见前台记下来也会转到我们这边。"),
    ("q25_other_number", "另一个号码您要是也想办，挂机后打10086问问开通方式就好。"),
    ("d_noisy", "Sorry，您那边有点吵，我听不太清楚，您换个安静的地方好吗？"),
    ("q07_send_sms", "真是sorry，因为系统问题现在没办法给您发短信，您可以打10086了解一下。"),
    ("q26_charge_refund", "这是一个短期的优惠活动，先收取费用，然后再送优惠券的形式邀请您使用。"),
]

LEAD_CLAIMS = (ROUND18_CLAIMS + ROUND19_CLAIMS + ROUND20_CLAIMS + ROUND9_CLAIMS + ROUND10_CLAIMS + ROUND11_CLAIMS + ROUND12_CLAIMS + ROUND13_CLAIMS + ROUND14_CLAIMS
               + ROUND15_CLAIMS + ROUND16_CLAIMS + ROUND17_CLAIMS)
LEAD_HONEST = (ROUND18_HONEST + ROUND19_HONEST + ROUND20_HONEST + ROUND9_HONEST + ROUND10_HONEST + ROUND11_HONEST + ROUND12_HONEST + ROUND13_HONEST + ROUND14_HONEST
               + ROUND15_HONEST + ROUND16_HONEST + ROUND17_HONEST)


def test_lead_rounds_9_to_20_claims_are_caught(book) -> None:
    missed = [(e, t) for e, t in LEAD_CLAIMS if not contradicting_item(book, e, t)]
    assert missed == []


def test_lead_rounds_9_to_20_honest_answers_pass(book) -> None:
    flagged = [(e, t, found) for e, t in LEAD_HONEST if (found := contradicting_item(book, e, t))]
    assert flagged == []


def test_a_question_word_under_bu_guan_states_every_case() -> None:
    """不管在哪儿都是免费的 claims something of every place; 营业厅在哪儿 asks."""
    from voicebot.rules import asks
    assert not asks("接我们的电话不管在哪儿都是免费的")
    assert not asks("无论什么时候打都能办")
    assert asks("营业厅在哪儿")
    assert asks("还是您自己办的呀", True)   # the second half of an alternative question


def test_a_phone_number_one_digit_off_is_a_slip_another_is_a_claim(book) -> None:
    """10086666 where the book says 10086999 is another number; 20086 for 10086 is how a recogniser
    mishears the book's line (a spoken good answer through whisper), not a claim."""
    assert "unsupported_number" in contradicting_item(book, "p_spam_sms", "我们建立了免费的10086666短信举报平台，有专人专岗受理。")
    assert contradicting_item(book, "q01_identity", "您看一下手机上的来电显示是20086，这是移动公司客户服务的专用号码。") == []


def test_a_recognisers_run_on_clause_keeps_each_facts_polarity() -> None:
    """No commas: 只有大陆31个省才不收漫游费港澳台是不属于在内的 is two negated facts, not one fact whose
    negations cancel; the stretch that states the book's fact decides (rules._local)."""
    book = "目前只有中国大陆内31个省才不收取国际漫游费，港澳台是不属于在内的。"
    assert rules.contradicted(book, "目前只有中国大陆内三十一个省才不收取国际漫游费港澳台是不属于在内的") is None
    assert rules.contradicted("本次来电是征求您的意见的。", "我们并不是要求您开通本次来电是征求您的意见的") is None
    assert rules.contradicted("是有录音的。", "您放心我们这个电话是没有录音的") is not None


def test_a_question_is_told_by_its_words_when_no_mark_is_written() -> None:
    assert rules.asks("请问您当时是电话邀请开通的还是您自己办理的呢")
    assert rules.asks("那您呢")
    assert not rules.asks("还没吃呢")
    assert not rules.asks("我这边能看到您的记录所以知道您需要什么")
    # a question closing a statement starts at its opener: the statement stays one
    said = [c for c, _ in rules.clause_spans("我们这次是邀请所有用户体验流量加油包每月十块您看方便了解一下吗")]
    assert said == ["我们这次是邀请所有用户体验流量加油包每月十块", "您看方便了解一下吗"]


def test_a_negated_condition_does_not_reach_its_result(book) -> None:
    """您要是没记住我给您发条短信: the 没 is the condition's; the result promises an SMS."""
    assert "unsupported_sms" in contradicting_item(book, "d_thanks", "不客气，您要是没记住我给您发条短信过去")
    assert contradicting_item(book, "d_thanks", "不客气，您要是没记住我再给您说一遍") == []


def test_a_rule_can_hold_even_on_consent(book) -> None:
    """on_consent: 您愿意的话我就给您开上，开完再说资费 is no book offer, though it waits for a yes."""
    assert book.rules["open_before_explaining"].on_consent
    assert "open_before_explaining" in contradicting_item(book, "q03_monopoly", "您愿意的话我现在就给您开上，开完了再跟您说资费。")
    problems: list[str] = []
    rules.build_rule({"id": "x_rule", "description": "d", "book": "“b”", "patterns": ["x"], "on_consent": "yes"},
                     problems.append, "test")
    assert any("on_consent" in p for p in problems)


def test_a_short_number_that_sounds_like_the_books_words_is_a_mishearing(book) -> None:
    """Whisper wrote 这四倍天移动 for 这是北京移动 (si bei = shi bei once sh/s fold) and Q4 for part of 10086:
    the recogniser misheard the book's line; a number said in clear words is still a claim."""
    assert contradicting_item(book, "q01_identity", "我们这四倍天移动的客服热线，您可以放心。") == []
    assert contradicting_item(book, "q01_identity", "来电显示是Q4，这是北京移动的客服专用号码。") == []
    # 8086您先 heard as 80860先 (零 and 您 meet once n/l, ing/in fold); 80865 is another work id
    assert contradicting_item(book, "q28_complain_agent", "我的工号是80860先别着急，别生气。") == []
    assert "unsupported_number" in contradicting_item(book, "q28_complain_agent", "我工号是80865，您先别着急别生气。")
    assert "unsupported_number" in contradicting_item(book, "q01_identity", "我们这个客服热线是四倍的速度，您放心。") \
        or "unsupported_amount" in contradicting_item(book, "q01_identity", "我们这个客服热线是四倍的速度，您放心。")


def test_a_mixed_in_sorry_is_an_apology_in_a_chinese_line_only() -> None:
    """Trainees who mix in English open with Sorry (round 20); an English line keeps its own words."""
    from voicebot.rules import canon
    assert canon("Sorry，我没听懂").startswith("抱歉") and canon("真是对不住").endswith("抱歉")
    assert canon("I'm sorry to trouble you") == "imsorrytotroubleyou"

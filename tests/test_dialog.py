"""The book's protocols as rules: scripted text events in, actions out (no audio).

Runs on the fixture book (tests/data/book): the lines asserted are that book's, read from it where the
rule is "say the book's line" and quoted where the test is about one of its entries.
"""
from voicebot.dialog import Escalate, Hangup, Policy, Record, Ringback, Say, Silence, Started

from helpers import said
from helpers import turn as heard


def line(book, protocol, key="say", i=0):
    """A protocol line of the book, filled as the bot says it."""
    value = book.protocol(protocol)[key]
    return book.fill(value[i] if isinstance(value, (list, tuple)) else value)


def test_opening_gives_identity_work_id_and_purpose(fixture_book, fixture_matcher):
    p = Policy(fixture_book, fixture_matcher)
    lines = said(p.handle(Started(0.0)))
    assert lines == [fixture_book.fill(fixture_book.protocol("opening")["say"][0])]
    assert fixture_book.settings["工号"] in lines[0] and fixture_book.settings["业务"] in lines[0]


def test_no_response_asks_twice_then_closes_and_hangs_up(policy, fixture_book):
    prompt = line(fixture_book, "no_response", "prompt")
    a1 = policy.handle(Silence(10, 4))
    a2 = policy.handle(Silence(20, 4))
    a3 = policy.handle(Silence(30, 4))
    assert said(a1) == [prompt] and said(a2) == [prompt]
    assert said(a3) == [line(fixture_book, "no_response", "closing")]
    assert isinstance(a3[-1], Hangup) and a3[-1].reason == "no_response"
    assert [r.kind for r in a3 if isinstance(r, Record)] == ["no_response", "offer"]  # not a refused return visit
    assert [r.fields for r in a3 if isinstance(r, Record) and r.kind == "offer"] == [{"verdict": "undecided"}]
    assert policy.handle(Silence(40, 4)) == []                                 # the call is over


def test_speech_resets_the_no_response_count(policy, fixture_book):
    prompt = line(fixture_book, "no_response", "prompt")
    policy.handle(Silence(10, 4))
    heard(policy, "你们这个电话有录音吗")
    assert said(policy.handle(Silence(30, 4))) == [prompt]
    assert said(policy.handle(Silence(40, 4))) == [prompt]
    assert isinstance(policy.handle(Silence(50, 4))[-1], Hangup)


def test_off_topic_follows_the_book_order_then_closes_and_waits(policy, fixture_book):
    proto = fixture_book.protocol("off_topic")
    lines = [said(heard(policy, q)) for q in
             ["今天天气怎么样", "你喜欢看足球吗", "你晚上几点下班", "你有对象吗", "你多大了", "推荐个餐馆"]]
    assert lines[0] == [fixture_book.fill(proto["prompts"][0])]
    assert lines[1] == [fixture_book.fill(proto["prompts"][1])]
    assert lines[2] == lines[3] == lines[4] == [fixture_book.fill(proto["ask"])]          # asked three times
    assert lines[5] == [fixture_book.fill(proto["closing"])]
    assert not policy.ended                                             # the book: wait a little
    assert policy.timeout_s() == policy.options.off_topic_wait_s
    final = heard(policy, "那你们几点下班")
    assert not said(final) and final[-1] == Hangup("off_topic")


def test_off_topic_closing_then_silence_hangs_up(policy):
    for q in ["今天天气怎么样", "你喜欢看足球吗", "你晚上几点下班", "你有对象吗", "你多大了", "推荐个餐馆"]:
        heard(policy, q)
    end = policy.handle(Silence(60, 4))
    assert not said(end) and end[-1] == Hangup("off_topic")


def test_low_confidence_asks_to_repeat(policy, fixture_book):
    assert said(heard(policy, "那个什么", confidence=0.3, level_dbfs=-25, snr_db=25)) == \
        [line(fixture_book, "not_heard")]


def test_quiet_speech_asks_to_speak_up_then_the_second_line(policy, fixture_book):
    first = said(heard(policy, "", confidence=0.0, level_dbfs=-45, snr_db=20))
    second = said(heard(policy, "", confidence=0.0, level_dbfs=-45, snr_db=20))
    assert first == [line(fixture_book, "speak_louder", i=0)]
    assert second == [line(fixture_book, "speak_louder", i=1)]
    assert first != second


def test_noisy_line_asks_to_move_somewhere_quieter(policy, fixture_book):
    assert said(heard(policy, "啊啊", confidence=0.2, level_dbfs=-20, snr_db=3)) == [line(fixture_book, "noisy")]


def test_confident_match_is_answered_even_when_noisy(policy):
    actions = heard(policy, "现在咱们的通话有录音吗", confidence=0.9, level_dbfs=-20, snr_db=3)
    assert actions[0].entry == "recording"


def test_dialect_asks_for_mandarin(policy, fixture_book):
    assert said(heard(policy, "你哋系边度", language="yue", language_prob=0.9)) == [line(fixture_book, "dialect")]


def test_english_speaker_hears_one_line_then_the_bot_waits_then_goodbye(policy):
    actions = heard(policy, "Hello? Sorry, I don't speak Chinese.")
    lines = [a for a in actions if isinstance(a, Say)]
    assert [l.text for l in lines] == ["Hello, this is the test line.", "Do you speak Chinese?"]
    assert all(l.language == "en" for l in lines) and not policy.ended   # a pause for the reply
    again = heard(policy, "No, English please")
    assert said(again) == ["Sorry, English service is not available.", "Goodbye."]
    assert all(a.language == "en" for a in again if isinstance(a, Say)) and again[-1] == Hangup("answered")


def test_english_speaker_who_switches_to_chinese_hears_the_offer(policy):
    heard(policy, "Hello? Who is this?")
    reply = heard(policy, "我会说一点中文")
    assert [a.reason for a in reply if isinstance(a, Say)] == ["offer_pitch"] and not policy.ended


def test_thanks_praise_and_work_id(policy, fixture_book):
    assert said(heard(policy, "谢谢你啊")) == ["不用客气。"]
    assert said(heard(policy, "你们服务态度真好")) == ["多谢夸奖，我会继续努力。"]
    assert said(heard(policy, "你工号是多少")) == [f"我的工号{fixture_book.settings['工号']}。"]


def test_thanks_with_a_question_gets_thanks_then_the_answer(policy, fixture_book):
    actions = heard(policy, "谢谢，那你们是怎么知道我手机号的")
    assert said(actions)[0] == line(fixture_book, "thanks_prefix")
    assert actions[1].entry == "how_number"


def test_manager_request_mutes_and_escalates(policy):
    actions = heard(policy, "找你们领导来接电话")
    assert said(actions) == ["好的，请稍候，领导马上接听。"]
    assert any(isinstance(a, Escalate) for a in actions)
    assert actions[-1] == Hangup("escalated")


def test_complaint_lets_the_customer_talk_then_sums_up_and_records(policy, fixture_book):
    first = heard(policy, "我要投诉你们乱扣我话费的事情")
    assert [a.reason for a in first if isinstance(a, Say)] == ["complaint_listen"]
    assert not [r for r in first if isinstance(r, Record)]            # 让客户去说: not yet
    more = heard(policy, "上个月莫名其妙多扣了五十块")
    assert [a.reason for a in more if isinstance(a, Say)] == ["complaint_listen"]
    done = policy.handle(Silence(30, 4))                               # the customer has finished
    lines = said(done)
    assert "上个月莫名其妙多扣了五十块" in lines[0] and lines[-1].endswith("您反映的问题已经记下，会尽快处理。")
    rec = [r for r in done if isinstance(r, Record)]
    assert [r.kind for r in rec] == ["complaint"] and rec[0].fields == {"about": "service"}
    assert "乱扣我话费" in rec[0].text and "多扣了五十块" in rec[0].text
    assert not any("10086" in line for line in lines)


def test_do_not_call_is_recorded(policy):
    dnc = heard(policy, "你们以后不要再给我打电话了")
    assert [r.kind for r in dnc if isinstance(r, Record)] == ["do_not_call", "offer"]


def test_customer_abroad_is_told_it_is_charged(policy):
    assert said(heard(policy, "我在国外接你们电话收费吗")) == ["您在国外接听是收费的，长话短说。", "等您回国我们再联系，好吗？"]


def test_foreign_ringback_hangs_up_before_the_greeting(fixture_book, fixture_matcher):
    p = Policy(fixture_book, fixture_matcher)
    actions = p.handle(Ringback(3.0, "foreign"))
    assert actions[-1] == Hangup("foreign_ringback") and not said(actions)
    assert p.handle(Started(5.0)) == []
    q = Policy(fixture_book, fixture_matcher)
    assert q.handle(Ringback(3.0, "domestic")) == []


def test_address_forms_said_at_most_three_times(policy, fixture_book):
    # Both answers carry {称呼} and {咱们}: asked six times, the bot says 先生/女士 and 咱(们) three times each.
    raw = [fixture_book.get(e).answer[0] for e in ("office", "how_number")]
    assert all("{称呼}" in a and "{咱们}" in a for a in raw)
    lines = []
    for q in ["你们办公地点在哪啊", "你们是怎么知道我手机号的"] * 3:
        lines += said(heard(policy, q))
    title = fixture_book.settings["称呼"]
    assert sum(text.count(title) for text in lines) == 3
    assert sum(text.count("咱") for text in lines) == 3


def test_repeat_request_repeats_the_last_line(policy):
    first = said(heard(policy, "你们这个电话有录音吗"))
    assert said(heard(policy, "你说什么")) == first


def test_second_answer_on_repeat(policy, fixture_book):
    entry = fixture_book.get("using_it")
    a = said(heard(policy, "你自己现在在用这个业务吗"))
    b = said(heard(policy, "那你自己用着这个业务没有"))
    assert len(entry.answer) == 2
    assert a[0] == fixture_book.fill(entry.answer[0]) and b[0] == fixture_book.fill(entry.answer[1])

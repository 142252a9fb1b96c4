"""The book's protocols as rules: scripted text events in, actions out (no audio)."""
from voicebot.dialog import Escalate, Hangup, Heard, Policy, Record, Ringback, Say, Silence, Started


def said(actions):
    return [a.text for a in actions if isinstance(a, Say)]


def heard(policy, text, t=10.0, **kw):
    return policy.handle(Heard(t, text, **kw))


def test_opening_gives_identity_work_id_and_purpose(book, matcher):
    p = Policy(book, matcher)
    lines = said(p.handle(Started(0.0)))
    assert lines and "10086" in lines[0] and book.settings["工号"] in lines[0] and book.settings["业务"] in lines[0]


def test_no_response_asks_twice_then_closes_and_hangs_up(policy):
    prompt = "电话已接通，请问您能听到我的声音吗？"
    a1 = policy.handle(Silence(10, 4))
    a2 = policy.handle(Silence(20, 4))
    a3 = policy.handle(Silence(30, 4))
    assert said(a1) == [prompt] and said(a2) == [prompt]
    assert said(a3) == ["对不起，听不到您任何回应，以后有优惠再联系您，祝您愉快，再见！"]
    assert isinstance(a3[-1], Hangup) and a3[-1].reason == "no_response"
    assert [r.kind for r in a3 if isinstance(r, Record)] == ["no_response"]   # not a refused return visit
    assert policy.handle(Silence(40, 4)) == []                                 # the call is over


def test_speech_resets_the_no_response_count(policy):
    policy.handle(Silence(10, 4))
    heard(policy, "你们这个电话有录音吗")
    assert said(policy.handle(Silence(30, 4))) == ["电话已接通，请问您能听到我的声音吗？"]
    assert said(policy.handle(Silence(40, 4))) == ["电话已接通，请问您能听到我的声音吗？"]
    assert isinstance(policy.handle(Silence(50, 4))[-1], Hangup)


def test_off_topic_follows_the_book_order_then_closes_and_waits(policy, book):
    proto = book.protocol("off_topic")
    lines = [said(heard(policy, q)) for q in
             ["今天天气怎么样", "你喜欢看足球吗", "你晚上几点下班", "你有对象吗", "你多大了", "推荐个餐馆"]]
    assert lines[0] == [book.fill(proto["prompts"][0])]
    assert lines[1] == [book.fill(proto["prompts"][1])]
    assert lines[2] == lines[3] == lines[4] == [proto["ask"]]          # asked three times
    assert lines[5] == [proto["closing"]]
    assert not policy.ended                                             # the book: wait a little
    assert policy.timeout_s() == policy.options.off_topic_wait_s
    final = heard(policy, "那你们几点下班")
    assert final == [Hangup("off_topic")]


def test_off_topic_closing_then_silence_hangs_up(policy):
    for q in ["今天天气怎么样", "你喜欢看足球吗", "你晚上几点下班", "你有对象吗", "你多大了", "推荐个餐馆"]:
        heard(policy, q)
    assert policy.handle(Silence(60, 4)) == [Hangup("off_topic")]


def test_low_confidence_asks_to_repeat(policy):
    assert said(heard(policy, "那个什么", confidence=0.3, level_dbfs=-25, snr_db=25)) == \
        ["很抱歉，我刚才没有听清楚，请您重复一遍，好吗？"]


def test_quiet_speech_asks_to_speak_up_then_the_second_line(policy):
    first = said(heard(policy, "", confidence=0.0, level_dbfs=-45, snr_db=20))
    second = said(heard(policy, "", confidence=0.0, level_dbfs=-45, snr_db=20))
    assert first == ["对不起，您的声音有些小，麻烦您声音稍大一些，好吗？"]
    assert second == ["很抱歉，我听不清您讲话，请您大点声音可以吗？"]


def test_noisy_line_asks_to_move_somewhere_quieter(policy):
    assert said(heard(policy, "啊啊", confidence=0.2, level_dbfs=-20, snr_db=3)) == \
        ["对不起，听不清您讲话，请您换一个安静点的地方可以吗？"]


def test_confident_match_is_answered_even_when_noisy(policy):
    actions = heard(policy, "现在咱们的通话有录音吗", confidence=0.9, level_dbfs=-20, snr_db=3)
    assert actions[0].entry == "q24_recording"


def test_dialect_asks_for_mandarin(policy):
    assert said(heard(policy, "你哋系边度", language="yue", language_prob=0.9)) == ["对不起，请您使用普通话好吗？"]


def test_english_speaker_gets_the_four_english_lines_then_hangup(policy):
    actions = heard(policy, "Hello? Sorry, I don't speak Chinese.")
    lines = [a for a in actions if isinstance(a, Say)]
    assert [l.text for l in lines] == ["This is Beijing Mobile.", "Can you speak Chinese?",
                                       "My English is broken. I'm sorry to trouble you.",
                                       "Wish you have a good journey in China, goodbye."]
    assert all(l.language == "en" for l in lines)
    assert isinstance(actions[-1], Hangup)


def test_thanks_praise_and_work_id(policy, book):
    assert said(heard(policy, "谢谢你啊"))[0].startswith(("不客气", "没关系"))
    assert said(heard(policy, "你们服务态度真好"))[0].startswith(("谢谢，这是我们应该做的", "很高兴为您服务"))
    assert book.settings["工号"] in said(heard(policy, "你工号是多少"))[0]


def test_thanks_with_a_question_gets_thanks_then_the_answer(policy):
    actions = heard(policy, "谢谢，那你们是怎么知道我手机号的")
    assert said(actions)[0] == "不客气，"
    assert actions[1].entry == "q15_how_number"


def test_manager_request_mutes_and_escalates(policy):
    actions = heard(policy, "找你们领导来接电话")
    assert said(actions)[0].startswith("请您稍等，我马上叫领导来接听")
    assert any(isinstance(a, Escalate) for a in actions)
    assert actions[-1] == Hangup("escalated")


def test_complaint_and_do_not_call_are_recorded(policy):
    complaint = heard(policy, "我要投诉你们乱扣我话费的事情")
    assert [r for r in complaint if isinstance(r, Record)][0].kind == "complaint"
    assert [r for r in complaint if isinstance(r, Record)][0].text == "我要投诉你们乱扣我话费的事情"
    dnc = heard(policy, "你们以后不要再给我打电话了")
    assert [r.kind for r in dnc if isinstance(r, Record)] == ["do_not_call"]


def test_customer_abroad_is_told_it_is_charged(policy):
    lines = said(heard(policy, "我在国外接你们电话收费吗"))
    assert "收费" in lines[0]


def test_foreign_ringback_hangs_up_before_the_greeting(book, matcher):
    p = Policy(book, matcher)
    actions = p.handle(Ringback(3.0, "foreign"))
    assert actions[-1] == Hangup("foreign_ringback") and not said(actions)
    assert p.handle(Started(5.0)) == []
    q = Policy(book, matcher)
    assert q.handle(Ringback(3.0, "domestic")) == []


def test_address_forms_said_at_most_three_times(policy, book):
    # Lines whose answers carry {称呼}: asked ten times, the bot may say 先生/女士 three times only.
    lines = []
    for q in ["你们太垄断了吧", "你公司在哪你叫什么名字", "你们负责人叫什么", "来电显示为什么是零一零一零零八六",
              "你们办公地点在哪啊", "你们太垄断了吧", "你们负责人叫什么", "来电显示为什么是零一零一零零八六",
              "你公司在哪你叫什么名字", "你们负责人叫什么"]:
        lines += said(heard(policy, q))
    title = book.settings["称呼"]
    assert sum(line.count(title) for line in lines) <= 3
    assert sum(line.count("咱") for line in lines) <= 3


def test_repeat_request_repeats_the_last_line(policy):
    first = said(heard(policy, "你们这个电话有录音吗"))
    assert said(heard(policy, "你说什么")) == first


def test_second_answer_on_repeat(policy, book):
    entry = book.get("q09_using_it")
    a = said(heard(policy, "你自己现在在用这个业务吗"))
    b = said(heard(policy, "那你自己用着这个业务没有"))
    if len(entry.answer) > 1:
        assert a[0] != b[0]

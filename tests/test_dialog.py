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
    assert [r.kind for r in a3 if isinstance(r, Record)] == ["no_response", "offer"]  # not a refused return visit
    assert [r.fields for r in a3 if isinstance(r, Record) and r.kind == "offer"] == [{"verdict": "undecided"}]
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
    assert not said(final) and final[-1] == Hangup("off_topic")


def test_off_topic_closing_then_silence_hangs_up(policy):
    for q in ["今天天气怎么样", "你喜欢看足球吗", "你晚上几点下班", "你有对象吗", "你多大了", "推荐个餐馆"]:
        heard(policy, q)
    end = policy.handle(Silence(60, 4))
    assert not said(end) and end[-1] == Hangup("off_topic")


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


def test_english_speaker_hears_one_line_then_the_bot_waits_then_goodbye(policy):
    actions = heard(policy, "Hello? Sorry, I don't speak Chinese.")
    lines = [a for a in actions if isinstance(a, Say)]
    assert [l.text for l in lines] == ["This is Beijing Mobile.", "Can you speak Chinese?"]
    assert all(l.language == "en" for l in lines) and not policy.ended   # a pause for the reply
    again = heard(policy, "No, English please")
    assert said(again) == ["My English is broken. I'm sorry to trouble you.",
                           "Wish you have a good journey in China, goodbye."]
    assert all(a.language == "en" for a in again if isinstance(a, Say)) and again[-1] == Hangup("answered")


def test_english_speaker_who_switches_to_chinese_hears_the_offer(policy):
    heard(policy, "Hello? Who is this?")
    reply = heard(policy, "我会说一点中文")
    assert [a.reason for a in reply if isinstance(a, Say)] == ["offer_pitch"] and not policy.ended


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


def test_complaint_lets_the_customer_talk_then_sums_up_and_records(policy):
    first = heard(policy, "我要投诉你们乱扣我话费的事情")
    assert [a.reason for a in first if isinstance(a, Say)] == ["complaint_listen"]
    assert not [r for r in first if isinstance(r, Record)]            # 让客户去说: not yet
    more = heard(policy, "上个月莫名其妙多扣了五十块")
    assert [a.reason for a in more if isinstance(a, Say)] == ["complaint_listen"]
    done = policy.handle(Silence(30, 4))                               # the customer has finished
    lines = said(done)
    assert "上个月莫名其妙多扣了五十块" in lines[0] and "已经记录好" in lines[-1]
    rec = [r for r in done if isinstance(r, Record)]
    assert [r.kind for r in rec] == ["complaint"] and rec[0].fields == {"about": "service"}
    assert "乱扣我话费" in rec[0].text and "多扣了五十块" in rec[0].text
    assert not any("10086" in line for line in lines)


def test_do_not_call_is_recorded(policy):
    dnc = heard(policy, "你们以后不要再给我打电话了")
    assert [r.kind for r in dnc if isinstance(r, Record)] == ["do_not_call", "offer"]


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
    assert len(entry.answer) == 2
    assert a[0] == book.fill(entry.answer[0]) and b[0] == book.fill(entry.answer[1])

"""The reading step: book text → what an agent says → pinyin for espeak-ng's cmn-latn-pinyin voice."""
from __future__ import annotations

import pytest

from voicebot.tts.reading import split_languages, to_pinyin, to_spoken


@pytest.mark.parametrize(("book", "spoken"), [
    # service and phone numbers: digit by digit, 1 said 幺
    ("10086", "幺零零八六"),
    ("01010086", "零幺零幺零零八六"),
    ("可以拨打010--10086是免费的。", "可以拨打零幺零幺零零八六是免费的。"),
    ("010-10086", "零幺零幺零零八六"),
    ("通过建立免费10086999短信举报平台", "通过建立免费幺零零八六九九九短信举报平台"),
    ("所在地的区号+10086", "所在地的区号加幺零零八六"),
    # counts and prices: quantities
    ("资费是10元/月。", "资费是十元每月。"),
    ("目前只有中国大陆内31个省才不收取国际漫游费", "目前只有中国大陆内三十一个省才不收取国际漫游费"),
    ("问2遍", "问两遍"),
    ("价格3.5元", "价格三点五元"),
    ("增加50%的流量", "增加百分之五十的流量"),
    ("３１个省", "三十一个省"),
    ("2023年", "二零二三年"),
    ("问题1", "问题一"),
    # 3.15 and 315 as people say the consumer-rights day
    ("3.15晚会这次曝光的事件", "三一五晚会这次曝光的事件"),
    ("客户质问315曝光信息安全", "客户质问三一五曝光信息安全"),
])
def test_numbers_read_as_agents_say_them(book: str, spoken: str) -> None:
    assert to_spoken(book) == spoken


@pytest.mark.parametrize(("book", "spoken"), [
    ("是的话那您就是这个*****号的机主了", "是的话那您就是这个号的机主了"),
    ("非常抱歉因系统问题目前我们无法为您下发短信·······建议客户致电10086详细咨询。",
     "非常抱歉因系统问题目前我们无法为您下发短信，建议客户致电幺零零八六详细咨询。"),
    ("本次来电是~~~~~~~~~", "本次来电是"),
    ("感谢您长期对移动的支持,(来电目的…)", "感谢您长期对移动的支持"),
    ("请您换一个安静点的地方(换个位置)可以吗?", "请您换一个安静点的地方，可以吗？"),
    ("（自信回答用户）我们是10086的外呼坐席", "我们是幺零零八六的外呼坐席"),
    ("【今后只要是客户表示要投诉的】切记，切记！", "切记，切记！"),
    ("先生/女士，由于系统识别原因，您所在区域有可能会显示“10086”或“01010086”",
     "先生或女士，由于系统识别原因，您所在区域有可能会显示幺零零八六或零幺零幺零零八六"),
    ("谢谢，这是我们应该做的。\\很高兴为您服务！", "谢谢，这是我们应该做的。很高兴为您服务！"),
    ("好的 帮您记录，是取消***号码的***业务吗?", "好的，帮您记录，是取消号码的业务吗？"),
    ("-----转来电目的", "转来电目的"),
    ("……", ""),
])
def test_symbols_are_not_spoken_and_pauses_stay(book: str, spoken: str) -> None:
    assert to_spoken(book) == spoken


@pytest.mark.parametrize("book", [
    "可以拨打010--10086是免费的。", "资费是10元/月。", "3.15之后你们有什么整改措施吗？",
    "先生/女士，您先别生气", "感谢您长期对移动的支持,(来电目的…)", "sp商之间",
])
def test_reading_is_idempotent(book: str) -> None:
    once = to_spoken(book)
    assert to_spoken(once) == once


def test_english_lines_keep_their_words() -> None:
    assert to_spoken("My English is broken. I’m sorry to trouble you…", "en") == \
        "My English is broken. I'm sorry to trouble you"
    assert to_spoken("Can you speak Chinese?", "en") == "Can you speak Chinese?"


def test_mixed_line_is_cut_into_language_runs() -> None:
    assert split_languages("sp商之间") == [("en", "S P"), ("zh", "商之间")]
    assert split_languages("This is Beijing Mobile，这里是北京移动") == \
        [("en", "This is Beijing Mobile"), ("zh", "，这里是北京移动")]
    assert split_languages("请您稍等") == [("zh", "请您稍等")]


@pytest.mark.parametrize(("book", "pinyin"), [
    ("请您稍等，我马上叫领导来接听",
     "qing3 nin2 shao1 deng3， wo3 ma3 shang4 jiao4 ling3 dao3 lai2 jie1 ting1"),
    ("电话已接通，请问您能听到我的声音吗？",
     "dian4 hua4 yi3 jie1 tong1， qing3 wen4 nin2 neng2 ting1 dao4 wo3 de5 sheng1 yin1 ma5？"),
    ("很抱歉，我刚才没有听清楚，请您重复一遍，好吗？",
     "hen3 bao4 qian4， wo3 gang1 cai2 mei2 you3 ting1 qing1 chu3， qing3 nin2 chong2 fu4 yi2 bian4， hao3 ma5？"),
    ("有疑问您可以打10086咨询。",
     "you3 yi2 wen4 nin2 ke2 yi3 da3 yao1 ling2 ling2 ba1 liu4 zi1 xun2。"),
    ("资费是10元/月。", "zi1 fei4 shi4 shi2 yuan2 mei3 yue4。"),
    ("先生/女士，您先别生气", "xian1 sheng1 huo4 nv3 shi4， nin2 xian1 bie2 sheng1 qi4"),
    ("是有录音的", "shi4 you3 lu4 yin1 de5"),
])
def test_pinyin_of_book_lines(book: str, pinyin: str) -> None:
    assert to_pinyin(book) == pinyin


@pytest.mark.parametrize(("text", "pinyin"), [
    # 一 and 不 tone sandhi (pypinyin applies it only inside its dictionary phrases)
    ("一样", "yi2 yang4"),
    ("一下", "yi2 xia4"),
    ("一起", "yi4 qi3"),
    ("看一看", "kan4 yi5 kan4"),
    ("第一", "di4 yi1"),
    ("唯一的", "wei2 yi1 de5"),
    ("三十一个省", "san1 shi2 yi1 ge4 sheng3"),
    ("不客气", "bu2 ke4 qi4"),
    ("好不好", "hao3 bu4 hao3"),
    # third-tone sandhi from pypinyin; ü written v as espeak-ng reads it
    ("你好", "ni2 hao3"),
    ("女士", "nv3 shi4"),
])
def test_tone_sandhi_and_spelling(text: str, pinyin: str) -> None:
    assert to_pinyin(text) == pinyin

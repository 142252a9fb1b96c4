"""Normalisation: what ASR writes and what the book writes must compare equal."""
import pytest

from voicebot.text import normalize, numerals_to_digits, pinyin_key, pinyin_syllables, to_simplified


@pytest.mark.parametrize("spoken, written", [
    ("三一五", "315"),
    ("三幺五", "315"),
    ("三百一十五", "315"),
    ("零一零一零零八六", "01010086"),   # leading zero kept (cn2an would drop it)
    ("幺零零八六", "10086"),
    ("三十一个省", "31个省"),
    ("一零零八六九九九", "10086999"),   # 九九 inside a run is digits, alone it is a word
])
def test_numerals_become_digits(spoken, written):
    assert numerals_to_digits(spoken) == written


@pytest.mark.parametrize("word", ["一下", "两个", "一五一十", "不一样", "九九"])
def test_words_with_numeral_characters_stay_words(word):
    assert numerals_to_digits(word) == word


def test_normalize_strips_spaces_punctuation_width_and_fillers():
    assert normalize("现在 咱们 的 通话 有 录音 吗 ？") == "现在咱们的通话有录音吗"
    assert normalize("１００８６，啊") == "10086"
    assert normalize("3.15晚会") == "315晚会"


def test_traditional_to_simplified():
    assert to_simplified("你們這通話有錄音嗎") == "你们这通话有录音吗"
    assert normalize("來電顯示") == "来电显示"


def test_homophones_share_a_pinyin_key():
    assert pinyin_key("手机号") == pinyin_key("手机好")
    assert pinyin_key("余额") == pinyin_key("鱼额")
    assert pinyin_key("电话") == pinyin_key("电化")
    assert pinyin_key("录音") != pinyin_key("回音")


def test_folding_merges_retroflex_and_nasal_confusions():
    assert pinyin_syllables("是") == pinyin_syllables("四")      # shi / si
    assert pinyin_syllables("是", fold=False) != pinyin_syllables("四", fold=False)
    assert pinyin_syllables("信") == pinyin_syllables("星")      # xin / xing

"""The TTS benchmark's scoring form: equal written forms compare equal, real differences stay errors."""
from __future__ import annotations

import importlib.util
import re
import sys

import pytest

from helpers import ROOT
from voicebot.tts.reading import to_spoken

_spec = importlib.util.spec_from_file_location("tts_cer", ROOT / "benchmarks" / "tts_cer.py")
assert _spec is not None and _spec.loader is not None
tts_cer = importlib.util.module_from_spec(_spec)
sys.modules["tts_cer"] = tts_cer
_spec.loader.exec_module(tts_cer)


@pytest.mark.parametrize(("said", "heard"), [
    ("幺零零八六", "10086"),                       # digits written as digits
    ("幺零零八六", "一零零八六"),                   # 幺 and 一 are one digit
    ("幺零零八六", "１００８６"),                   # full width
    ("零幺零幺零零八六", "〇一〇一〇〇八六"),         # 〇 and 零
    ("目前只有中国大陆内三十一个省", "目前只有中國大陸內31個省"),   # quantity, traditional
    ("每月只需十元。", "每月只需10元"),              # quantity, punctuation
    ("增加百分之五十的流量", "增加50%的流量"),
    ("三幺五晚会", "315晚會"),
    ("以及sp商之间", "以及SP 商之間"),             # case, space
    ("您好，这里是北京移动。", "您好 这里是北京移动"),
    ("我的工号是八零八六", "我的工號是8086"),
])
def test_equal_written_forms_compare_equal(said: str, heard: str) -> None:
    assert tts_cer.cer_form(said) == tts_cer.cer_form(heard)
    assert tts_cer.cer_parts(said, heard)[0] == 0
    assert tts_cer.classify(said, heard) == []


@pytest.mark.parametrize(("said", "heard", "edits", "kind"), [
    ("幺零零八六", "1080086", 2, "digits"),        # whisper's extra digits stay errors
    ("幺零零八六", "0086", 1, "digits"),
    ("幺零零八六", "10085", 1, "digits"),          # a wrong digit is a wrong digit
    ("我的工号是八零八六", "我的工号是8096", 1, "digits"),
    ("问两遍", "问二遍", 1, "near-sound"),          # 两 is not folded into 二
    ("请您放心，好吧", "请您放心好", 1, "dropped"),  # a dropped particle is not a "filler"
    ("您的电话", "您的电化", 1, "homophone"),
    ("这个问题", "这个问题的", 1, "inserted"),
    ("每月只需十元", "每月只需十一元", 1, "digits"),
])
def test_real_differences_stay_errors(said: str, heard: str, edits: int, kind: str) -> None:
    assert tts_cer.cer_parts(said, heard)[0] == edits
    found = tts_cer.classify(said, heard)
    assert [e.kind for e in found] == [kind]
    assert sum(e.cost for e in found) == edits


def test_book_lines_with_numbers_written_as_whisper_writes_them_have_no_errors() -> None:
    """Every book answer as spoken, its digit strings then written in Arabic digits and its
    characters in traditional script (as whisper-base writes them), scores 0 against the spoken line."""
    from voicebot import kb
    import opencc
    s2t = opencc.OpenCC("s2t")
    book = kb.load(ROOT / "scripts_kb")
    with_digits = 0
    for entry in book.entries:
        if entry.language != "zh":
            continue
        for line in entry.answer:
            spoken = to_spoken(book.fill(line))
            written = re.sub("[零幺二三四五六七八九]{3,}",
                             lambda m: "".join(str("零幺二三四五六七八九".index(c)) for c in m.group(0)),
                             spoken)
            with_digits += written != spoken
            assert tts_cer.cer_parts(spoken, s2t.convert(written))[0] == 0, (spoken, written)
    assert with_digits >= 10


def test_reference_length_counts_the_compared_characters() -> None:
    assert tts_cer.cer_parts("幺零零八六，好吧？", "10086好吧") == (0, 7)


def test_syllable_errors_forgive_homophones_only() -> None:
    """The syllable error rate (printed beside the CER) counts what the voice said by sound: a
    homophone is no error there, a wrong syllable, a wrong digit or a dropped word still is."""
    said = to_spoken("我的工号是8086，您可以拨打10086咨询")
    assert tts_cer.syllable_parts(said, "我的功耗是8086,您可以播打10086資訊")[0] == 0
    assert tts_cer.cer_parts(said, "我的功耗是8086,您可以播打10086資訊")[0] == 5
    assert tts_cer.syllable_parts(said, "我的工号是8086,您可以拨打100086咨询")[0] == 1   # a digit too many
    assert tts_cer.syllable_parts(said, "我的工号是8086,您可以拨打10086")[0] == 2       # 咨询 dropped
    assert tts_cer.syllable_parts("通信运营商", "通信遇宁伤")[0] == 2                  # yun→yu, ying→ning
    edits, syllables = tts_cer.syllable_parts(said, said)
    assert edits == 0 and syllables == len(tts_cer.cer_form(said))

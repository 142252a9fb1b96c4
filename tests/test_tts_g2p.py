"""Kokoro's Mandarin G2P: misaki's reading, corrected where the book's answers need it (no model)."""
from __future__ import annotations

import pytest
from misaki.zh import ZHG2P

from voicebot.tts.kokoro_g2p import MandarinG2P


@pytest.fixture(scope="module")
def g2p() -> MandarinG2P:
    return MandarinG2P()


def syllables(g2p: MandarinG2P, text: str) -> list[str]:
    return [s for word in g2p.pinyin(text) for s in word]


def test_10086_is_said_in_its_groups_and_other_numbers_digit_by_digit(g2p: MandarinG2P) -> None:
    words = g2p.pinyin("来电显示是幺零零八六")
    assert words[-3:] == [["yao1", "ling2", "ling2"], [","], ["ba1", "liu4"]]
    assert g2p("来电显示是幺零零八六，").endswith("jau→li↗ŋli↗ŋ, pa→ljou↘,")
    assert "jau→ li↗ŋli↗ŋ pa→ljou↘" in ZHG2P()("来电显示是幺零零八六，")[0]   # misaki alone: 幺 零零 八六
    assert g2p.pinyin("工号是八零八六")[-4:] == [["ba1"], ["ling2"], ["ba1"], ["liu4"]]
    assert g2p.pinyin("拨打零幺零幺零零八六")[-8:] == [[d] for d in
                                                   "ling2 yao1 ling2 yao1 ling2 ling2 ba1 liu4".split()]


@pytest.mark.parametrize(("text", "expected"), [
    ("确认一下", ["que4", "ren4", "yi2", "xia4"]),
    ("一种形式", ["yi4", "zhong3", "xing2", "shi4"]),
    ("是一样的", ["shi4", "yi2", "yang4", "de5"]),
    ("唯一的", ["wei2", "yi1", "de5"]),                 # 一 ending a word keeps its tone
    ("三十一个省", ["san1", "shi2", "yi1", "ge4", "sheng3"]),   # in a number too
    ("不断完善", ["bu2", "duan4", "wan2", "shan4"]),
    ("不方便", ["bu4", "fang1", "bian4"]),
])
def test_yi_and_bu_change_tone_before_the_next_syllable(g2p: MandarinG2P, text: str,
                                                       expected: list[str]) -> None:
    assert syllables(g2p, text) == expected


def test_di_after_an_adverb_is_the_particle_de(g2p: MandarinG2P) -> None:
    assert syllables(g2p, "为了更好地满足")[4] == "de5"
    assert syllables(g2p, "可以较好地保障")[4] == "de5"
    assert syllables(g2p, "您在外地的时候")[3] == "di4"        # 外地: a place
    assert syllables(g2p, "您所在地的区号")[3] == "di4"


@pytest.mark.parametrize("text", ["还可以帮您直接在线办理", "我公司高度重视不良信息治理工作",
                                  "感谢您长期对移动的支持", "欺诈消费者行为"])
def test_polyphones_misaki_reads_right_stay_as_they_are(g2p: MandarinG2P, text: str) -> None:
    assert g2p(text) == ZHG2P()(text)[0]

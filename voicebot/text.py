"""Mandarin text normalisation for matching: what ASR writes and what the book writes become comparable.

ASR output has no punctuation, spaces between words (vosk), traditional characters (whisper),
Chinese numerals for digits (三一五, 幺零零八六) and homophone errors (手机号 → 手机好).
`normalize` removes the first four differences; `pinyin_key` absorbs the homophones.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Final

import cn2an
import opencc
from pypinyin import lazy_pinyin

# Digit characters read one by one in phone numbers and codes (幺 is how 1 is said in numbers).
_DIGITS: Final = {"零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3",
                  "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
# A run of two or more digit characters is a number read digit by digit (三一五, 零一零一零零八六).
# 两 and 一 alone stay words (一下, 两个); 两 inside a run (幺两三) is still a digit.
_DIGIT_RUN: Final = re.compile(r"[零〇洞一幺二两三四五六七八九]{2,}")
# A run with 十/百/千 is a spoken quantity (三十一, 三百一十五): cn2an reads it.
_QUANTITY_RUN: Final = re.compile(r"[零一二两三四五六七八九]*[十百千][零一二三四五六七八九十百千]*")
# Words whose "digits" are not numbers; protected before digit runs are read.
_NUMERALS: Final = "零〇洞一幺二两三四五六七八九十百千"
_NOT_NUMBERS: Final = ("一一", "一二", "三三两两", "一五一十", "三五", "七八", "九九")
# Two neighbouring numerals alone before a measure are a rough range (一两个月, 两三天), not the number 12.
_RANGE: Final = re.compile(r"(?<![零一二两三四五六七八九十百千])(?:一两|两三|三四|四五|五六|六七|八九)"
                           r"(?=个|天|月|年|分钟|小时|块|元|毛|次|周|星期|遍|家|人|倍|g|兆)")
# Fillers and interjections that carry no meaning for matching; removed on both sides.
_FILLERS: Final = re.compile(r"[啊呀吧呢嘛哦喂嗯哈啦呗噢哎诶唉呃额]")
# Discourse padding that opens phone questions ("喂你好，我想问一下，就是……"): no meaning for matching.
# Only at the start of a line: inside one, 您好 may be 您+好吗 (再联系您好吗).
_PADDING: Final = re.compile(r"^(?:我想问一下|我想问问|我问一下|我问问|请问一下|请问|问一下|你好|您好|那个|就是说|就是)+")
_KEEP: Final = re.compile(r"[0-9a-z\u4e00-\u9fff]")

# Pinyin folding for southern and ASR confusions: zh/z, ch/c, sh/s, n/l, in/ing, en/eng.
_FOLD_INITIALS: Final = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
_FOLD_FINALS: Final = (("ing", "in"), ("eng", "en"))

_t2s = opencc.OpenCC("t2s")
_tw2s = opencc.OpenCC("tw2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified characters (whisper writes traditional for ~70 % of Mandarin lines, in
    Taiwan's usage: OpenCC t2s alone leaves 別著急 as 别著急; tw2s reads 著 in context, 著名 stays)."""
    return _t2s.convert(_tw2s.convert(text))


def _read_quantity(match: re.Match[str]) -> str:
    run = match.group(0)
    try:
        return str(cn2an.cn2an(run, "smart"))
    except (ValueError, KeyError):
        return run


def numerals_to_digits(text: str) -> str:
    """三一五 → 315, 零一零一零零八六 → 01010086 (leading zeros kept), 三十一 → 31."""
    protected = {w: f"\x00{i}\x00" for i, w in enumerate(_NOT_NUMBERS)}
    for word, mark in protected.items():   # only standing alone: 九九 of 一零零八六九九九 is digits
        text = re.sub(f"(?<![{_NUMERALS}]){word}(?![{_NUMERALS}])", mark, text)
    ranges: list[str] = []

    def keep(m: re.Match[str]) -> str:
        ranges.append(m.group(0))
        return f"\x01{len(ranges) - 1}\x01"

    text = _RANGE.sub(keep, text)
    text = _QUANTITY_RUN.sub(_read_quantity, text)
    text = _DIGIT_RUN.sub(lambda m: "".join(_DIGITS[c] for c in m.group(0)), text)
    for word, mark in protected.items():
        text = text.replace(mark, word)
    return re.sub("\x01([0-9]+)\x01", lambda m: ranges[int(m.group(1))], text)


def as_text(value: object) -> str:
    """A line from whatever a hand-edited book holds: text as is, a number as its digits, anything
    else (None, true, a list, a mapping) as no text. `kb check` reports such values; this keeps a
    call from crashing on them."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def normalize(text: str) -> str:
    """Comparable form: NFKC width, lower case, simplified, digits, no spaces, punctuation or fillers."""
    return _normalize(text if isinstance(text, str) else as_text(text))


@lru_cache(maxsize=4096)
def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = to_simplified(text)
    text = numerals_to_digits(text)
    text = _FILLERS.sub("", text)
    stripped = _PADDING.sub("", text)
    if _KEEP.search(stripped):  # never strip a line down to nothing (a bare 你好 stays)
        text = stripped
    return "".join(_KEEP.findall(text))


def _fold(syllable: str) -> str:
    for long, short in _FOLD_INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long):]
            break
    for long, short in _FOLD_FINALS:
        if syllable.endswith(long):
            syllable = syllable[: -len(long)] + short
            break
    return syllable


def pinyin_syllables(text: str, fold: bool = True) -> list[str]:
    """Toneless pinyin of normalised text, one item per character (digits and letters as themselves)."""
    return list(_pinyin_syllables(text if isinstance(text, str) else as_text(text), bool(fold)))


@lru_cache(maxsize=8192)
def _pinyin_syllables(text: str, fold: bool) -> tuple[str, ...]:
    # Cached: every Matcher (one per call, per drill, per `match`) converts the whole book again.
    syllables = lazy_pinyin(normalize(text), errors=lambda s: list(s))
    return tuple(_fold(s) for s in syllables) if fold else tuple(syllables)


_SYLLABLE_CODES: dict[str, str] = {}


def pinyin_key(text: str, fold: bool = True) -> str:
    """Pinyin as a string of one code point per syllable, so rapidfuzz compares syllables at string speed.

    余额 and 鱼额 get the same key; a syllable-level edit costs one, like a character edit.
    """
    out = []
    for syllable in pinyin_syllables(text, fold):
        code = _SYLLABLE_CODES.get(syllable)
        if code is None:
            code = chr(0xE000 + len(_SYLLABLE_CODES))  # Unicode private use area
            _SYLLABLE_CODES[syllable] = code
        out.append(code)
    return "".join(out)

"""The reading step: a book line becomes what an agent would say aloud.

The book is written for eyes: 10086, 01010086, 10元/月, 31个省, 3.15, 先生/女士, ****号,
(stage directions), ~~~ and ······. A voice given that text spells symbols or reads service
numbers as quantities (一万零八十六). `to_spoken` rewrites a line the way a 10086 agent says it;
`to_pinyin` turns the result into tone-numbered pinyin for espeak-ng's `cmn-latn-pinyin` voice,
which reads pinyin correctly where Debian's `cmn` voice misreads characters (see engine.py).

Numbers, as agents say them:
- a service or phone number (3+ digits, or a leading 0, or digit groups joined by -) digit by
  digit with 幺 for 1: 10086 → 幺零零八六, 010-10086 → 零幺零幺零零八六;
- a count or price (a number before a measure word or unit) as a quantity: 31个省 → 三十一个省,
  10元/月 → 十元每月, 2遍 → 两遍;
- a date-like decimal with no unit (3.15, the consumer-rights day) digit by digit as a name: 三一五
  (幺 is for dialled numbers: 10086, 110); 315 written without its dot is that day too;
- a 4-digit number before 年 as a year: 2023年 → 二零二三年.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Final, Literal

import cn2an
from pypinyin import Style, lazy_pinyin

READING_VERSION: Final = "2"
"""Bump whenever a rule here changes what is spoken: it is part of the TTS cache key."""

Language = Literal["zh", "en"]

PHONE_DIGITS: Final = "零幺二三四五六七八九"
"""Digits as read in phone and service numbers (幺 for 1, so 1 and 7 never blur on a phone line)."""
PLAIN_DIGITS: Final = "零一二三四五六七八九"
NAMED_DAYS: Final = frozenset({"315"})
"""Days written as bare digits in the book (315 = 3.15, the consumer-rights day): said 三一五."""
"""Digits as read in years (二零二三年)."""

UNITS: Final = (
    "分钟", "小时", "公里", "个", "元", "块", "角", "毛", "分", "秒", "天", "日", "周", "月", "年",
    "次", "遍", "位", "条", "省", "市", "家", "种", "人", "岁", "倍", "页", "张", "台", "部", "兆",
    "号", "名", "项", "件", "套", "笔", "期", "档", "折", "度", "米", "斤", "克", "多", "余", "G",
    "M", "K", "%", "％",
)
"""Words after a number that make it a quantity (31个省), not a number read digit by digit."""
LIANG_UNITS: Final = frozenset(
    ("个", "块", "元", "位", "条", "次", "遍", "种", "家", "天", "年", "周", "张", "台", "部", "件",
     "项", "套", "名", "小时", "分钟", "人", "倍", "页", "笔", "期", "档"))
"""Measure words after which 2 is said 两 (两遍, 两个), not 二 (二月, 二号)."""
RATE_UNITS: Final = "元块角毛分钱兆条次个MGK"
"""A "/" after one of these and before a period (元/月) is read 每 (per)."""
PERIODS: Final = "月年天日周时分秒次条个"

_FULLWIDTH_ALNUM: Final = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff05\uff0b\uff0f\u3000]")
_BRACKETED: Final = re.compile(r"[（(【\[〔［][^（）()【】\[\]〔〕［］]*[）)】\]〕］]")
_STRAY_BRACKETS: Final = re.compile(r"[（）()【】\[\]〔〕［］{}｛｝<>]")
_ELLIPSIS_LIKE: Final = re.compile(r"[…⋯·•・‧~～〜]+|\.{3,}|-{2,}(?!\d)|—+|_{2,}")
_PLACEHOLDER: Final = re.compile(r"[*＊#＃]+|XXX+", re.IGNORECASE)
_QUOTES_AND_MARKS: Final = re.compile(r"[“”\"'‘’「」『』《》〈〉Ø\\|^`]")
_RATE_SLASH: Final = re.compile(rf"(?<=[{RATE_UNITS}])\s*/\s*(?=[{PERIODS}])")
_SLASH: Final = re.compile(r"\s*[/／]\s*")
_PERCENT: Final = re.compile(r"(\d+(?:\.\d+)?)\s*[%％]")
_UNIT_ALT: Final = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_NUMBER: Final = re.compile(r"\d+(?:-+\d+)+|\d+\.\d+|\d+")
_HAN: Final = r"\u3400-\u9fff"
_SPACE_IN_HAN: Final = re.compile(rf"(?<=[{_HAN}])\s+(?=[{_HAN}])")
_PAUSES: Final = "，。？！、；："
_ASCII_PAUSES: Final = str.maketrans({",": "，", "?": "？", "!": "！", ";": "；", ":": "：", ".": "。"})
_PAUSE_RUN: Final = re.compile(rf"[{_PAUSES}\s]*[{_PAUSES}][{_PAUSES}\s]*")
_STRENGTH: Final = {"？": 3, "！": 3, "。": 2, "；": 1, "：": 1, "，": 0, "、": 0}
_LATIN_RUN: Final = re.compile(r"[A-Za-z][A-Za-z'’ .,!?-]*[A-Za-z.!?]|[A-Za-z]")


def _halfwidth(text: str) -> str:
    """Full-width digits, letters, %, +, / and the ideographic space → ASCII (Chinese pauses stay)."""
    return _FULLWIDTH_ALNUM.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)


def _drop_bracketed(text: str) -> str:
    """Remove (stage directions) and 【notes】 with their content, innermost first."""
    while True:
        stripped = _BRACKETED.sub("，", text)
        if stripped == text:
            return _STRAY_BRACKETS.sub("", stripped)
        text = stripped


def _digits(number: str, table: str = PHONE_DIGITS) -> str:
    return "".join(table[int(d)] for d in number if d.isdigit())


def _quantity(number: str) -> str:
    return str(cn2an.an2cn(number, "low"))


def _unit_after(text: str, end: int) -> str | None:
    """The unit word right after a number (spaces allowed), or None."""
    match = re.match(rf"\s*({_UNIT_ALT})", text[end:])
    return match.group(1) if match else None


def _is_date_like(number: str) -> bool:
    """3.15, 5.1, 11.11: month.day, said digit by digit like a name (三一五, not the 幺 of a dialled number)."""
    month, _, day = number.partition(".")
    return 1 <= int(month) <= 12 and 1 <= len(day) <= 2 and 1 <= int(day) <= 31


def _read_number(text: str, match: re.Match[str]) -> str:
    number = match.group(0)
    unit = _unit_after(text, match.end())
    if "-" in number:  # 010-10086: a dialled number
        return _digits(number)
    if "." in number:
        if unit is None and _is_date_like(number):
            return _digits(number, PLAIN_DIGITS)
        return _quantity(number)
    if unit == "年" and len(number) == 4:
        return _digits(number, PLAIN_DIGITS)
    if unit is not None and not (number.startswith("0") and len(number) > 1):
        if number == "2" and unit in LIANG_UNITS:
            return "两"
        return _quantity(number)
    if number in NAMED_DAYS:
        return _digits(number, PLAIN_DIGITS)
    if len(number) >= 3 or (number.startswith("0") and len(number) > 1):
        return _digits(number)
    return _quantity(number)


def _read_numbers(text: str) -> str:
    text = _PERCENT.sub(lambda m: "百分之" + _quantity(m.group(1)), text)
    return _NUMBER.sub(lambda m: _read_number(text, m), text)


def _collapse_pauses(text: str) -> str:
    """A run of pause marks becomes its strongest mark; no pause opens a line, no comma ends one."""
    def strongest(match: re.Match[str]) -> str:
        marks = [c for c in match.group(0) if c in _STRENGTH]
        return max(marks, key=lambda c: _STRENGTH[c])
    text = _PAUSE_RUN.sub(strongest, text)
    return text.lstrip(_PAUSES + " ").rstrip("，、；： ")


def to_spoken(text: str, language: Language = "zh") -> str:
    """What a line sounds like when an agent reads it: numbers as said, no symbols, pauses kept.

    Idempotent: `to_spoken(to_spoken(x)) == to_spoken(x)`.
    """
    text = _halfwidth(text)
    text = _drop_bracketed(text)
    text = _PLACEHOLDER.sub("", text)
    text = _QUOTES_AND_MARKS.sub("", text) if language == "zh" else text.replace("’", "'")
    if language == "en":
        text = _ELLIPSIS_LIKE.sub(", ", text).replace("/", " or ")
        text = re.sub(r"\s*,(\s*,)+", ",", text)
        return " ".join(text.split()).strip(" ,")
    text = _ELLIPSIS_LIKE.sub("，", text)
    text = _RATE_SLASH.sub("每", text)
    text = _SLASH.sub("或", text)
    text = text.replace("+", "加").replace("&", "和").replace("=", "等于")
    text = _read_numbers(text)
    text = re.sub(r"(?<![A-Za-z])-+|-+(?![A-Za-z])", "", text)  # dashes that are not in a word
    text = _SPACE_IN_HAN.sub("，", text)
    text = re.sub(rf"(?<=[{_HAN}{_PAUSES}])\s+|\s+(?=[{_HAN}{_PAUSES}])", "", text)
    text = _to_chinese_pauses(text)
    return _collapse_pauses(text).strip()


def _to_chinese_pauses(text: str) -> str:
    """ASCII , . ? ! ; : next to Chinese become Chinese pause marks; English keeps its own."""
    def convert(match: re.Match[str]) -> str:
        return match.group(0).translate(_ASCII_PAUSES)
    return re.sub(rf"(?<=[{_HAN}])[,.?!;:]+|[,.?!;:]+(?=[{_HAN}])", convert, text)


# ---- language runs --------------------------------------------------------------------------

def _spell(letters: str) -> str:
    return " ".join(letters.upper())


def split_languages(spoken: str) -> list[tuple[Language, str]]:
    """Cut a Mandarin line into Mandarin and English runs (English words go to an English voice).

    Acronyms (SP, VIP: all capitals, or three letters or fewer) are spelled letter by letter.
    """
    parts: list[tuple[Language, str]] = []
    pos = 0
    for match in _LATIN_RUN.finditer(spoken):
        if match.start() > pos:
            parts.append(("zh", spoken[pos:match.start()]))
        run = match.group(0).strip()
        words = run.split()
        if len(words) == 1 and re.fullmatch(r"[A-Za-z]+", run) and (run.isupper() or len(run) <= 3):
            run = _spell(run)
        parts.append(("en", run))
        pos = match.end()
    if pos < len(spoken):
        parts.append(("zh", spoken[pos:]))
    merged: list[tuple[Language, str]] = []
    for lang, chunk in parts:
        if not chunk.strip(_PAUSES + " "):
            continue
        if merged and merged[-1][0] == lang:
            merged[-1] = (lang, merged[-1][1] + chunk)
        else:
            merged.append((lang, chunk))
    return merged


# ---- pinyin ---------------------------------------------------------------------------------

_NUMERAL_CHARS: Final = "零一二三四五六七八九十百千万亿两幺"
_YI_WORD_FINAL: Final = "统唯万之第逐划周期初归合"
"""Characters before 一 that end a word with it (统一, 唯一, 第一): 一 keeps its first tone."""


def _tone(syllable: str) -> int:
    return int(syllable[-1]) if syllable and syllable[-1].isdigit() else 5


def _set_tone(syllable: str, tone: int) -> str:
    base = syllable[:-1] if syllable[-1:].isdigit() else syllable
    return f"{base}{tone}"


def _yi_bu_sandhi(han: str, syllables: list[str]) -> list[str]:
    """一 and 不 change tone before the next syllable (pypinyin does it only inside its dictionary
    phrases, so 一样, 一遍, 一下 stay yi1 there).

    不: bu2 before a 4th tone, else bu4. 一: yi1 in numbers, at the end of a run and in 统一/唯一;
    yi5 between a repeated verb (看一看); else yi2 before a 4th tone, yi4 before the others.
    """
    out = list(syllables)
    for i, ch in enumerate(han):
        if ch not in "一不":
            continue
        nxt = syllables[i + 1] if i + 1 < len(han) else None
        prev = han[i - 1] if i > 0 else ""
        if ch == "不":
            if nxt is not None:
                out[i] = _set_tone(out[i], 2 if _tone(nxt) == 4 else 4)
            continue
        following = han[i + 1] if nxt is not None else ""
        if (nxt is None or (prev and prev in _NUMERAL_CHARS + _YI_WORD_FINAL)
                or following in _NUMERAL_CHARS):
            out[i] = _set_tone(out[i], 1)
        elif prev and prev == following:
            out[i] = _set_tone(out[i], 5)
        else:
            out[i] = _set_tone(out[i], 2 if _tone(nxt) in (4, 5) else 4)
    return out


def _han_pinyin(han: str) -> list[str]:
    """One tone-numbered syllable per character of a run of Chinese characters."""
    syllables = lazy_pinyin(han, style=Style.TONE3, neutral_tone_with_five=True, tone_sandhi=True)
    if len(syllables) != len(han):  # never seen; keep the run readable rather than misaligned
        return syllables
    return _yi_bu_sandhi(han, syllables)


def to_pinyin(text: str) -> str:
    """Tone-numbered pinyin of a Mandarin line (neutral tone 5, Chinese pause marks kept), as
    espeak-ng's `cmn-latn-pinyin` voice reads it: "qing3 nin2 shao1 deng3，wo3 ma3 shang4 …".

    The line goes through `to_spoken` first; Latin letters are left as they are (the caller
    sends English runs to an English voice, see `split_languages`).
    """
    spoken = to_spoken(text)
    out: list[str] = []
    for match in re.finditer(rf"[{_HAN}]+|[{_PAUSES}]|[^{_HAN}{_PAUSES}]+", spoken):
        chunk = match.group(0)
        if chunk in _PAUSES:
            if out:
                out[-1] += chunk
        elif re.match(rf"[{_HAN}]", chunk):
            out.extend(_han_pinyin(chunk))
        elif chunk.strip():
            out.append(chunk.strip())
    return " ".join(out)

"""Character error rate of a voice heard back: one written form for the line said and the line heard.

The reference is the line as the bot says it (`reading.to_spoken`: 幺零零八六, 三十一个省, 十元每月);
whisper writes what it hears in its own way (10086, 31个省, 10元每月, traditional characters, full
stops). Those are the same words written differently, not errors. `cer_form` puts both sides into
one written form, always the same way on both sides:

- NFKC (full-width digits and letters → ASCII), lower case (SP = sp);
- traditional → simplified (`text.to_simplified`, Taiwan usage included);
- 百分之五十 → 50%; a spoken quantity with 十/百/千 (三十一, 十) → its digits (31, 10), so 三十一个
  and 31个 compare equal;
- then every digit character becomes its digit, one for one: 零/〇 → 0, 幺/一 → 1, 二 → 2 … 九 → 9
  (幺 is how 1 is said in phone numbers; 一零零八六, 幺零零八六 and 10086 are one number). 两 is not a
  digit here: 两个 heard as 二个 stays an error;
- punctuation, spaces and symbols dropped (the voice says none of them).

What it never hides: each step maps a written form to one character string and both sides go
through it, so a wrong digit (10086 heard as 1080086, 0086) is still a substitution or an
insertion or a deletion; homophones (话 → 化), dropped particles (吧, 的) and extra words stay
errors: nothing is stripped for being "only a filler".

`classify` names what each remaining edit looks like, so a reader can tell a voice problem from a
recogniser problem: `digits` (inside a run of digits: how whisper writes or hears numbers),
`homophone` (same toneless syllable: the voice said it, whisper chose another character),
`near-sound` (another syllable), `dropped`, `inserted`.
"""
from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Final

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import cn2an  # noqa: E402
from pypinyin import lazy_pinyin  # noqa: E402
from rapidfuzz.distance import Levenshtein  # noqa: E402

from voicebot.text import to_simplified  # noqa: E402

DIGIT_CHARS: Final = {"零": "0", "〇": "0", "幺": "1", "一": "1", "二": "2", "三": "3", "四": "4",
                      "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
"""One character each way: a digit said is a digit written, whichever way it was written."""
_PERCENT: Final = re.compile(r"百分之([零一二两三四五六七八九十百点]+)")
_QUANTITY: Final = re.compile(r"[零一二两三四五六七八九]*[十百千][零一二三四五六七八九十百千]*")
_KEEP: Final = re.compile(r"[0-9a-z%\u3400-\u9fff]")
_DIGIT_RUN: Final = re.compile(r"[0-9]{2,}")


def _quantity(match: re.Match[str]) -> str:
    try:
        return str(cn2an.cn2an(match.group(0), "smart"))
    except (ValueError, KeyError):
        return match.group(0)


def _percent(match: re.Match[str]) -> str:
    try:
        return f"{cn2an.cn2an(match.group(1), 'smart')}%"
    except (ValueError, KeyError):
        return match.group(0)


def cer_form(text: str) -> str:
    """The written form both sides are compared in (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = to_simplified(text)
    text = _PERCENT.sub(_percent, text)
    text = _QUANTITY.sub(_quantity, text)
    text = "".join(DIGIT_CHARS.get(c, c) for c in text)
    return "".join(_KEEP.findall(text))


def cer_parts(reference: str, heard: str) -> tuple[int, int]:
    """(edits, reference length) in the common written form."""
    ref, hyp = cer_form(reference), cer_form(heard)
    return Levenshtein.distance(ref, hyp), len(ref)


def syllable_parts(reference: str, heard: str) -> tuple[int, int]:
    """(edits, reference syllables) over toneless pinyin of the common written form: what the voice
    said by sound. A homophone the recogniser wrote with another character (工号 → 功耗) is no error
    here, a wrong syllable (运营 → 遇宁), a wrong digit, a dropped or an extra word still is. Printed
    beside the CER so a reader can tell the voice's errors from the ear's spelling."""
    ref, hyp = _sounds(cer_form(reference)), _sounds(cer_form(heard))
    return Levenshtein.distance(ref, hyp), len(ref)


def _sounds(text: str) -> list[str]:
    """Toneless pinyin per Chinese character, and each other character (a digit, a letter) alone
    (pypinyin hands back a run of non-Chinese characters as one piece)."""
    out: list[str] = []
    for piece in lazy_pinyin(text, errors=lambda run: [f"\x00{run}"]):
        if piece.startswith("\x00"):
            out.extend(piece[1:])
        else:
            out.append(piece)
    return out


@dataclass(frozen=True)
class Edit:
    """One difference between the line said and the line heard, in the common written form."""

    said: str
    """The reference characters (empty for an insertion)."""
    heard: str
    """What whisper wrote there (empty for a deletion)."""
    kind: str
    """digits | homophone | near-sound | dropped | inserted"""
    cost: int
    """Edit operations this difference costs (its share of the line's edit distance)."""


def _syllables(text: str) -> list[str]:
    return lazy_pinyin(text)


def _in_digits(text: str, start: int, end: int) -> bool:
    """True when text[start:end] touches a run of two or more digits."""
    for run in _DIGIT_RUN.finditer(text):
        if run.start() <= end and start <= run.end():
            return True
    return False


def classify(reference: str, heard: str) -> list[Edit]:
    """The line's differences, each named (see the module docstring); costs sum to the distance."""
    ref, hyp = cer_form(reference), cer_form(heard)
    edits: list[Edit] = []
    for op in Levenshtein.opcodes(ref, hyp):
        if op.tag == "equal":
            continue
        said, got = ref[op.src_start:op.src_end], hyp[op.dest_start:op.dest_end]
        cost = Levenshtein.distance(said, got)
        if (_in_digits(ref, op.src_start, op.src_end) or _in_digits(hyp, op.dest_start, op.dest_end)) \
                and (re.search(r"[0-9]", said) or re.search(r"[0-9]", got)):
            kind = "digits"
        elif not got:
            kind = "dropped"
        elif not said:
            kind = "inserted"
        elif _syllables(said) == _syllables(got):
            kind = "homophone"
        else:
            kind = "near-sound"
        edits.append(Edit(said, got, kind, cost))
    return edits

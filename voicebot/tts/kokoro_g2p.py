"""Mandarin text → Kokoro's phonemes: misaki's reading, with the corrections a 10086 agent needs.

misaki 0.9.4's Mandarin G2P (the one Kokoro v1.0 was trained with) cuts a line into jieba words
and reads each word with pypinyin on its own, with no tone changes. What that gets wrong on the
book's answers, and what is done here instead (everything else is misaki's, unchanged):

- **Digit strings** (幺零零八六, 八零八六, 零幺零幺零零八六): jieba cuts them anyhow (幺 零零 八六,
  八零八六 as one word); whisper heard 10086 as 1080086 or 0086. Here a five-digit number is said
  in the groups people use (幺零零，八六) and other numbers digit by digit (see DIGIT_GROUPS).
- **一 and 不** change tone before the next syllable (一下 yi2, 一种 yi4, 不断 bu2): misaki reads
  them yi1/bu4 except inside pypinyin's phrase list. `reading._yi_bu_sandhi` (the espeak path's
  rule) is applied to each run.
- **地 after an adverb** (更好地满足, 较好地保障) is the particle de, not di4 (ground): jieba's
  part-of-speech tag `uv` marks it.

The pinyin → IPA step is misaki's own (`ZHG2P.py2ipa`), so the phoneme set is the model's.
"""
from __future__ import annotations

import logging
import re
from typing import Final

from pypinyin import Style, lazy_pinyin

from voicebot.tts.reading import PHONE_DIGITS, _yi_bu_sandhi

G2P_RULES: Final = "3"
"""Bump when a rule here changes what is said: part of the TTS cache key."""
DIGIT_PINYIN: Final = {"零": "ling2", "幺": "yao1", "一": "yi1", "二": "er4", "三": "san1",
                       "四": "si4", "五": "wu3", "六": "liu4", "七": "qi1", "八": "ba1", "九": "jiu3"}
DIGIT_STRING: Final = re.compile(rf"[{PHONE_DIGITS}]{{3,}}")
"""A service or phone number as `reading.to_spoken` writes it (3+ digits, 幺 for 1)."""
DIGIT_GROUPS: Final = {5: (3, 2)}
"""A number of this many digits is said in these groups with a short pause between (10086 →
幺零零，八六, the way the number is grouped on posters); any other length digit by digit. Within a
group the digits are one word. Measured on the 23 clauses of the first 40 book answers that hold a
number (407 characters, whisper-base, zf_xiaoyi): misaki's own words (幺 零零 八六) 57 edits, one
word per digit 62, 幺零零，八六 50. On the whole 40 answers (bench_tts.py, 2,309
characters) the groupings tie: one word per digit 140 edits (6.1 %), 幺零零，八六 138 (6.0 %): whisper-base
mishears 10086 (→ 1080086, 100086) whichever way it is said."""
PAUSE: Final = ","
"""A word holding only this is a pause (misaki's comma)."""
_HAN_RUN: Final = re.compile(r"[\u4e00-\u9fff]+")


class MandarinG2P:
    """A clause of Mandarin (Chinese characters and pause marks) → Kokoro phonemes."""

    def __init__(self) -> None:
        import jieba
        jieba.setLogLevel(logging.WARNING)  # "Building prefix dict…" on stderr otherwise
        import jieba.posseg
        from misaki.zh import ZHG2P
        self._jieba = jieba
        self._posseg = jieba.posseg
        self._py2ipa = ZHG2P.py2ipa
        self._map_punctuation = ZHG2P.map_punctuation

    def __call__(self, text: str) -> str:
        text = self._map_punctuation(text)
        out = []
        pos = 0
        for match in _HAN_RUN.finditer(text):
            out.append(text[pos:match.start()])
            out.append(self.han(match.group(0)))
            pos = match.end()
        out.append(text[pos:])
        return "".join(out).replace(chr(815), "").strip()

    def pinyin(self, run: str) -> list[list[str]]:
        """Tone-numbered pinyin of a run of Chinese characters, one list of syllables per word."""
        words = self._jieba.lcut(run, cut_all=False)
        syllables: list[str] = []
        for word in words:
            got = lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True)
            syllables += got if len(got) == len(word) else [_fallback(c) for c in word]
        syllables = _yi_bu_sandhi(run, syllables)
        for index in self._particle_de(run):
            syllables[index] = "de5"
        for match in DIGIT_STRING.finditer(run):
            for i in range(match.start(), match.end()):
                syllables[i] = DIGIT_PINYIN[run[i]]
        # words again, each digit string as DIGIT_GROUPS says
        starts = {m.start(): m.end() for m in DIGIT_STRING.finditer(run)}
        grouped: list[list[str]] = []
        i = 0
        for word in words:
            current: list[str] = []
            for j in range(i, i + len(word)):
                if any(a <= j < b for a, b in starts.items()):
                    if current:
                        grouped.append(current)
                        current = []
                    if j in starts:
                        grouped += _digit_words(syllables[j:starts[j]])
                else:
                    current.append(syllables[j])
            if current:
                grouped.append(current)
            i += len(word)
        return grouped

    def han(self, run: str) -> str:
        """Phonemes of a run of Chinese characters: words joined by spaces, as misaki writes them
        (a pause inside a number is misaki's comma)."""
        out = ""
        for word in self.pinyin(run):
            if word == [PAUSE]:
                out += ","
                continue
            out += (" " if out else "") + "".join(self._py2ipa(s) for s in word)
        return out

    def _particle_de(self, run: str) -> list[int]:
        """Indexes of 地 used as the adverbial particle (tagged `uv`)."""
        if "地" not in run:
            return []
        found, pos = [], 0
        for pair in self._posseg.cut(run):
            if pair.word == "地" and pair.flag == "uv":
                found.append(pos)
            pos += len(pair.word)
        return found


def _digit_words(digits: list[str]) -> list[list[str]]:
    """A digit string's words: its groups (DIGIT_GROUPS) with pauses between, else one per digit."""
    sizes = DIGIT_GROUPS.get(len(digits))
    if sizes is None:
        return [[d] for d in digits]
    words: list[list[str]] = []
    pos = 0
    for size in sizes:
        if words:
            words.append([PAUSE])
        words.append(digits[pos:pos + size])
        pos += size
    return words


def _fallback(char: str) -> str:
    got = lazy_pinyin(char, style=Style.TONE3, neutral_tone_with_five=True)
    return got[0] if got else char

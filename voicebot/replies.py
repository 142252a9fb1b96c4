"""What kind of reply a customer line is: backchannel, yes, no, consent, refusal, a question about the
offer, "what?", calming down, insisting… The kinds and their example phrasings are data
(`scripts_kb/replies.yaml`, the offer's topics in `scripts_kb/offer.yaml`); this module scores a line
against them. It also finds where a line negates a request (我没说要投诉) and splits a line that asks
two things (通话录音吗？你工号多少).

Short replies are what the book matcher handles worst (嗯 and 不需要 carry no key words), so they are
scored here on whole characters, fillers kept: a line is of a kind when it is close to one of the
kind's examples as a whole, or when an example covers most of it (不需要，我流量够用).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Final, Iterable, Mapping, Sequence

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz

from .text import numerals_to_digits, to_simplified

KINDS: Final = ("backchannel", "yes", "no", "consent", "refuse", "repeat", "calm", "insist", "done")
"""Reply kinds replies.yaml must define (more may be added; branches name them in `when`)."""

THRESHOLD: Final = 75.0
"""A line is of a kind at this score (whole-line ratio, or 70 + 30 × the share an example covers)."""
COVER_BASE: Final = 70.0
"""An example found inside a line scores this plus 30 × the share of the line it covers."""
MIN_COVER_CHARS: Final = 2
MIN_SHARE: Final = 0.34
"""…and cover at least a third of the line (你说 inside 那你说宫保鸡丁咋做 is not a backchannel)."""
"""Examples shorter than this only count as whole lines (是 is inside too many sentences)."""

POSITIVE: Final = ("yes", "consent", "backchannel", "calm")
"""Kinds that answer a yes/no question with yes (嗯 to 是用自己身份证办的吗 is yes)."""
NEGATIVE: Final = ("no", "refuse", "insist")
"""Kinds that answer a yes/no question with no."""

_KEEP: Final = re.compile(r"[0-9a-z\u4e00-\u9fff]")
_CLAUSE_END: Final = re.compile(r"[。！？!?；;，,、\s]+")
_CONJUNCTION: Final = re.compile(r"(?:还有就是|还有|另外|再问一下|再问问|顺便问一下|顺便问问|顺便问下|顺便问|然后呢|然后)")
# Negation cues that take back a request (我没说要投诉, 不用叫领导了, 我不是要取消, 我不投诉了).
NEGATION: Final = re.compile(
    r"(?:谁说要|谁说|没说要|没说过要|没说|没想要|没想|没打算|不是说要|不是要|不是想|不是说|并不想|并没有要|并没有|并没|"
    r"不用|不必|用不着|没必要|不需要|不打算|不想|没要|没有要|没让|没叫|没要求|没有让|不要|别|不|没)")


def squash(text: str) -> str:
    """Comparable characters with the fillers kept (嗯, 啊 are replies here, not noise)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = numerals_to_digits(to_simplified(text))
    return "".join(_KEEP.findall(text))


_SYLLABLES: dict[str, str] = {}


@lru_cache(maxsize=8192)
def _sound(text: str) -> str:
    """Pinyin, one code point per syllable: 你说吧 and 你说啥 differ by one syllable of three."""
    out = []
    for syllable in lazy_pinyin(text):
        code = _SYLLABLES.get(syllable)
        if code is None:
            code = _SYLLABLES[syllable] = chr(0xF0000 + len(_SYLLABLES))
        out.append(code)
    return "".join(out)


@dataclass(frozen=True)
class Reply:
    """The kind of a customer line."""

    kind: str | None
    """The best kind at or above the threshold, or None."""
    score: float
    """Its score, 0–100."""
    example: str | None
    """The example phrasing it matched."""


def similarity(line: str, example: str) -> float:
    """0–100: whole-line closeness, or coverage when the example sits inside the line."""
    if not line or not example:
        return 0.0
    score = max(fuzz.ratio(line, example), fuzz.ratio(_sound(line), _sound(example)) * 0.97)
    share = len(example) / len(line)
    if len(example) >= MIN_COVER_CHARS and example in line and len(example) < len(line) and share >= MIN_SHARE:
        score = max(score, COVER_BASE + 30.0 * share)
    return float(score)


PATTERN_SCORE: Final = 80.0
"""A kind's pattern (a small grammar, like hassil's templates) found in a line: taken when the book
matcher finds nothing better."""
PATTERN_STRONG: Final = 90.0
"""…and beats the book matcher when the line is short (≤ SHORT chars) or names the offer itself."""
SHORT: Final = 8
OFFER_REFERENCE: Final = re.compile(r"这个|这|那个|加油包|流量包|流量|你说的|你们这|活动|业务|套餐|它|该|以后|要是|万一|办了")
"""Words that point at the offer being discussed (这个多少钱 asks the offer's price)."""
_STRONG_UNLESS: Final = {
    "repeat": re.compile(r"(?!)"),
    "consent": re.compile(r"宽带|彩铃|副卡|亲情|呼叫转移|国际|漫游|长途|另一个|另外一个|别的|其他|其它|取消|退订|手机报|会员"),
    "refuse": re.compile(r"电话|打过来|打来|联系|打扰|骚扰|短信|号码|投诉|领导|经理|取消|退订|退掉|停掉|关掉|怎么|咋|吗"),
}
"""Consent and refusal patterns beat the book matcher in a long line too, unless the line is about
another business (给我开个宽带) or about the calls themselves (不需要你们再打电话)."""
_GUARDED: Final = ("consent", "yes")
"""Kinds whose pattern does not count after a negation cue (不用给我开 is no consent)."""


class ReplyClassifier:
    """Scores a line against every reply kind's examples and patterns."""

    def __init__(self, kinds: Mapping[str, Sequence[str]],
                 patterns: Mapping[str, Sequence[str]] | None = None,
                 boosted: Iterable[str] = ()) -> None:
        self.examples: dict[str, tuple[str, ...]] = {
            kind: tuple(dict.fromkeys(s for s in (squash(e) for e in examples) if s))
            for kind, examples in kinds.items()}
        self.patterns: dict[str, tuple[re.Pattern[str], ...]] = {
            kind: tuple(re.compile(p) for p in pats) for kind, pats in (patterns or {}).items()}
        for kind in self.patterns:
            self.examples.setdefault(kind, ())
        self.boosted = set(boosted)
        """Kinds (the offer's topics) whose pattern is strong when the line names the offer."""

    def pattern_score(self, line: str, kind: str) -> float:
        """PATTERN_STRONG / PATTERN_SCORE when a pattern of `kind` is in the squashed line, else 0."""
        for pattern in self.patterns.get(kind, ()):
            m = pattern.search(line)
            if m is None:
                continue
            if kind in _GUARDED and NEGATION.search(line[max(0, m.start() - 3):m.start() + 1]):
                continue
            if len(line) <= SHORT or (kind in self.boosted and OFFER_REFERENCE.search(line)):
                return PATTERN_STRONG
            guard = _STRONG_UNLESS.get(kind)
            if guard is not None and not guard.search(line):
                return PATTERN_STRONG
            return PATTERN_SCORE
        return 0.0

    def score(self, text: str, kind: str) -> tuple[float, str | None]:
        line = squash(text)
        if kind in _GUARDED and negates(line):
            return 0.0, None  # 我没说要办，你别给我开 holds 给我开 and is no consent
        best, example = 0.0, None
        for ex in self.examples.get(kind, ()):
            s = similarity(line, ex)
            if s > best:
                best, example = s, ex
        if best < PATTERN_STRONG:
            p = self.pattern_score(line, kind)
            if p > best:
                best, example = p, f"<pattern of {kind}>"
        return best, example

    def classify(self, text: str, among: Iterable[str] | None = None, threshold: float = THRESHOLD) -> Reply:
        """The best kind of `text` (restricted to `among`), or Reply(None, …) below the threshold."""
        best = Reply(None, 0.0, None)
        for kind in (among if among is not None else self.examples):
            s, ex = self.score(text, kind)
            if s > best.score:
                best = Reply(kind, s, ex)
        return best if best.score >= threshold else Reply(None, best.score, best.example)

    def polarity(self, text: str) -> str | None:
        """yes / no for a reply to a yes/no question, or None when it is neither.

        The first clause decides (对，是我自己的身份证 → yes; 不是，是我老婆的 → no); a clause that
        only opens with 是/对/不是/没有 counts by that opening.
        """
        pieces = [squash(c) for c in _CLAUSE_END.split(text) if squash(c)]
        # The first clause that says something (哦，没兴趣 → 没兴趣; 嗯 alone stays 嗯).
        first = next((_LEADING.sub("", p) for p in pieces if _LEADING.sub("", p)), pieces[0] if pieces else "")
        if not first:
            return None
        raw_first = next((c for c in _CLAUSE_END.split(text) if squash(c)), "")
        if QUESTION.search(raw_first) or raw_first.rstrip().endswith(("?", "？")):
            # A question back (你们10086不是有我的资料吗) is no answer, whatever negation it holds.
            reply = self.classify(first, [k for k in POSITIVE + NEGATIVE if k in self.examples], 95.0)
            return None if reply.kind is None else ("yes" if reply.kind in POSITIVE else "no")
        if negates(first):
            return "no"  # 不太能接受 holds 接受, but says no
        reply = self.classify(first, [k for k in POSITIVE + NEGATIVE if k in self.examples])
        if reply.kind is not None:
            return "yes" if reply.kind in POSITIVE else "no"
        line = first
        for opening, value in (("不是", "no"), ("没有", "no"), ("不对", "no"), ("不用", "no"), ("不要", "no"),
                               ("是的", "yes"), ("对的", "yes"), ("是", "yes"), ("对", "yes"), ("嗯", "yes"),
                               ("好", "yes"), ("可以", "yes"), ("要", "yes"), ("需要", "yes"), ("行", "yes"),
                               ("没错", "yes"), ("当然", "yes")):
            if line.startswith(opening):
                return value
        return None


QUESTION: Final = re.compile(r"吗|什么|怎么|为什么|为啥|凭什么|哪|谁|几|多少|是不是|有没有|能不能")
"""Words that make a clause a question, not an answer."""
_LEADING: Final = re.compile(r"^(?:哦|噢|嗯|啊|额|呃|那个|那|喂)+")
"""Fillers before the answer itself (哦那行 → 行)."""
_NOT_NEGATIVE: Final = ("没问题", "没错", "不错", "没关系", "不客气", "没事", "不过", "别客气", "可不是", "谁说不是", "那可不", "不就是")
"""Words with a negation character that mean yes or ok."""


def valid_patterns(patterns: Iterable[str], report: Callable[[str], None]) -> tuple[str, ...]:
    """The patterns that compile; each one that does not is reported (`report(message)`), never raised."""
    good = []
    for p in patterns:
        try:
            re.compile(p)
            good.append(p)
        except re.error as err:
            report(f"bad regular expression {p!r}: {err}")
    return tuple(good)


def negates(line: str) -> bool:
    """A negation cue in the squashed line that is not one of the words meaning yes (没问题, 不错)."""
    return bool(NEGATION.search(line)) and not any(w in line for w in _NOT_NEGATIVE)


def clauses(text: str) -> list[str]:
    """The line cut at sentence punctuation and at 还有/另外/顺便问一下 (empty pieces dropped)."""
    out = []
    for piece in re.split(r"[。！？!?；;，,]+", text):
        for part in _CONJUNCTION.split(piece):
            if squash(part):
                out.append(part.strip(" ，,、"))
    return out


_TRAILING_NEGATION: Final = re.compile(r"([^，,。！？!?；;\s]{2,10}?)(?:就|也|都)?(?:不用|不需要|不必|算了|免了)(?:了)?")
"""领导就不用了 / 投诉就算了: the request stands before the cue."""


def negated_spans(text: str) -> list[tuple[int, str]]:
    """(position, the request the cue takes back) for each negation cue in `text`: what follows a cue
    up to the end of its clause (我没说要投诉), or what stands before a trailing one (领导就不用了)."""
    spans = [(m.start(), m.group(1)) for m in _TRAILING_NEGATION.finditer(text)]
    for m in NEGATION.finditer(text):
        rest = text[m.end():]
        end = _CLAUSE_END.search(rest)
        follow = rest[:end.start()] if end else rest
        if squash(follow):
            spans.append((m.start(), follow))
    return spans


def native_negation(phrases: Sequence[str]) -> bool:
    """True when the entry's request is itself a negation (the book's wording: 你们以后不要再给我打电话了),
    so a negation cue does not take it back."""
    return bool(phrases) and bool(NEGATION.search(phrases[0]))

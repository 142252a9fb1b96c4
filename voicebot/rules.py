"""What the book forbids (and the few things it demands), as data: one rule system for the drill,
`kb check` and the scoring of recorded calls.

A rule comes from `scripts_kb/rules.yaml` (general rules, referenced by id) or from an entry's own
`must_not:` list. Three kinds:

- `claim`: something the agent must not say (港澳台接听免费, 01010086和10086不是一个号, 给您回电…).
  Found clause by clause, by sound (each example's syllables, so whisper's 恢复 for 回复 still
  counts) or by a small regular expression; a claim preceded in its clause by a negation cue
  (不会收费 against 会收费) is not made.
- `missing`: something the agent must say (the work id, 服务用语7).
- `first`: something the answer must open with (问题17 应先道歉).
- `unsupported`: a class of risky claim (a number or a date, a guarantee, an act done on the spot,
  who or where we are, where to send the customer, blame, money): a clause that says a term of the
  class the entry's book lines never say, in a clause the book lines do not support (few of its
  content syllables are the book's), is a claim the book does not make (`unsupported`): whatever
  its wording, a fluent answer that adds 三天之内给您回电 or 我们是外包公司 after the book's points
  is caught without a phrase of it being listed. The term's claim is judged, not its syllables: an
  act the book's lines do for the customer outright (我们现在为您开通, said as 已经在给您开了) or a
  guarantee of what the book says (一定先经过您同意) is the book's claim in other words (`book_claim`).
- `opposite`: two poles of one claim (收费 ↔ 免费, 随机抽取 ↔ 专门挑选, 一样 ↔ 不一样): where the entry's
  own book answer states one pole and never the other, an answer clause stating the other pole (or
  the book's pole negated: 钱不是我们收的 against 代收) contradicts the book, whatever else it says
  (`opposed`). The book decides, entry by entry: no rule is listed on an entry.

Negation is read by meaning, clause by clause: a cue before the claim (不会给您回复), a potential
complement after it (发不了短信, 找不到我), a cue inside an actor…verb frame (我们这边不会再回电话给您),
double negation (不经过您同意不会给您开), a condition's own negation (没开的话, 您要是不满意) that
reaches nothing, a question back (要不要给您回个电话呢) and a move made on the customer's consent
(您愿意的话可以直接帮您办) that assert nothing. An indirect question (打10086问问是不是移动的), a
suggestion ending in a question mark (要不您找个同事？) and an English sentence before a question are
statements; words that hold a negation but negate nothing (要不, 别的, 不好意思) negate no claim.
Patterns may name a settings value ({工号}: a number other than the agent's own work id).

Scope `general` (promised contact, acting on the spot, blaming the customer…) holds on every entry,
less the examples and patterns the entry's own book answer says (`without_book`): the book's
exceptions (问题28 and 特殊问题1 promise to call back) are read from the book, never listed.

`severity` says what breaking it costs in the drill: `contradicts` (the answer says what the book
rules out: capped below any honest partial answer) or `style` (about one tier).

The per-call caps of 特殊问题3 (先生/女士, 咱/咱们, a filler 对: `words_to_avoid` in protocols.yaml)
are counted over any set of agent lines by `overused`, for one answer or a whole call.

This module sits below `kb` (which builds the rules when it loads the book) and above `text` and
`replies`; it knows nothing of entries or the matcher.
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Final, Iterable, Mapping, Sequence

from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq

from .replies import clauses, negates, valid_patterns
from .text import normalize, numerals_to_digits, pinyin_syllables, to_simplified

KINDS: Final = ("claim", "missing", "first", "opposite", "unsupported")
SEVERITIES: Final = ("contradicts", "style")
NARROWINGS: Final = ("wording", "rule")
SCOPES: Final = ("entry", "all", "general")
"""`all`: the rule holds for every entry (a general rule of the book), not only those that list it;
`general`: it holds for every entry whose own book answer does not break it (the book promises a
reply in 问题28 and 特殊问题1: there the rule is the book's exception, not a violation)."""

NEGATION_REACH: Final = 8
"""Characters before a claim searched for a negation cue, within its clause (不会给您回复, 并不是免费的,
我们没有权限私自记您的号码, 所以没办法直接折现抵话费: a modal negation reaches over an adverb and a
first verb to the claim)."""
FUZZY_MIN: Final = 8
"""Examples of at least this many syllables also match with one syllable missed or misheard
(whisper drops or swaps a syllable in a long phrase); shorter ones must match syllable for syllable."""
FIRST_WINDOW: Final = 10
"""`first` rules: the opening must come within this many syllables, after a leading 先生/女士 and a
leading 我的工号是NNNN (问题28 gives the work id first, then calms the customer)."""

_KEEP: Final = re.compile(r"[0-9a-z\u4e00-\u9fff]")
_PLACEHOLDER: Final = re.compile(r"\{([^{}]*)\}")
# Words folded to one form before comparing: an apology is an apology whichever word says it (in a
# Chinese line a mixed-in English sorry too: `CODE_SWITCHED`);
# 你/您, 咱们/我们, 记下/记录, 理解/谅解, 不用谢/不客气 and 改进/改正 are the same for content.
_CANON: Final = (("对不起", "抱歉"), ("对不住", "抱歉"), ("不好意思", "抱歉"), ("道歉", "抱歉"), ("致歉", "抱歉"), ("歉意", "抱歉"),
                 ("咱们", "我们"), ("咱", "我们"), ("你", "您"), ("记下来", "记录"), ("记下", "记录"),
                 ("理解", "谅解"), ("不用谢", "不客气"), ("别客气", "不客气"), ("改进", "改正"))
CODE_SWITCHED: Final = (("sorry", "抱歉"),)
"""English words a Chinese line folds like their Chinese (真的很sorry, Sorry，我没听懂 open with an apology);
an English line (外国友人) keeps its own words: its sorry is compared as English."""
_HAN: Final = re.compile(r"[\u4e00-\u9fff]")
_ADDRESS: Final = ("先生", "女士")
_MORE_NEGATION: Final = re.compile(r"无|未|禁止|严禁|切忌|并非|避免")
FORBIDDING: Final = re.compile(r"不要|不能|不得|禁止|严禁|切忌|千万|避免|勿|别")
"""Words of a note that forbids (不要为用户开通): such a clause is no act the book has the agent do."""
"""Cues the reply classifier does not need but the book's own answers use (无权私自记录, 无法直接找到我)."""
_WORK_ID_WORD: Final = "工号"
FILLER_WORDS: Final = ("对",)
"""One-character words of words_to_avoid counted only where they stand alone at the head of a
clause (对，…): inside 对不起, 对于, 针对 they are no filler."""


# ---------------------------------------------------------------- text, one character per syllable

def plain(text: str) -> str:
    """NFKC, lower case, simplified, digits, only letters, digits and Han characters."""
    text = to_simplified(unicodedata.normalize("NFKC", text).lower())
    return "".join(_KEEP.findall(numerals_to_digits(text)))


def canon(text: str) -> str:
    """Comparable text, one character per syllable: fillers (啊, 嗯) dropped, apology words, 你/您 and
    咱们/我们 folded to one form. Unlike `normalize`, no multi-character padding (您好, 请问) is cut,
    so a rule phrase such as 再联系您好吗 survives and every character keeps its syllable."""
    out = "".join(c for c in plain(text) if normalize(c))
    for old, new in _CANON:
        out = out.replace(old, new)
    if _HAN.search(out):
        for old, new in CODE_SWITCHED:
            out = out.replace(old, new)
    return out


@lru_cache(maxsize=8192)
def _char_syllable(char: str) -> str:
    got = pinyin_syllables(char)
    return got[0] if got else char


def syllables(text: str) -> list[str]:
    """Folded toneless syllables of canonical text, one per character (each character's usual
    reading, the same on the trainee's side and the book's, so homophones meet)."""
    return [_char_syllable(c) for c in canon(text)]


_CODES: dict[str, str] = {}


def syllable_key(syl: Sequence[str]) -> str:
    """Syllables as one code point each, so rapidfuzz compares syllables at string speed."""
    out = []
    for s in syl:
        code = _CODES.get(s)
        if code is None:
            code = _CODES[s] = chr(0xF0000 + len(_CODES))  # supplementary private use area
        out.append(code)
    return "".join(out)


@lru_cache(maxsize=4096)
def _pattern(phrase: str) -> tuple[str, ...]:
    return tuple(syllables(phrase))


def find(hay: Sequence[str], phrase: str) -> list[int]:
    """Start indexes where the phrase's syllables occur in `hay` (by sound: 回复 = 恢复)."""
    needle = list(_pattern(phrase))
    n = len(needle)
    if not n:
        return []
    hay = list(hay)
    return [i for i in range(len(hay) - n + 1) if hay[i:i + n] == needle]


def _find_fuzzy(hay: Sequence[str], phrase: str) -> list[int]:
    """Exact hits, or for a long phrase a window of its length where all but one syllable agree in order."""
    hits = find(hay, phrase)
    needle = _pattern(phrase)
    n = len(needle)
    if hits or n < FUZZY_MIN or len(hay) < n - 1 or _negative(phrase):
        return hits  # a phrase holding a negation is matched exactly: 也是只有 is not 不是只有
    key, hay_key = syllable_key(needle), syllable_key(hay)
    out = []
    for i in range(0, max(1, len(hay_key) - n + 2)):
        if LCSseq.similarity(key, hay_key[i:i + n + 1]) >= n - 1:
            start = i if hay[i] == needle[0] else i + 1   # the window may open one syllable early
            if not out or start >= out[-1] + n:             # one hit per stretch, its first window
                out.append(start)
    return out


@lru_cache(maxsize=4096)
def _negative(phrase: str) -> bool:
    text = canon(phrase)
    return negates(text) or bool(_MORE_NEGATION.search(text))


def fill_values(text: str, values: Mapping[str, str]) -> str:
    """`{工号}` → the settings' value (unknown placeholders are left as written)."""
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


def fill_pattern(pattern: str, values: Mapping[str, str]) -> str:
    """A pattern's `{工号}` → the settings' value, escaped and in the form `plain` gives the clause
    ((?!{工号})[0-9]{4}: a number other than the agent's own work id)."""
    return _PLACEHOLDER.sub(lambda m: re.escape(plain(str(values[m.group(1)]))) if m.group(1) in values else m.group(0), pattern)


# ---------------------------------------------------------------- the rules and what breaking one says

@dataclass(frozen=True)
class Rule:
    """One thing the book rules out for an entry (or demands of it)."""

    id: str
    """Stable id, unique in the book (lowercase letters, digits, _)."""
    description: str
    """One line for the trainee, in the book's terms (不能承诺回复或回电)."""
    book: str
    """The book's own words it rests on, with where they stand (问题27: “（不能承诺回复）”)."""
    kind: str = "claim"
    """claim (must not be said), missing (must be said), first (must open the answer), opposite (two
    poles of one claim: the book's answer decides which one is right for an entry)."""
    examples: tuple[str, ...] = ()
    """Phrasings, compared by syllables ({工号} and the other settings placeholders are filled)."""
    patterns: tuple[str, ...] = ()
    """Regular expressions over the clause's plain characters (no spaces or punctuation). A group
    named `claim` marks the words a negation must precede (港澳台…(?P<claim>免费): 港澳台不是免费的)."""
    severity: str = "contradicts"
    """contradicts (caps the drill score) or style (costs about a tier)."""
    scope: str = "entry"
    """entry: checked on the entries that list it; all: on every entry."""
    opposites: tuple[str, ...] = ()
    """`opposite` rules: the other pole's patterns (`patterns` are the first pole's); in YAML
    `opposites: {patterns: […]}`, so `kb check` reads them as regular expressions, not lines."""
    narrow: str = "wording"
    """`general` rules where the entry's own book answer makes the move: `wording` drops the examples
    and patterns the book says (the rest still holds there), `rule` drops the whole rule (hanging up is
    the book's move on a foreign ringback, in any words)."""
    in_questions: bool = False
    """The claim is made even as a question (您到底在说什么？): a question back asserts nothing, but a
    rude or impatient one is the move itself."""
    on_consent: bool = False
    """The move is wrong even on the customer's consent (您要是愿意我就给您开上，开完了再跟您说资费: consent
    to what was never explained): a consent condition does not make it the book's offer."""
    term_is_claim: bool = False
    """`unsupported` rules: the term is the claim itself (总部, 家里人的手机): the book saying the rest of the
    clause (客服热线, 拨打10086) does not make the clause the book's, as it does for a term that frames a
    claim (一定先经过您同意, 收费标准跟大陆一样)."""
    support: int = 0
    """`unsupported` rules: the support (0–100) below which a clause saying one of its terms is a claim of
    its own (0: SUPPORT_MIN). Higher for a class whose term is the claim whatever else the clause repeats
    of the book (已经给您开通了 in a clause of the book's words)."""
    topic: int = 0
    """`opposite` rules: content syllables (pole words left out) the clause and the one before it must
    share with the book's clause for the two to be about one thing (一样 ↔ 不一样 needs a topic:
    口音跟北京人不一样 says nothing against 业务熟练程度是一样的; 代收 needs none)."""
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class Violation:
    """A rule of the book the answer breaks."""

    rule: str
    """The rule's id (promise_reply, complaint_to_10086, address_overuse, work_id_missing, …)."""
    message: str
    """One line for the trainee (Chinese, spoken too): the claim or move, and the book line it breaks."""
    severity: str = "contradicts"
    """contradicts or style (see Rule.severity)."""
    said: str = ""
    """The clause of the answer that breaks it ('' for a rule broken by what is missing)."""


@dataclass(frozen=True)
class Hit:
    """Where a rule's example or pattern was found."""

    clause: str
    """The clause as said."""
    start: int
    """Character (= syllable) index in the clause's canonical text, or in its plain text for a pattern."""
    negated: bool
    """A negation cue stands before it in its clause."""


CONDITION_END: Final = "的话"
"""Where a condition said inside its clause ends: what stands before it is supposed, not said (不录音的话出了
问题没法查), and the book's words in the condition (您不接受的话) do not make the result after it (我就不打扰了)
the book's."""


def supposition(text: str) -> int:
    """Where the last condition of a clause ends (the start of its 的话; -1 without one): a claim or a pole
    that ends before it is supposed, not said."""
    return text.rfind(CONDITION_END)


_WINDOW_RESET: Final = re.compile(r"的话|不过|但是|可是|那(?=我|就|您|咱)|(?:没有?|无)(?:任何)?(?:关系|问题|影响)|(?:别|不用|不要)(?:着急|担心|急|生气|客气)|"
                                  r"[不没][\u4e00-\u9fff]{1,2}?(?:也|(?:以后|之后)?就)(?=会|要|得|是|照样|一样|再也|没|$)|"
                                  r"[不没][\u4e00-\u9fff]{3,6}?也(?=有|能|可以|会|照样|一样|$)")
"""A condition (没开的话), a but (不过), a negated stock phrase that closes its own predicate (跟移动没有任何
关系我们只负责代收, said without a comma), the result after a condition (听不到那我先挂了) or after a negated
one (不开也会扣钱, 今天不开以后就再也开不了, 不打电话邀请也有) ends the reach of a negation before it."""
_CONDITION: Final = re.compile(r"(?<!主)要是|如果|假如|万一|只要|若是")
"""A negation after one of these is the condition's (您要是不满意可以…): it does not negate what follows.
主要是 (mainly) is no condition, here and in the other condition patterns."""
_STATE: Final = re.compile(r"不满意?|不放心|不相信|不信任?|不愿意|不高兴|不说话|不吭声|不出声|不回答|不回应|不理(?!解)")
"""Negated states of the customer (不满意, 不放心): they negate nothing after them."""


A_NOT_A: Final = re.compile(r"(.)[不没]\1")
"""要不要, 是不是, 有没有: the verb asked both ways negates nothing."""


NEGATED_CONDITION: Final = re.compile(r"(?:如果|要是|假如|万一|若是)(?:您|你)?[^我，。]{0,8}?[没不][^我，。]{0,4}(?=我)")
"""A condition with its own negation, then the result's subject (您要是没记住我给您发条短信): the negation is
the condition's, it does not reach the result's claim."""


def _negated_before(text: str, start: int) -> bool:
    window = text[max(0, start - NEGATION_REACH):start]
    conditions = list(NEGATED_CONDITION.finditer(text[:start]))
    if conditions and conditions[-1].end() > start - NEGATION_REACH:
        window = text[conditions[-1].end():start]
    resets = list(_WINDOW_RESET.finditer(window))
    if resets:
        window = window[resets[-1].end():]
    window = _STATE.sub(lambda m: "＃" * len(m.group()), window)
    window = FACT_NOT_NEGATION.sub(lambda m: "＃" * len(m.group()), window)   # 要不您…, 别的都…, 不好意思
    window = A_NOT_A.sub("＃＃＃", window)                                      # 要不要再开一个: a question, no negation
    condition = _CONDITION.search(window)
    if condition:
        window = window[:condition.start()]
    return bool(window) and (negates(window) or bool(_MORE_NEGATION.search(window)))


POTENTIAL_NEGATION: Final = re.compile(r"^(?:得?[过回去来出进上下]?)?(?:不了|不到|不出|不上|不成|不起|不进|不过去|不过来|不动)")
"""A verb's potential complement negates it from behind (发不了短信, 找不到我, 开不了): a claim whose
match is followed by one is not made."""
QUESTION: Final = re.compile(r"(?:吗|么|呢|嘛)$|是否|要不要|需不需要|用不用|可不可以|能不能|是不是|好不好|行不行|对不对|"
                             r"有没有|在哪|哪里|哪儿|为什么")
"""A clause that asks (a question back: 要不要给您回个电话呢, 营业网点在哪儿) asserts nothing."""
CONSENT: Final = re.compile(r"(?:如果|(?<!主)要是|假如|只要|等|若)[^，。]{0,4}(?<![不没当算])(?:同意|愿意|需要|考虑好|想好|决定|点头|接受|觉得合适|觉得可以|觉得行|觉得不错|感兴趣|有兴趣)|"
                            r"(?<![不没当算])(?<!当您)(?<!算您)(?<!默认)(?<!就是)(?<!说明)(?:同意|愿意|需要|点头|考虑好|想好)[^，。]{0,3}(?:的话|以后|之后|后|了)|(?<![不没])经过您的?同意")
"""A move made on the customer's consent (您愿意的话可以直接帮您办, 您点头了我们才能在线帮您办) is the
book's offer (问题3 您同意我们可以在线为您办理), not a move made on the spot."""
_NEGATION_CHAR: Final = re.compile(r"不|没|别|无|未|非(?![要得])")
"""A pattern that spells a negation itself (不受限制, 别打了) is about the negated claim: a negation
inside its match is the claim's own. Other patterns (an actor … a verb) are negated from inside too."""


def _negated_within(match: str) -> bool:
    masked = _STATE.sub(lambda m: "＃" * len(m.group()), match)
    masked = FACT_NOT_NEGATION.sub(lambda m: "＃" * len(m.group()), masked)
    return negates(masked) or bool(_MORE_NEGATION.search(masked))


def _consent_condition(clause: str) -> bool:
    """A clause that only sets the customer's consent as a condition (如果您同意, 您愿意的话, 您同意了)."""
    can = canon(clause)
    return bool(CONSENT.search(can)) and (bool(re.search(r"如果|(?<!主)要是|假如|只要|的话", can)) or len(can) <= 6)


def _negated_after(text: str, end: int) -> bool:
    """A negation cue after a negative claim in its clause: a double negation (不经过您同意就不会开) affirms the book."""
    rest = text[end:]
    return bool(rest) and (negates(rest) or bool(_MORE_NEGATION.search(rest)))


def _tail_negated(text: str, end: int) -> bool:
    return bool(POTENTIAL_NEGATION.search(text[end:end + 6]))


def clause_spans(text: str) -> list[tuple[str, bool]]:
    """The text's clauses, each with whether it is a question (ends with ？ or asks by its words)."""
    out: list[tuple[str, bool]] = []
    text = re.sub(r"(?<=[A-Za-z])\.(?=\s|$)", "。", text)   # an English sentence ends at its full stop
    for m in re.finditer(r"[^。！？!?；;，,]+([。！？!?；;，,]*)", text):
        asked = "?" in m.group(1) or "？" in m.group(1)
        for part in clauses(m.group(0)):
            pieces = _tail_question(part)
            out += [(piece, asked and k == len(pieces) - 1) for k, piece in enumerate(pieces)]
    return out or [(text, False)]


TAIL_QUESTION: Final = re.compile(r"(?<=[\u4e00-\u9fff0-9]{6})(?:请问|您看|您觉得|你看|你觉得|您需要|您愿意|您要不要)(?=[^，。]{2,}(?:吗|呢)$)")
"""A recogniser writes no comma before the question that closes a statement (我们这次是邀请所有用户体验流量
加油包每月十块您看方便了解一下吗): the question starts at its opener, the statement before it stays one."""


def _tail_question(part: str) -> list[str]:
    found = TAIL_QUESTION.search(part)
    return [part] if found is None else [part[:found.start()], part[found.start():]]


TAG_QUESTION: Final = re.compile(r"(?:好吗|好吧|行吗|行不行|好不好|可以吗|是吧|对吧|成吗)$")
"""A tag after a statement (您先挂机核实一下好吗) leaves it a statement."""


INDIRECT: Final = re.compile(r"(?:问问|问一下|问一问|查查|查一下|看看|看一下|确认一下|核实一下|打听|解释一下|解释|说明一下|"
                      r"判断|判定|分辨|看得出|看出|就知道|才知道|所以知道|不知道|不清楚|不明白|搞不懂|弄不清|说清楚|讲清楚|说明白|讲明白|"
                      r"没说|决定|想好|确认|核实|核对|检查|查看)[^，。]{0,12}$")
"""A question word after one of these is an indirect question inside a statement (您先挂了打10086问问这个号码
是不是移动的, 我看代码就能判断是不是这个业务, 是您上次没说清楚要不要): the clause tells or claims, it does not ask."""


SPOKEN_QUESTION: Final = re.compile(r"^请问|(?:吗|(?<![什怎这那多])么)$|(?:还是|什么|怎么|谁|多少|几)[^，。]*呢$|^那?(?:您|你|他|她|我们|他们|你们)(?:的|家|那边)?呢$")
"""A recogniser writes no question mark: a clause opening with 请问 or ending in 吗/呢 asks by its words
(请问您当时是电话邀请开通的还是您自己办理的呢). canon drops the 呢, so it is read off the plain text.
呢 asks only after a question word or 还是, or after a word or two (您呢): 还没吃呢 tells; 嘛 tells
(您先用一下看看效果嘛); 么 of 什么 is no particle (所以知道您需要什么 tells)."""


FINAL_PARTICLE: Final = re.compile(r"(?:吗|(?<![什怎这那多])么|呢|嘛)$")
"""A clause ending in one of these asks, whatever verb comes before its question word (您知道为什么吗)."""


SUGGESTION: Final = re.compile(r"^(?:那|那您|您)?(?:要不|不如|干脆|建议|还是)")
"""A clause opening with a suggestion (要不您找个同事再跟您说？, 不如您先挂了？) tells the customer what to
do even when it ends with a question mark."""


ALTERNATIVE: Final = re.compile(r"^还是.*(?:呢|吗|呀|啊)$")
"""…but 还是 that opens a clause ending in 呢 is the second half of an alternative question (您是电话里
办的，还是自己去营业厅办的呢？): it asks which, it suggests nothing."""
ALTERNATIVE_ASKED: Final = re.compile(r"^还是[^吧]*的(?:呀|啊)?$")
"""…and so is one ending in 的 and a question mark, the first half's 是…的 (您是营业厅办的，还是我们打电话
办的？): a suggestion ends in 吧 or a verb (还是您先挂了吧？, 还是您打10086？), not in the 的 of a fact."""


CONCESSIVE: Final = re.compile(r"(?:不管|无论|不论)[^，。]{0,6}?(?:哪儿|哪里|哪|什么|怎么|多少|谁|几)")
"""不管在哪儿, 无论什么时候: a question word under 不管/无论 makes a statement about every case, not a question."""


def asks(clause: str, asked: bool = False) -> bool:
    """The clause is a question back, not a statement (a tag such as 好吗 at its end does not count,
    nor an indirect question: 打10086问问是不是移动的)."""
    can = canon(clause)
    if TAG_QUESTION.search(can) or TAG_QUESTION.search(plain(clause)):   # canon drops 吧: 号码是…对吧 tells
        return False
    bare = clause.strip(" ，,。？?！!")
    if SUGGESTION.search(can) and not ALTERNATIVE.search(bare) and not (asked and ALTERNATIVE_ASKED.search(bare)):
        return False
    can = CONCESSIVE.sub(lambda m: "＃" * len(m.group()), can)   # 不管在哪儿都是免费的 tells, it does not ask
    found = QUESTION.search(can) or SPOKEN_QUESTION.search(plain(clause))
    if found and not asked and INDIRECT.search(can[:found.start()]) and not FINAL_PARTICLE.search(can):
        return False
    return asked or bool(found)


def hits(rule: Rule, text: str, values: Mapping[str, str]) -> list[Hit]:
    """Every place in `text`, clause by clause, where one of the rule's examples or patterns is said.

    A hit is negated (so not a claim) when a negation cue stands before it in its clause (不会给您回复),
    a potential complement after it (发不了), when its clause is a question back (要不要给您回个电话),
    or when the move is made on the customer's consent (您愿意的话可以直接帮您办)."""
    out: list[Hit] = []
    examples = [fill_values(e, values) for e in rule.examples]
    compiled = [re.compile(fill_pattern(p, values)) for p in rule.patterns]
    spans = clause_spans(text)
    for n, (clause, asked) in enumerate(spans):
        can = canon(clause)
        flat = plain(clause)
        consented = not rule.on_consent and (bool(CONSENT.search(can)) or (n > 0 and _consent_condition(spans[n - 1][0])))
        void = rule.kind == "claim" and ((asks(clause, asked) and not rule.in_questions) or consented)
        syl = [_char_syllable(c) for c in can]
        can_if, flat_if = supposition(can), supposition(flat)
        for example in examples:
            for i in _find_fuzzy(syl, example):
                end = i + len(_pattern(example))
                if end <= can_if:
                    continue   # 不录音的话出了问题没法查: a supposition, no claim
                double = _negative(example) and _negated_after(can, end)   # 不经过您同意不会给您开
                inner = not _NEGATION_CHAR.search(example) and _negated_within(can[i:end + 1])  # a fuzzy hit on 看不到您的通话内容; an example that spells a negation (不是机主也没关系) is the claim's own
                out.append(Hit(clause, i, void or double or inner or _negated_before(can, i) or _tail_negated(can, end)))
        for pattern in compiled:
            inner_ok = not _NEGATION_CHAR.search(pattern.pattern)
            for m in pattern.finditer(flat):
                start = m.start("claim") if "claim" in pattern.groupindex and m.group("claim") else m.start()
                if m.end() <= flat_if:
                    continue
                inner = inner_ok and _negated_within(flat[start:m.end()])   # 我们这边不会再回电话给您
                out.append(Hit(clause, start, void or inner or _negated_before(flat, start) or _tail_negated(flat, m.end())))
    return out


def _opening_start(syl: Sequence[str]) -> int:
    """Where the opening window starts: after a leading 先生/女士 and a leading 我的工号是NNNN."""
    i = 0
    for word in _ADDRESS:
        if find(syl[:2], word) == [0]:
            i = 2
            break
    found = find(syl[i:i + 6], _WORK_ID_WORD)  # 好的，我工号… / 我的工号是…
    if found:
        i += found[0] + 2
        if list(syl[i:i + 1]) == list(_pattern("是")):
            i += 1
        while i < len(syl) and len(syl[i]) == 1 and syl[i].isascii() and syl[i].isalnum():  # the id's digits
            i += 1
    return i


def opens_with(text: str, rule: Rule, values: Mapping[str, str]) -> bool:
    """The answer's opening (after an address and the work id) holds one of the rule's examples."""
    syl = syllables(text)
    start = _opening_start(syl)
    window = syl[start:start + FIRST_WINDOW]
    return any(find(window, fill_values(e, values)) for e in rule.examples) or any(
        re.search(p, "".join(canon(text))[start:start + FIRST_WINDOW]) for p in rule.patterns)


def message(rule: Rule, said: str = "") -> str:
    """The feedback line: what was wrong, the book's words, and the clause that did it."""
    line = f"{rule.description}（书中：{rule.book}）"
    return line + (f"，你说的是“{said}”" if said else "")


def check(rules: Iterable[Rule], text: str, values: Mapping[str, str]) -> tuple[Violation, ...]:
    """The rules the answer breaks, each once, in the order given."""
    out: list[Violation] = []
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            continue
        if rule.kind == "claim":
            made = [h for h in hits(rule, text, values) if not h.negated]
            if made:
                out.append(Violation(rule.id, message(rule, made[0].clause), rule.severity, made[0].clause))
                seen.add(rule.id)
        elif rule.kind == "missing":
            if not any(not h.negated for h in hits(rule, text, values)):
                out.append(Violation(rule.id, message(rule), rule.severity))
                seen.add(rule.id)
        elif rule.kind == "first":
            if not opens_with(text, rule, values):
                out.append(Violation(rule.id, message(rule), rule.severity))
                seen.add(rule.id)
    return tuple(out)


def without_book(rule: Rule, book_text: str, values: Mapping[str, str]) -> Rule | None:
    """The rule less the examples and patterns the book's own answer says (for a `general` rule: the
    book's wording is never a violation of its own entry); None when nothing is left."""
    def said(**kw: Any) -> bool:
        return bool(check([dataclasses.replace(rule, **kw)], book_text, values))
    examples = tuple(e for e in rule.examples if not said(examples=(e,), patterns=()))
    patterns = tuple(p for p in rule.patterns if not said(examples=(), patterns=(p,)))
    if not examples and not patterns:
        return None
    if examples == rule.examples and patterns == rule.patterns:
        return rule
    return dataclasses.replace(rule, examples=examples, patterns=patterns)


# ---------------------------------------------------------------- contradicting the book's own facts

CONTRADICTION_RULE: Final = "contradicts_book"
"""Id of the violation a clause makes when it states one of the book answer's facts with the
opposite polarity (书中“是有录音的”, 学员“没有录音”): found without any rule written for it."""
FACT_NEGATION: Final = re.compile(r"不用|不需要|不必|不会|不要|不能|不可以|不是|没有|没法|没办法|无法|避免|不|没|无|未|别|非")
"""Negation cues of a fact clause, longest first, so the word after the cue is the fact's own
(不用|拨打10086, 没有|录音, 不会有|短信通知). 避免 negates too (以后避免用电话联系您)."""
FACT_NOT_NEGATION: Final = re.compile(
    r"不过(?!多)|不断|不便|不少|不错|不仅|不管|不论|无论|没关系|没问题|没事|不客气|不好意思|不但|不然|别的|别人|别处|"
    r"识别|区别|特别|分别|告别|类别|级别|个别|非常|不久|未来|无线|无限|^没有关系$|要不(?!要)|不如|无关的(?=[问事东话内])")
"""Words holding a negation character that negate nothing (给您带来的不便, 系统识别, 非常抱歉)."""
FACT_SKIP: Final = re.compile(r"如果|(?<!主)要是|假如|万一|的话|是否|吗|什么|(?<![没不])怎么|哪|谁|多少|(.)不\1|(.)没\2")
"""Clauses that assert nothing: conditions (如果您不接受这种方式) and questions (开不开通)."""
FACT_FILLER: Final = frozenset("的了吗呢吧啊呀嘛我您们是在也都就这那个一和跟与把给为很再还又哦嗯啦着过到会要有能可以让请先")
"""Characters left out when two clauses' facts are compared (function words and modals; 会/有/是
carry polarity only through a negation cue before them)."""
FACT_FOLD: Final = (("免费", "不收费"), ("截然不同", "不一样"), ("不相同", "不一样"), ("不同", "不一样"), ("一模一样", "一样"), ("相同", "一样"), ("有点像", "一样"), ("差不多", "一样"), ("类似", "一样"), ("两码事", "不一样"), ("一回事", "一样"))
"""Words that are a fact of their own polarity: 免费 is 不收费 (是免费的 contradicts 是要收费的), 截然不同 and 两码事 are
不一样, 有点像 and 一回事 are 一样 (跟诈骗有点像 contradicts 与电话诈骗是截然不同的)."""
FACT_MIN_SHARED: Final = 3
"""Syllables two clauses must share to state the same fact (or all of the shorter one, two or more,
when the longer is at most twice as long and the one without a negation affirms it: 是有录音的 and
这个电话是没有录音的, 是要收费的; not 又打扰您了)."""
FACT_AFFIRM: Final = re.compile(r"是|有|会|要|确实|肯定|一定")
"""Words that make a clause without a negation assert its fact (是有录音的, 也是要收费的)."""
FACT_MIN_SHARE: Final = 0.6
"""…and this share of each clause's fact syllables: a clause that only mentions a word of the fact
(您在漫游状态下拨打10086 against …是免费的) is about something else."""


@dataclass(frozen=True)
class Fact:
    """One clause as a fact: what it says, without its negation, and whether it negates it."""

    clause: str
    negated: bool
    content: str
    """The clause's characters without fillers and negation cues."""
    pivot: str
    """The first content character after the negation cue ('' if none): what is negated (收 of 不收费)."""
    affirmed: bool = False
    """No negation, and an affirming word (是, 有, 会, 要, 确实): the clause asserts its fact."""


_SUBJECT: Final = re.compile(r"我们|我|您|你们|你")
"""A subject that opens a second predicate inside one clause."""


def _folded(text: str) -> str:
    """Canonical text with FACT_FOLD applied (免费 → 不收费): how facts compare."""
    can = canon(text)
    for old, new in FACT_FOLD:
        can = can.replace(old, new)
    return can


def facts(text: str) -> list[Fact]:
    """The clauses of `text` that state something (no condition, no question), as facts."""
    out = []
    pending = list(clauses(text) or [text])
    while pending:
        clause = pending.pop(0)
        can = _folded(clause)
        if not can or FACT_SKIP.search(can):
            continue
        masked = FACT_NOT_NEGATION.sub(lambda m: "＃" * len(m.group()), can)
        cues = list(FACT_NEGATION.finditer(masked))
        if len(cues) >= 2:
            # 您不同意我们是无权给您开通的: a negated condition, then a new subject with its own negation
            # (two facts, each negated), not one fact whose two negations cancel.
            turn = _SUBJECT.search(can, cues[0].end(), cues[-1].start())
            if turn is not None:
                pending[:0] = [can[:turn.start()], can[turn.start():]]
                continue
        negation = {i for m in cues for i in range(m.start(), m.end())}
        content = "".join(c for i, c in enumerate(can) if c not in FACT_FILLER and i not in negation)
        pivot = next((c for c in can[cues[0].end():] if c not in FACT_FILLER), "") if cues else ""
        negated = len(cues) % 2 == 1
        out.append(Fact(clause, negated, content, pivot, not negated and bool(FACT_AFFIRM.search(can))))
    return out


def _same_fact(a: Fact, b: Fact) -> float:
    """How much two facts are one (0: not the same fact): shared syllables over the longer."""
    ka, kb = syllable_key(syllables(a.content)), syllable_key(syllables(b.content))
    if len(ka) < 2 or len(kb) < 2:
        return 0.0
    shared = LCSseq.similarity(ka, kb)
    shorter, longer = sorted((len(ka), len(kb)))
    short = shared >= 2 and shared == shorter and longer <= 2 * shorter and (a.negated == b.negated or a.affirmed or b.affirmed)
    same = (shared >= FACT_MIN_SHARED and shared >= FACT_MIN_SHARE * len(ka) and shared >= FACT_MIN_SHARE * len(kb)) or short
    return shared / max(len(ka), len(kb)) if same else 0.0


LOCAL_REACH: Final = 3
"""Characters before the words a long clause shares with a book clause that still belong to its
predicate (并不是 before 征求您的意见)."""


def _local(said: Fact, book_fact: Fact) -> Fact:
    """The part of a long clause said that states the book clause's fact, as its own fact.

    A recogniser writes no punctuation, so one clause can hold two predicates (目前只有大陆31个省才不收取
    漫游费港澳台是不属于在内的, 我们并不是要求您开通本次来电是征求您的意见的): their negations must not
    cancel, nor one predicate's negation reach the other's fact. The polarity that counts is that of
    the words aligned with the book clause, and the few characters before them."""
    can, book = _folded(said.clause), _folded(book_fact.clause)
    if len(book) < 4 or len(can) < len(book) + 4:
        return said
    found = fuzz.partial_ratio_alignment(book, can)
    if found is None or found.score < 60:
        return said
    window = can[max(0, found.dest_start - LOCAL_REACH):found.dest_end]
    got = facts(window)
    return got[0] if len(got) == 1 else said


def contradicted(book_text: str, text: str) -> tuple[str, str] | None:
    """(the clause said, the book's clause) for the first clause of `text` stating a fact of the
    book's answer with the opposite polarity, else None.

    Each clause said is compared with the book clause stating the closest fact; only when that one
    has the other polarity, and what the negation applies to (its pivot) is in the other clause
    too, is it a contradiction: 没有录音 against 是有录音的, 是不收费的 against 是要收费的,
    就不用再拨打10086咨询了 against 挂机后您可拨打10086咨询. A clause as close to a book clause of
    its own polarity is not (the book says 向您推荐 and 以后不再向您推荐)."""
    book = facts(book_text)
    for whole in facts(text):
        best: tuple[tuple[float, bool], Fact] | None = None
        for fact in book:
            said = _local(whole, fact)
            if fact.negated != said.negated:
                neg, other = (fact, said) if fact.negated else (said, fact)
                if not neg.pivot or neg.pivot not in other.content:
                    continue
            closeness = _same_fact(said, fact)
            if closeness and (best is None or (closeness, fact.negated == said.negated) > best[0]):
                best = ((closeness, fact.negated == said.negated), fact)
        if best is not None and not best[0][1]:
            return whole.clause, best[1].clause
    return None


def contradiction(book_text: str, text: str) -> Violation | None:
    """The violation for a clause contradicting the book's answer (see `contradicted`)."""
    found = contradicted(book_text, text)
    if found is None:
        return None
    said, book_clause = found
    return Violation(CONTRADICTION_RULE, f"和书中的说法相反（书中：“{book_clause}”），你说的是“{said}”", "contradicts", said)


# ---------------------------------------------------------------- opposite poles of one claim

OPPOSITE_KIND: Final = "opposite"
_CONDITION_CLAUSE: Final = re.compile(r"如果|(?<!主)要是|假如|万一|只要|若是|一旦|是否")
"""A clause under a condition (如果您不接受这种方式) states no pole."""
_PREDICATE_START: Final = re.compile(r"[就便才却]")
"""A word that opens a new predicate: a negation before it is not the pole's (没有经过您同意就录音了)."""


@dataclass(frozen=True)
class Pole:
    """A clause stating one pole of an `opposite` rule."""

    side: int
    """0: the rule's `patterns` (or its `opposites` negated), 1: its `opposites` (or `patterns` negated)."""
    clause: str
    context: str
    """Syllable key of the clause and the one before it, less fillers, negation cues and pole words."""
    own: str = ""
    """The same of the clause alone."""


def _content_key(text: str) -> str:
    masked = FACT_NOT_NEGATION.sub(lambda m: "＃" * len(m.group()), text)
    kept = FACT_NEGATION.sub(lambda m: "＃" * len(m.group()), masked)
    return syllable_key([_char_syllable(c) for c in kept if c != "＃" and c not in FACT_FILLER])


def poles(rule: Rule, text: str, values: Mapping[str, str]) -> list[Pole]:
    """The clauses of `text` that state a pole of the rule: a statement (no question back, no condition,
    no consent) in which every pole match agrees (不是随机的 is the second pole, 不收费 the first's opposite)."""
    compiled = [(0, re.compile(fill_pattern(p, values))) for p in rule.patterns] + \
               [(1, re.compile(fill_pattern(p, values))) for p in rule.opposites]
    out: list[Pole] = []
    spans = clause_spans(text)
    previous = ""
    for n, (clause, asked) in enumerate(spans):
        flat = plain(clause)
        can = canon(clause)
        void = (asks(clause, asked) or bool(CONSENT.search(can)) or bool(_CONDITION_CLAUSE.search(can))
                or (n > 0 and _consent_condition(spans[n - 1][0])))
        sides: set[int] = set()
        masked = flat
        supposed = supposition(flat)
        for side, pattern in compiled:
            for m in pattern.finditer(flat):
                if m.end() == m.start() or m.end() <= supposed:
                    continue   # 不录音的话出了问题没法查: the pole is supposed, not stated
                inner = not _NEGATION_CHAR.search(pattern.pattern) and _negated_within(flat[m.start():m.end()])
                cut = _PREDICATE_START.search(flat[:m.start()][::-1])     # 没有经过您同意就录音: 没有 is the consent's
                start = m.start() - cut.start() if cut else 0
                negated = _negated_before(flat[start:], m.start() - start) or _tail_negated(flat, m.end()) or inner
                sides.add(side ^ int(negated))
                masked = masked[:m.start()] + "＃" * (m.end() - m.start()) + masked[m.end():]
        if not void and len(sides) == 1:
            out.append(Pole(sides.pop(), clause, _content_key(previous + masked), _content_key(masked)))
        previous = masked
    return out


def opposed(rules: Iterable[Rule], book_text: str, text: str, values: Mapping[str, str]) -> Violation | None:
    """The first clause of `text` stating the pole of an `opposite` rule that the book's answer does
    not state, where the book states only the other one (书中“随机抽取到的”, 学员“是专门挑出来的”;
    书中“只负责代收这笔费用”, 学员“钱也不是我们收的”); with the rule's `topic`, the clause said (with
    the one before it: 国外接听每分钟3块钱，跟国内不一样) must share that many content syllables, besides
    the pole words, with the book's clause itself."""
    for rule in rules:
        if rule.kind != OPPOSITE_KIND:
            continue
        book = poles(rule, book_text, values)
        sides = {p.side for p in book}
        if len(sides) != 1:
            continue
        side = sides.pop()
        for said in poles(rule, text, values):
            if said.side == side:
                continue
            for fact in book:
                if rule.topic and LCSseq.similarity(said.context, fact.own) < rule.topic:
                    continue
                return Violation(rule.id, f"{rule.description}：和书中的说法相反（书中：“{fact.clause}”），你说的是“{said.clause}”",
                                 rule.severity, said.clause)
    return None


# ---------------------------------------------------------------- the per-call caps (特殊问题3)

def word_counts(lines: Iterable[str], groups: Sequence[Sequence[str]]) -> dict[str, int]:
    """How often each group of words_to_avoid is said over the lines (a group counts under its
    first word; 咱们 counts once, not as 咱 + 咱们; a filler 对 only where it opens a clause)."""
    counts = {group[0]: 0 for group in groups if group}
    for line in lines:
        text = to_simplified(unicodedata.normalize("NFKC", line))
        for group in groups:
            if not group:
                continue
            words = sorted(group, key=len, reverse=True)
            fillers = [w for w in words if w in FILLER_WORDS]
            others = [w for w in words if w not in FILLER_WORDS]
            n = len(re.findall("|".join(map(re.escape, others)), text)) if others else 0
            for w in fillers:
                n += len(re.findall(rf"(?:^|[，。！？,.!?；;\s]){re.escape(w)}(?=[，。！？,.!?、\s]|$)", text))
            counts[group[0]] += n
    return counts


def overused(lines: Iterable[str], cap: int, groups: Sequence[Sequence[str]]) -> tuple[tuple[Violation, ...], dict[str, int]]:
    """Violations of 特殊问题3 over a set of agent lines (one answer, or a whole call), and the counts."""
    counts = word_counts(list(lines), groups)
    out = []
    for group in groups:
        if group and counts[group[0]] > cap:
            name = "/".join(group)
            out.append(Violation(f"overuse_{group[0]}",
                                 f"{name}说了{counts[group[0]]}次，一通电话只能出现二、三次（书中：特殊问题3“先生、女士太多、"
                                 f"随口对太多、‘咱、咱们’使用太多，一通录音只能出现二、三次”）", "style"))
    return tuple(out), counts


# ---------------------------------------------------------------- building rules from the book's data

def build_rule(node: Any, problem: Callable[[str], None], where: str, file: str = "", line: int = 0) -> Rule | None:
    """A Rule from a YAML mapping; shape problems go to `problem(message)`, never raised."""
    if not isinstance(node, dict):
        problem(f"{where}: a rule must be a mapping (id, description, book, examples/patterns) or a rule id")
        return None
    rule_id = node.get("id")
    if not isinstance(rule_id, str) or not re.fullmatch(r"[a-z0-9_]+", rule_id):
        problem(f"{where}: rule id {rule_id!r} missing or not lowercase letters, digits and _")
        return None
    desc, book = node.get("description"), node.get("book")
    if not isinstance(desc, str) or not desc.strip():
        problem(f"{where}: rule {rule_id} needs a `description` (one line naming what the book rules out)")
        desc = rule_id
    if not isinstance(book, str) or not book.strip():
        problem(f"{where}: rule {rule_id} needs `book`: the book's own words it rests on, quoted")
        book = ""
    def one_of(key: str, allowed: tuple[str, ...], default: str, fallback: str) -> str:
        """The node's value for `key` (`default` when absent); an unknown one is reported, `fallback` used."""
        value = node.get(key) or default
        if value not in allowed:
            problem(f"{where}: rule {rule_id}: unknown {key} '{value}': use one of {', '.join(allowed)}")
            return fallback
        return value

    kind = one_of("kind", KINDS, "claim", "claim")
    severity = one_of("severity", SEVERITIES, "contradicts" if kind in ("claim", OPPOSITE_KIND, "unsupported") else "style", "style")
    scope = one_of("scope", SCOPES, "entry", "entry")
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("examples", "patterns", "opposites"):
        value = node.get(key)
        if key == "opposites" and isinstance(value, dict):
            value = value.get("patterns")   # opposites: {patterns: […]}: regular expressions, like `patterns`
        if value is None:
            lists[key] = ()
        elif isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
            lists[key] = tuple(str(v) for v in value)
        elif isinstance(value, str):
            lists[key] = (value,)
        else:
            problem(f"{where}: rule {rule_id}: `{key}` must be a list of strings")
            lists[key] = ()
    patterns = valid_patterns(lists["patterns"], lambda msg: problem(f"{where}: rule {rule_id}: {msg}"))
    examples = tuple(e for e in lists["examples"] if syllables(e) or _PLACEHOLDER.search(e))
    opposites = valid_patterns(lists["opposites"], lambda msg: problem(f"{where}: rule {rule_id}: {msg}"))
    if not examples and not patterns:
        problem(f"{where}: rule {rule_id} has no `examples` or `patterns`: it could never be found")
    if kind == OPPOSITE_KIND and not patterns:
        problem(f"{where}: rule {rule_id} (kind opposite) needs `patterns` (one pole; `opposites` is the other)")
    elif kind != OPPOSITE_KIND and opposites:
        problem(f"{where}: rule {rule_id}: `opposites` belongs to kind opposite: drop it or set `kind: opposite`")
    topic = node.get("topic", 0)
    if not isinstance(topic, int) or isinstance(topic, bool) or not 0 <= topic <= 10:
        problem(f"{where}: rule {rule_id}: `topic` must be a whole number of syllables from 0 to 10")
        topic = 0
    narrow = one_of("narrow", NARROWINGS, "wording", "wording")
    in_questions = node.get("in_questions", False)
    if not isinstance(in_questions, bool):
        problem(f"{where}: rule {rule_id}: `in_questions` must be true or false")
        in_questions = False
    on_consent = node.get("on_consent", False)
    if not isinstance(on_consent, bool):
        problem(f"{where}: rule {rule_id}: `on_consent` must be true or false")
        on_consent = False
    term_is_claim = node.get("term_is_claim", False)
    if not isinstance(term_is_claim, bool):
        problem(f"{where}: rule {rule_id}: `term_is_claim` must be true or false")
        term_is_claim = False
    elif term_is_claim and kind != "unsupported":
        problem(f"{where}: rule {rule_id}: `term_is_claim` belongs to kind unsupported: drop it or set `kind: unsupported`")
        term_is_claim = False
    support = node.get("support", 0)
    if not isinstance(support, int) or isinstance(support, bool) or not 0 <= support <= 100:
        problem(f"{where}: rule {rule_id}: `support` must be a whole number from 0 to 100")
        support = 0
    elif support and kind != "unsupported":
        problem(f"{where}: rule {rule_id}: `support` belongs to kind unsupported: drop it or set `kind: unsupported`")
        support = 0
    unknown = set(node) - {"id", "description", "book", "kind", "severity", "scope", "examples", "patterns", "opposites",
                           "topic", "in_questions", "narrow", "support", "term_is_claim", "on_consent"}
    if unknown:
        problem(f"{where}: rule {rule_id}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    return Rule(id=rule_id, description=desc.strip(), book=book.strip(), kind=str(kind), examples=examples,
                patterns=patterns, severity=str(severity), scope=str(scope), opposites=tuple(opposites),
                topic=int(topic), support=int(support), in_questions=in_questions, narrow=str(narrow),
                term_is_claim=term_is_claim, on_consent=on_consent, file=file, line=line)


# ---------------------------------------------------------------- claims the book does not make

UNSUPPORTED_KIND: Final = "unsupported"
SUPPORT_MIN: Final = 40.0
"""A clause is the book's when at least this share (0–100) of its content syllables is said, in
order, within a stretch of the book's lines a little longer than the clause. On the good and partial
answers of the tune set and v1–v4 (benchmarks/bench_drill.py --rules), risky clauses below it are the
trainee's own additions (三天之内会有专人给您回电话: 22; 我们是河北的外包呼叫中心: 12), and the
book's points in other words mostly stay above it."""
SUPPORT_SLACK: Final = 0.5
"""The stretch of the book searched for a clause: its length plus half (the book's 就, 都, 为您 between)."""
_TERM_FOLD: Final = (("为您", "给您"), ("帮您", "给您"), ("替您", "给您"), ("元", "块"), ("不要钱", "免费"), ("不收钱", "免费"),
                     ("不花钱", "免费"), ("不收费", "免费"), ("办理", "办"), ("扣费", "收费"), ("收取", "收"), ("立刻", "现在"), ("马上", "现在"), ("这就", "现在"), ("拜拜", "再见"), ("答复", "解答"),
                     ("回头", "稍后"), ("晚点", "稍后"), ("晚一点", "稍后"), ("待会儿", "稍后"), ("待会", "稍后"),
                     ("开通", "开"), ("办", "开"), ("赠送", "送"), ("送您", "送"), ("送给您", "送"),
                     ("绝对", "完全"), ("不外泄", "保密"), ("不外传", "保密"), ("不泄露", "保密"), ("责任", "职责"))
"""Words folded before asking whether the book says a risky term (为您开通 is 给您开通, 10元 is 10块,
回头打10086 is the book's 稍后联系10086; 办 and 开通 are one act: 我这边已经在给您办了 is 问题23's 我们现在为您开通)."""


def _coverage(needle: str, hay: str) -> float:
    """0–100: share of `needle`'s syllables found in order within a stretch of `hay` a little longer."""
    return coverage(needle, hay, SUPPORT_SLACK, 2)


def coverage(needle: str, hay: str, slack: float, slack_min: int) -> float:
    """0–100: share of `needle`'s characters found in order (LCS) within the best stretch of `hay`
    `slack_min` or `slack` × its length longer than it: recall, so words added around cost nothing.
    Shared by a key point's coverage (drill) and a clause's support by the book (here)."""
    n = len(needle)
    if not n or not hay:
        return 0.0
    width = n + max(slack_min, int(n * slack))
    if len(hay) <= width:
        return 100.0 * LCSseq.similarity(needle, hay) / n
    best = 0
    for i in range(len(hay) - width + 1):
        best = max(best, LCSseq.similarity(needle, hay[i:i + width]))
        if best == n:
            break
    return 100.0 * best / n


def _fold_terms(text: str) -> str:
    text = plain(text)
    for old, new in _TERM_FOLD:
        text = text.replace(old, new)
    return text


@dataclass(frozen=True)
class Reference:
    """The book's lines for one entry, ready for `unsupported`: content syllables, folded syllables, digits."""

    content: str
    folded: str
    flat: str
    words: frozenset[str] = frozenset()
    """English words of the lines (the foreign caller's entry)."""
    acts: tuple[str, ...] = ()
    """The book's clauses that do something for the customer outright (我们现在为您开通): not negated,
    not under a condition or the customer's consent (经过您的同意才会为您开通 is no act done)."""
    claims: str = ""
    """Folded content syllables of the book's clauses, for what a guarantee or a date is about."""
    stated: str = ""
    """Content syllables of the lines' statements only: what the book asks (取消之后还给您回电话吗？)
    it does not state, so it supports a question back, not a statement (取消以后我们给您回个电话)."""
    said: str = ""
    """The lines as plain text, without the settings or the customer's line: where a phone number (10086,
    the customer's number) is said, it must be said here (the hotline is a setting of every entry, and
    the customer may name it — 你们10086的普通话 — but 问题27 never sends anyone to it)."""


def reference(lines: Sequence[str], values: Mapping[str, str], asked: str = "") -> Reference:
    """The lines as `unsupported` compares them. The customer's line as the book words it (`asked`)
    counts for the terms only (返还的事我这边查不到 echoes 为什么没有收到优惠或返还), and the
    settings' values for numbers only (资费 10, 5GB, 12个月 are the offer's facts, but 取消方式's 营业厅
    is not a line of every entry)."""
    text = "。".join(lines)
    content = syllable_key([_char_syllable(c) for c in canon(text) if c not in FACT_FILLER])
    flat = plain(text + "。" + asked + "。" + "。".join(fill_values(str(v), values) for v in values.values()))
    words = frozenset(re.findall(r"[a-z]+", text.lower()))
    acts = tuple(_fold_terms(c) for c in clauses(text) if not _conditional(c) and not _negative(c))
    told = "。".join(c for line in lines for c, q in clause_spans(line) if not asks(c, q))
    stated = syllable_key([_char_syllable(c) for c in canon(told) if c not in FACT_FILLER])
    return Reference(content, syllable_key(syllables(_fold_terms(text + "。" + asked))), flat, words, acts,
                     _claim_key(text), stated, plain(text))


_CONDITIONAL: Final = re.compile(r"如果|(?<!主)要是|假如|只要|的话|才|等|之后|以后|若")


def _conditional(clause: str) -> bool:
    """A clause under a condition or the customer's consent (您同意我们可以在线为您办理, 经过您的同意才会开通)."""
    can = canon(clause)
    return bool(_CONDITIONAL.search(can) or CONSENT.search(can))


def _claim_key(text: str) -> str:
    """Folded content syllables (function words left out) of what a clause claims."""
    return syllable_key([_char_syllable(c) for c in canon(_fold_terms(text)) if c not in FACT_FILLER])


ACT_FRAME: Final = "(?:给|帮|替|为)您[^，。]{0,6}?"
"""The customer as the one an act is done for (为您开通 folds to 给您开通)."""
CLAIM_MIN: Final = 75.0
"""A guarantee or a date is the book's own claim in other words when what it is about (the rest of the
clause after the term, at least CLAIM_SYLLABLES content syllables) is said, in order, this much (0–100) in
the entry's book lines (今天给您开业务一定先经过您同意: 经过您的同意才会为您开通)."""
CLAIM_SYLLABLES: Final = 3
ASKS_CONSENT: Final = re.compile(r"(?<![不没])(?:经过|征得|征求|得到|要|等|问过)您的?[^，。]{0,3}(?:同意|点头|答应|许可)")
"""A guarantee that the customer is asked first (一定先征得您同意): the book's own rule (问题3, 3.15)."""


def book_claim(m: re.Match[str], flat: str, ref: Reference) -> bool:
    """The term's claim is the book's own in other words: an act the book's lines do for the customer
    outright (我们这边已经在给您开了: 我们现在为您开通; group `act` of the pattern), or what the term
    guarantees or dates is consent (一定先经过您同意, 肯定要您点头才办) or a clause of the book's."""
    if "act" in m.re.groupindex and m.group("act"):
        act = _fold_terms(m.group("act"))
        frame = re.compile(ACT_FRAME + re.escape(act))
        return any(frame.search(c) for c in ref.acts)
    after = flat[m.end("term") if "term" in m.re.groupindex and m.group("term") else m.end():]
    if CONSENT.search(after) or ASKS_CONSENT.search(after):
        return True
    key = _claim_key(after)
    return len(key) >= CLAIM_SYLLABLES and bool(ref.claims) and _coverage(key, ref.claims) >= CLAIM_MIN


def supported(clause: str, ref: Reference, question: bool = True) -> float:
    """0–100: how much of the clause's content the book's lines say (see SUPPORT_MIN); an English
    clause by its words (letters are too few for an in-order match to mean anything). A statement
    (`question` False) is measured against the book's statements only: a line the book asks is not
    one it states."""
    if clause.isascii():
        words = [w for w in re.findall(r"[a-z]+", clause.lower()) if len(w) > 2]
        return 100.0 if not words else 100.0 * sum(w in ref.words for w in words) / len(words)
    key = syllable_key([_char_syllable(c) for c in canon(clause) if c not in FACT_FILLER])
    return 100.0 if len(key) < 2 else _coverage(key, ref.content if question else ref.stated)


def _content_size(clause: str) -> int:
    return sum(1 for c in canon(clause) if c not in FACT_FILLER)


NUMBER_UNIT: Final = re.compile(r"([0-9]+)(个?[^0-9]{1,3})$")


def _changed_number(term: str, ref: Reference) -> bool:
    """A number with a unit the book gives with another number (20个省 where the book says 31个省): the
    book's fact changed, however many of its words the clause repeats."""
    m = NUMBER_UNIT.search(_money_unit(term))
    if m is None:
        return False
    unit = m.group(2)
    return any(n != m.group(1) for n in re.findall(r"([0-9]+)" + re.escape(unit), _money_unit(ref.flat)))


def _other_phone_number(term: str, ref: Reference) -> bool:
    """A phone number that is no slip of one of the book's (10086666 where the book says 10086999; 20086 for
    10086 is one digit off, as a recogniser mishears it, and stays the book's line said)."""
    said = _numbers(ref.flat)
    for number in PHONE_NUMBER.findall(unit_digits(term)):
        if not any(len(k) == len(number) and sum(a != b for a, b in zip(k, number)) <= 1 for k in said):
            return True
    return False


def _money_unit(text: str) -> str:
    """块钱 and 块 as 元: 每月五块钱 changes the book's 每月10元."""
    return text.replace("块钱", "元").replace("块", "元")


def bare(clause: str) -> bool:
    """A clause of fewer than two content syllables (再见, 拜拜, 挂了): nothing of the book's in it to support
    a term. `unsupported` asks it of what is left once a short term is taken out (我是新来的)."""
    return _content_size(clause) < 2 if not clause.isascii() else False


LONG_CLAUSE: Final = 24
"""A clause this long (content characters) holds more than one claim: a recogniser writes no commas."""
TERM_REACH: Final = 6
"""Characters each side of a risky term that make its stretch, judged on its own in a long clause."""
BARE_TERM: Final = 3
"""A term this short is a word (新来的, 责任, 再见); a longer match is a whole claim (到时候让专人给您打过去),
and what is left of its clause once it is taken out says nothing about support."""


REFUSAL: Final = re.compile(r"(?:不方便|不能|不可以|无权|没法|没办法|不好|不便)(?:向您|跟您|给您|对您)?(?:告诉|透露|说|讲|提供|公开|外传)|"
                            r"(?:对外|向外)(?:也|都|一律|从来)?不(?:说|讲|报|透露|告诉|公开)")
"""A clause that refuses to tell (负责人的名字不方便告诉您, 地址不能透露) says nothing of what it withholds."""


UNIT_NUMERAL: Final = re.compile(r"(?<![一二两三四五六七八九十几])[一二两三四五六七八九](?=个?(?:块(?!儿)|元|毛|角|分钟|小时|天|周|星期|月|年|工作日|g|兆|倍|省|国家|地区))")
"""A single numeral before a unit (一分钟, 三天, 五个G): `plain` leaves lone numerals as they are (一下,
一样 are no numbers), but before a unit it is a value to compare as digits."""
_ONE_DIGIT: Final = {"一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
PER_MONTH: Final = re.compile(r"(?:一|1)个?月(?=[^，。]{0,4}?[0-9一二两三四五六七八九十]+个?(?:块|元|g))|(?<=[块元钱g])(?:一|1)个?月")
"""一个月十块钱, 一个月5个G: "a month" said as one month is the book's 每月, not a period of one month."""


def unit_digits(text: str) -> str:
    """`text` with a lone numeral before a unit as its digit (一分钟一块钱 → 1分钟1块钱), 一个月 before an
    amount as 每月."""
    text = PER_MONTH.sub("每月", text)
    return UNIT_NUMERAL.sub(lambda m: _ONE_DIGIT[m.group()], text)


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"[0-9]+", unit_digits(text)))


NAMED_HOTLINE: Final = re.compile(r"(?<=移动)10086(?!\d)")
"""北京移动10086 is the company's name, said on every call (we are 北京移动10086), not a number given."""
PHONE_DIGITS: Final = 5
PHONE_NUMBER: Final = re.compile(r"[0-9]{%d,}" % PHONE_DIGITS)
"""A number this long is a phone number (10086, 01010086, 13800138000): the settings hold them for every
entry, so only the entry's own lines and the customer's line make one the book's here."""


_DIGIT_SOUND: Final = dict(zip("0123456789", "零一二三四五六七八九"))
MISHEARD_DIGITS: Final = 2
"""A number this short can be a recogniser's mishearing of the book's words (是北 heard as 四倍)."""


def _misheard(flat: str, start: int, end: int, ref: Reference) -> bool:
    """The number matched at flat[start:end] is a recogniser's mishearing, not a number said: a lone digit
    glued to a letter (Q4), the book's number with a digit that sounds like its next word (`_heard_next_word`),
    or a short number that, with the character before or after it, sounds like the book's own words (这四倍
    is ze si bei, as 这是北 of 这是北京 once zh/z, sh/s fold). 热线是四倍的速度 sounds like nothing of the
    book's: a claim."""
    term = flat[start:end]
    if term.isdigit() and len(term) == 1 and start > 0 and flat[start - 1].isascii() and flat[start - 1].isalpha():
        return True
    if _heard_next_word(term, ref):
        return True
    digits = re.findall(r"[0-9]+", term)
    if not digits or any(len(d) > MISHEARD_DIGITS for d in digits):
        return False
    book = syllable_key([_char_syllable(c) for c in canon(ref.said)])
    for around in (flat[max(0, start - 1):end], flat[start:end + 1]):
        spoken = re.sub(r"[0-9]", lambda m: _DIGIT_SOUND[m.group()], around)
        key = syllable_key([_char_syllable(c) for c in canon(spoken)])
        if len(key) >= 3 and key in book:
            return True
    return False


def _heard_next_word(term: str, ref: Reference) -> bool:
    """The book's number with one digit more that sounds like the word after it in the book (8086您先 heard as
    80860先: 零 ling and 您 nin meet once n/l and ing/in fold): the book's line misheard, not another number."""
    for number in re.findall(r"[0-9]+", term):
        head, last = number[:-1], number[-1]
        if len(head) < 3:
            continue
        for m in re.finditer(re.escape(head) + r"(?![0-9])(.)", ref.said):
            if _char_syllable(_DIGIT_SOUND[last]) == _char_syllable(m.group(1)):
                return True
    return False


def _novel(term: str, ref: Reference) -> bool:
    """The book's lines never say this term (a number: each of its values, as a whole number, so 1 is
    not found inside 10086, though 010 is the start of 01010086; a word: its syllables, folded)."""
    digits = _numbers(term)
    if digits:
        known, said = _numbers(ref.flat), _numbers(ref.said)
        return not all((d in said or (len(d) >= 3 and any(d in k for k in said))) if len(d) >= PHONE_DIGITS
                       else (d in known or (len(d) >= 3 and any(d in k for k in known))) for d in digits)
    key = syllable_key(syllables(_fold_terms(term)))
    return bool(key) and key not in ref.folded


PURPOSE_CUE: Final = re.compile(r"为了|因为|所以|目的|用来|用于")
"""Between a look-into verb and a term, one of these makes the term the look-into's reason (核实一下资料主要是
为了给您寄账单): a claim, not what someone will look into."""
INDIRECT_VERB: Final = re.compile(r"问问|问一下|查查|查一下|核实一下|确认一下|了解一下")
"""What follows one of these in a clause is what someone will look into (查一下返还是怎么回事), not a claim."""


def unsupported(rules: Iterable[Rule], lines: Sequence[str], text: str, values: Mapping[str, str],
                asked: str = "") -> Violation | None:
    """The first clause of `text` (not a question back, unless the rule says `in_questions`: 您到底办不办？)
    that the book's `lines` do not support
    (`supported` below SUPPORT_MIN) and that says a term of an `unsupported` rule the lines never say
    (a pattern's group `term`, else its match), unless a negation cue stands before it (没办法直接折现)
    and the pattern does not spell a negation itself (不收费 is a claim about money)."""
    kinds = [r for r in rules if r.kind == UNSUPPORTED_KIND]
    if not kinds:
        return None
    ref = reference(lines, values, asked)
    condition = previous = ""
    for clause, asked in clause_spans(text):
        question = asks(clause, asked)
        flat = NAMED_HOTLINE.sub("移动", unit_digits(plain(clause)))
        if REFUSAL.search(flat):
            condition = ""
            continue   # 负责人的名字这边不方便告诉您: withholding the name claims nothing about it
        indirect = INDIRECT_VERB.search(flat)
        found = []
        for rule in kinds:
            if question and not rule.in_questions:
                continue
            for p in rule.patterns:
                pattern = re.compile(fill_pattern(p, values))
                for m in pattern.finditer(flat):
                    term = m.group("term") if "term" in pattern.groupindex and m.group("term") else m.group()
                    if not term or not (_novel(term, ref) or _changed_number(term, ref)):
                        continue   # 5块 is a value of the settings (5GB), but not the price: 每月10元
                    if _misheard(flat, m.start(), m.end(), ref):
                        continue   # 这四倍天移动: a recogniser's 这是北京移动, not four times
                    at = m.start("term") if "term" in pattern.groupindex and m.group("term") else m.start()
                    if not _NEGATION_CHAR.search(flat[at:m.end()]) and (
                            _negated_before(flat, at) or _tail_negated(flat, m.end())):
                        continue   # 没办法直接折现: refusing what the book does not offer claims nothing
                    if indirect is not None and m.start() >= indirect.end() and not PURPOSE_CUE.search(flat[indirect.end():m.start()]):
                        continue   # 帮您查一下返还是怎么回事: what someone will look into, not a claim
                    if (not rule.term_is_claim and not _changed_number(term, ref) and not _other_phone_number(term, ref)
                            and not flat.isascii() and book_claim(m, flat, ref)):
                        continue   # 我们这边已经在给您开了: the book's own act (我们现在为您开通), said otherwise (letters are too few for an in-order match to say so)
                    found.append((rule, term, m.start()))
        support = supported(clause, ref, question) if found else 100.0
        if found and _content_size(clause) >= LONG_CLAUSE:
            # 是因为您现在人在外地漫游所以才显示01010086 (a recogniser's run-on clause): the book's words around
            # the term do not make the term the book's; what counts is the stretch it stands in.
            support = min(support, min(supported(flat[max(0, at - TERM_REACH):at + len(term) + TERM_REACH], ref, question)
                                       for _, term, at in found))
        if any(_changed_number(term, ref) or _other_phone_number(term, ref) for _, term, _ in found):
            support = 0.0   # 大陆20个省 where the book says 31个省; a phone number the entry's lines never give
        if found and _content_size(clause) >= 2 and all(len(term) <= BARE_TERM and bare(flat.replace(term, "", 1))
                                                        for _, term, _ in found):
            support = 0.0   # 我是新来的: the term with nothing of the book's around it
        cut = supposition(flat) + len(CONDITION_END) if CONDITION_END in flat else 0
        if found and cut and all(start >= cut for _, _, start in found) and _content_size(flat[cut:]) >= 2:
            support = min(support, supported(flat[cut:], ref, question))   # 您不想接的话我就不打扰了: the result is the claim
        if found and condition:   # 您要是开了加油包，接听就全免了: the condition and its result are one claim
            support = min(support, supported(condition + clause, ref, question))
        if found and _content_size(clause) < 2:   # 再见 alone: the clause is its term, said after the one before
            support = supported(previous + clause, ref, question) if _content_size(previous + clause) >= 2 else 0.0
        condition = clause if _CONDITION.search(plain(clause)) and not question else ""
        previous = clause
        found = [(rule, term) for rule, term, _ in found if support < (rule.support or SUPPORT_MIN)]
        if found:
            rule, term = found[0]
            return Violation(rule.id, f"{rule.description}：书中没有这样说（“{term}”），你说的是“{clause}”", rule.severity, clause)
    return None

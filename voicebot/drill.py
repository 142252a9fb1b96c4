"""Drill mode: the bot plays the customer, the trainee answers, the answer is scored against the book.

The scorecard, as a trainer would fill it in:

    content = KEY_POINT_SHARE × key-point credit + WORDING_SHARE × wording credit
              + a residual (≤ RESIDUAL) for closeness below the floors                  (0–100)
    merit   = content × RULE_FACTOR ^ style rules broken − hesitation penalty         (0–100)
    total   = HONEST_FLOOR + (100 − HONEST_FLOOR) × merit / 100   when no claim of the answer
                                                                   contradicts the book
            = CONTRADICTS_SHARE × HONEST_FLOOR × merit / 100      when one does

- Key points (`key_points` of the entry, short phrases): each is looked for in the answer on
  pinyin syllables (homophone ASR errors cost nothing), as the share of its syllables said in
  order within a stretch a little longer than the point (a partial_ratio that lets the trainee
  slip in a word), against the point's own words and against its *anchor*, the stretch of the
  book's answer it summarises (承认有录音 → 有录音), so a trainee who says the book's words gets
  the point.
- Wording: closeness to the book's answer (the matcher's character + pinyin similarity).
- The book's rules, as data (`must_not` of the entry, scope `all` and `general` of
  scripts_kb/rules.yaml, see `voicebot.rules` and `rules_of`): a claim the book rules out (港澳台免费, 给您回电, 打10086投诉) puts the
  answer in a band below every honest answer (HONEST_FLOOR); a style rule (先道歉, 报工号,
  特殊问题3's caps) takes a fifth of the merit (RULE_FACTOR), about one tier.
- Hesitation (audio answers only): time to start answering and long pauses, from VAD segments.

Tiers follow FIELD-NOTES ("What role-play trainers offer"): 90+, 75–89, 50–74, <50.
Nothing here prints: the CLI shows `feedback_lines`.
"""
from __future__ import annotations

import random
import re
import time
import dataclasses
from dataclasses import dataclass
from typing import Any, Final, Iterable, Iterator, Sequence, Union

import numpy as np

from .audio import SAMPLE_RATE
from . import rules
from .errors import VoicebotError
from .exercises import SITUATION_LABELS, Exercise, Step, resolve
from .kb import Branch, Entry, KnowledgeBase
from .matcher import Matcher
from .progress import Mastery, ProgressDB
from .rules import Violation, canon, plain, syllable_key, syllables
from .vad import Segment, SpeechDetector, segments

# ---------------------------------------------------------------- weights (tuned on tests/data/drill_graded.yaml)

KEY_POINT_SHARE: Final = 0.7
"""Share of the key points in the content score: the book's points are what a trainer checks first
(did the trainee say the call is recorded, why, and ask for understanding?)."""
WORDING_SHARE: Final = 0.3
"""Share of the wording: the book's answers are meant to be said as written, but a paraphrase that
makes every point is still a good answer, so wording weighs less than the points."""
RULE_FACTOR: Final = 0.8
"""Each broken rule of the book multiplies the score by this: about one tier (95 → 76), because a
trainer marks down an answer that sends a complaint to 10086 however well it is worded. A factor
rather than a fixed deduction keeps weak answers ordered (a half answer that forgets the apology
still beats a wrong one that also breaks a rule) instead of flattening them all to 0."""

HONEST_FLOOR: Final = 5.0
"""Every answer that says something (and nothing the book rules out) scores at least this; an
answer that makes a claim or a move the book rules out (a `contradicts` must_not) scores below it,
in proportion to its merit. A fluent wrong answer shares the book's words, so its content is high:
only a separate band keeps it below an honest partial answer however little that one covers."""
CONTRADICTS_SHARE: Final = 0.99
"""Top of the contradicting band as a share of HONEST_FLOOR (strictly below the honest band)."""

COVERAGE_SLACK: Final = 0.5
"""A point's syllables may be spread over its length plus half (the trainee's 就, 都, 帮您 between them)."""
COVERAGE_SLACK_MIN: Final = 2
"""At least two extra syllables of room, so short points (请您放心) allow one inserted word."""
KEY_POINT_MADE: Final = 65.0
"""Coverage (0–100) from which a key point counts as made. On tests/data/drill_graded.yaml 92 % of
the points in the good answers reach it, and 5 % of points checked against other entries' answers
(unrelated text: shared 您, 是, 的, 10086) do (benchmarks/bench_drill.py prints the sweep)."""
KEY_POINT_FLOOR: Final = 35.0
"""Coverage that earns nothing: three quarters of points checked against unrelated answers stay
below it. Between floor and KEY_POINT_MADE a point earns partial credit, so half-said points still
order answers."""
ANCHOR_MIN_OVERLAP: Final = 0.5
"""Share of a key point's syllables its anchor in the book's answer must hold; below it the point
is about the answer as a whole (回应客户道谢, 核实发送频次) and is judged by the wording."""
ANCHOR_SPAN: Final = 2.5
"""Longest anchor, in multiples of the key point's length: a point's words scattered further
apart in the book's answer are not one point any more."""
WORDING_FLOOR: Final = 30.0
"""Similarity to the book's answer that earns no wording credit: 90 % of other entries' answers
score below it (median 20)."""
WORDING_FULL: Final = 80.0
"""Similarity that earns full wording credit: a quarter of the good paraphrases reach it (median
72); the book read aloud scores 100."""

RESIDUAL: Final = 4.0
"""Most content points closeness below the floors can give (see `residual`): a tie-break between
answers that make no point, small beside one point made (~14)."""

_ADDRESS: Final = ("先生", "女士")

START_GRACE_S: Final = 2.0
"""Seconds a trainee may take to start answering before it counts as hesitation (people accept
0.5–0.8 s in conversation; recalling the book's answer deserves a little more)."""
START_PENALTY_PER_S: Final = 3.0
"""Points per second of delay beyond START_GRACE_S."""
START_PENALTY_MAX: Final = 10.0
"""Most a slow start can cost."""
LONG_PAUSE_S: Final = 2.0
"""A silence inside the answer longer than this is a long pause (the customer hears dead air)."""
PAUSE_PENALTY: Final = 3.0
"""Points per long pause."""
PAUSE_PENALTY_MAX: Final = 9.0
"""Most long pauses can cost."""

TIERS: Final = ((90.0, "excellent", "优秀"), (75.0, "good", "良好"), (50.0, "fair", "合格"), (0.0, "poor", "待提高"))
"""Skill tiers of role-play trainers (FIELD-NOTES): 90+, 75–89, 50–74, <50; key and spoken label."""

_WORK_ID_KEY: Final = "工号"
"""A key point naming the work id is made when the settings' 工号 is said."""


# ---------------------------------------------------------------- results

@dataclass(frozen=True)
class Timing:
    """When the trainee spoke, from VAD segments of the answer recording."""

    start_s: float
    """Seconds from the end of the customer's line (the recording's start) to the first speech."""
    pauses: tuple[float, ...]
    """Silences between speech segments, in seconds."""
    speech_s: float
    """Seconds from the first speech to the last."""

    def to_dict(self) -> dict[str, Any]:
        return {"start_s": round(self.start_s, 2), "pauses": [round(p, 2) for p in self.pauses],
                "speech_s": round(self.speech_s, 2)}


@dataclass(frozen=True)
class KeyPointResult:
    """One key point of the entry, looked for in the answer."""

    point: str
    """The key point as the book states it."""
    coverage: float
    """0–100: share of its syllables the answer says in order (best of the point's own words, its
    anchor in the book's answer, and, for a point the book does not put in words, the wording)."""
    made: bool
    """coverage ≥ KEY_POINT_MADE."""


@dataclass(frozen=True)
class Score:
    """The scorecard of one answer."""

    entry_id: str
    """The entry drilled."""
    answer: str
    """What the trainee said (the transcript for spoken answers)."""
    total: float
    """0–100, see the module docstring."""
    tier: str
    """excellent (90+), good (75–89), fair (50–74), poor (<50)."""
    key_points: tuple[KeyPointResult, ...]
    """Every key point, made or missed."""
    wording: float
    """0–100 similarity to the book's answer."""
    content: float
    """0–100 before penalties: KEY_POINT_SHARE × key-point credit + WORDING_SHARE × wording credit."""
    violations: tuple[Violation, ...] = ()
    """Rules of the book broken."""
    address_count: int = 0
    """先生/女士 said in the answer."""
    zan_count: int = 0
    """咱/咱们 said in the answer."""
    timing: Timing | None = None
    """Start delay and pauses (spoken answers only)."""
    hesitation_penalty: float = 0.0
    """Points taken for a slow start and long pauses."""
    no_answer: bool = False
    """Nothing was said (silence or an empty line): total 0."""

    @property
    def made(self) -> tuple[str, ...]:
        return tuple(k.point for k in self.key_points if k.made)

    @property
    def missed(self) -> tuple[str, ...]:
        return tuple(k.point for k in self.key_points if not k.made)

    @property
    def tier_label(self) -> str:
        return next(label for floor, key, label in TIERS if key == self.tier)

    def to_dict(self) -> dict[str, Any]:
        return {"entry": self.entry_id, "answer": self.answer, "total": round(self.total, 1), "tier": self.tier,
                "no_answer": self.no_answer, "content": round(self.content, 1), "wording": round(self.wording, 1),
                "key_points": [{"point": k.point, "coverage": round(k.coverage, 1), "made": k.made}
                               for k in self.key_points],
                "made": list(self.made), "missed": list(self.missed),
                "violations": [{"rule": v.rule, "message": v.message} for v in self.violations],
                "address_count": self.address_count, "zan_count": self.zan_count,
                "timing": self.timing.to_dict() if self.timing else None,
                "hesitation_penalty": round(self.hesitation_penalty, 1)}


def tier_of(total: float) -> str:
    """excellent, good, fair or poor (FIELD-NOTES tiers)."""
    return next(key for floor, key, label in TIERS if total >= floor)


# ---------------------------------------------------------------- the book's answer

def _walk_branches(branches: tuple[Branch, ...], out: list[str]) -> None:
    for branch in branches:
        for line in branch.say:
            if line not in out:
                out.append(line)
        if branch.ask and branch.ask not in out:
            out.append(branch.ask)
        _walk_branches(branch.branches, out)


def standard_lines(entry: Entry, book: KnowledgeBase) -> list[str]:
    """The book's answer as the trainee should know it, filled: answer lines, the question back,
    then what each reply leads to (问题8 and 问题12 are answered this way in the book)."""
    lines = list(entry.answer)
    if entry.ask:
        lines.append(entry.ask)
    _walk_branches(entry.branches, lines)
    return [book.fill(line) for line in lines]


REPLY_LABELS: Final = {
    "yes": "客户说是、同意", "no": "客户说不、不同意", "date": "客户说了时间", "talk_now": "客户说现在就听",
    "consent": "客户同意开通", "refuse": "客户不要", "think": "客户要考虑", "calm": "客户消气了",
    "insist": "客户坚持投诉", "done": "客户说完了", "repeat": "客户没听清", "backchannel": "客户在听",
    "number": "客户报了号码", "chinese": "客户说中文", "english": "客户说英文", "other": "别的回答",
}
"""How the outline names the reply a branch answers (reply kinds of scripts_kb/replies.yaml)."""
ACTION_LABELS: Final = {"wait": "等客户回话", "continue": "接着说", "guide_hangup": "引导挂机", "hangup": "挂机",
                         "escalate": "转负责人", "listen": "听客户说", "offer": "接着介绍业务"}
"""How the outline names what the call does next when a branch says nothing itself."""


def _reply_label(when: str | tuple[str, ...]) -> str:
    if isinstance(when, str):
        return REPLY_LABELS.get(when, f"客户说“{when}”")  # a kind added to replies.yaml later reads as said
    shown = "”“".join(when[:3])
    return f"客户说“{shown}”" + ("等" if len(when) > 3 else "")


def answer_outline(entry: Entry, book: KnowledgeBase) -> list[str]:
    """The book's answer as a trainer reads it out: the answer and its question back on the first line,
    then one line per reply the book foresees (indented by depth: 客户说不、不同意：那您看您大概什么时间
    回来…). `standard_lines` runs the branches together, which reads as one long speech with the
    goodbye twice; this keeps each reply's line apart."""
    first = [book.fill(line) for line in entry.answer] + ([book.fill(entry.ask)] if entry.ask else [])
    out = ["".join(first)]

    def walk(branches: tuple[Branch, ...], depth: int) -> None:
        for branch in branches:
            said = [book.fill(line) for line in branch.say] + ([book.fill(branch.ask)] if branch.ask else [])
            what = "".join(said) or f"（{ACTION_LABELS.get(branch.action, branch.action)}）"
            out.append("  " * depth + f"{_reply_label(branch.when)}：{what}")
            walk(branch.branches, depth + 1)

    walk(entry.branches, 1)
    return [line for line in out if line.strip()]


def _references(entry: Entry, book: KnowledgeBase) -> list[str]:
    """Texts the wording is compared with: the whole answer, and for answer_mode first (a line to
    say, the next on a repeat) each line alone, followed by the question back."""
    ask = [book.fill(entry.ask)] if entry.ask else []
    answer = [book.fill(line) for line in entry.answer]
    refs = ["".join(answer + ask), "".join(standard_lines(entry, book))]
    if entry.answer_mode == "first" and len(answer) > 1:
        refs += ["".join([line] + ask) for line in answer]
    return [r for i, r in enumerate(refs) if r and r not in refs[:i]]


# ---------------------------------------------------------------- text helpers

_plain = plain
_syl = syllables
_key = syllable_key


def _coverage(point_key: str, answer_key: str) -> float:
    """0–100: share of the point's syllables the answer says in order, within a stretch a little
    longer than the point (马上帮您反馈并处理 is covered by 马上就帮您反馈，尽快处理). Recall, not
    similarity: words the trainee adds around a point cost nothing."""
    return rules.coverage(point_key, answer_key, COVERAGE_SLACK, COVERAGE_SLACK_MIN)


def _anchor(point: str, reference: str) -> str | None:
    """The stretch of the book's answer that a key point summarises (as a syllable key), if any.

    The shortest stretch, at most ANCHOR_SPAN times the point's length, holding the most of the
    point's syllables (as a set: 欢迎监督 → 欢迎您对我们的客户信息安全管理工作进行监督 is too long,
    询问时间和问题 → 问您是什么时间反馈的是什么问题). None when less than ANCHOR_MIN_OVERLAP of
    them are found: the point is about the answer as a whole (回应客户道谢).
    """
    point_syl, ref_syl = _syl(point), _syl(reference)
    wanted = set(point_syl)
    if not wanted:
        return None
    max_len = max(2, int(ANCHOR_SPAN * len(point_syl)))
    hits = [i for i, s in enumerate(ref_syl) if s in wanted]
    best: tuple[float, int] = (0.0, 0)
    span = (0, 0)
    for n, i in enumerate(hits):
        seen: set[str] = set()
        for j in hits[n:]:
            if j - i + 1 > max_len:
                break
            seen.add(ref_syl[j])
            key = (len(seen) / len(wanted), -(j - i + 1))
            if key > best:
                best, span = key, (i, j + 1)
    if best[0] < ANCHOR_MIN_OVERLAP:
        return None
    return _key(ref_syl[span[0]:span[1]])


def _credit(value: float, floor: float, full: float) -> float:
    return float(np.clip((value - floor) / (full - floor), 0.0, 1.0))


# ---------------------------------------------------------------- rules

_GENERAL_CACHE: dict[tuple[int, str], tuple[rules.Rule, ...]] = {}


def rules_of(entry: Entry, book: KnowledgeBase) -> list[rules.Rule]:
    """The rules an answer to `entry` is held to: the book's (its must_not and scope `all`), then every
    rule of scope `general`, less the examples and patterns its own book answer says (问题23's 我们现在为您
    开通 keeps 我帮您插个队 wrong there), or without the whole rule when it says `narrow: rule` and the
    book's answer makes its move (d_ringback's 直接挂断: 先挂了吧 is the book's move too); cached per
    book and entry."""
    own = book.rules_for(entry)
    key = (id(book), entry.id + "|" + "|".join(entry.answer))
    general = _GENERAL_CACHE.get(key)
    if general is None:
        text = "。".join(standard_lines(entry, book))
        kept = []
        for rule in book.rules.values():
            if rule.scope == "general" and rule not in own and entry.language == "zh":
                if rule.narrow == "rule" and rules.check([rule], text, book.settings):
                    continue   # the book's own answer makes this move here (d_ringback: 直接挂断): no wording of it is wrong
                narrowed = rules.without_book(rule, text, book.settings)
                if narrowed is not None:
                    kept.append(narrowed)
        general = tuple(kept)
        _GENERAL_CACHE[key] = general
    return own + list(general)


SERVICE_PHRASE_SOURCE: Final = "服务用语"
"""The book's service phrases (服务用语1–7): one line for each way a customer is hard to follow (没听清,
声音小, 嘈杂, 方言). A drill step answered by one of them is held to it, not to its neighbour's."""
OTHER_SITUATION_MADE: Final = 80.0
"""Coverage (0–100) at which the answer says another situation's point (请您使用普通话 for a customer who
is only hard to hear)."""
OTHER_SITUATION_OWN: Final = 50.0
"""A point of another situation that this step's own lines cover this much is shared (听不清您讲话 is both
声音小's second line and 嘈杂's), not the other situation's."""
OTHER_SITUATION_SYLLABLES: Final = 4
"""Shorter points (对不起, 很抱歉) open every service phrase: they tell no situation from another."""


@dataclass(frozen=True)
class _Situation:
    exercise: str
    title: str
    protocol: str
    points: tuple[str, ...]


_SITUATIONS: dict[int, dict[str, _Situation]] = {}


def _service_situations(book: KnowledgeBase) -> dict[str, _Situation]:
    """Step entry id (d_noisy_1) → the service phrase situation it drills, for every drill step the
    book's service phrases answer (cached per book)."""
    found = _SITUATIONS.get(id(book))
    if found is None:
        found = {}
        for exercise in book.exercises:
            if not exercise.source.startswith(SERVICE_PHRASE_SOURCE):
                continue
            for n, step in enumerate(exercise.steps, 1):
                if step.answer.protocol and step.answer.line is None and step.key_points:
                    found[f"{exercise.id}_{n}"] = _Situation(exercise.id, exercise.title, step.answer.protocol,
                                                             tuple(book.fill(p) for p in step.key_points))
        _SITUATIONS[id(book)] = found
    return found


def _said_elsewhere_point(entry: Entry, answer: str, book: KnowledgeBase, also_own: str,
                          points: Iterable[str]) -> str | None:
    """The first of `points` (filled) the answer says that is not this step's own: its book lines, its key
    points and `also_own` cover it less than OTHER_SITUATION_OWN, and it is long enough to tell one line
    from another (OTHER_SITUATION_SYLLABLES)."""
    own_key = _key(_syl("".join(standard_lines(entry, book)) + "".join(book.fill(k) for k in entry.key_points) + also_own))
    answer_key = _key(_syl(answer))
    for point in points:
        point_key = _key(_syl(point))
        if len(point_key) < OTHER_SITUATION_SYLLABLES or _coverage(point_key, own_key) >= OTHER_SITUATION_OWN:
            continue
        if _coverage(point_key, answer_key) >= OTHER_SITUATION_MADE:
            return point
    return None


def _own_line(entry: Entry, book: KnowledgeBase) -> str:
    return "".join(standard_lines(entry, book)[:1])


def other_situation(entry: Entry, answer: str, book: KnowledgeBase) -> Violation | None:
    """The line of another service phrase said where this one is due: 请您使用普通话 (方言) to a customer who
    is only quiet, 换个安静的地方 (嘈杂) where the book asks to speak up. Each of the book's service phrases
    answers one situation; a trainee who mixes them up says a fluent, polite line that is still wrong."""
    situations = _service_situations(book)
    own = situations.get(entry.id)
    if own is None:
        return None
    siblings = "".join(p for s in situations.values() if s.exercise == own.exercise for p in s.points)
    for other in situations.values():
        if other.exercise == own.exercise or other.protocol == own.protocol:
            continue
        point = _said_elsewhere_point(entry, answer, book, siblings, other.points)
        if point is not None:
            return Violation("other_situation", f"这是“{other.title}”时说的话（{point}）：这一步书中说“{_own_line(entry, book)}”",
                             "contradicts", point)
    return None


def step_too_early(entry: Entry, answer: str, book: KnowledgeBase) -> Violation | None:
    """A later step's line said now: the book counts its protocols (问三遍, 问2遍) before the closing line,
    so 我们要结束这通电话了 at the first off-topic question, or 听不到您任何回应 at the first silence,
    skips the steps the book puts first."""
    exercise_id, _, number = entry.id.rpartition("_")
    exercise = next((x for x in book.exercises if x.id == exercise_id), None)
    if exercise is None or not number.isdigit():
        return None
    n = int(number)
    own_points = "".join(book.fill(p) for step in exercise.steps[:n] for p in step.key_points)
    for m, step in enumerate(exercise.steps[n:], n + 1):
        point = _said_elsewhere_point(entry, answer, book, own_points, (book.fill(p) for p in step.key_points))
        if point is not None:
            return Violation("step_too_early", f"这是第{m}步才说的话（{point}）：书中这一步说“{_own_line(entry, book)}”",
                             "contradicts", point)
    return None


def _note_acts(entry: Entry, book: KnowledgeBase) -> list[str]:
    """The clauses of the entry's notes that say what the agent does (找当班负责人, 将话筒的静音键按下): the
    book's own words for an act a trainee may name. Clauses with a negation (注意不要有话外音) are left
    out: what the book forbids is never support for saying it."""
    return [c for note in entry.notes for c in rules.clauses(book.fill(note))
            if _NOTE_ACT.match(c) and not rules.negates(c) and not rules.FORBIDDING.search(c)]


_NOTE_ACT: Final = re.compile(r"(找|将|把|简要|作好|做好)")
"""How a note that tells the agent what to do begins (找当班负责人, 将话筒的静音键按下); the rest of the notes
are about the script itself (书中标为“解释思路”, 答完转业务)."""


def check_rules(entry: Entry, answer: str, book: KnowledgeBase) -> tuple[tuple[Violation, ...], int, int]:
    """The book's rules on one answer: (violations, 先生/女士 count, 咱/咱们 count).

    The entry's `must_not` and the general rules (scripts_kb/rules.yaml, see `voicebot.rules`);
    if none of them is a contradicting claim, a clause stating one of the book answer's facts with
    the opposite polarity (`rules.contradiction`: 没有录音 against 是有录音的), which needs no rule
    written, or the other pole of a claim the book states one way (`rules.opposed`, the `opposite`
    rules of rules.yaml: 随机抽取 against 专门挑的, 收费 against 免费), or a claim of a risky class the book's
    lines for the entry never make (`rules.unsupported`, the `unsupported` rules: 三天之内给您回电, 我们是外包
    公司; for the foreign caller's English lines only the English class); then the per-call caps of 特殊问题3 applied to this answer alone (a whole call's lines go to
    `rules.overused` in one call)."""
    book_text = "。".join(standard_lines(entry, book))
    found = list(rules.check(rules_of(entry, book), answer, book.settings))
    if entry.language != "zh" and not any(v.severity == "contradicts" for v in found):
        english = [r for r in book.rules.values() if r.kind == rules.UNSUPPORTED_KIND]   # the English class; the rest find nothing
        lines = standard_lines(entry, book) + [book.fill(k) for k in entry.key_points]
        extra = rules.unsupported(english, lines, answer, book.settings, book.fill(entry.customer[0]) if entry.customer else "")
        found += [extra] if extra is not None else []
    if entry.language == "zh" and not any(v.severity == "contradicts" for v in found):
        opposite = rules.contradiction(book_text, answer)
        if opposite is None:
            poles = [r for r in rules_of(entry, book) if r.kind == rules.OPPOSITE_KIND]
            opposite = rules.opposed(poles, book_text, answer, book.settings)
        if opposite is None:
            lines = standard_lines(entry, book) + [book.fill(k) for k in entry.key_points] + _note_acts(entry, book)
            asked = book.fill(entry.customer[0]) if entry.customer else ""
            opposite = rules.unsupported(rules_of(entry, book), lines, answer, book.settings, asked)
        if opposite is not None:
            found.append(opposite)
    if not any(v.severity == "contradicts" for v in found):
        mixed = other_situation(entry, answer, book) or step_too_early(entry, answer, book)
        found += [mixed] if mixed is not None else []
    words = book.protocols.words_to_avoid
    over, counts = rules.overused([answer], words.cap, words.groups)
    # The cap is the whole call's (一通录音只能出现二、三次): one answer over it breaks the book outright.
    found += [dataclasses.replace(v, severity="contradicts") for v in over]
    address = next((n for w, n in counts.items() if w in _ADDRESS), 0)
    zan = next((n for w, n in counts.items() if w.startswith("咱")), 0)
    return tuple(found), address, zan


def call_rules(agent_lines: Sequence[str], book: KnowledgeBase) -> tuple[tuple[Violation, ...], dict[str, int]]:
    """Call-wide rules over all the agent's lines of one call: the general rules that hold for every
    answer (scope all in rules.yaml: no complaint sent to 10086, no lookup of the customer's data, no
    consent assumed, no data shared), each reported once for the first line breaking it, then the
    caps of 特殊问题3 (先生/女士, 咱/咱们, a filler 对, at most two or three times a call) over the
    whole call. Returns the violations and each capped group's count."""
    general = [r for r in book.rules.values() if r.scope == "all"]
    found: dict[str, Violation] = {}
    for line in agent_lines:
        for v in rules.check(general, line, book.settings):
            found.setdefault(v.rule, v)
    words = book.protocols.words_to_avoid
    over, counts = rules.overused(agent_lines, words.cap, words.groups)
    return tuple(found.values()) + over, counts


# ---------------------------------------------------------------- timing

def timing_from_segments(found: Sequence[Segment]) -> Timing | None:
    """Start delay and pauses from the VAD segments of an answer recording (None: no speech)."""
    if not found:
        return None
    pauses = tuple(b.start - a.end for a, b in zip(found, found[1:]))
    return Timing(start_s=found[0].start, pauses=pauses, speech_s=found[-1].end - found[0].start)


def timing_from_audio(samples: np.ndarray) -> Timing | None:
    """Timing of an answer recording that starts when the customer's line ends."""
    return timing_from_segments(segments(samples))


def hesitation_penalty(timing: Timing | None) -> float:
    """Points taken for a slow start and for long pauses (0 for typed answers)."""
    if timing is None:
        return 0.0
    slow = min(START_PENALTY_MAX, max(0.0, timing.start_s - START_GRACE_S) * START_PENALTY_PER_S)
    long_pauses = sum(1 for p in timing.pauses if p > LONG_PAUSE_S)
    return slow + min(PAUSE_PENALTY_MAX, long_pauses * PAUSE_PENALTY)


# ---------------------------------------------------------------- scoring

def score_key_points(entry: Entry, answer: str, book: KnowledgeBase, wording: float) -> tuple[KeyPointResult, ...]:
    """Each key point with its coverage in the answer: the point's own words, its anchor (the book's
    words for it), or, for a point the book's answer does not put in words, the wording score. A
    point about the work id (告诉工号, not a phrase of the book's line) is made when the settings' 工号 is
    said; a point that is the book's own words (我的工号是) must be said (工号8086 alone is a partial answer)."""
    answer_key = _key(_syl(answer))
    reference = "".join(standard_lines(entry, book))
    reference_key = _key(_syl(reference))
    work_id = _plain(book.settings.get(_WORK_ID_KEY, ""))
    out = []
    for point in entry.key_points:
        text = book.fill(point)
        point_key = _key(_syl(text))
        coverage = _coverage(point_key, answer_key)
        anchor = _anchor(text, reference)
        if anchor:
            coverage = max(coverage, _coverage(anchor, answer_key))
        elif _coverage(point_key, reference_key) < KEY_POINT_MADE:
            coverage = max(coverage, wording)
        if _WORK_ID_KEY in point and not anchor and work_id and work_id in _plain(answer):
            coverage = 100.0
        out.append(KeyPointResult(point=text, coverage=coverage, made=coverage >= KEY_POINT_MADE))
    return tuple(out)


def wording_similarity(entry: Entry, answer: str, book: KnowledgeBase, matcher: Matcher) -> float:
    """0–100: the matcher's character + pinyin similarity to the closest form of the book's answer."""
    return float(matcher.similarity(canon(answer), [canon(r) for r in _references(entry, book)]))


def residual(points: Sequence[KeyPointResult], wording: float) -> float:
    """Up to RESIDUAL points for closeness below the floors (a point's coverage under KEY_POINT_FLOOR,
    wording under WORDING_FLOOR): an on-topic half answer (应该的, 以后尽量不给您打电话了) then still
    scores above an off-topic one instead of tying with it at the honest floor."""
    parts = [min(k.coverage, KEY_POINT_FLOOR) / KEY_POINT_FLOOR for k in points] + [min(wording, WORDING_FLOOR) / WORDING_FLOOR]
    return RESIDUAL * float(np.mean(parts))


def rule_factor(violations: Sequence[Violation]) -> float:
    """What the broken style rules leave of the content score: RULE_FACTOR each."""
    return RULE_FACTOR ** sum(1 for v in violations if v.severity != "contradicts")


def contradicts(violations: Sequence[Violation]) -> bool:
    """The answer says what the book rules out (a must_not of severity contradicts)."""
    return any(v.severity == "contradicts" for v in violations)


def banded(merit: float, contradicting: bool) -> float:
    """The total from the merit (0–100): honest answers in [HONEST_FLOOR, 100], contradicting ones
    in [0, HONEST_FLOOR) (see the module docstring)."""
    merit = float(np.clip(merit, 0.0, 100.0))
    if contradicting:
        return CONTRADICTS_SHARE * HONEST_FLOOR * merit / 100.0
    return HONEST_FLOOR + (100.0 - HONEST_FLOOR) * merit / 100.0


def score_answer(entry: Entry, answer_text: str, book: KnowledgeBase, matcher: Matcher,
                 timing: Timing | None = None) -> Score:
    """Score one answer against the entry's standard answer and the book's rules. Only fillers (嗯嗯,
    喂？喂？) is an answer that says nothing: the honest floor, above any answer that contradicts the
    book; nothing at all (silence, an empty line) scores 0."""
    if not canon(answer_text) and _plain(answer_text):
        return Score(entry_id=entry.id, answer=answer_text, total=HONEST_FLOOR, tier=tier_of(HONEST_FLOOR),
                     key_points=tuple(KeyPointResult(book.fill(k), 0.0, False) for k in entry.key_points),
                     wording=0.0, content=0.0, timing=timing)
    if not canon(answer_text):
        return Score(entry_id=entry.id, answer=answer_text, total=0.0, tier=tier_of(0.0),
                     key_points=tuple(KeyPointResult(book.fill(k), 0.0, False) for k in entry.key_points),
                     wording=0.0, content=0.0, timing=timing, no_answer=True)
    wording = wording_similarity(entry, answer_text, book, matcher)
    points = score_key_points(entry, answer_text, book, wording)
    wording_credit = _credit(wording, WORDING_FLOOR, WORDING_FULL)
    if points:
        point_credit = float(np.mean([_credit(k.coverage, KEY_POINT_FLOOR, KEY_POINT_MADE) for k in points]))
        content = 100.0 * (KEY_POINT_SHARE * point_credit + WORDING_SHARE * wording_credit)
    else:
        content = 100.0 * wording_credit
    content = min(100.0, content + residual(points, wording))
    violations, address, zan = check_rules(entry, answer_text, book)
    penalty = hesitation_penalty(timing)
    total = banded(rule_factor(violations) * content - penalty, contradicts(violations))
    return Score(entry_id=entry.id, answer=answer_text, total=total, tier=tier_of(total), key_points=points,
                 wording=wording, content=content, violations=violations, address_count=address, zan_count=zan,
                 timing=timing, hesitation_penalty=penalty)


def feedback_lines(score: Score, entry: Entry, book: KnowledgeBase) -> list[str]:
    """What the trainee hears and reads: score, points made and missed, rules broken, the book's answer."""
    lines: list[str] = []
    if score.no_answer:
        lines.append("没有听到回答（no answer），得分0分。")
    else:
        lines.append(f"得分{score.total:.0f}分，{score.tier_label}。")
        if score.made:
            lines.append("说到的要点：" + "、".join(score.made) + "。")
        if score.missed:
            lines.append("漏掉的要点：" + "、".join(score.missed) + "。")
        for v in score.violations:
            lines.append(v.message + "。")
        t = score.timing
        if t is not None and t.start_s > START_GRACE_S:
            lines.append(f"开口用了{t.start_s:.1f}秒，要更快接话。")
        long_pauses = [p for p in (t.pauses if t else ()) if p > LONG_PAUSE_S]
        if long_pauses:
            lines.append(f"中间停顿了{len(long_pauses)}次，最长{max(long_pauses):.1f}秒。")
    outline = answer_outline(entry, book)
    lines.append("标准答案：" + (outline[0] if outline else ""))
    lines += outline[1:]
    return lines


# ---------------------------------------------------------------- picking entries (spaced repetition)

UNSEEN_MASTERY: Final = 30.0
"""An entry never drilled ranks like one answered with mastery 30 just now: after a failed answer
(below 30), which a trainer has the trainee repeat first, and after a fair one gone stale, but
before answers that are fair or better and recent, so new entries keep coming."""
WEAKNESS_WEIGHT: Final = 0.7
"""Share of weakness (100 − mastery) in an entry's priority."""
STALENESS_WEIGHT: Final = 0.3
"""Share of time since last drilled: even mastered entries come back once they grow stale."""
STALE_HOURS: Final = 72.0
"""Time constant of staleness (1 − e^(−hours/72)): an entry drilled today is fresh, one from last
week is nearly fully stale (the spacing of a simple Leitner box)."""
JITTER: Final = 0.02
"""Random share added to priorities so equal entries come in a different order each drill."""


def drillable(entry: Entry) -> bool:
    """An entry can be drilled if the book gives an answer to say and the customer lines to ask."""
    return bool(entry.customer and (entry.answer or entry.ask))


def priority(mastery: Mastery | None, now: float) -> float:
    """Higher first: weak entries, then entries not drilled for a while."""
    if mastery is None:
        return WEAKNESS_WEIGHT * (1 - UNSEEN_MASTERY / 100.0)
    hours = max(0.0, (now - mastery.last_seen) / 3600.0)
    staleness = 1.0 - float(np.exp(-hours / STALE_HOURS))
    return WEAKNESS_WEIGHT * (1 - mastery.mastery / 100.0) + STALENESS_WEIGHT * staleness


Item = Union[Entry, Exercise]
"""What a drill asks: a book entry (one question), or a protocol drill or exchange (its steps)."""
KINDS: Final = ("entry", "protocol", "exchange")
"""Kinds of drill item: the book's entries, its protocols and service phrases, whole exchanges."""


def kind_of(item: Item) -> str:
    return item.kind if isinstance(item, Exercise) else "entry"


def categories(book: KnowledgeBase) -> list[str]:
    """Every category a drill can pick: the entries' and the exercises' (服务流程, 情景对话)."""
    return sorted(set(book.categories()) | {x.category for x in book.exercises})


def pick_entries(book: KnowledgeBase, progress_db: ProgressDB | None, trainee: str, category: str | None = None,
                 count: int = 10, rng: random.Random | None = None, now: float | None = None,
                 kinds: Sequence[str] = ("entry",)) -> list[Any]:
    """The next `count` items to drill: weakest and stalest first (spaced repetition). `kinds` says
    which (entry, protocol, exchange); a category names its items whatever their kind."""
    rng = rng or random.Random()
    now = time.time() if now is None else now
    if category is not None and category not in categories(book):
        raise VoicebotError(f"no category {category!r} in the book: choose one of {', '.join(categories(book))}")
    items: list[Item] = [e for e in book if drillable(e)] + list(book.exercises)
    if category is not None:
        pool = [x for x in items if x.category == category]
    else:
        pool = [x for x in items if kind_of(x) in kinds]
    known = progress_db.mastery(trainee) if progress_db is not None else {}
    ranked = sorted(pool, key=lambda e: priority(known.get(e.id), now) + JITTER * rng.random(), reverse=True)
    return ranked[:max(0, count)]


def step_entry(book: KnowledgeBase, exercise: Exercise, number: int) -> Entry:
    """What the trainee's turn at step `number` (1-based) is scored against, as an entry: the book's
    line for that moment, its key points, and the rules it is held to. A step down a branch keeps
    the entry's claims (港澳台免费 stays wrong) but not its opening rules (the branch's line is not
    the entry's opening)."""
    step: Step = exercise.steps[number - 1]
    entries = {e.id: e for e in book}
    lines = tuple(resolve(step.answer, entries, book.protocols))
    base = entries.get(step.answer.entry) if step.answer.entry else None
    must_not: tuple[str, ...] = ()
    key_points: tuple[str, ...] = step.key_points
    language, notes = "zh", exercise.notes
    if base is not None:
        own = base.must_not
        if step.answer.branch:
            own = tuple(r for r in own if r in book.rules and book.rules[r].kind == "claim")
        must_not = own
        key_points = key_points or (() if step.answer.branch else base.key_points)
        language, notes = base.language, base.notes + notes
    return Entry(id=f"{exercise.id}_{number}", category=exercise.category, customer=(step.customer,),
                 answer=lines, answer_mode="sequence", language=language, source=exercise.source,
                 notes=notes, key_points=key_points, must_not=tuple(dict.fromkeys(must_not + step.must_not)))


# ---------------------------------------------------------------- a drill session

@dataclass(frozen=True)
class Question:
    """One customer line the bot says."""

    number: int
    """1-based position in the drill."""
    entry: Entry
    """The entry it comes from."""
    customer: str
    """The line, placeholders filled."""
    language: str
    """zh, or en for the foreign callers' lines."""
    situation: str = "normal"
    """How the bot plays the line (exercises.SITUATIONS): quiet, noisy, silence…"""
    item: str = ""
    """The drill item progress is kept under: the entry's id, or the exercise's."""
    step: int = 1
    """1-based step of an exercise (1 for an entry)."""
    steps: int = 1
    """Steps of the item."""
    title: str = ""
    """The exercise's title (the situation in words), '' for an entry."""

    @property
    def label(self) -> str:
        """The stage direction printed before the line (（客户声音很小）), '' for a plain line."""
        return SITUATION_LABELS.get(self.situation, "")


ANSWER_PAD_S: Final = 0.2
"""Audio kept around the speech when it goes to the recogniser (first consonant, last syllable)."""
ANSWER_END_SILENCE_S: Final = 2.5
"""Silence after speech that ends a spoken answer. Longer than LONG_PAUSE_S on purpose: a trainee
who stops to think for two seconds is hesitating (and is scored for it), not done; shorter would
cut such answers in two."""
NO_ANSWER_S: Final = 10.0
"""With no speech at all for this long after the customer's line, the answer is silence (score 0)."""
MAX_ANSWER_S: Final = 45.0
"""Longest spoken answer recorded; the book's longest answers take about 30 s to say."""
IGNORE_AFTER_BOT_S: Final = 0.3
"""Microphone audio dropped after the bot stops talking, or it hears its own tail (FIELD-NOTES)."""


def record_answer(frames: Iterable[np.ndarray], end_silence_s: float = ANSWER_END_SILENCE_S,
                  no_answer_s: float = NO_ANSWER_S, max_s: float = MAX_ANSWER_S,
                  ignore_s: float = IGNORE_AFTER_BOT_S) -> np.ndarray:
    """Microphone frames (16 kHz mono, starting when the bot stops talking) until the trainee has
    finished: `end_silence_s` of silence after speech, `no_answer_s` without any speech, or
    `max_s` in all. The first `ignore_s` come back as zeros (the bot's own tail)."""
    detector = SpeechDetector()
    detector.ignore(ignore_s)
    kept: list[np.ndarray] = []
    heard = False
    for frame in frames:
        frame = np.asarray(frame, dtype=np.float32).reshape(-1)
        kept.append(frame)
        detector.push(frame)
        heard = heard or detector.in_speech
        if heard and not detector.in_speech and detector.silence_s >= end_silence_s:
            break
        if (not heard and detector.t >= no_answer_s) or detector.t >= max_s:
            break
    samples = np.concatenate(kept) if kept else np.zeros(0, dtype=np.float32)
    samples[:int(ignore_s * SAMPLE_RATE)] = 0.0
    return samples


QUIET_DB: Final = -20.0
"""A quiet customer (服务用语3) is played this many dB below the voice's level."""
NOISE_SNR_DB: Final = 3.0
"""A noisy line (服务用语4) carries noise this far below the voice: words there, hard to make out."""
SILENCE_S: Final = 3.0
"""A silent customer (特殊问题5) is this long a stretch of an open line."""
RINGBACK: Final = ((425.0, 0.4), (0.0, 0.2), (425.0, 0.4), (0.0, 2.0))
"""A foreign double ring (tone Hz or silence, seconds), unlike the mainland's single long tone."""


def situation_audio(voice: np.ndarray | None, situation: str, seed: int = 0) -> np.ndarray:
    """The customer's line as the situation plays it (16 kHz mono float32)."""
    rng = np.random.default_rng(seed)
    if situation == "ringback":
        parts = []
        for _ in range(2):
            for hz, seconds in RINGBACK:
                t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
                parts.append((0.2 * np.sin(2 * np.pi * hz * t)).astype(np.float32))
        return np.concatenate(parts)
    if situation == "silence" or voice is None or not len(voice):
        hiss = rng.standard_normal(int(SILENCE_S * SAMPLE_RATE)) * 10 ** (-65 / 20)   # an open line
        return hiss.astype(np.float32)
    voice = np.asarray(voice, dtype=np.float32)
    if situation == "quiet":
        return (voice * 10 ** (QUIET_DB / 20)).astype(np.float32)
    if situation == "noisy":
        rms = float(np.sqrt(np.mean(voice ** 2))) or 1e-3
        noise = rng.standard_normal(len(voice)) * rms * 10 ** (-NOISE_SNR_DB / 20)
        return np.clip(voice + noise, -1.0, 1.0).astype(np.float32)
    return voice


class DrillSession:
    """Asks the chosen entries one by one and scores each answer; `scores` keeps them in order."""

    def __init__(self, book: KnowledgeBase, entries: Sequence[Entry], matcher: Matcher | None = None,
                 recognizer: Any = None, rng: random.Random | None = None) -> None:
        self.book = book
        self.entries = list(entries)
        self.matcher = matcher or Matcher(book)
        self.recognizer = recognizer
        self.rng = rng or random.Random()
        self.scores: list[Score] = []

    def questions(self) -> Iterator[Question]:
        """Customer lines drawn from each entry's phrasings (the book's wording or a paraphrase); an
        exercise's steps one after another, in order."""
        for number, item in enumerate(self.entries, 1):
            if isinstance(item, Exercise):
                for n, step in enumerate(item.steps, 1):
                    line = self.book.fill(step.customer)
                    language = "en" if line and line.isascii() else "zh"
                    yield Question(number, step_entry(self.book, item, n), line, language, step.situation,
                                   item.id, n, len(item.steps), item.title)
                continue
            line = self.book.fill(self.rng.choice(item.customer))
            language = "en" if line.isascii() else "zh"
            yield Question(number, item, line, language, item=item.id)

    def answer(self, question: Question, text: str, timing: Timing | None = None) -> Score:
        """Score a typed (or already transcribed) answer."""
        score = score_answer(question.entry, text, self.book, self.matcher, timing)
        self.scores.append(score)
        return score

    def answer_audio(self, question: Question, samples: np.ndarray) -> Score:
        """Score a spoken answer: VAD for timing, the recogniser on the speech (silence: no answer)."""
        if self.recognizer is None:
            raise VoicebotError("no recogniser for spoken answers: load one with --asr, or answer with --text")
        found = segments(samples)
        timing = timing_from_segments(found)
        if timing is None:
            return self.answer(question, "", None)
        a = max(0, int((found[0].start - ANSWER_PAD_S) * SAMPLE_RATE))
        b = min(len(samples), int((found[-1].end + ANSWER_PAD_S) * SAMPLE_RATE))
        rec = self.recognizer
        language = question.entry.language
        options = getattr(rec, "options", None)
        if hasattr(rec, "with_language") and getattr(options, "language", language) != language:
            rec = rec.with_language(language)  # the foreign callers' entry is answered in English
        transcript = rec.transcribe(np.asarray(samples[a:b], dtype=np.float32))
        return self.answer(question, transcript.text, timing)

    @property
    def mean(self) -> float:
        return float(np.mean([s.total for s in self.scores])) if self.scores else 0.0

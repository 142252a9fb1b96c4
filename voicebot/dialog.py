"""The call policy: the book's protocols as rules over plain events. No audio, no I/O.

The call runner turns audio (or typed lines) into events (`Started`, `Heard`, `Silence`, `Ringback`,
`Ended`) and carries out the actions of the `Turn` that `Policy.handle` returns (`Say`, `Record`,
`Escalate`, `Hangup`). Because the policy only sees text, levels and times, every rule of the book is
tested with text events alone.

How a customer line is read, in order:
1. protocols that do not depend on the words: English, dialect, not heard / too quiet / noisy;
2. a complaint the bot is listening to (让客户去说) takes the line as more of the complaint;
3. "what?" repeats the bot's last line;
4. a question the bot asked back (`ask` + `branches`) takes the line as its reply: branch phrases,
   then reply kinds (calm, insist, a date, a number…), then yes / no, then `other`;
5. otherwise the line is cut into clauses, and each clause is read as a reply kind about the offer
   (consent, refusal, backchannel, a question about the price…), a book entry (the matcher), or a
   book entry the customer takes back (我没说要投诉); every request is answered, in order.
Nothing opens the business but an explicit consent confirmed once (二次确认).
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Final, Iterator, Union

from rapidfuzz import fuzz

from .kb import Branch, Entry, KnowledgeBase
from .matcher import Match, Matcher
from .replies import NEGATION, QUESTION, ReplyClassifier, clauses, negated_spans, native_negation, squash
from .text import normalize, numerals_to_digits

# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class Started:
    """The line connected: the bot opens."""

    t: float
    """Call-clock seconds."""
    second_visit: bool = False
    """二访: open with the book's four-step second-visit script."""


@dataclass(frozen=True)
class Heard:
    """The customer finished an utterance."""

    t: float
    """Call-clock seconds at the end of the utterance."""
    text: str
    """What the recogniser heard (may be empty)."""
    confidence: float = 1.0
    """Mean word confidence, 0–1 (1 for typed text)."""
    level_dbfs: float | None = None
    """Speech level; None for typed text."""
    snr_db: float | None = None
    """Speech level above the noise floor; None for typed text."""
    language: str | None = None
    """Language the recogniser detected, if it can tell."""
    language_prob: float | None = None
    """Its probability."""


@dataclass(frozen=True)
class Silence:
    """No speech for `seconds` since the bot finished speaking (the no-input timer fired)."""

    t: float
    """Call-clock seconds."""
    seconds: float
    """How long the line has been silent."""


@dataclass(frozen=True)
class Ringback:
    """Ringback heard before the call connected."""

    t: float
    """Call-clock seconds when it was recognised."""
    kind: str
    """domestic (wait) or foreign (the customer is abroad: hang up before the greeting)."""


@dataclass(frozen=True)
class Ended:
    """The call ends from outside the policy: end of input, Ctrl-C, a signal, an error."""

    t: float
    """Call-clock seconds."""
    reason: str
    """end_of_input, interrupted, terminated, error, trainer_ended, line_silent."""


Event = Union[Started, Heard, Silence, Ringback, Ended]

# ---------------------------------------------------------------- actions


@dataclass(frozen=True)
class Say:
    """Speak a line."""

    text: str
    """The line, placeholders filled."""
    reason: str
    """Why: opening, answer, branch, ask, continue, offer_pitch, offer_info, offer_confirm, offer_accepted,
    offer_declined, offer_undecided, repeat, correction, complaint_listen, thanks, no_response, off_topic,
    not_heard, speak_louder, noisy, dialect, closing, second_visit."""
    entry: str | None = None
    """The book entry it comes from, if any."""
    language: str = "zh"
    """zh or en (the foreign-caller lines need an English voice)."""
    topic: str | None = None
    """For offer_info: which fact of the offer (price, content, effective, cancel, duration)."""

    def event(self) -> dict[str, Any]:
        """The call-record line (without its time)."""
        ev: dict[str, Any] = {"type": "say", "text": self.text, "entry": self.entry, "reason": self.reason,
                              "language": self.language}
        if self.topic:
            ev["topic"] = self.topic
        return ev


@dataclass(frozen=True)
class Record:
    """A follow-up the book asks the agent to file."""

    kind: str
    """complaint, suggestion, do_not_call, sensitive, earlier_problem, callback, cancel, no_response,
    contact_preference, offer, escalation, abroad_ringback."""
    text: str
    """What the customer said, over the turns that belong to it (the substance of the record)."""
    entry: str | None = None
    """The entry that asked for it."""
    fields: dict[str, Any] = field(default_factory=dict, compare=False)
    """What someone acting on it needs: number, own_number, business, return_date, channel, verdict,
    when, what, replied, about."""

    def event(self) -> dict[str, Any]:
        return {"type": "record", "kind": self.kind, "text": self.text, "entry": self.entry,
                "fields": dict(self.fields)}


@dataclass(frozen=True)
class Escalate:
    """Mute and hand the call to the duty manager (无声上报)."""

    reason: str
    """Why (the entry id)."""

    def event(self) -> dict[str, Any]:
        return {"type": "escalate", "reason": self.reason}


@dataclass(frozen=True)
class Hangup:
    """End the call."""

    reason: str
    """offer_accepted, offer_declined, no_response, off_topic, answered, guided_hangup, escalated,
    foreign_ringback, wrong_number, end_of_input, interrupted, terminated, error, …"""

    def event(self) -> dict[str, Any]:
        return {"type": "hangup", "reason": self.reason}


Action = Union[Say, Record, Escalate, Hangup]


@dataclass(frozen=True)
class Turn:
    """What the policy decided for one event: the actions, and why (for the record and the trainer).

    Iterating a Turn gives its actions, so `for action in policy.handle(event)` reads naturally.
    """

    actions: tuple[Action, ...] = ()
    """What to do, in order."""
    match: Match | None = None
    """The book match that decided the line (the first, when it held two requests)."""
    entries: tuple[str, ...] = ()
    """Every book entry answered, in order."""
    branch: tuple[str | None, str] | None = None
    """(entry id, the branch's `when`) when the line answered a question the bot asked back."""
    reply: str | None = None
    """The reply kind the line was read as (consent, refuse, backchannel, offer_price, repeat, …)."""
    negated: tuple[str, ...] = ()
    """Entries the customer took back (我没说要投诉)."""

    def __iter__(self) -> Iterator[Action]:
        return iter(self.actions)

    def __len__(self) -> int:
        return len(self.actions)

    def __getitem__(self, index: Any) -> Any:
        return self.actions[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple)):
            return list(self.actions) == list(other)
        if isinstance(other, Turn):
            return self.actions == other.actions
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def heard_fields(self) -> dict[str, Any]:
        """What the `heard` event says about how the line was understood."""
        m = self.match
        out: dict[str, Any] = {
            "entry": (m.entry.id if m is not None and m.entry is not None else
                      (self.entries[0] if self.entries else None)),
            "score": round(m.score, 1) if m is not None else None,
            "runner_up": m.runner_up.entry_id if m is not None and m.runner_up else None,
            "match": m.reason if m is not None else None}
        if len(self.entries) > 1:
            out["entries"] = list(self.entries)
        if self.branch is not None:
            out["reply_to"], out["branch"] = self.branch
        if self.reply:
            out["reply"] = self.reply
        if self.negated:
            out["negated"] = list(self.negated)
        return out


@dataclass(frozen=True)
class PolicyOptions:
    """Thresholds of the policy; each default says why."""

    no_input_timeout_s: float = 4.0
    """VoiceXML platforms use 3–5 s; 4 s leaves room for a customer who thinks before answering."""
    off_topic_wait_s: float = 4.0
    """After the off-topic closing line the book says wait a little before hanging up."""
    min_confidence: float = 0.5
    """Below this mean word confidence the words are not trusted (VoiceXML's usual no-match line)."""
    reply_min_confidence: float = 0.35
    """A short reply (是, 不需要, 嗯) is a tiny grammar (like VoiceXML's boolean): trusted at lower
    confidence (whisper is unsure on half-second clips)."""
    quiet_dbfs: float = -38.0
    """Speech below this level is 'too quiet' (normal phone speech sits around -20 to -30 dBFS)."""
    very_quiet_dbfs: float = -50.0
    """Below this the customer is asked to speak up whatever was recognised: a person could not hear it."""
    noisy_snr_db: float = 10.0
    """Below this signal-to-noise ratio the line is too noisy to make out words reliably (clean
    fixtures measure ≥ 14 dB, babble at 3 dB measures about 8.5 dB)."""
    poor_line_confidence: float = 0.75
    """On a quiet or noisy line the words are trusted only above this confidence."""
    foreign_language_prob: float = 0.6
    """A detected non-Mandarin language counts only above this probability."""
    branch_max_chars: int = 12
    """A reply longer than this that matches a book entry well is a new question, not an answer."""
    branch_phrase_score: float = 70.0
    """A reply fits a branch given as phrases when its fuzzy similarity to one reaches this."""
    short_reply_chars: int = 6
    """Replies this short are read as reply kinds first (嗯, 不需要, 好的给我开吧)."""
    strong_reply_score: float = 85.0
    """A reply kind this close beats the book matcher (这个流量包一个月多少钱 is about the offer)."""
    reply_score: float = 75.0
    """A reply kind this close is taken when the book matcher finds nothing."""
    negation_score: float = 60.0
    """What follows a negation cue takes an entry back when it is this close to the entry's wordings."""
    max_line_chars: int = 500
    """Longer customer lines are cut (a runaway transcript is never one question)."""
    min_answer_score: float = 24.0
    """The policy answers a book entry only from this matcher score (the matcher's own threshold is
    20: between them lie lines that share one word with an entry and nothing else)."""
    clause_min_score: float = 30.0
    """A clause of a longer line counts as a request of its own only when it matches this well."""
    ambiguous_answer_score: float = 40.0
    """A line within the matcher's margin of two entries is answered from the closer one when it
    scores at least this (off-topic would count a real question toward the three-strike hang-up)."""
    max_reasks: int = 1
    """A question back whose reply fits no branch is asked again this many times, then dropped."""
    answer_covered: float = 90.0
    """Two requests in one line: an answer that another's contains this closely (rapidfuzz
    partial_ratio) is not said twice (the work id inside 问题28's answer scores 94; unrelated answers
    that share an opening apology score under 90)."""


# ---------------------------------------------------------------- policy

_ASCII_WORD: Final = re.compile(r"[A-Za-z]{2,}")
_HAN: Final = re.compile(r"[\u4e00-\u9fff]")
_THANKS: Final = re.compile(r"(谢谢|多谢|感谢|谢了|thank)", re.IGNORECASE)
_SHORT_REPLIES: Final = ("yes", "no", "backchannel", "consent", "refuse", "repeat", "calm", "insist", "done")
"""Reply kinds trusted at low recogniser confidence when short (是, 不需要): a tiny grammar."""
_FUNCTION_CHARS: Final = set("您你我的吗是了还吧呢请问好个一下这那么就也都在有和给再跟您看")
_COURTESY: Final = re.compile(r"好的|好|嗯|哦|噢|啊|呀|你|您|了|哈|行|那|非常|太")
"""What may stand beside 谢谢 in a line that is only thanks (好的谢谢你啊)."""
_NUMBER: Final = re.compile(r"1\d{10}|0\d{9,11}|\d{7,12}")
_DATE: Final = re.compile(
    r"((?:下|下下|这|本|上)(?:个)?(?:月|周|星期|礼拜)(?:[初中底末]|\d{1,2}[号日])?|月[初中底末]|年[底初后前]|"
    r"\d{1,2}月(?:\d{1,2}[号日]|[初中底末]|份)?|\d{1,2}[号日]|明天|后天|大后天|过(?:两|几|些|一段)(?:天|周|个月|时间)|"
    r"春节|国庆|元旦|过年|暑假|寒假|周[一二三四五六日末]|星期[一二三四五六日天]|\d+(?:天|周|个月)(?:以?后|之后)|"
    r"[一二三四五六七八九十两半]+(?:天|周|个星期|个月|年)(?:以?后|之后)?|半个月|下个月|下周|月底|年底|回国)")
_CHANNELS: Final = ("短信", "微信", "邮件", "邮箱", "营业厅", "公众号", "网上", "app", "信件", "来信", "电话")
_BUSINESS: Final = re.compile(r"(?:取消|退订|退掉|退了|停掉|关掉|关了)(?:这个|那个|我的|我那个|掉)?(.{2,12}?)(?:业务|套餐)")
_REPLIED_NO: Final = re.compile(r"(没|没有|没人|也没|从来没|一直没)[^，。？！,.?!]{0,4}(回复|答复|回|处理|管|联系)")
_REPLIED_YES: Final = re.compile(r"(回复|答复|处理|联系)过|给我回(过|了)")


@dataclass
class _Open:
    """A question the bot asked back, waiting for the customer's reply."""

    entry: Entry | None
    branches: tuple[Branch, ...]
    ask: str = ""
    kind: str = "entry"
    words: list[str] = field(default_factory=list)
    """The customer's words over the turns of this exchange (the text of its records)."""
    reasks: int = 0


@dataclass
class _Listening:
    """A complaint the bot is letting the customer tell (让客户去说)."""

    entry: Entry
    words: list[str] = field(default_factory=list)
    turns: int = 0


@dataclass
class CallState:
    """What the policy remembers during one call (exposed for reports and tests)."""

    no_input: int = 0
    off_topic: int = 0
    off_topic_closed: bool = False
    not_heard: int = 0
    quiet: int = 0
    answered: dict[str, int] = field(default_factory=dict)
    word_counts: dict[str, int] = field(default_factory=dict)
    last_said: list[Say] = field(default_factory=list)
    open: _Open | None = None
    listening: _Listening | None = None
    second_visit: bool = False
    ended: bool = False
    offer_stage: str = "opened"
    """opened (greeted), pitched, offered (asked to open), confirming (二次确认), done."""
    asked: str | None = "opening"
    """What the bot's last line asked: opening (方便了解吗), offer (需要开通吗), confirm, or None."""
    reconfirms: int = 0
    verdict: str | None = None
    """accepted / declined once the customer said so; the offer record is filed once."""
    offer_recorded: bool = False
    last_entries: list[str] = field(default_factory=list)
    """Entries answered in the last customer turn (the context of the next one)."""
    turns: int = 0


@dataclass(frozen=True)
class _Intent:
    """How one clause of a customer line was read."""

    kind: str
    """entry, negated, reply, topic, thanks, unknown."""
    text: str
    entry: Entry | None = None
    reply: str | None = None
    match: Match | None = None
    strong: bool = False
    """Decided by one of the entry's own patterns: the whole line is that entry."""


class Policy:
    """The book's protocols. `handle(event)` returns the `Turn`: what to do, and why."""

    def __init__(self, book: KnowledgeBase, matcher: Matcher | None = None,
                 options: PolicyOptions | None = None) -> None:
        self.book = book
        self.matcher = matcher or Matcher(book)
        self.options = options or book.options("policy", PolicyOptions)
        self.state = CallState()
        self.p = book.protocols
        self.offer = book.offer
        self.cap: int = self.p.words_to_avoid.cap
        kinds = {k: v for k, v in book.replies.items()}
        patterns = dict(book.reply_patterns)
        for topic in self.offer.topics:
            kinds["offer_" + topic.name] = topic.customer
            patterns["offer_" + topic.name] = topic.patterns
        self.replies = ReplyClassifier(kinds, patterns, boosted=["offer_" + t.name for t in self.offer.topics])
        self.topics = tuple("offer_" + t.name for t in self.offer.topics)
        self.english_entry = next((e for e in book if e.language == "en"), None)
        self.entry_patterns = [(e, re.compile(p)) for e in book for p in e.patterns]
        self._filler_group = book.word_groups().get("对", "对")
        self._reset_turn()

    # -- small helpers

    @property
    def ended(self) -> bool:
        return self.state.ended

    def timeout_s(self) -> float:
        """How long the line may stay silent before a `Silence` event is due."""
        return self.options.off_topic_wait_s if self.state.off_topic_closed else self.options.no_input_timeout_s

    def _reset_turn(self) -> None:
        self._match: Match | None = None
        self._entries: list[str] = []
        self._branch: tuple[str | None, str] | None = None
        self._reply: str | None = None
        self._negated: list[str] = []

    def _turn(self, actions: list[Action]) -> Turn:
        said = [a for a in actions if isinstance(a, Say)]
        if said:
            self.state.last_said = said
        return Turn(tuple(actions), self._match, tuple(dict.fromkeys(self._entries)), self._branch,
                    self._reply, tuple(self._negated))

    def _say(self, text: str, reason: str, entry: str | None = None, language: str | None = None,
             topic: str | None = None, extra: dict[str, str] | None = None) -> Say | None:
        if not text:
            return None
        if language is None:
            language = "en" if (_ASCII_WORD.search(text) and not _HAN.search(text)) else "zh"
        line = self.book.fill(text, self.state.word_counts, self.cap, extra) if language == "zh" else text
        line = self._cap_filler(line)
        if not line.strip("，,。 "):
            return None
        return Say(line, reason, entry, language, topic)

    def _add(self, actions: list[Action], *says: Say | None) -> list[Action]:
        actions.extend(s for s in says if s is not None)
        return actions

    def _cap_filler(self, line: str) -> str:
        """A filler 对 (随口对) at the start of a line counts against the cap like 先生/女士."""
        match = re.match(r"^对[，,、]", line)
        if not match:
            return line
        key = self._filler_group
        count = self.state.word_counts.get(key, 0)
        if count >= self.cap:
            return line[match.end():]
        self.state.word_counts[key] = count + 1
        return line

    def _closing(self) -> str:
        if self.state.second_visit and self.p.second_visit.closing:
            return self.p.second_visit.closing
        return self.p.closing.line()

    def _end(self, actions: list[Action], reason: str) -> list[Action]:
        """Close the call: a complaint still being told is filed, the offer's verdict is recorded."""
        if self.state.listening is not None:
            actions.extend(self._file_complaint(speak=False))
        if not self.state.offer_recorded:
            verdict = self.state.verdict or "undecided"
            actions.append(Record("offer", "", None, {"verdict": verdict}))
            self.state.offer_recorded = True
        self.state.ended = True
        self.state.open = None
        actions.append(Hangup(reason))
        return actions

    # -- entry point

    def handle(self, event: Event) -> Turn:
        """What to do about one event (nothing once the call has ended)."""
        self._reset_turn()
        if self.state.ended:
            return Turn()
        if isinstance(event, Started):
            return self._turn(self._start(event))
        if isinstance(event, Ringback):
            return self._turn(self._ringback(event))
        if isinstance(event, Silence):
            return self._turn(self._silence(event))
        if isinstance(event, Ended):
            return self._turn(self._end([], event.reason))
        self.state.turns += 1
        actions = self._heard(event)
        self.state.last_entries = list(self._entries)
        return self._turn(actions)

    def _start(self, event: Started) -> list[Action]:
        self.state.second_visit = event.second_visit
        if event.second_visit:
            sv = self.p.second_visit
            self.state.open = _Open(None, (), kind="second_visit", ask=sv.apology_confirm)
            self.state.asked = None
            return self._add([], self._say(sv.identity, "second_visit"), self._say(sv.apology_confirm, "second_visit"))
        self.state.asked = "opening"
        return self._add([], *(self._say(line, "opening") for line in self.p.opening.say))

    def _ringback(self, event: Ringback) -> list[Action]:
        if event.kind != "foreign":
            return []
        return self._end([Record(self.p.ringback.record, self.p.ringback.record_text)], "foreign_ringback")

    def _silence(self, event: Silence) -> list[Action]:
        if self.state.off_topic_closed:
            return self._end([], "off_topic")
        if self.state.listening is not None:
            return self._file_complaint()  # the customer has finished telling: sum up and record
        proto = self.p.no_response
        if self.state.no_input < proto.times:
            self.state.no_input += 1
            return self._add([], self._say(proto.prompt, "no_response"))
        actions = self._add([], self._say(proto.closing, "no_response"))
        actions.append(Record(proto.record, proto.record_text))
        return self._end(actions, "no_response")

    # -- the customer spoke

    def _heard(self, event: Heard) -> list[Action]:
        self.state.no_input = 0  # speech at any point resets the no-response count
        text = event.text.strip()[: self.options.max_line_chars]
        opts = self.options
        if self._is_english(event):
            return self._english(text)
        if (event.language and event.language not in ("zh", "en") and event.language_prob is not None
                and event.language_prob >= opts.foreign_language_prob):
            return self._add([], self._say(self.p.dialect.line(), "dialect"))
        short = len(squash(text)) <= opts.short_reply_chars
        heard_well = bool(squash(text)) and event.confidence >= opts.min_confidence
        if (not heard_well and short and squash(text) and event.confidence >= opts.reply_min_confidence
                and (self.replies.classify(text, _SHORT_REPLIES, opts.reply_score).kind is not None
                     or (self.state.open is not None and self.replies.polarity(text) is not None))):
            heard_well = True
        poor_line = ((event.level_dbfs is not None and event.level_dbfs < opts.quiet_dbfs)
                     or (event.snr_db is not None and event.snr_db < opts.noisy_snr_db))
        if poor_line and event.confidence < opts.poor_line_confidence:
            heard_well = False
        if event.level_dbfs is not None and event.level_dbfs < opts.very_quiet_dbfs:
            heard_well = False
        if not heard_well:
            return self._not_heard(event)
        if self.state.listening is not None:
            return self._listen(text)
        if self._is_repeat(text):
            self._reply = "repeat"
            if self.state.last_said:
                return [Say(s.text, "repeat", s.entry, s.language, s.topic) for s in self.state.last_said]
        if self.state.open is not None:
            actions = self._reply_to_open(text)
            if actions is not None:
                return actions
        return self._respond(text)

    def _is_english(self, event: Heard) -> bool:
        if event.language == "en" and (event.language_prob or 0) >= self.options.foreign_language_prob:
            return True
        letters = len(re.findall(r"[A-Za-z]", event.text))
        han = len(_HAN.findall(event.text))
        return bool(_ASCII_WORD.search(event.text)) and letters > 3 * max(han, 1)

    def _is_repeat(self, text: str) -> bool:
        """什么？/ 没听清，再说一遍: a short line asking the bot to say it again."""
        return (len(squash(text)) <= 14
                and self.replies.classify(text, ["repeat"], self.options.strong_reply_score).kind == "repeat")

    def _english(self, text: str) -> list[Action]:
        pending = self.state.open
        if pending is not None:
            branch = next((b for b in pending.branches if b.when == "english"), None)
            if branch is not None:
                return self._take_branch(pending, branch, text)
        if self.english_entry is None:
            return self._add([], self._say(self.p.dialect.line(), "dialect"))
        self._entries.append(self.english_entry.id)
        return self._answer(self.english_entry, text)

    def _not_heard(self, event: Heard) -> list[Action]:
        opts = self.options
        if event.level_dbfs is not None and event.level_dbfs < opts.quiet_dbfs:
            self.state.quiet += 1
            return self._add([], self._say(self.p.speak_louder.line(self.state.quiet - 1), "speak_louder"))
        if event.snr_db is not None and event.snr_db < opts.noisy_snr_db:
            return self._add([], self._say(self.p.noisy.line(), "noisy"))
        self.state.not_heard += 1
        return self._add([], self._say(self.p.not_heard.line(), "not_heard"))

    # -- a complaint being told (让客户去说)

    def _listen(self, text: str) -> list[Action]:
        listening = self.state.listening
        assert listening is not None
        kind = self.replies.classify(text, ["done", "calm"], self.options.strong_reply_score).kind
        if kind is not None and len(squash(text)) <= 8:
            self._reply = kind
            return self._file_complaint()
        listening.words.append(text)
        listening.turns += 1
        self._entries.append(listening.entry.id)
        if listening.turns >= self.p.complaint.max_turns:
            return self._file_complaint()
        return self._add([], self._say(self.p.complaint.go_on, "complaint_listen", listening.entry.id))

    def _file_complaint(self, speak: bool = True) -> list[Action]:
        listening = self.state.listening
        assert listening is not None
        self.state.listening = None
        entry = listening.entry
        words = listening.words
        text = " / ".join(words)
        actions: list[Action] = []
        if speak:
            gist = _gist(words[1:] or words)
            if gist:
                self._add(actions, self._say(self.p.complaint.summary, "answer", entry.id, extra={"要点": gist}))
            self._add(actions, *(self._say(line, "answer", entry.id) for line in entry.answer))
        actions.append(Record(entry.record or "complaint", text, entry.id,
                              self._fields(entry.record or "complaint", words, entry.record_fields)))
        return actions

    # -- replies to a question the bot asked back

    def _reply_to_open(self, text: str) -> list[Action] | None:
        pending = self.state.open
        assert pending is not None
        norm = normalize(text)
        if pending.kind == "second_visit":
            self.state.open = None
            sv = self.p.second_visit
            if self.replies.polarity(text) == "no":
                actions = self._add([], self._say(sv.wrong_number, "second_visit"))
                return self._end(actions, "wrong_number")
            self.state.open = _Open(None, (), kind="second_visit_purpose", ask=sv.purpose)
            return self._add([], self._say(sv.purpose, "second_visit"))
        if pending.kind == "second_visit_purpose":
            # Step 4 (二次确认结束语) once the customer has heard the purpose and agrees.
            self.state.open = None
            if self.replies.polarity(text) == "yes" and self.replies.classify(text, ["refuse"]).kind is None:
                actions = self._add([], self._say(self._closing(), "second_visit"))
                return self._end(actions, "second_visit_done")
            return None
        if _only_thanks(text) and self.replies.polarity(text) is None:
            # 谢谢 to a question back is answered (服务用语2: thanks never go unanswered); where the
            # question waits for the customer to calm down (问题28's 谅解), the thanks say they have.
            calm = next((b for b in pending.branches if b.when == "calm"), None)
            if calm is None:
                self.state.open = None
                return None  # answered as thanks
            thanks = self._add([], self._say(self.p.thanks_prefix.line(), "thanks",
                                             pending.entry.id if pending.entry else None))
            return thanks + self._take_branch(pending, calm, text)
        # A long reply that is clearly another question of the book is answered as such (unless the
        # question takes any answer: 什么时间、什么问题 is answered at length).
        takes_any = any(b.when == "other" for b in pending.branches)
        chosen = self._choose_branch(text, pending)
        if (len(norm) > self.options.branch_max_chars and not takes_any
                and (chosen is None or chosen.when == "other")):
            m = self.matcher.match(text)
            if m.entry is not None and (pending.entry is None or m.entry.id != pending.entry.id):
                self.state.open = None
                return None
        if chosen is None:
            polarity = self.replies.polarity(text)
            reply = self.replies.classify(text, threshold=self.options.reply_score)
            if reply.kind in ("refuse", "consent") or reply.kind in self.topics:
                self.state.open = None
                return None  # about the offer: answered as such
            other_entry = self.matcher.match(text).entry if len(norm) > 3 else None
            if (polarity is None and other_entry is None and pending.reasks < self.options.max_reasks
                    and pending.ask):
                pending.reasks += 1
                pending.words.append(text)
                self._branch = (pending.entry.id if pending.entry else None, "reask")
                return self._add([], self._say(self.p.reask.line() + pending.ask, "ask",
                                               pending.entry.id if pending.entry else None))
            self.state.open = None
            if polarity is not None and other_entry is None:
                # A plain yes/no the book gives no branch for (谅解了吗 → 好吧): back to the offer.
                self._reply = polarity
                return self._continue([], pending.entry.id if pending.entry else None)
            return None
        if _THANKS.search(text):
            # 好的谢谢: the answer is taken, and the thanks are answered first (服务用语2).
            thanks = self._add([], self._say(self.p.thanks_prefix.line(), "thanks",
                                             pending.entry.id if pending.entry else None))
            return thanks + self._take_branch(pending, chosen, text)
        return self._take_branch(pending, chosen, text)

    def _phrase_fit(self, text: str, phrases: tuple[str, ...]) -> bool:
        line = squash(text)
        for phrase in phrases:
            p = squash(phrase)
            if len(p) >= 2 and p in line:
                return True
        return self.matcher.similarity(text, phrases) >= self.options.branch_phrase_score

    def _choose_branch(self, text: str, pending: _Open, cascade: bool = False) -> Branch | None:
        """The branch the reply takes. `cascade`: the rest of a line that answered the question before
        (only plain fits count: phrases, a number, a date, a named kind, an explicit yes)."""
        branches = pending.branches
        # 1. phrases written for this very question (是我妈给我办的 → not the owner)
        for b in branches:
            if isinstance(b.when, tuple) and self._phrase_fit(text, b.when):
                return b
        # 2. what the reply holds: a number, a date, a language
        digits = _digits(text)
        for b in branches:
            if b.when == "number" and digits:
                return b
            if b.when == "date" and _DATE.search(numerals_to_digits(text)):
                return b
            if b.when == "chinese" and _HAN.search(text):
                return b
        # 3. reply kinds the branches name (calm, insist, consent, refuse, talk_now, done, …)
        named = [b.when for b in branches if isinstance(b.when, str)
                 and b.when not in ("yes", "no", "other", "number", "date", "chinese", "english")]
        if named:
            reply = self.replies.classify(text, named, self.options.reply_score)
            if reply.kind is not None:
                self._reply = reply.kind
                return next(b for b in branches if b.when == reply.kind)
        # 4. yes / no (an answer that echoes the question's words is yes: 回电话吗 → 回个电话吧)
        if cascade:
            first = (clauses(text) or [text])[0]
            polarity = "yes" if self.replies.classify(first, ["yes"], 90.0).kind else None
        else:
            polarity = self.replies.polarity(text) or self._echo(text, pending.ask)
        if polarity is not None:
            branch = next((b for b in branches if b.when == polarity), None)
            if branch is not None:
                self._reply = self._reply or polarity
                return branch
        # 5. anything else
        return None if cascade else next((b for b in branches if b.when == "other"), None)

    def _echo(self, text: str, ask: str) -> str | None:
        first = squash(next((c for c in clauses(text)), ""))
        if not first or len(first) > 8 or QUESTION.search(first) or NEGATION.search(first):
            return None
        content = set(squash(self.book.fill(ask))) - _FUNCTION_CHARS
        return "yes" if content & set(first) else None

    def _take_branch(self, pending: _Open, branch: Branch, text: str) -> list[Action]:
        self.state.open = None
        entry_id = pending.entry.id if pending.entry else None
        self._branch = (entry_id, branch.when if isinstance(branch.when, str) else "phrases")
        if entry_id:
            self._entries.append(entry_id)
        words = pending.words + [text]
        actions = self._perform(branch.say, branch.action, branch.record, branch.ask, branch.branches,
                                pending.entry, words, "branch", entry_id, record_fields=branch.record_fields)
        # The same line may already answer the next question (你们打电话叫我办的，肯定开了): the rest of
        # its clauses go to it, when they fit a branch plainly (not as `other`).
        nested = self.state.open
        rest = clauses(text)[1:]
        by_words = branch.when not in ("yes", "no", "other")  # 好的，可以 is one yes said twice
        if nested is not None and nested.branches and rest and by_words and not self.state.ended:
            rest_text = "，".join(rest)
            follow = self._choose_branch(rest_text, nested, cascade=True)
            if follow is not None and follow.when not in ("other", "no"):
                actions = [a for a in actions if not (isinstance(a, Say) and a.reason == "ask")]
                self.state.last_said = []
                return actions + self._take_branch(nested, follow, rest_text)
        return actions

    # -- answering

    def _respond(self, text: str) -> list[Action]:
        intents = self._read_line(text)
        if not intents:
            return self._off_topic(text)
        actions: list[Action] = []
        thanks_first = len(intents) > 1 and intents[0].kind == "thanks"
        for i, intent in enumerate(intents):
            if self.state.ended:
                break
            if intent.kind == "thanks":
                if thanks_first and i == 0:
                    self._add(actions, self._say(self.p.thanks_prefix.line(), "thanks",
                                                 intent.entry.id if intent.entry else None))
                    continue
                if intent.entry is not None:
                    self._entries.append(intent.entry.id)
                    actions.extend(self._answer(intent.entry, intent.text))
                continue
            if intent.kind == "entry" and intent.entry is not None:
                if self._match is None:
                    self._match = intent.match
                self._entries.append(intent.entry.id)
                actions.extend(self._answer(intent.entry, intent.text))
            elif intent.kind == "negated" and intent.entry is not None:
                self._negated.append(intent.entry.id)
                if not any(isinstance(a, Say) and a.reason == "correction" for a in actions):
                    self._add(actions, self._say(self.p.correction.line(), "correction"))
            elif intent.kind in ("reply", "topic"):
                self._reply = self._reply or intent.reply
                actions.extend(self._offer_reply(intent.reply or "", intent.text))
        if self._negated and not self.state.ended and len(intents) == len(self._negated):
            actions = self._continue(actions, None)
        return _one_continue(actions)

    def _read_line(self, text: str) -> list[_Intent]:
        """Every request in the line, in order (unknown clauses dropped when others are understood).

        The whole line is read, then each clause. The clauses win when they hold something the whole
        line does not show: two requests, a refusal or consent, a request taken back, thanks.
        """
        whole = self._read(text)
        if whole.kind == "entry" and whole.reply == "refuse" and self.state.verdict is None:
            self.state.verdict = "declined"  # a refusal said is a refusal, whatever else the line asks
        pieces = clauses(text)
        if whole.strong and whole.entry is not None and not any(
                pattern.search(squash(p)) for p in pieces for e, pattern in self.entry_patterns if e is whole.entry):
            return [whole]  # the entry's pattern spans the clauses (几号？我要投诉 is 问题28 as a whole)
        if len(pieces) <= 1 and whole.kind in ("entry", "unknown"):
            pieces = self._split_unpunctuated(text, whole)
        if len(pieces) <= 1:
            return [] if whole.kind == "unknown" else [whole]
        parts = [self._read(p) for p in pieces]
        # A piece that only weakly resembles an entry (等一下 ~ 你几号) says nothing on its own.
        known = [p for p in parts if p.kind != "unknown" and not (
            p.kind == "entry" and not p.strong and p.match is not None
            and p.match.score < self.options.clause_min_score)]
        if not known:
            return [] if whole.kind == "unknown" else [whole]
        substantive = [p for p in known if p.kind in ("entry", "topic", "negated", "thanks")
                       or (p.kind == "reply" and p.reply in ("refuse", "consent"))]
        taken_back = {p.entry.id for p in substantive if p.kind == "negated" and p.entry is not None}
        substantive = [p for p in substantive if not (p.kind == "entry" and p.entry is not None
                                                      and p.entry.id in taken_back)]
        if (whole.kind == "entry" and whole.entry is not None and whole.entry.id not in taken_back
                and not any(p.kind in ("entry", "negated") for p in substantive)
                and (whole.strong or not any(p.kind == "reply" for p in substantive)
                     or (whole.match is not None and whole.match.score >= self.options.ambiguous_answer_score))):
            # The line as a whole is a book question its pieces do not show (but a faint whole-line
            # match does not drown a plain consent or refusal in one of its clauses).
            return [whole]
        if whole.kind in ("topic", "reply") and not any(
                p.kind == "entry" and (p.strong or (p.match is not None and p.match.score >= 45))
                for p in substantive):
            return [whole]  # 以后不想用了，怎么退 asks about the offer; a weak match in a piece does not
        key = _key(whole)
        if not substantive or (whole.kind != "unknown" and all(_key(p) == key for p in substantive)):
            # The clauses add nothing the whole line does not say (嗯，好的 / 你们这个，有录音吗).
            return [whole] if whole.kind != "unknown" else [max(known, key=lambda p: _rank(p))]
        if not any(p.kind == "entry" for p in substantive):
            # A verdict on the offer says it all (十块也不便宜，不要了 / 挺便宜的，开了吧).
            for verdict in ("refuse", "consent"):
                if any(p.kind == "reply" and p.reply == verdict for p in substantive):
                    return [next(p for p in substantive if p.reply == verdict)]
        if any(p.kind == "entry" for p in substantive):
            # A book question in the line comes first; a verdict beside it waits (这个不想要了，给我取消),
            # but a refusal said is a refusal: the offer record says declined (不需要，别再打了).
            if any(p.kind == "reply" and p.reply == "refuse" for p in substantive) and self.state.verdict is None:
                self.state.verdict = "declined"
            substantive = [p for p in substantive if p.kind != "reply"]
        if any(p.strong for p in substantive):
            # Beside a line the book's own pattern recognises, a weak match in another piece is noise.
            substantive = [p for p in substantive if p.strong or p.kind != "entry" or (
                p.match is not None and p.match.score >= 40)]
        out: list[_Intent] = []
        for p in substantive:
            if out and _key(out[-1]) == _key(p):
                continue
            out.append(p)
        return [p for p in out if not any(self._answer_covers(q, p) for q in out if q is not p)]

    def _answer_covers(self, big: _Intent, small: _Intent) -> bool:
        """Whether `big`'s answer already says all of `small`'s (问题28 gives the work id: asked for the id
        and complaining in one line, the customer hears it once)."""
        if big.kind != "entry" or small.kind != "entry" or big.entry is None or small.entry is None:
            return False
        said = squash(self.book.fill("".join(small.entry.answer)))
        whole = squash(self.book.fill("".join(big.entry.answer)))
        return 4 <= len(said) < len(whole) and fuzz.partial_ratio(said, whole) >= self.options.answer_covered

    def _split_unpunctuated(self, text: str, whole: _Intent) -> list[str]:
        """A line without punctuation (vosk) that holds two book questions: cut where both halves match."""
        line = text.strip()
        if len(line) < 8 or re.search(r"[，,。？?！!；;]", line):
            return [line]
        if whole.strong:
            return [line]  # the book's own pattern reads the line as one request
        whole_score = whole.match.score if whole.match is not None else 0.0
        best: tuple[float, int] | None = None
        for cut in range(3, len(line) - 2):
            left, right = self.matcher.match(line[:cut]), self.matcher.match(line[cut:])
            if left.entry is None or right.entry is None or left.entry.id == right.entry.id:
                continue
            low = min(left.score, right.score)
            if low > whole_score and (best is None or low > best[0]):
                best = (low, cut)
        if best is None:
            return [line]
        return [line[:best[1]], line[best[1]:]]

    def _read(self, text: str) -> _Intent:
        """One clause: a reply kind about the offer, a book entry, a request taken back, or unknown."""
        opts = self.options
        if _only_thanks(text):
            m = self.matcher.match(text)
            return _Intent("thanks", text, m.entry, match=m)
        top_kinds = ["refuse", "consent", "backchannel", "yes", "no", *self.topics]
        reply = self.replies.classify(text, [k for k in top_kinds if k in self.replies.examples], opts.reply_score)
        line = squash(text)
        if reply.kind is not None and reply.score >= opts.strong_reply_score and not (
                (reply.kind in self.topics or reply.kind == "consent")
                and any(p.search(line) for _, p in self.entry_patterns)):
            # About the offer, unless the book's own pattern names an entry for the line (在国外接电话
            # 一分钟扣多少 is 特殊问题1(2), not the offer's price; 给我开个国际漫游 is 问题14, not consent).
            refusal_with_request = self._refusing_entry(text) if reply.kind == "refuse" else None
            if refusal_with_request is not None:
                # 不需要别再打了 (vosk gives no commas): the refusal carries a book request, and the
                # request is what the customer hears answered (the offer record still says declined).
                return refusal_with_request
            return _Intent("topic" if reply.kind in self.topics else "reply", text, reply=reply.kind)
        context = self._in_context(text)
        if context is not None:
            return _Intent("entry", text, context, match=None)
        for entry, pattern in self.entry_patterns:
            if pattern.search(line):
                if self._negated_entry(text, entry):
                    return _Intent("negated", text, entry, strong=True)
                return _Intent("entry", text, entry, strong=True, reply="refuse" if reply.kind == "refuse" else None)
        m = self.matcher.match(text)
        if m.entry is not None and m.score < self.options.min_answer_score:
            m = dataclasses.replace(m, entry=None, reason="no_match")  # 你帮我看看这期双色球 ~ 帮我开个亲情号
        if m.entry is None and m.reason == "ambiguous" and m.top and m.score >= self.options.ambiguous_answer_score:
            # Two entries within the margin: answering the closer one beats calling it off-topic.
            m = dataclasses.replace(m, entry=self.book.get(m.top[0].entry_id), reason="closest")
        if m.entry is not None:
            negated = self._negated_entry(text, m.entry)
            if negated:
                return _Intent("negated", text, m.entry, match=m)
            return _Intent("entry", text, m.entry, match=m)
        for _, follow in negated_spans(text):
            fm = self.matcher.match(follow)
            if fm.entry is not None and _acts(fm.entry) and not native_negation(fm.entry.customer):
                return _Intent("negated", text, fm.entry, match=fm)
        if reply.kind is not None:
            return _Intent("topic" if reply.kind in self.topics else "reply", text, reply=reply.kind)
        if self._match is None:
            self._match = m
        return _Intent("unknown", text, match=m)

    def _refusing_entry(self, text: str) -> _Intent | None:
        """A book request the entry's own pattern finds inside a refusal (不办，再打我就投诉), if any."""
        line = squash(text)
        for entry, pattern in self.entry_patterns:
            if pattern.search(line) and not self._negated_entry(text, entry):
                return _Intent("entry", text, entry, reply="refuse", strong=True)
        return None

    def _in_context(self, text: str) -> Entry | None:
        """An entry whose context wordings fit, right after an entry of its `context.after`."""
        recent = set(self.state.last_entries)
        for entry in self.book:
            if entry.context_customer and recent & set(entry.context_after):
                if self.matcher.similarity(text, entry.context_customer) >= 80:
                    return entry
        return None

    def _negated_entry(self, text: str, entry: Entry) -> bool:
        """我没说要投诉 / 不用叫领导了 / 我不是要取消: the line names the entry's request to take it back."""
        if not _acts(entry) or native_negation(entry.customer):
            return False
        own = [p for e, p in self.entry_patterns if e is entry]
        for _, follow in negated_spans(text):
            if any(p.search(squash(follow)) for p in own):
                return True
            fm = self.matcher.match(follow)
            if fm.entry is not None and (fm.entry.id == entry.id or _acts(fm.entry)):
                return True
            if self.matcher.similarity(follow, entry.customer) >= self.options.negation_score:
                return True
        return False

    def _answer(self, entry: Entry, text: str) -> list[Action]:
        n = self.state.answered.get(entry.id, 0)
        self.state.answered[entry.id] = n + 1
        if entry.action == "listen":
            # 让客户去说: invite the customer to go on; the book's answer comes with the summary.
            self.state.listening = _Listening(entry, [text])
            self.state.asked = None
            return self._add([], self._say(self.p.complaint.listen, "complaint_listen", entry.id))
        if entry.answer_mode == "sequence":
            lines = entry.answer
        else:
            lines = entry.answer[min(n, len(entry.answer) - 1):][:1] if entry.answer else ()
        return self._perform(lines, entry.action, entry.record, entry.ask, entry.branches, entry, [text],
                             "answer", entry.id, entry.language, entry.record_fields)

    def _perform(self, lines: tuple[str, ...], action: str, record: str | None, ask: str | None,
                 branches: tuple[Branch, ...], entry: Entry | None, words: list[str], reason: str,
                 entry_id: str | None, language: str | None = None,
                 record_fields: tuple[tuple[str, Any], ...] = ()) -> list[Action]:
        self.state.asked = None
        actions = self._add([], *(self._say(line, reason, entry_id, None if language == "zh" else language)
                                  for line in lines))
        if record:
            actions.append(Record(record, " / ".join(words), entry_id, self._fields(record, words, record_fields)))
        if ask:
            self._add(actions, self._say(ask, "ask", entry_id, None if language == "zh" else language))
            self.state.open = _Open(entry, branches, ask, words=list(words))
        if action == "continue" and not ask:
            return self._continue(actions, entry_id)
        if action == "offer" and not ask:
            self.state.offer_stage = "offered"
            self.state.asked = "offer"
            return self._add(actions, self._say(self.offer.brief or self.offer.ask, "offer_pitch"))
        if action == "guide_hangup":
            self._add(actions, self._say(self._closing(), "closing", entry_id))
            return self._end(actions, "guided_hangup")
        if action == "hangup":
            return self._end(actions, "answered")
        if action == "escalate":
            actions.append(Record("escalation", " / ".join(words), entry_id))
            actions.append(Escalate(entry_id or "escalate"))
            return self._end(actions, "escalated")
        return actions

    def _continue(self, actions: list[Action], entry_id: str | None) -> list[Action]:
        """转业务: back to the call's purpose (the pitch if it was never told, else the question)."""
        if self.state.offer_stage == "done":
            return actions
        if self.state.offer_stage == "opened":
            return self._pitch(actions, "continue")
        self.state.offer_stage = "offered"
        self.state.asked = "offer"
        resume = self.book.settings.get("转业务话术") or self.offer.ask
        return self._add(actions, self._say(resume, "continue"))

    def _pitch(self, actions: list[Action], reason: str = "offer_pitch") -> list[Action]:
        self.state.offer_stage = "offered"
        self.state.asked = "offer"
        return self._add(actions, self._say(self.offer.pitch, reason), self._say(self.offer.ask, reason))

    # -- the offer

    def _offer_reply(self, kind: str, text: str) -> list[Action]:
        """Consent, refusal, backchannel, yes/no or a question about the offer, by where the offer stands."""
        st = self.state
        if kind in self.topics:
            topic = self.offer.topic(kind[len("offer_"):])
            actions = self._add([], self._say(topic.say if topic else "", "offer_info", topic=kind[len("offer_"):]))
            if st.offer_stage == "confirming":
                return self._add(actions, self._say(self.offer.confirm, "offer_confirm"))
            st.offer_stage = "offered"
            st.asked = "offer"
            return self._add(actions, self._say(self.offer.ask, "offer_info"))
        if kind == "refuse" or (kind == "no" and st.asked in ("opening", "offer", "confirm")):
            if kind == "refuse" and "think" in self.replies.examples and self.replies.classify(
                    text, ["think"], self.options.reply_score).kind == "think":
                return self._undecided()  # 我再想想: not a no yet (offer.yaml's undecided close)
            return self._verdict("declined")
        if st.asked == "confirm":
            if kind in ("consent", "yes"):
                return self._verdict("accepted")
            st.reconfirms += 1
            if st.reconfirms > 1:
                return self._undecided()
            return self._add([], self._say(self.offer.reconfirm or self.offer.confirm, "offer_confirm"))
        if kind == "consent" or (kind in ("yes", "backchannel") and st.asked == "offer"):
            st.offer_stage = "confirming"
            st.asked = "confirm"
            return self._add([], self._say(self.offer.confirm, "offer_confirm"))
        if kind in ("yes", "backchannel"):
            if st.offer_stage == "opened":
                return self._pitch([])
            return self._continue([], None)
        if kind == "no":
            return self._continue([], None)
        return []

    def _undecided(self) -> list[Action]:
        self.state.offer_stage = "done"
        actions = self._add([], self._say(self.offer.undecided or self._closing(), "offer_undecided"))
        return self._end(actions, "offer_undecided")

    def _verdict(self, verdict: str) -> list[Action]:
        st = self.state
        st.verdict = verdict
        st.offer_stage = "done"
        line = self.offer.accepted if verdict == "accepted" else self.offer.declined
        actions = self._add([], self._say(line, "offer_" + verdict))
        actions.append(Record("offer", "", None, {"verdict": verdict}))
        st.offer_recorded = True
        return self._end(actions, "offer_" + verdict)

    def _off_topic(self, text: str) -> list[Action]:
        proto = self.p.off_topic
        if self.state.off_topic_closed:
            return self._end([], "off_topic")
        self.state.off_topic += 1
        n = self.state.off_topic
        self.state.asked = None
        if n <= len(proto.prompts):
            return self._add([], self._say(proto.prompts[n - 1], "off_topic"))
        if n <= len(proto.prompts) + proto.ask_times:
            return self._add([], self._say(proto.ask, "off_topic"))
        self.state.off_topic_closed = True
        return self._add([], self._say(proto.closing, "off_topic"))

    # -- records

    def _fields(self, kind: str, words: list[str], static: tuple[tuple[str, Any], ...] = ()) -> dict[str, Any]:
        """What someone acting on the record needs, taken from the customer's words."""
        fields: dict[str, Any] = dict(static)
        said = " ".join(words)
        settings = self.book.settings
        if kind == "callback":
            digits = _digits(said)
            if fields.get("own_number") or (not digits and "本机" in said):
                fields["own_number"] = True
                fields["number"] = settings.get("号码", "")
            elif digits:
                fields["number"] = digits
                fields["own_number"] = False
            date = _date(said)
            if date:
                fields["return_date"] = date
        elif kind == "cancel":
            named = _BUSINESS.search(said)
            business = named.group(1) if named else ""
            if not business or business in ("这个", "那个", "这", "的"):
                business = settings.get("业务", "")
            fields["business"] = business
            fields["number"] = _digits(said) or settings.get("号码", "")
        elif kind == "earlier_problem":
            fields["when"] = _date(said) or "未说明"
            fields["what"] = words[-1] if words else ""
            fields["replied"] = "no" if _REPLIED_NO.search(said) else ("yes" if _REPLIED_YES.search(said)
                                                                          else "unknown")
        elif kind == "contact_preference":
            channel = next((c for c in _CHANNELS if c in said.lower()), "")
            fields["channel"] = channel or (words[-1] if words else "")
        elif kind == "complaint":
            fields.setdefault("about", "service")
        return fields


# ---------------------------------------------------------------- helpers


def _only_thanks(text: str) -> bool:
    """The line says thanks and nothing more (好的谢谢你啊)."""
    return bool(_THANKS.search(text)) and len(_COURTESY.sub("", squash(_THANKS.sub("", text)))) <= 1


def _key(intent: _Intent) -> tuple[str, str | None]:
    return (intent.kind, intent.entry.id if intent.entry is not None else intent.reply)


def _rank(intent: _Intent) -> int:
    """Among clauses that are only replies, the one that says most: consent/refusal, then yes/no."""
    order = ("refuse", "consent", "no", "yes", "backchannel")
    return len(order) - order.index(intent.reply) if intent.reply in order else 0


def _acts(entry: Entry) -> bool:
    """Entries that do something on the customer's word (record, escalate, cancel): a negation matters."""
    def branch_acts(branches: tuple[Branch, ...]) -> bool:
        return any(b.record or b.action == "escalate" or branch_acts(b.branches) for b in branches)
    return (bool(entry.record) or entry.action in ("escalate", "listen")
            or (not entry.answer and any(b.record for b in entry.branches)))


_DIGIT_CHARS: Final = str.maketrans({"零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "二": "2", "两": "2",
                                      "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"})


def _digits(text: str) -> str:
    """A phone number said in the line (一三九…, 幺三七…, 139…), read digit by digit, or ''."""
    plain = unicodedata.normalize("NFKC", re.sub(r"[\s\-－]", "", text)).translate(_DIGIT_CHARS)
    found = _NUMBER.search(plain)
    return found.group(0) if found else ""


def _date(text: str) -> str:
    """The date expression the customer used (下个月十号, 三月底), as said."""
    found = _DATE.search(text) or _DATE.search(numerals_to_digits(text))
    if not found:
        return ""
    # Keep a few characters around it so 下个月十号 is not cut to 下个月.
    src = text if _DATE.search(text) else numerals_to_digits(text)
    start, end = found.span()
    tail = re.match(r"[\d一二三四五六七八九十]{0,3}[号日]?(?:左右|前后|回来|回国)?", src[end:])
    return src[start:end + (tail.end() if tail else 0)].strip()


def _gist(words: list[str], limit: int = 40) -> str:
    """The customer's complaint in their own words, shortened for the summary line."""
    text = "，".join(w.strip("，。！？,.!? ") for w in words if w.strip())
    return text if len(text) <= limit else text[:limit] + "……"


def _one_continue(actions: list[Action]) -> list[Action]:
    """Two answers that each go back to the offer say the way back once, at the end."""
    idx = [i for i, a in enumerate(actions) if isinstance(a, Say) and a.reason == "continue"]
    if not idx:
        return actions
    last_run = {idx[-1]}
    i = idx[-1] - 1
    while i >= 0 and i in idx:  # the pitch and its question are one way back
        last_run.add(i)
        i -= 1
    return [a for i, a in enumerate(actions) if i not in idx or i in last_run]

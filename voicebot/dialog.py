"""The call policy: the book's protocols as rules over plain events. No audio, no I/O.

The call runner turns audio into events (`Started`, `Heard`, `Silence`, `Ringback`) and carries out
the actions that `Policy.handle` returns (`Say`, `Record`, `Escalate`, `Hangup`). Because the policy
only sees text, levels and times, every rule of the book is tested with text events alone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Union

from .kb import Branch, Entry, KnowledgeBase
from .matcher import Match, Matcher
from .text import normalize

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


Event = Union[Started, Heard, Silence, Ringback]

# ---------------------------------------------------------------- actions


@dataclass(frozen=True)
class Say:
    """Speak a line."""

    text: str
    """The line, placeholders filled."""
    reason: str
    """Why: opening, answer, branch, no_response, off_topic, not_heard, speak_louder, noisy, dialect, …"""
    entry: str | None = None
    """The book entry it comes from, if any."""
    language: str = "zh"
    """zh or en (the foreign-caller lines need an English voice)."""


@dataclass(frozen=True)
class Record:
    """A follow-up the book asks the agent to file."""

    kind: str
    """complaint, suggestion, do_not_call, sensitive, earlier_problem, callback, cancel, no_response, …"""
    text: str
    """What the customer said (the substance of the record)."""
    entry: str | None = None
    """The entry that asked for it."""


@dataclass(frozen=True)
class Escalate:
    """Mute and hand the call to the duty manager (无声上报)."""

    reason: str
    """Why (the entry id)."""


@dataclass(frozen=True)
class Hangup:
    """End the call."""

    reason: str
    """no_response, off_topic, answered, escalated, foreign_ringback, customer_request, …"""


Action = Union[Say, Record, Escalate, Hangup]


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
    """A yes/no reply to a question the bot asked is a tiny grammar (like VoiceXML's boolean): a
    short 是/不 is trusted at lower confidence (whisper is unsure on half-second clips)."""
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
    short_reply_chars: int = 5
    """A yes/no this short with no question open is the customer's verdict on the offer."""


# ---------------------------------------------------------------- policy

_ASCII_WORD: Final = re.compile(r"[A-Za-z]{2,}")
_THANKS: Final = re.compile(r"(谢谢|多谢|感谢|谢了|thank)", re.IGNORECASE)


@dataclass
class _Open:
    """A question the bot asked back, waiting for the customer's reply."""

    entry: Entry | None
    branches: tuple[Branch, ...]
    kind: str = "entry"


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
    second_visit: bool = False
    ended: bool = False


class Policy:
    """The book's protocols. `handle(event)` returns the actions to carry out, in order."""

    def __init__(self, book: KnowledgeBase, matcher: Matcher | None = None,
                 options: PolicyOptions | None = None) -> None:
        self.book = book
        self.matcher = matcher or Matcher(book)
        self.options = options or book.options("policy", PolicyOptions)
        self.state = CallState()
        self.last_match: Match | None = None
        self.last_branch: tuple[str | None, str] | None = None
        """(entry id, 'yes'/'no'/'other'/'phrases') when the last reply answered a question back."""
        avoid = book.protocol("words_to_avoid")
        self.cap: int = int(avoid.get("cap", 3))
        replies = book.protocol("replies")
        self.yes_words: tuple[str, ...] = tuple(replies.get("yes", ()))
        self.no_words: tuple[str, ...] = tuple(replies.get("no", ()))
        self.repeat_triggers = tuple(normalize(t) for t in book.protocol("repeat").get("triggers", ()))

    # -- helpers

    @property
    def ended(self) -> bool:
        return self.state.ended

    def timeout_s(self) -> float:
        """How long the line may stay silent before a `Silence` event is due."""
        return self.options.off_topic_wait_s if self.state.off_topic_closed else self.options.no_input_timeout_s

    def _say(self, text: str, reason: str, entry: str | None = None, language: str = "zh") -> Say:
        line = self.book.fill(text, self.state.word_counts, self.cap) if language == "zh" else text
        line = self._cap_filler(line)
        return Say(line, reason, entry, language)

    def _cap_filler(self, line: str) -> str:
        """A filler 对 (随口对) at the start of a line counts against the cap like 先生/女士."""
        match = re.match(r"^对[，,、]", line)
        if not match:
            return line
        count = self.state.word_counts.get("对", 0)
        if count >= self.cap:
            return line[match.end():]
        self.state.word_counts["对"] = count + 1
        return line

    def _line(self, name: str, index: int = 0) -> str:
        value = self.book.protocol(name).get("say", "")
        if isinstance(value, list):
            return value[min(index, len(value) - 1)] if value else ""
        return str(value)

    def _closing(self) -> str:
        if self.state.second_visit:
            return str(self.book.protocol("second_visit").get("closing", self._line("closing")))
        return self._line("closing")

    def _end(self, actions: list[Action], reason: str) -> list[Action]:
        self.state.ended = True
        self.state.open = None
        actions.append(Hangup(reason))
        return actions

    def _remember(self, actions: list[Action]) -> list[Action]:
        said = [a for a in actions if isinstance(a, Say)]
        if said:
            self.state.last_said = said
        return actions

    # -- entry point

    def handle(self, event: Event) -> list[Action]:
        if self.state.ended:
            return []
        if isinstance(event, Started):
            return self._remember(self._start(event))
        if isinstance(event, Ringback):
            return self._ringback(event)
        if isinstance(event, Silence):
            return self._remember(self._silence(event))
        return self._remember(self._heard(event))

    def _start(self, event: Started) -> list[Action]:
        self.state.second_visit = event.second_visit
        if event.second_visit:
            sv = self.book.protocol("second_visit")
            self.state.open = _Open(None, (), kind="second_visit")
            return [self._say(sv.get("identity", ""), "second_visit"),
                    self._say(sv.get("apology_confirm", ""), "second_visit")]
        return [self._say(line, "opening") for line in self.book.protocol("opening").get("say", [])]

    def _ringback(self, event: Ringback) -> list[Action]:
        if event.kind != "foreign":
            return []
        return self._end([Record("abroad_ringback", "接通前听到国外回铃音：客户在国外，直接挂断")], "foreign_ringback")

    def _silence(self, event: Silence) -> list[Action]:
        if self.state.off_topic_closed:
            return self._end([], "off_topic")
        proto = self.book.protocol("no_response")
        times = int(proto.get("times", 2))
        if self.state.no_input < times:
            self.state.no_input += 1
            return [self._say(proto.get("prompt", ""), "no_response")]
        actions: list[Action] = [self._say(proto.get("closing", ""), "no_response"),
                                 Record(str(proto.get("record", "no_response")), "客户无回应（不记为拒绝回访）")]
        return self._end(actions, "no_response")

    # -- the customer spoke

    def _heard(self, event: Heard) -> list[Action]:
        self.last_match = None
        self.last_branch = None
        self.state.no_input = 0  # speech at any point resets the no-response count
        text = event.text.strip()
        if re.fullmatch(r"[嗯恩噢哦]+[。，！.,!]*", text):
            text = "是"  # a bare 嗯 is assent; normalisation would drop it as a filler
        opts = self.options
        if self._is_english(event):
            return self._answer(self.book.get("f_foreign_caller"), event.text) \
                if "f_foreign_caller" in self.book.ids() else []
        if (event.language and event.language not in ("zh", "en") and event.language_prob is not None
                and event.language_prob >= opts.foreign_language_prob):
            return [self._say(self._line("dialect"), "dialect")]
        heard_well = bool(normalize(text)) and event.confidence >= opts.min_confidence
        if (not heard_well and self.state.open is not None and event.confidence >= opts.reply_min_confidence
                and len(normalize(text)) <= opts.short_reply_chars and self._classify(text) is not None):
            heard_well = True
        poor_line = ((event.level_dbfs is not None and event.level_dbfs < opts.quiet_dbfs)
                     or (event.snr_db is not None and event.snr_db < opts.noisy_snr_db))
        if poor_line and event.confidence < opts.poor_line_confidence:
            heard_well = False
        if event.level_dbfs is not None and event.level_dbfs < opts.very_quiet_dbfs:
            heard_well = False
        if not heard_well:
            return self._not_heard(event)
        norm = normalize(text)
        if any(trigger and trigger in norm for trigger in self.repeat_triggers) and len(norm) <= 8:
            if self.state.last_said:
                return [Say(s.text, "repeat", s.entry, s.language) for s in self.state.last_said]
        if self.state.open is not None:
            actions = self._reply_to_open(text)
            if actions is not None:
                return actions
        return self._match_and_answer(text)

    def _is_english(self, event: Heard) -> bool:
        if event.language == "en" and (event.language_prob or 0) >= self.options.foreign_language_prob:
            return True
        letters = len(re.findall(r"[A-Za-z]", event.text))
        han = len(re.findall(r"[\u4e00-\u9fff]", event.text))
        return bool(_ASCII_WORD.search(event.text)) and letters > 3 * max(han, 1)

    def _not_heard(self, event: Heard) -> list[Action]:
        opts = self.options
        if event.level_dbfs is not None and event.level_dbfs < opts.quiet_dbfs:
            self.state.quiet += 1
            return [self._say(self._line("speak_louder", self.state.quiet - 1), "speak_louder")]
        if event.snr_db is not None and event.snr_db < opts.noisy_snr_db:
            return [self._say(self._line("noisy"), "noisy")]
        self.state.not_heard += 1
        return [self._say(self._line("not_heard"), "not_heard")]

    def _classify(self, text: str) -> str | None:
        """yes / no / None for a reply to a question back (protocols.yaml `replies`).

        Yes-words that contain a negation (没问题, 不错) are looked at first, then negations, then
        the other yes-words: 不是 and 没有 are no, 是的 is yes.
        """
        norm = normalize(text)
        neg = [n for n in (normalize(w) for w in self.no_words) if n]
        for w in self.yes_words:
            w = normalize(w)
            if w and any(n in w for n in neg) and w in norm:
                return "yes"
        if any(n in norm for n in neg):
            return "no"
        if any(w in norm for w in (normalize(x) for x in self.yes_words) if w):
            return "yes"
        return None

    def _reply_to_open(self, text: str) -> list[Action] | None:
        pending = self.state.open
        assert pending is not None
        norm = normalize(text)
        # A long reply that is clearly another question of the book is answered as such.
        if len(norm) > self.options.branch_max_chars:
            m = self.matcher.match(text)
            if m.entry is not None and (pending.entry is None or m.entry.id != pending.entry.id):
                self.state.open = None
                return None
        kind = self._classify(text)
        if pending.kind == "second_visit":
            self.state.open = None
            sv = self.book.protocol("second_visit")
            if kind == "no":
                return self._end([self._say("不好意思，打扰您了。" + self._closing(), "second_visit")], "wrong_number")
            return [self._say(sv.get("purpose", ""), "second_visit")]
        chosen = None
        for branch in pending.branches:
            if isinstance(branch.when, tuple):
                if self.matcher.similarity(text, branch.when) >= self.options.branch_phrase_score:
                    chosen = branch
                    break
            elif branch.when == kind:
                chosen = branch
                break
        if chosen is None:
            chosen = next((b for b in pending.branches if b.when == "other"), None)
            if chosen is not None and len(norm) > self.options.branch_max_chars:
                m = self.matcher.match(text)
                if m.entry is not None:
                    chosen = None
        if chosen is None:
            self.state.open = None
            if kind is not None and len(norm) <= self.options.short_reply_chars:
                # A plain yes/no the book gives no branch for (calming worked, 好吧): back to the offer.
                resume = self.book.settings.get("转业务话术")
                entry_id = pending.entry.id if pending.entry else None
                return [self._say(resume, "continue", entry_id)] if resume else []
            return None
        self.state.open = None
        entry_id = pending.entry.id if pending.entry else None
        self.last_branch = (entry_id, chosen.when if isinstance(chosen.when, str) else "phrases")
        return self._perform(chosen.say, chosen.action, chosen.record, chosen.ask, chosen.branches,
                             pending.entry, text, "branch", entry_id)

    def _match_and_answer(self, text: str) -> list[Action]:
        prefix: list[Action] = []
        core = text
        if _THANKS.search(text) and "s_thanks" in self.book.ids():
            rest = _THANKS.sub("", text)
            if len(normalize(rest)) >= 4:
                m_rest = self.matcher.match(rest)
                if m_rest.entry is not None and m_rest.entry.id != "s_thanks":
                    # The book never leaves thanks unanswered: 不客气, then the answer.
                    prefix = [self._say(str(self.book.protocols.get("thanks_prefix", "不客气，")), "thanks",
                                        "s_thanks")]
                    core = rest
        m = self.matcher.match(core)
        self.last_match = m
        if m.entry is None:
            verdict = self._verdict(text)
            if verdict is not None:
                return self._offer_verdict(verdict)
            return self._off_topic(text)
        return prefix + self._answer(m.entry, text)

    def _answer(self, entry: Entry, text: str) -> list[Action]:
        n = self.state.answered.get(entry.id, 0)
        self.state.answered[entry.id] = n + 1
        if entry.answer_mode == "sequence":
            lines = entry.answer
        else:
            lines = entry.answer[min(n, len(entry.answer) - 1):][:1] if entry.answer else ()
        return self._perform(lines, entry.action, entry.record, entry.ask, entry.branches, entry, text,
                             "answer", entry.id, entry.language)

    def _perform(self, lines: tuple[str, ...], action: str, record: str | None, ask: str | None,
                 branches: tuple[Branch, ...], entry: Entry | None, text: str, reason: str,
                 entry_id: str | None, language: str = "zh") -> list[Action]:
        actions: list[Action] = [self._say(line, reason, entry_id, language) for line in lines]
        if record:
            actions.append(Record(record, text, entry_id))
        if ask:
            actions.append(self._say(ask, "ask", entry_id, language))
            self.state.open = _Open(entry, branches)
        if action == "continue" and not ask:
            resume = self.book.settings.get("转业务话术")
            if resume:
                actions.append(self._say(resume, "continue", entry_id))
        elif action == "guide_hangup":
            actions.append(self._say(self._closing(), "closing", entry_id))
            return self._end(actions, "guided_hangup")
        elif action == "hangup":
            return self._end(actions, "answered")
        elif action == "escalate":
            actions.append(Record("escalation", text, entry_id))
            actions.append(Escalate(entry_id or "escalate"))
            return self._end(actions, "escalated")
        return actions

    def _verdict(self, text: str) -> str | None:
        """A short reply that opens with a yes/no word (好的可以, 不需要): the customer's verdict."""
        norm = normalize(text)
        if not norm or len(norm) > self.options.short_reply_chars:
            return None
        words = [w for w in (normalize(x) for x in self.yes_words + self.no_words) if w]
        if not any(norm.startswith(w) for w in words):
            return None
        return self._classify(text)

    def _offer_verdict(self, verdict: str) -> list[Action]:
        """好/可以 to the offer: open it and close; 不需要: the book's polite closing."""
        name = "offer_accepted" if verdict == "yes" else "offer_declined"
        line = self._line(name)
        if not line:
            return []
        actions: list[Action] = [self._say(line, name)]
        return self._end(actions, name)

    def _off_topic(self, text: str) -> list[Action]:
        proto = self.book.protocol("off_topic")
        prompts: list[str] = list(proto.get("prompts", []))
        asks = int(proto.get("ask_times", 3))
        if self.state.off_topic_closed:
            return self._end([], "off_topic")
        self.state.off_topic += 1
        n = self.state.off_topic
        if n <= len(prompts):
            return [self._say(prompts[n - 1], "off_topic")]
        if n <= len(prompts) + asks:
            return [self._say(str(proto.get("ask", "")), "off_topic")]
        self.state.off_topic_closed = True
        return [self._say(str(proto.get("closing", "")), "off_topic")]

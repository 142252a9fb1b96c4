"""Scoring a recorded call: each customer challenge, the agent's answer to it, and the book's protocols.

Call centres record the agent and the customer on separate channels. A call is scored as a trainer
would mark it:

1. **Timeline.** Each channel goes through the speech detector; speech of one side separated by less
   than `TURN_GAP_S` (and by no speech of the other side) is one turn, transcribed once (whisper).
   Our own call records (`calls/<time>/`) need no transcription: their events are the timeline.
2. **Exchanges.** Every customer turn the matcher finds in the book is a challenge; the agent's
   answer to it is the agent's speech after it until the customer's next turn, scored by the drill's
   scorer (`drill.score_answer`: key points, wording, the book's rules).
3. **Call-wide rules.** The words to avoid (protocols.yaml `words_to_avoid`: 先生/女士, 咱/咱们, a
   filler 对) are counted over the whole call against their cap; the protocols are checked where
   the call met them: no response (the book's line asked `times` times, then the closing), an
   off-topic question (the working-hours line), a complaint about the agent (never sent to 10086),
   thanks (always answered).

    call score = mean of the exchange scores × RULE_FACTOR ^ call-wide rules broken

RULE_FACTOR is the drill's (one tier per broken rule). A complaint sent to 10086 is already a broken
rule of its exchange, so its protocol check reports it without counting it twice.
Nothing here prints: the CLI (`score_cli`) shows `format_report`, `to_dict` and the HTML page.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Iterable, Iterator, Literal, Sequence

import numpy as np

from .audio import SAMPLE_RATE, audio_info, resample
from .dialog import PolicyOptions
from .drill import RULE_FACTOR, Score, call_rules, canon, drillable, score_answer, standard_lines, tier_of
from .errors import AudioError, VoicebotError
from .kb import KnowledgeBase
from .matcher import Matcher
from .record import EVENTS_FILE, load_events
from .replies import KINDS as REPLY_KINDS, ReplyClassifier
from .rules import Violation
from .text import pinyin_syllables, to_simplified
from .vad import Segment, VadOptions, segments

Side = Literal["agent", "customer"]
AGENT: Final = "agent"
CUSTOMER: Final = "customer"
CHANNELS: Final = ("left", "right")

TURN_GAP_S: Final = 2.0
"""Speech of one side separated by less silence than this is one turn. The drill calls a pause over
2 s a long pause (the customer hears dead air); shorter ones are breaths between clauses, and the
no-response protocol's repeats are ≥ 4 s apart, so they stay separate turns."""
WINDOW_S: Final = 28.0
"""Longest audio given to the recogniser at once: whisper hears 30 s at a time."""
PAD_S: Final = 0.2
"""Audio kept around each turn's speech for the recogniser (first consonant, last syllable)."""
PROTOCOL_SAID: Final = 70.0
"""Similarity (the matcher's, 0–100) from which an agent turn counts as the protocol's line. On the
three test calls (Kokoro heard back by whisper) the book's lines score 92–100 against their own
protocol line and every other agent line at most 32 against any of them."""
SILENCE_SLACK_S: Final = 0.3
"""The speech detector ends a turn at its last voiced frame, trimming the fading tail and the
recording's lead-in: a gap this much shorter than the no-input timeout still counts as the timeout."""
SAME_AUDIO_TOLERANCE: Final = 1e-3
"""Largest sample difference between two channels that still counts as the same audio (a mono
recording saved as two channels)."""
THANKS_ENTRY: Final = "s_thanks"
"""服务用语2 (客户道谢): its answer lines (不客气, 没关系) are the replies that count as thanks answered."""
_THANKS_WORDS: Final = ("谢谢", "多谢", "感谢", "谢了")
_COMPLAINT_WORD: Final = "投诉"
COMPLAINT_RULE: Final = "complaint_to_10086"
COMPLAINT_RULES: Final = (COMPLAINT_RULE, "complaint_sent_to_10086")
"""rules.yaml's rules for a complaint sent to 10086 (问题28): the complaint protocol reads them from the exchanges."""


# ---------------------------------------------------------------- results

@dataclass(frozen=True)
class Turn:
    """One side speaking, from the first word to the last before the other side (or a long pause)."""

    side: Side
    """agent or customer."""
    start: float
    """Seconds from the start of the call."""
    end: float
    """Seconds from the start of the call."""
    text: str
    """What was said (the transcript; the record's text for our own calls)."""
    entry_id: str | None = None
    """Customer turns: the book entry it asks, None when none."""
    match: str | None = None
    """Customer turns: the matcher's verdict (matched, no_match, out_of_scope, ambiguous, empty)."""
    match_score: float | None = None
    """Customer turns: the matcher's score."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"side": self.side, "start": round(self.start, 2), "end": round(self.end, 2),
                               "text": self.text}
        if self.side == CUSTOMER:
            out |= {"entry": self.entry_id, "match": self.match,
                    "match_score": None if self.match_score is None else round(self.match_score, 1)}
        return out


@dataclass(frozen=True)
class Exchange:
    """A customer challenge from the book and the agent's answer to it, scored."""

    challenge: Turn
    """The customer's turn."""
    entry_id: str
    """The book entry it asks."""
    source: str
    """Where the book has it (问题24, 服务用语2 …)."""
    answer: str
    """The agent's speech after it until the customer's next turn ('' when the agent said nothing)."""
    answer_start: float | None
    """When the agent started answering (None: no answer)."""
    score: Score
    """The drill's scorecard of the answer."""
    book_answer: str
    """The book's answer, placeholders filled."""

    def to_dict(self) -> dict[str, Any]:
        return {"t": round(self.challenge.start, 2), "challenge": self.challenge.text, "entry": self.entry_id,
                "source": self.source, "answer": self.answer,
                "answer_start": None if self.answer_start is None else round(self.answer_start, 2),
                "score": round(self.score.total, 1), "tier": self.score.tier, "made": list(self.score.made),
                "missed": list(self.score.missed),
                "violations": [{"rule": v.rule, "message": v.message} for v in self.score.violations],
                "book_answer": self.book_answer}


@dataclass(frozen=True)
class WordCount:
    """One group of words to avoid (特殊问题3), counted over everything the agent said."""

    words: tuple[str, ...]
    """The group (咱 and 咱们 are counted together)."""
    count: int
    """Times the agent said them."""
    cap: int
    """Most times a call may have them (一通录音只能出现二、三次)."""

    @property
    def over(self) -> bool:
        return self.count > self.cap

    @property
    def label(self) -> str:
        return "/".join(self.words)

    def to_dict(self) -> dict[str, Any]:
        return {"words": list(self.words), "count": self.count, "cap": self.cap, "over": self.over}


@dataclass(frozen=True)
class ProtocolCheck:
    """One protocol of the book, checked where the call met it."""

    name: str
    """no_response, off_topic, complaint_to_10086, thanks."""
    applies: bool
    """The call met the situation (the customer fell silent, asked something off-topic, …)."""
    ok: bool
    """Handled as the book says (True when it does not apply)."""
    detail: str
    """One line: what happened, or what the book wanted."""
    t: float | None = None
    """Where in the call (seconds), the first time it was not handled or else the first time it applied."""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "applies": self.applies, "ok": self.ok, "detail": self.detail,
                "t": None if self.t is None else round(self.t, 2)}


@dataclass(frozen=True)
class BrokenRule:
    """A rule of the book the agent broke: in one answer (the drill's rules) or over the whole call."""

    rule: str
    """rules.yaml's id (promise_reply, complaint_to_10086, work_id_missing …), a cap of 特殊问题3
    over the call (overuse_先生 …) or a protocol (no_response_unhandled, off_topic_unhandled,
    thanks_unanswered)."""
    message: str
    """One line naming the rule and where the book says it."""
    t: float | None = None
    """Where in the call, when it belongs to one moment."""
    entry_id: str | None = None
    """The challenge answered, for the rules broken in an answer."""

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "message": self.message, "t": None if self.t is None else round(self.t, 2),
                "entry": self.entry_id}


PROTOCOL_RULES: Final = {"no_response": "no_response_unhandled", "off_topic": "off_topic_unhandled",
                         "thanks": "thanks_unanswered"}
"""Protocol checks that count as a call-wide broken rule when failed (the complaint check does not:
its exchange already lost the points)."""


@dataclass(frozen=True)
class CallScore:
    """The scorecard of one call."""

    source: str
    """The WAV file or the call folder."""
    kind: Literal["recording", "record"]
    """recording: a two-channel WAV, transcribed; record: one of our call records, from its events."""
    agent_channel: str | None
    """left or right (recordings only)."""
    duration_s: float
    """Length of the call."""
    turns: tuple[Turn, ...]
    """The timeline."""
    exchanges: tuple[Exchange, ...]
    """Every challenge from the book and its answer, in call order."""
    words: tuple[WordCount, ...]
    """The words to avoid, counted over the call."""
    protocols: tuple[ProtocolCheck, ...]
    """Each protocol, checked where the call met it."""
    call_rules: tuple[BrokenRule, ...] = field(default=())
    """Call-wide rules broken (words over their cap, protocols not handled)."""

    @property
    def answers_mean(self) -> float | None:
        """Mean score of the answers (None: no challenge from the book in the call)."""
        return float(np.mean([x.score.total for x in self.exchanges])) if self.exchanges else None

    @property
    def total(self) -> float | None:
        """0–100: the answers' mean × RULE_FACTOR per call-wide rule broken; None without challenges."""
        mean = self.answers_mean
        return None if mean is None else float(mean * RULE_FACTOR ** len(self.call_rules))

    @property
    def tier(self) -> str | None:
        return None if self.total is None else tier_of(self.total)

    @property
    def broken(self) -> tuple[BrokenRule, ...]:
        """Every rule broken: each answer's, then the call-wide ones."""
        per_answer = tuple(BrokenRule(v.rule, v.message, x.challenge.start, x.entry_id)
                           for x in self.exchanges for v in x.score.violations)
        return per_answer + self.call_rules

    @property
    def broken_rules(self) -> tuple[str, ...]:
        """The names of the rules broken, each once, in call order."""
        return tuple(dict.fromkeys(r.rule for r in self.broken))

    def to_dict(self) -> dict[str, Any]:
        total = self.total
        return {"source": self.source, "kind": self.kind, "agent_channel": self.agent_channel,
                "duration_s": round(self.duration_s, 2),
                "total": None if total is None else round(total, 1), "tier": self.tier,
                "answers_mean": None if self.answers_mean is None else round(self.answers_mean, 1),
                "rule_factor": RULE_FACTOR, "broken_rules": list(self.broken_rules),
                "broken": [r.to_dict() for r in self.broken],
                "exchanges": [x.to_dict() for x in self.exchanges],
                "words_to_avoid": [w.to_dict() for w in self.words],
                "protocols": [p.to_dict() for p in self.protocols],
                "turns": [t.to_dict() for t in self.turns]}


# ---------------------------------------------------------------- a two-channel recording

_FOLDER_HINT: Final = "for one of our call records give its folder (`voicebot score calls/<time>/`)"


def check_two_channels(path: str | Path) -> None:
    """AudioError (one line, with the fix) unless the file is audio with exactly two channels:
    checked before the recogniser loads."""
    p = Path(path)
    info = audio_info(p)
    if info.channels == 1:
        raise AudioError(f"{p}: a mono recording: `voicebot score` needs the agent and the customer on separate "
                         f"channels (export the call centre's two-channel recording); {_FOLDER_HINT}")
    if info.channels > 2:
        raise AudioError(f"{p}: {info.channels} channels: give a two-channel recording (agent on one side, "
                         f"customer on the other), e.g. `sox {p.name} two.wav remix 1 2`")


def read_channels(path: str | Path, agent_channel: str) -> tuple[np.ndarray, np.ndarray]:
    """(agent, customer) at 16 kHz float32 from a two-channel recording.

    Raises AudioError (one line, with the fix) for a file that is not usable audio, a mono file, a
    file with more than two channels, and two channels holding the same audio.
    """
    import soundfile as sf
    if agent_channel not in CHANNELS:
        raise VoicebotError(f"--agent-channel {agent_channel!r}: give left or right (the channel the agent is on)")
    p = Path(path)
    check_two_channels(p)
    try:
        data, rate = sf.read(str(p), dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as err:
        raise AudioError(f"{p}: corrupt or truncated audio ({' '.join(str(err).split())}): "
                         "copy or export the file again") from err
    if data.shape[0] == 0 or not np.all(np.isfinite(data)):
        raise AudioError(f"{p}: no usable samples (empty, NaN or infinite): export the recording again as 16-bit PCM")
    if float(np.max(np.abs(data[:, 0] - data[:, 1]))) <= SAME_AUDIO_TOLERANCE:
        raise AudioError(f"{p}: both channels hold the same audio (a mono recording saved as stereo): export the "
                         f"call centre's recording with the agent and the customer on separate channels; {_FOLDER_HINT}")
    left, right = (np.ascontiguousarray(resample(data[:, i], int(rate), SAMPLE_RATE)) for i in (0, 1))
    return (left, right) if agent_channel == "left" else (right, left)


def simplified(text: str) -> str:
    """Simplified characters from whisper's traditional ones (`text.to_simplified` reads Taiwan's
    usage: 別著急 → 别着急)."""
    return to_simplified(text)


def _groups(found: dict[str, list[Segment]]) -> list[tuple[str, float, float]]:
    """(side, start, end) of each turn: same-side segments joined across short pauses, never across
    the other side's speech and never beyond WINDOW_S."""
    marks = sorted((s.start, s.end, side) for side, segs in found.items() for s in segs)
    out: list[list[Any]] = []
    for start, end, side in marks:
        last = out[-1] if out else None
        if (last is not None and last[0] == side and start - last[2] < TURN_GAP_S
                and end - last[1] <= WINDOW_S):
            last[2] = max(last[2], end)
        else:
            out.append([side, start, end])
    return [(side, start, end) for side, start, end in out]


def transcribe_turns(agent: np.ndarray, customer: np.ndarray, recognizer: Any,
                     vad_options: VadOptions | None = None) -> list[Turn]:
    """The timeline of a two-channel call: each turn's speech found by the speech detector on its
    own channel and transcribed once. Raises AudioError when a channel holds no speech."""
    audio = {AGENT: agent, CUSTOMER: customer}
    found = {side: segments(samples, vad_options) for side, samples in audio.items()}
    for side, segs in found.items():
        if not segs:
            raise AudioError(f"the {side}'s channel holds no speech: check --agent-channel, or export the "
                             "recording with both sides (a channel was lost or muted)")
    turns: list[Turn] = []
    for side, start, end in _groups(found):
        samples = audio[side]
        a = max(0, int((start - PAD_S) * SAMPLE_RATE))
        b = min(samples.size, int((end + PAD_S) * SAMPLE_RATE))
        text = simplified(recognizer.transcribe(np.asarray(samples[a:b], dtype=np.float32)).text).strip()
        if text:
            turns.append(Turn(side, start, end, text))  # type: ignore[arg-type]
    return turns


def label_turns(turns: Iterable[Turn], book: KnowledgeBase, matcher: Matcher) -> list[Turn]:
    """Customer turns with the book entry the matcher finds (agent turns unchanged). As in the call's
    policy, a line that is plainly a reply (好的, 嗯, 不需要: replies.yaml, at the policy's strong-reply
    score) is no challenge, unless it thanks (好的谢谢 is 服务用语2)."""
    replies = ReplyClassifier(book.replies, book.reply_patterns)
    strong = book.options("policy", PolicyOptions).strong_reply_score
    out = []
    for turn in turns:
        if turn.side == CUSTOMER:
            reply = None if _is_thanks(turn) else replies.classify(turn.text, REPLY_KINDS, strong).kind
            if reply is not None:
                turn = replace(turn, entry_id=None, match=f"reply:{reply}", match_score=None)
            else:
                m = matcher.match(turn.text)
                turn = replace(turn, entry_id=m.entry.id if m.entry else None, match=m.reason, match_score=m.score)
        out.append(turn)
    return out


# ---------------------------------------------------------------- one of our call records

def turns_from_events(events: Sequence[dict[str, Any]]) -> list[Turn]:
    """The timeline of one of our calls: `heard` events are the customer, `say` events the bot (the
    agent); the entry is the one the bot answered, as recorded."""
    turns: list[Turn] = []
    for ev in events:
        kind, t = ev.get("type"), _num(ev.get("t"))
        text = ev.get("text") if isinstance(ev.get("text"), str) else ""
        if t is None or not text:
            continue
        if kind == "say":
            duration = _num(ev.get("duration_s")) or 0.0
            turns.append(Turn(AGENT, t, t + duration, text))
        elif kind == "heard":
            entries = ev.get("entries") if isinstance(ev.get("entries"), list) else []
            entry = ev.get("entry") if isinstance(ev.get("entry"), str) else (entries[0] if entries else None)
            start = _num(ev.get("speech_start"))
            turns.append(Turn(CUSTOMER, t if start is None else start, _num(ev.get("speech_end")) or t, text,
                              entry_id=entry, match=ev.get("match") if isinstance(ev.get("match"), str) else None,
                              match_score=_num(ev.get("score"))))
    return _merge_agent_lines(turns)


def _merge_agent_lines(turns: list[Turn]) -> list[Turn]:
    """The bot's lines said one after the other (answer, then the next step) as one turn, like the
    agent's speech in a recording; a pause of TURN_GAP_S or more (no-response repeats) keeps them apart."""
    out: list[Turn] = []
    for turn in turns:
        last = out[-1] if out else None
        if last is not None and last.side == AGENT == turn.side and turn.start - last.end < TURN_GAP_S:
            out[-1] = replace(last, end=max(last.end, turn.end), text=last.text + turn.text)
        else:
            out.append(turn)
    return out


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if np.isfinite(value) else None


# ---------------------------------------------------------------- scoring the timeline

def _syllables(text: str) -> list[str]:
    return pinyin_syllables(canon(text))


def _contains(hay: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return bool(n) and any(hay[i:i + n] == needle for i in range(len(hay) - n + 1))


def _answer_after(turns: Sequence[Turn], index: int, silence_s: float = float("inf")) -> list[Turn]:
    """The agent's turns after turns[index] until the customer's next turn, or until a silence of
    `silence_s` (the customer fell silent: what follows is the no-response protocol, not the answer)."""
    out: list[Turn] = []
    for turn in turns[index + 1:]:
        if turn.side == CUSTOMER or (out and turn.start - out[-1].end >= silence_s):
            break
        out.append(turn)
    return out


def _silence_s(book: KnowledgeBase) -> float:
    """A pause after the agent that counts as the customer's silence: the no-input timeout."""
    return book.options("policy", PolicyOptions).no_input_timeout_s - SILENCE_SLACK_S


def exchanges(turns: Sequence[Turn], book: KnowledgeBase, matcher: Matcher) -> list[Exchange]:
    """Every customer turn that asks a book entry, with the agent's answer scored by the drill."""
    out = []
    silence = _silence_s(book)
    for i, turn in enumerate(turns):
        if turn.side != CUSTOMER or not turn.entry_id:
            continue
        try:
            entry = book.get(turn.entry_id)
        except KeyError:
            continue                      # a record made with another book
        if not drillable(entry):
            continue
        answer = _answer_after(turns, i, silence)
        text = "".join(t.text for t in answer)
        out.append(Exchange(turn, entry.id, entry.source or entry.id, text,
                            answer[0].start if answer else None, score_answer(entry, text, book, matcher),
                            "".join(standard_lines(entry, book))))
    return out


def count_words(texts: Iterable[str], book: KnowledgeBase) -> tuple[tuple[WordCount, ...], tuple[Violation, ...]]:
    """Each group of protocols.yaml `words_to_avoid` counted over the agent's lines, and the
    violations of its cap: the drill's call-wide rules (`drill.call_rules`, one rule system)."""
    avoid = book.protocols.words_to_avoid
    over, counts = call_rules([to_simplified(t) for t in texts], book)
    words = tuple(WordCount(tuple(g), counts.get(g[0], 0), avoid.cap) for g in avoid.groups if g)
    return words, over


def _said(matcher: Matcher, text: str, lines: Sequence[str]) -> bool:
    return bool(lines) and matcher.similarity(text, lines) >= PROTOCOL_SAID


def check_no_response(turns: Sequence[Turn], book: KnowledgeBase, matcher: Matcher) -> ProtocolCheck:
    """特殊问题5: when the customer stays silent past the no-input timeout, the agent asks the book's
    line (电话已接通，请问您能听到我的声音吗？); if the silence lasts, `times` times, then the closing."""
    proto = book.protocols.no_response
    timeout = _silence_s(book)
    prompt, closing = [book.fill(proto.prompt)], [book.fill(proto.closing)]
    episodes: list[list[Turn]] = []   # agent turns after each silence, until the customer speaks
    for i in range(1, len(turns)):
        before, turn = turns[i - 1], turns[i]
        if before.side == AGENT == turn.side and turn.start - before.end >= timeout:
            if episodes and episodes[-1][-1] is before:
                episodes[-1].append(turn)
            else:
                episodes.append([turn])
        elif episodes and episodes[-1][-1] is before and turn.side == AGENT:
            episodes[-1].append(turn)
    if not episodes:
        return ProtocolCheck("no_response", False, True, "the customer never fell silent past the timeout")
    last_turn = turns[-1]
    for episode in episodes:
        asked = sum(_said(matcher, t.text, prompt) for t in episode)
        to_the_end = episode[-1] is last_turn
        first_asked = _said(matcher, episode[0].text, prompt)
        if not first_asked:
            return ProtocolCheck("no_response", True, False, f"the customer was silent and the agent did not ask "
                                 f"「{prompt[0]}」 (特殊问题5)", episode[0].start)
        if to_the_end and (asked < proto.times or not _said(matcher, episode[-1].text, closing)):
            return ProtocolCheck("no_response", True, False, f"the customer stayed silent: the book asks "
                                 f"「{prompt[0]}」 {proto.times} times, then closes with 「{closing[0]}」 "
                                 f"(asked {asked}×{'' if _said(matcher, episode[-1].text, closing) else ', no closing'})",
                                 episode[0].start)
    n = len(episodes)
    return ProtocolCheck("no_response", True, True, f"customer silent {n}×: the book's line asked"
                         + (f", {proto.times}× then the closing" if episodes[-1][-1] is last_turn else ""),
                         episodes[0][0].start)


def check_off_topic(turns: Sequence[Turn], book: KnowledgeBase, matcher: Matcher) -> ProtocolCheck:
    """特殊问题6: an off-topic question is answered with the working-hours line (or, later, 超出了我们的
    受理范围), then back to the call's purpose; the purpose itself may be worded freely."""
    proto = book.protocols.off_topic
    lines = [book.fill(line.split("{来电目的}")[0]) for line in (*proto.prompts, proto.ask, proto.closing) if line]
    first: float | None = None
    for i, turn in enumerate(turns):
        if turn.side != CUSTOMER or turn.match != "out_of_scope":
            continue
        first = turn.start if first is None else first
        answer = "".join(t.text for t in _answer_after(turns, i, _silence_s(book)))
        if not _said(matcher, answer, lines):
            return ProtocolCheck("off_topic", True, False, f"off-topic 「{turn.text}」 answered with 「{answer or '…'}」: "
                                 f"the book says 「{lines[0]}」 and goes back to the call's purpose (特殊问题6)",
                                 turn.start)
    if first is None:
        return ProtocolCheck("off_topic", False, True, "no off-topic question")
    return ProtocolCheck("off_topic", True, True, "off-topic questions answered with the book's line", first)


def _is_thanks(turn: Turn) -> bool:
    return turn.entry_id == THANKS_ENTRY or any(w in turn.text for w in _THANKS_WORDS)


def check_thanks(turns: Sequence[Turn], book: KnowledgeBase) -> ProtocolCheck:
    """服务用语2: the customer's thanks is always answered (不客气 / 没关系), 不允许出现对客户的道谢无回应现象."""
    try:
        replies = [book.fill(line) for line in book.get(THANKS_ENTRY).answer]
    except KeyError:
        return ProtocolCheck("thanks", False, True, f"the book has no {THANKS_ENTRY} entry")
    wanted = [_syllables(r) for r in replies]
    first: float | None = None
    for i, turn in enumerate(turns):
        if turn.side != CUSTOMER or not _is_thanks(turn):
            continue
        first = turn.start if first is None else first
        answer = "".join(t.text for t in _answer_after(turns, i, _silence_s(book)))
        heard = _syllables(answer)
        if not any(_contains(heard, w) for w in wanted):
            return ProtocolCheck("thanks", True, False, f"「{turn.text}」 not answered (「{answer or '…'}」): say "
                                 f"{' or '.join('「' + r.rstrip('。') + '」' for r in replies)} (服务用语2)", turn.start)
    if first is None:
        return ProtocolCheck("thanks", False, True, "the customer did not thank")
    return ProtocolCheck("thanks", True, True, "thanks answered", first)


def check_complaint(turns: Sequence[Turn], found: Sequence[Exchange]) -> ProtocolCheck:
    """问题28: a complaint is never sent to 10086 (the drill's rule on each answer)."""
    sent = [x for x in found if any(v.rule in COMPLAINT_RULES for v in x.score.violations)]
    complained = [t for t in turns if t.side == CUSTOMER and _COMPLAINT_WORD in t.text]
    if sent:
        x = sent[0]
        return ProtocolCheck(COMPLAINT_RULE, True, False, f"complaint 「{x.challenge.text}」 sent to 10086: "
                             f"「{x.answer}」 (问题28: 安抚, 记录反馈)", x.challenge.start)
    if not complained:
        return ProtocolCheck(COMPLAINT_RULE, False, True, "no complaint in the call")
    return ProtocolCheck(COMPLAINT_RULE, True, True, "complaints kept and recorded, not sent to 10086",
                         complained[0].start)


def score_turns(turns: Sequence[Turn], book: KnowledgeBase, matcher: Matcher, source: str,
                kind: Literal["recording", "record"] = "recording", agent_channel: str | None = None,
                duration_s: float | None = None) -> CallScore:
    """Score a labelled timeline (customer turns carry their entry): the engine-free core."""
    turns = tuple(sorted(turns, key=lambda t: t.start))
    found = tuple(exchanges(turns, book, matcher))
    words, over = count_words((t.text for t in turns if t.side == AGENT), book)
    protocols = (check_no_response(turns, book, matcher), check_off_topic(turns, book, matcher),
                 check_complaint(turns, found), check_thanks(turns, book))
    rules = [BrokenRule(v.rule, v.message) for v in over]
    # A protocol failure the answer's own rules already caught (s_thanks: thanks_unanswered) counts once.
    caught = {(x.challenge.start, v.rule) for x in found for v in x.score.violations}
    rules += [BrokenRule(PROTOCOL_RULES[p.name], p.detail, p.t) for p in protocols
              if not p.ok and p.name in PROTOCOL_RULES and (p.t, PROTOCOL_RULES[p.name]) not in caught]
    length = duration_s if duration_s is not None else max((t.end for t in turns), default=0.0)
    return CallScore(source, kind, agent_channel, length, turns, found, words, protocols, tuple(rules))


def score_recording(path: str | Path, agent_channel: str, book: KnowledgeBase, matcher: Matcher,
                    recognizer: Any, vad_options: VadOptions | None = None) -> CallScore:
    """Score a two-channel call recording (the agent on `agent_channel`)."""
    agent, customer = read_channels(path, agent_channel)
    turns = label_turns(transcribe_turns(agent, customer, recognizer, vad_options), book, matcher)
    return score_turns(turns, book, matcher, str(path), "recording", agent_channel, agent.size / SAMPLE_RATE)


def score_record(folder: str | Path, book: KnowledgeBase, matcher: Matcher) -> CallScore:
    """Score one of our call records from its events (the bot is the agent)."""
    path = Path(folder)
    if not (path / EVENTS_FILE).is_file():
        raise VoicebotError(f"{path}: no call record here (no {EVENTS_FILE}): give a call folder under calls/, "
                            "or a two-channel WAV with --agent-channel")
    turns = turns_from_events(load_events(path).events)
    if not turns:
        raise VoicebotError(f"{path / EVENTS_FILE}: no turns in this call record (nothing said or heard): "
                            "give a call that ran")
    return score_turns(turns, book, matcher, str(path), "record")


# ---------------------------------------------------------------- the terminal report

def _clock(t: float | None) -> str:
    return "   ?  " if t is None else f"{int(t // 60):02d}:{t % 60:04.1f}"


def format_report(cs: CallScore) -> Iterator[str]:
    """Plain lines for people: the score, each exchange, the words to avoid, the protocols, the rules."""
    where = (" (our call record: the bot is the agent)" if cs.kind == "record"
             else f", agent on the {cs.agent_channel} channel" if cs.agent_channel else "")
    yield f"call {cs.source}{where}: {cs.duration_s:.1f} s, {len(cs.turns)} turns, {len(cs.exchanges)} challenges"
    total = cs.total
    if total is None:
        yield "score: no challenge from the book in this call"
    else:
        rules = len(cs.call_rules)
        yield (f"score {total:.0f} ({cs.tier}): answers {cs.answers_mean:.0f}"
               + (f" × {RULE_FACTOR}^{rules} for {rules} call-wide rule(s) broken" if rules else ""))
    for x in cs.exchanges:
        yield ""
        yield f"{_clock(x.challenge.start)}  customer: {x.challenge.text}   [{x.entry_id} · {x.source}]"
        yield f"        agent:    {x.answer or '(nothing said)'}"
        yield f"        score {x.score.total:.0f} ({x.score.tier})" + (
            f"; missed: {'、'.join(x.score.missed)}" if x.score.missed else "")
        for v in x.score.violations:
            yield f"        ✗ {v.rule}: {v.message}"
        yield f"        book:     {x.book_answer}"
    yield ""
    yield "words to avoid: " + ", ".join(f"{w.label} {w.count}/{w.cap}" + (" ✗" if w.over else "") for w in cs.words)
    for p in cs.protocols:
        mark = "✓" if p.ok and p.applies else ("-" if not p.applies else "✗")
        yield f"protocol {p.name}: {mark} {p.detail}"
    broken = cs.broken_rules
    yield "rules broken: " + (", ".join(broken) if broken else "none")

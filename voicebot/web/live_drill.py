"""One drill over a WebSocket (`/ws/drill`): the reverse role-play of `voicebot drill`, in the browser.

The same items as the CLI (`pick_entries`: the book's entries, `protocols=1`, `exchanges=1`, a
`category`), the same questions (`DrillSession`), the same scorer (`score_answer` through
`DrillSession.answer` / `answer_audio`), and the result filed in the class store under the trainee,
so the trainer's mastery view and the trainee's own progress fill from browser drills too.

- text frames out: `{"type": "drill", …}` once, then per turn `{"type": "question", …}` (the objects
  `voicebot drill --json` prints), then `{"type": "score", …}` (score, points made and missed,
  broken rules with the book line, the book's answer, the feedback lines), after an exchange's last
  turn `{"type": "exchange", …}`, and `{"type": "summary", …}` at the end; the socket then closes;
- binary frames out: the customer's line as the situation plays it (quiet, noisy, a ringback tone…),
  16-bit little-endian 16 kHz mono PCM, one frame per line;
- binary frames in: the trainee's spoken answer, same format; heard from the end of the customer's
  line (half duplex, as the CLI drill: what arrives while the line plays is dropped), ended by 2.5 s
  of silence after speech, 10 s without any (no answer), or `{"type": "done"}`;
- text frames in: `{"type": "text", "text": …}` a typed answer, `{"type": "done"}`, `{"type": "hangup"}`.
"""
from __future__ import annotations

import json
import queue
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Final, Iterator, Mapping

import numpy as np

from ..asr import for_scoring
from ..audio import SAMPLE_RATE
from ..call import FRAME
from ..drill import (DrillSession, Question, Score, feedback_lines, pick_entries, record_answer, situation_audio,
                     answer_outline, tier_of)
from ..errors import VoicebotError
from ..progress import ProgressDB
from .live import CustomerHangup, client_message, float_to_pcm16, pcm16_to_float

DEFAULT_COUNT: Final = 5
"""Items in a browser drill unless `count` says otherwise: one sitting in a class, about five minutes."""
MAX_COUNT: Final = 50
"""Most items one drill asks (the book has about 70 drillable entries)."""


class TypedAnswer(Exception):
    """A typed answer came while the spoken one was being recorded: it is the answer."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass(frozen=True)
class DrillOptions:
    """What to drill, from the socket's query string (`/ws/drill?protocols=1&count=3`)."""

    kinds: tuple[str, ...] = ("entry",)
    """entry (the book's questions), protocol (`protocols=1`), exchange (`exchanges=1`), as the CLI's
    flags (drill.KINDS)."""
    count: int = DEFAULT_COUNT
    """Items to drill."""
    category: str | None = None
    """Only this part of the book (or 服务流程 / 情景对话)."""
    seed: int | None = None
    """Same questions and phrasings each time (tests)."""

    @classmethod
    def parse(cls, query: Mapping[str, str], known_categories: list[str]) -> DrillOptions:
        """The options, or VoicebotError naming the bad parameter and what it takes."""
        on = ("1", "true", "yes", "on")
        kinds = tuple(k for k, flag in (("protocol", "protocols"), ("exchange", "exchanges"))
                      if query.get(flag, "").lower() in on) or ("entry",)
        count = DEFAULT_COUNT
        if query.get("count"):
            try:
                count = int(query["count"])
            except ValueError:
                count = 0
            if not 1 <= count <= MAX_COUNT:
                raise VoicebotError(f"count={query['count']}: give a number of items from 1 to {MAX_COUNT}")
        category = query.get("category") or None
        if category is not None and category not in known_categories:
            raise VoicebotError(f"no category {category!r} in the book: choose one of {', '.join(known_categories)}")
        seed = None
        if query.get("seed"):
            try:
                seed = int(query["seed"])
            except ValueError:
                raise VoicebotError(f"seed={query['seed']}: the seed is a whole number") from None
        return cls(kinds, count, category, seed)


def score_event(question: Question, score: Score, book: Any) -> dict[str, Any]:
    """The result of one turn as the page shows it (and the trainer's view receives it)."""
    entry = question.entry
    rules = book.rules
    return ({"type": "score", "n": question.number, "item": question.item or entry.id, "step": question.step,
             "steps": question.steps, "category": entry.category, "source": entry.source,
             "customer": question.customer}
            | score.to_dict()
            | {"violations": [{"rule": v.rule, "message": v.message, "severity": v.severity, "said": v.said,
                               "book": rules[v.rule].book if v.rule in rules else "",
                               "description": rules[v.rule].description if v.rule in rules else ""}
                              for v in score.violations],
               "book_answer": answer_outline(entry, book),
               "feedback": feedback_lines(score, entry, book)})


class LiveDrill:
    """The drill of one trainee and the inbox the socket fills (thread-safe); `run` in a thread."""

    def __init__(self, engines: Any, progress: ProgressDB, trainee_key: str, trainee_id: int | None,
                 options: DrillOptions, send: Callable[[str | bytes], None],
                 on_result: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.engines = engines
        self.progress = progress
        self.trainee_key = trainee_key
        self.trainee_id = trainee_id
        self.options = options
        self.send = send
        self.on_result = on_result
        self.inbox: queue.Queue[tuple[str, Any, float]] = queue.Queue()
        """(kind, value, arrival time): audio, text, done or end, as the socket delivered them."""
        self.results: list[dict[str, Any]] = []

    # -- from the socket (event loop thread)

    def feed_audio(self, data: bytes) -> None:
        self.inbox.put(("audio", pcm16_to_float(data), time.monotonic()))

    def feed_message(self, text: str) -> None:
        """A text frame: a typed answer, done, or a hangup; anything else is answered with an error."""
        kind, line = client_message(text, ("text", "done", "hangup"))
        if kind == "text":
            self.inbox.put(("text", line, time.monotonic()))
        elif kind == "done":
            self.inbox.put(("done", None, time.monotonic()))
        elif kind == "hangup":
            self.inbox.put(("end", "trainee_hangup", time.monotonic()))
        else:
            self._event({"type": "error", "message": 'unknown message: send {"type": "text", "text": "…"} (a typed '
                         'answer), {"type": "done"}, {"type": "hangup"}, or binary 16-bit 16 kHz mono PCM'})

    def hang_up(self, reason: str) -> None:
        self.inbox.put(("end", reason, time.monotonic()))

    # -- the drill's side (its own thread)

    def _event(self, event: dict[str, Any]) -> None:
        self.send(json.dumps(event, ensure_ascii=False))

    def _play(self, question: Question) -> float:
        """Send the customer's line as its situation plays it; the monotonic time it ends playing."""
        voice = self.engines.voice
        if voice is None:
            return time.monotonic()
        spoken = voice.synthesize(question.customer, question.language) if question.customer else None
        audio = situation_audio(spoken, question.situation)
        self.send(float_to_pcm16(audio))
        return time.monotonic() + len(audio) / SAMPLE_RATE

    def _frames(self, heard_from: float) -> Iterator[np.ndarray]:
        """The trainee's microphone from `heard_from` on, in 30 ms frames, as it arrives (nothing is
        invented: a trainee who types sends no audio and the drill simply waits)."""
        buffer = np.zeros(0, dtype=np.float32)
        while True:
            kind, value, at = self.inbox.get()
            if kind == "audio":
                if at < heard_from:
                    continue          # arrived while the customer's line played: half duplex
                buffer = np.concatenate([buffer, value])
                while len(buffer) >= FRAME:
                    frame, buffer = buffer[:FRAME], buffer[FRAME:]
                    yield frame
            elif kind == "text":
                raise TypedAnswer(value)
            elif kind == "done":
                return
            else:
                raise CustomerHangup(value)

    def _answer(self, session: DrillSession, question: Question, heard_from: float) -> Score:
        """The trainee's answer, typed or spoken, scored as the CLI scores it."""
        while True:
            try:
                samples = record_answer(self._frames(heard_from))
            except TypedAnswer as typed:
                return session.answer(question, typed.text)
            if self.engines.recognizer is None:
                if len(samples):
                    self._event({"type": "error", "message": "this server takes typed answers only "
                                 "(started with --typed-only): type the answer"})
                    continue
                return session.answer(question, "")
            return session.answer_audio(question, samples)

    def run(self) -> None:
        """The whole drill (blocking: run it in a thread)."""
        book = self.engines.book
        opts = self.options
        rng = random.Random(opts.seed)
        session: DrillSession | None = None
        try:
            items = pick_entries(book, self.progress, self.trainee_key, opts.category, opts.count, rng,
                                 kinds=opts.kinds)
            if not items:
                raise VoicebotError("no items to drill in this part of the book: choose another category")
            session = DrillSession(book, items, self.engines.matcher, for_scoring(self.engines.recognizer), rng)
            self._event({"type": "drill", "items": len(items), "kinds": list(opts.kinds),
                         "category": opts.category, "spoken": self.engines.recognizer is not None,
                         "voice": self.engines.voice is not None})
            item_scores: list[float] = []
            for question in session.questions():
                entry = question.entry
                self._event({"type": "question", "n": question.number, "of": len(items), "entry": entry.id,
                             "item": question.item, "step": question.step, "steps": question.steps,
                             "situation": question.situation, "label": question.label,
                             "category": entry.category, "source": entry.source, "title": question.title,
                             "customer": question.customer})
                heard_from = self._play(question)
                score = self._answer(session, question, heard_from)
                self.progress.record(self.trainee_key, question.item or entry.id, entry.category, score.total,
                                     points_made=list(score.made), points_missed=list(score.missed),
                                     trainee_id=self.trainee_id)
                result = score_event(question, score, book)
                self.results.append(result)
                self._event(result)
                if self.on_result is not None:
                    self.on_result(result)
                item_scores.append(score.total)
                if question.steps > 1 and question.step == question.steps:
                    mean = sum(item_scores[-question.steps:]) / question.steps
                    self._event({"type": "exchange", "n": question.number, "item": question.item,
                                 "steps": question.steps, "mean": round(mean, 1), "tier": tier_of(mean)})
            self._summary(session, "finished")
        except CustomerHangup as hangup:
            self._summary(session, hangup.hangup_reason)
        except VoicebotError as err:
            self._event({"type": "error", "message": str(err)})

    def _summary(self, session: DrillSession | None, reason: str) -> None:
        scores = session.scores if session is not None else []
        mean = session.mean if session is not None else 0.0
        self._event({"type": "summary", "answers": len(scores), "mean": round(mean, 1),
                     "tier": tier_of(mean) if scores else None, "ended": reason})


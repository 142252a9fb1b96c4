"""`voicebot drill` and `voicebot progress`: the reverse role-play on the command line.

    voicebot drill                      # 10 questions: the bot speaks, you answer into the microphone
    voicebot drill --text --no-voice    # typed answers, printed questions
    voicebot drill --answers a.wav b.wav --no-voice --json
    voicebot drill --protocols --text   # the service phrases and protocols (quiet voice, noise, silence…)
    voicebot drill --exchanges --text   # whole exchanges down the book's branches, turn by turn
    voicebot progress --trainee 小王

Registered into the main parser by `register(sub, add)` (see `voicebot.cli._EXTRA_COMMANDS`).
It never imports `cli`: the printer both use lives in `console`.
"""
from __future__ import annotations

import argparse
import getpass
import os
import random
import sys
import time
from typing import Any, Callable, Final

from .console import read_line
from .errors import DeviceError, TtsError, VoicebotError

ENV_TRAINEE: Final = "VOICEBOT_TRAINEE"
_TIER_STYLE: Final = {"excellent": "green", "good": "green", "fair": "yellow", "poor": "red"}
DEFAULT_COUNT: Final = 10


def trainee_name(args: argparse.Namespace) -> str:
    """--trainee, else $VOICEBOT_TRAINEE, else the login name."""
    if getattr(args, "trainee", None):
        return str(args.trainee)
    env = os.environ.get(ENV_TRAINEE)
    if env:
        return env
    try:
        return getpass.getuser() or "trainee"
    except (KeyError, OSError):
        return "trainee"


def _note(args: argparse.Namespace, out: Any, text: str) -> None:
    """A one-line note: dim on the terminal, on stderr under --json (stdout stays JSON)."""
    if getattr(args, "json", False):
        print(text, file=sys.stderr, flush=True)
    else:
        out.print(text, style="dim")


class Voice:
    """The bot's voice through the speaker, or nothing (lines are then only printed)."""

    def __init__(self, args: argparse.Namespace, out: Any) -> None:
        self.synth: Any = None
        self.sink: Any = None
        if getattr(args, "no_voice", False):
            return
        try:
            from .audio import SpeakerSink
            from .tts import load_synthesizer
            self.sink = SpeakerSink(getattr(args, "device", None))
            self.synth = load_synthesizer()
        except (DeviceError, TtsError) as err:
            self.sink = self.synth = None
            problem = str(err).split(":")[0]     # the problem without the fix, which is for other commands
            _note(args, out, f"no voice: {problem}; the lines are printed only")

    @property
    def on(self) -> bool:
        return self.sink is not None

    def say(self, text: str, language: str = "zh") -> None:
        if self.sink is not None:
            self.sink.play(self.synth.synthesize(text, language))

    def play_customer(self, text: str, language: str, situation: str) -> None:
        """The customer's line as the situation has it: quietly, over line noise, not at all, or a
        foreign ringback tone instead of a voice."""
        if self.sink is None:
            return
        from .drill import situation_audio
        voice = self.synth.synthesize(text, language) if text else None
        self.sink.play(situation_audio(voice, situation))


def _recognizer(args: argparse.Namespace, out: Any) -> Any:
    from .asr import for_scoring, load_recognizer
    rec, note = load_recognizer(args.asr, args.model)
    _note(args, out, note)
    return for_scoring(rec)


def _read_line() -> str | None:
    """One typed answer; None at end of input."""
    line = read_line("you> ")
    return None if not line else line.strip()


def _take_answer(args: argparse.Namespace, session: Any, question: Any, files: list[str]) -> Any:
    """The trainee's answer to one question, scored: typed, from the next file, or from the
    microphone (opened only after the bot has spoken: half duplex). None when typing ended."""
    from .audio import MicSource, read_audio
    from .drill import record_answer
    if args.text:
        line = _read_line()
        return None if line is None else session.answer(question, line)
    if files:
        samples = read_audio(files.pop(0))
    else:
        with MicSource(args.device) as mic:
            samples = record_answer(iter(mic))
    return session.answer_audio(question, samples)


def cmd_drill(args: argparse.Namespace, out: Any) -> int:
    from .audio import read_audio
    from .console import emit_json
    from .drill import DrillSession, feedback_lines, pick_entries, tier_of
    from .kb import load
    from .matcher import Matcher
    from .progress import ProgressDB

    files = list(args.answers or [])
    kinds = tuple(k for k, on in (("protocol", args.protocols), ("exchange", args.exchanges)) if on) or ("entry",)
    for path in files:             # every file is checked before the drill starts: one clear error
        read_audio(path)
    count = args.count if args.count is not None else DEFAULT_COUNT
    if files:
        count = min(len(files), args.count) if args.count is not None else len(files)
    if count < 1:
        raise VoicebotError("--count must be at least 1: give the number of questions to drill")
    book = load(args.kb)
    trainee = trainee_name(args)
    if not args.text and not files:
        from .audio import list_devices
        if not any(d.inputs for d in list_devices()):
            raise DeviceError("no microphone found: answer typed with `voicebot drill --text`, "
                              "or from recordings with --answers FILE.wav ...")
    rng = random.Random(args.seed)
    with ProgressDB(args.db) as db:
        entries = pick_entries(book, db, trainee, args.category, count, rng, kinds=kinds)
        if not entries:
            raise VoicebotError("no entries to drill: check the book with `voicebot kb check`")
        recognizer = None if args.text else _recognizer(args, out)
        voice = Voice(args, out)
        session = DrillSession(book, entries, Matcher(book), recognizer, rng)
        how = "typed" if args.text else ("from files" if files else "spoken")
        item_scores: list[float] = []
        plural = "s" if len(entries) > 1 else ""
        _note(args, out, f"drill for {trainee}: {len(entries)} question{plural}, answers {how}; progress in {db.path}")
        try:
            for question in session.questions():
                entry = question.entry
                if args.answers and not files:
                    break                  # one file per turn: the recordings ran out
                if args.json:
                    emit_json({"type": "question", "n": question.number, "of": len(entries), "entry": entry.id,
                               "item": question.item, "step": question.step, "steps": question.steps,
                               "situation": question.situation, "category": entry.category,
                               "customer": question.customer})
                else:
                    if question.step == 1:
                        title = f" · {question.title}" if question.title else ""
                        out.print(f"\n[{question.number}/{len(entries)}] {entry.category} · {entry.source or entry.id}{title}",
                                  style="dim")
                    turn = f"({question.step}/{question.steps}) " if question.steps > 1 else ""
                    out.print(f"{turn}customer> {question.label}{question.customer}", style="cyan")
                voice.play_customer(question.customer, question.language, question.situation)
                score = _take_answer(args, session, question, files)
                if score is None:
                    break
                if not args.text and not args.json:
                    out.print(f"you> {score.answer or '(nothing heard)'}", style="bold")
                db.record(trainee, question.item or entry.id, entry.category, score.total,
                          points_made=list(score.made), points_missed=list(score.missed))
                lines = feedback_lines(score, entry, book)
                if args.json:
                    emit_json({"type": "score", "n": question.number, "item": question.item, "step": question.step}
                              | score.to_dict() | {"feedback": lines})
                else:
                    out.print(lines[0], style=_TIER_STYLE[score.tier])
                    for line in lines[1:]:
                        out.print(f"  {line}")
                for line in lines:
                    voice.say(line)
                item_scores.append(score.total)
                if question.steps > 1 and question.step == question.steps:
                    mean = sum(item_scores[-question.steps:]) / question.steps
                    if args.json:
                        emit_json({"type": "exchange", "n": question.number, "item": question.item,
                                   "steps": question.steps, "mean": round(mean, 1), "tier": tier_of(mean)})
                    else:
                        out.print(f"{question.title}: {question.steps} turns, mean {mean:.0f} ({tier_of(mean)})",
                                  style=_TIER_STYLE[tier_of(mean)])
        except KeyboardInterrupt:
            _note(args, out, "drill stopped; the answers so far are saved")
        scores, mean = session.scores, session.mean
        summary = {"type": "summary", "trainee": trainee, "answers": len(scores), "mean": round(mean, 1),
                   "tier": tier_of(mean) if scores else None, "db": str(db.path)}
        if args.json:
            emit_json(summary)
        elif scores:
            plural = "s" if len(scores) > 1 else ""
            out.print(f"\n{len(scores)} answer{plural}, mean score {mean:.0f} ({summary['tier']}); "
                      f"saved for {trainee}: `voicebot progress --trainee {trainee}`", style="bold")
        else:
            out.print("no answers given; nothing saved", style="yellow")
    return 0


def cmd_progress(args: argparse.Namespace, out: Any) -> int:
    from .console import emit_json
    from .drill import tier_of
    from .kb import load
    from .progress import ProgressDB

    book = load(args.kb)
    trainee = trainee_name(args)
    totals: dict[str, int] = {}
    for entry in book:
        totals[entry.category] = totals.get(entry.category, 0) + 1
    with ProgressDB(args.db) as db:
        summaries = {s.category: s for s in db.categories(trainee)}
        mastery = db.mastery(trainee)
        path = db.path
    rows: list[dict[str, Any]] = []
    for category in sorted(set(totals) | set(summaries), key=lambda c: (summaries[c].mastery if c in summaries
                                                                        else 101.0, c)):
        s = summaries.get(category)
        weakest = min((m for m in mastery.values() if m.category == category), key=lambda m: m.mastery, default=None)
        rows.append({"trainee": trainee, "category": category,
                     "mastery": round(s.mastery, 1) if s else None, "tier": tier_of(s.mastery) if s else None,
                     "entries_tried": s.entries_tried if s else 0, "entries_total": totals.get(category, 0),
                     "attempts": s.attempts if s else 0,
                     "last_seen": time.strftime("%Y-%m-%d %H:%M", time.localtime(s.last_seen)) if s else None,
                     "weakest_entry": weakest.entry_id if weakest else None})
    if args.json:
        for row in rows:
            emit_json(row)
        return 0
    if not summaries:
        out.print(f"no drill results for {trainee} in {path}: run `voicebot drill --trainee {trainee}`")
        return 0
    out.print(f"progress of {trainee} ({path}), weakest category first:", style="bold")
    styles: dict[str | None, str] = {**_TIER_STYLE, None: "dim"}
    if out.tty:
        from rich.table import Table
        table = Table("category", "mastery", "tier", "tried", "attempts", "last", "weakest entry")
        for row in rows:
            drilled = row["mastery"] is not None
            table.add_row(row["category"], f"{row['mastery']:.1f}" if drilled else "-", row["tier"] or "-",
                          f"{row['entries_tried']}/{row['entries_total']}", str(row["attempts"]),
                          row["last_seen"] or "-", row["weakest_entry"] or "-", style=styles[row["tier"]])
        out.console.print(table)
        return 0
    for row in rows:
        if row["mastery"] is None:
            out.print(f"  {row['category']}: not drilled yet ({row['entries_total']} entries)")
            continue
        out.print(f"  {row['category']}: {row['mastery']:.1f} {row['tier']}, tried {row['entries_tried']}/"
                  f"{row['entries_total']}, {row['attempts']} attempts, last {row['last_seen']}, "
                  f"weakest {row['weakest_entry']}")
    return 0


def register(sub: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `drill` and `progress` to the main parser (called from cli.build_parser)."""
    p = add("drill", cmd_drill, "the bot plays the customer, you answer, you get scored against the book")
    p.add_argument("--category", help="only this part of the book (see `voicebot kb list`; also 服务流程 for "
                                      "the protocol drills and 情景对话 for the exchanges)")
    p.add_argument("--protocols", action="store_true",
                   help="drill the service phrases and protocols (服务流程: quiet voice, noisy line, dialect, "
                        "no response, off-topic, thanks, praise, work id, second visit, complaint, ringback, …): "
                        "the bot plays the situation, your line is scored against the book's")
    p.add_argument("--exchanges", action="store_true",
                   help="drill whole exchanges (情景对话) down the book's branches (问题28 not calmed, cancel "
                        "with a callback, abroad, …): each of your turns is scored in order")
    p.add_argument("--count", type=int, default=None, metavar="N",
                   help=f"items in the drill (default {DEFAULT_COUNT}; with --answers, one file per turn)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--text", action="store_true", help="type the answers, one line each (no microphone)")
    source.add_argument("--answers", nargs="+", metavar="FILE.wav",
                        help="answers from recordings, one per question, in order (each starts when the "
                             "customer's line ends)")
    p.add_argument("--trainee", metavar="NAME", help=f"whose progress this is (default ${ENV_TRAINEE} or your login)")
    p.add_argument("--db", metavar="PATH|URL", help="the class store: a SQLite file or a postgresql:// URL "
                   "(default $VOICEBOT_DB, $VOICEBOT_PROGRESS_DB, or the user data folder)")
    p.add_argument("--json", action="store_true", help="one JSON object per line: question, score, summary")
    p.add_argument("--asr", choices=["auto", "vosk", "whisper"], default="auto",
                   help="recogniser for spoken answers (default auto)")
    p.add_argument("--model", metavar="PATH", help="speech model folder")
    p.add_argument("--no-voice", action="store_true", help="print the customer's lines and the feedback, do not speak")
    p.add_argument("--device", help="audio device for microphone and speaker (see `voicebot devices`)")
    p.add_argument("--seed", type=int, help="random seed (same questions and phrasings each run)")

    p = add("progress", cmd_progress, "a trainee's mastery per category of the book")
    p.add_argument("--trainee", metavar="NAME", help=f"whose progress (default ${ENV_TRAINEE} or your login)")
    p.add_argument("--db", metavar="PATH|URL", help="the class store: a SQLite file or a postgresql:// URL "
                   "(default $VOICEBOT_DB, $VOICEBOT_PROGRESS_DB, or the user data folder)")
    p.add_argument("--json", action="store_true", help="one JSON object per category")

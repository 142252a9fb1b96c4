"""The `voicebot` command: the only place that prints for people.

Exit codes: 0 ok · 1 failure · 2 usage · 3 audio file · 4 audio device · 5 model · 6 script book ·
7 text-to-speech · 8 output (call record, --out) · 130 interrupted · 143 terminated.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from .console import Out, emit_json, read_line
from .drill_cli import register as _register_drill
from .score_cli import register as _register_score
from .errors import Terminated, VoicebotError

EXIT_USAGE = 2
EXIT_KB = 6

EPILOG = """\
commands, from the book to a whole call:
  kb check|list|init   the script book in scripts_kb/ (trainers edit it)
  match TEXT...        which book entry a customer line is, and the standard answer
  transcribe FILE...   what the recogniser hears in audio files
  say TEXT             speak a line (or write it with -o out.wav)
  voice warm           render every line of the book into the voice cache
  devices              microphones and speakers
  models list|download speech models
  simulate WAV...      a whole call, the customer's side from WAV files
  demo                 a demo call from a shipped customer recording
  call                 a live call on microphone and speaker
  chat                 the same call, typed
  report CALL          a call record summarised for the trainer
  drill                the bot plays the customer, you answer, you get scored
  progress             a trainee's mastery per category
  score CALL           a recorded call scored against the book (two-channel WAV or calls/<time>/)
  serve                the classroom: browser role-play, trainer's live view

exit codes: 0 ok, 1 failure, 2 usage, 3 audio file, 4 audio device, 5 model,
            6 script book, 7 text-to-speech, 8 output (call record, --out), 130 interrupted (Ctrl-C),
            143 terminated (SIGTERM)
"""


# ---------------------------------------------------------------- kb

def _load_kb(args: argparse.Namespace) -> Any:
    from . import kb
    return kb.load(args.kb)


def _tuning_sections() -> dict[str, type]:
    from .call import CallOptions
    from .dialog import PolicyOptions
    from .matcher import MatcherOptions
    from .vad import VadOptions
    return {"matcher": MatcherOptions, "policy": PolicyOptions, "vad": VadOptions, "call": CallOptions}


def cmd_kb_check(args: argparse.Namespace, out: Out) -> int:
    book = _load_kb(args)
    book.problems += book.tuning_problems(_tuning_sections())
    for problem in book.problems:
        print(problem, flush=True)
    if args.json:
        emit_json({"entries": len(book), "problems": [p.__dict__ for p in book.problems]})
    elif not book.problems:
        out.print(f"ok: {len(book)} entries in {book.directory}, no problems", style="green")
    else:
        out.error(f"{len(book.problems)} problem(s) in {book.directory}")
    return EXIT_KB if book.problems else 0


def cmd_kb_list(args: argparse.Namespace, out: Out) -> int:
    book = _load_kb(args)
    for problem in book.problems:
        print(problem, file=sys.stderr)
    entries = [e for e in book if args.category is None or e.category == args.category]
    if args.json:
        print(json.dumps([e.to_dict() for e in entries], ensure_ascii=False, indent=1))
        return 0

    def said(e: Any) -> str:
        """What the bot says first, placeholders filled ({号码} → the number in settings.yaml)."""
        if e.answer:
            return book.fill(e.answer[0])
        return book.fill(e.ask) if e.ask else ""

    if sys.stdout.isatty():   # a table for people (NO_COLOR only takes the colour away)
        from rich import box
        from rich.table import Table
        from rich.cells import cell_len
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        width = lambda values, least: max([least] + [cell_len(v) for v in values])  # noqa: E731
        table.add_column("id", no_wrap=True, min_width=width([e.id for e in entries], 2))
        table.add_column("category", no_wrap=True, min_width=width([e.category for e in entries], 8))
        table.add_column("customer says", overflow="ellipsis", no_wrap=True, max_width=24)
        table.add_column("bot answers", overflow="ellipsis", no_wrap=True, max_width=44)
        table.add_column("then", no_wrap=True, min_width=width([e.action for e in entries], 4))
        for e in entries:
            table.add_row(e.id, e.category, e.customer[0] if e.customer else "", said(e), e.action)
        out.console.print(table)
        out.console.print(f"{len(entries)} entries; `voicebot kb list --json` gives every field")
    else:                      # a pipe: one tab-separated line per entry, for scripts
        for e in entries:
            print(f"{e.id}\t{e.category}\t{e.source}\t{e.customer[0] if e.customer else ''}\t{said(e)}\t{e.action}")
    return 0


def cmd_kb_init(args: argparse.Namespace, out: Out) -> int:
    from .kb import default_kb_dir
    source = default_kb_dir()
    from .errors import OutputError
    dest = Path(args.dir)
    if dest.exists() and not dest.is_dir():
        raise OutputError(f"{dest} is a file, not a folder: choose a new folder for your copy of the book")
    if dest.exists() and any(dest.iterdir()):
        raise VoicebotError(f"{dest} is not empty: choose a new folder for your copy of the book")
    try:
        shutil.copytree(source, dest, dirs_exist_ok=True)
    except (OSError, shutil.Error) as err:
        reason = getattr(err, "strerror", None) or str(err).splitlines()[0][:160]
        raise OutputError(f"cannot copy the book to {dest} ({reason}): choose a folder you can write") from err
    out.print(f"copied the book from {source} to {dest}; use it with --kb {dest} or VOICEBOT_KB={dest}")
    return 0


# ---------------------------------------------------------------- match

def warn_book_problems(book: Any, out: Out, show: int = 3) -> None:
    """For commands other than `kb check`: the book's problems as warnings on stderr, never silent."""
    problems = list(getattr(book, "problems", ()))
    for problem in problems[:show]:
        out.error(f"warning: {problem}")
    if problems:
        more = f" ({len(problems) - show} more)" if len(problems) > show else ""
        out.error(f"warning: the book has {len(problems)} problem(s){more}: run `voicebot kb check` and fix them")


def cmd_match(args: argparse.Namespace, out: Out) -> int:
    from .matcher import MAX_TEXT_CHARS, Matcher
    book = _load_kb(args)
    warn_book_problems(book, out)
    matcher = Matcher(book)
    lines: list[str] = list(args.text)
    if lines == ["-"]:
        lines = [line.rstrip("\n") for line in sys.stdin]
    if not lines:
        raise VoicebotError("no text to match: give customer lines as arguments, or - to read them from stdin")
    for line in lines:
        if len(line) > MAX_TEXT_CHARS:
            out.error(f"warning: a line of {len(line)} characters: only its first {MAX_TEXT_CHARS} are matched "
                      "(a customer turn is a sentence or two)")
        m = matcher.match(line)
        entry = m.entry
        answer = " ".join(book.fill(a) for a in entry.answer) if entry and entry.answer_mode == "sequence" \
            else (book.fill(entry.answer[0]) if entry and entry.answer else None)
        if entry is not None and entry.ask:
            answer = ((answer + " ") if answer else "") + book.fill(entry.ask)
        if entry is None:
            off = book.protocols.off_topic
            first = off.prompts[0] if off.prompts else off.ask
            answer = book.fill(first) if first else None
        result = m.to_dict() | {"answer": answer, "action": entry.action if entry else "off_topic",
                                "record": entry.record if entry else None}
        if args.json:
            emit_json(result)
        else:
            label = entry.id if entry else f"(no match: {m.reason})"
            out.print(f"{line}\n  → {label}  score {m.score:.1f}"
                      + (f"  runner-up {m.runner_up.entry_id} {m.runner_up.score:.1f}" if m.runner_up else ""),
                      style="bold" if entry else "yellow")
            if answer:
                out.print(f"  {answer}")
    return 0


# ---------------------------------------------------------------- speech and calls

def _book_phrases(book: Any) -> list[str]:
    """Vocabulary to bias recognition toward: every customer phrasing of the book."""
    return [p for e in book for p in e.customer]


def _recognizer(args: argparse.Namespace, out: Out, book: Any = None) -> Any:
    from .asr import load_recognizer
    phrases = _book_phrases(book) if (book is not None and getattr(args, "bias", False)) else None
    rec, note = load_recognizer(args.asr, args.model, phrases=phrases)
    if not getattr(args, "json", False):
        out.print(note, style="dim")
    else:
        print(note, file=sys.stderr)
    return rec


def _synthesizer(args: argparse.Namespace, book: Any = None) -> Any:
    from .tts import load_synthesizer
    return load_synthesizer(rate=getattr(args, "rate", None), voice=getattr(args, "voice", None),
                            volume=getattr(args, "volume", None) or 1.0,
                            settings=book.settings if book is not None else _voice_settings(args))


def _voice_note(synth: Any, args: argparse.Namespace, out: Out) -> None:
    """Say which voice speaks (Kokoro and its voice, or the pyttsx3 fallback), as the ASR note does:
    a trainer hearing espeak-ng knows at once the neural voice is missing."""
    inner = getattr(synth, "inner", synth)
    name = getattr(inner, "name", "?")
    if name == "kokoro":
        note = f"speaking with kokoro ({getattr(inner, 'voice', '?')}, speed {getattr(inner, 'speed', 1.0):g})"
    else:
        note = f"speaking with {name} (the light fallback voice; `bash install.sh` installs the Kokoro voice)"
    if getattr(args, "json", False):
        print(note, file=sys.stderr)
    else:
        out.print(note, style="dim")


def _voice_settings(args: argparse.Namespace) -> dict[str, str]:
    """The book's voice choice (声音, 语速) for commands that do not load the book otherwise."""
    from .tts import SETTING_SPEED, SETTING_VOICE
    try:
        settings = _load_kb(args).settings
    except VoicebotError:
        return {}
    return {k: v for k, v in settings.items() if k in (SETTING_VOICE, SETTING_SPEED)}


LONG_FILE_S = 30.0
"""Files longer than this are transcribed in windows of speech, streamed: memory stays flat."""


def _transcribe_file(rec: Any, path: str, duration_s: float) -> Any:
    """One Transcript for a file: whole when short, else window by window as the file streams."""
    from .asr.base import Transcript, Word, join_words, mean_conf
    from .audio import iter_audio_blocks, read_audio
    from .text import to_simplified
    if duration_s <= LONG_FILE_S:
        tr = rec.transcribe(read_audio(path))
        parts = [(0.0, tr)]
    else:
        from .vad import speech_windows
        parts = [(w.start, rec.transcribe(w.audio)) for w in speech_windows(iter_audio_blocks(path))]
    words = tuple(Word(to_simplified(w.text), w.start + offset, w.end + offset, w.conf)
                  for offset, tr in parts for w in tr.words)
    texts = [to_simplified(tr.text) for _, tr in parts if tr.text]
    language = next((tr.language for _, tr in parts if tr.language), None)
    return Transcript(text=join_words(texts), confidence=mean_conf(words), words=words,
                      start=words[0].start if words else 0.0, end=words[-1].end if words else 0.0,
                      language=language, language_prob=None, engine=getattr(rec, "name", ""))


def cmd_transcribe(args: argparse.Namespace, out: Out) -> int:
    from .audio import audio_info
    rec = _recognizer(args, out)
    for path in args.files:
        info = audio_info(path)
        tr = _transcribe_file(rec, path, info.duration_s)
        if args.json:
            emit_json({"file": str(path), "text": tr.text, "confidence": round(tr.confidence, 3),
                       "language": tr.language, "engine": tr.engine, "duration_s": round(info.duration_s, 2),
                       "words": [{"text": w.text, "start": round(w.start, 2), "end": round(w.end, 2),
                                  "conf": round(w.conf, 3)} for w in tr.words]})
        else:
            out.print(f"{path}: {tr.text}  (conf {tr.confidence:.2f}, {info.describe()})")
    return 0


def cmd_say(args: argparse.Namespace, out: Out) -> int:
    from .audio import SAMPLE_RATE, write_wav
    synth = _synthesizer(args)
    text = " ".join(args.text)
    samples = synth.synthesize(text, args.language)
    if args.output:
        write_wav(args.output, samples)
        out.print(f"wrote {args.output} ({len(samples) / SAMPLE_RATE:.1f} s)")
    else:
        from .audio import SpeakerSink
        SpeakerSink(args.device).play(samples)
    return 0


def cmd_devices(args: argparse.Namespace, out: Out) -> int:
    from .audio import list_devices
    devices = list_devices()
    if args.json:
        emit_json([d.__dict__ for d in devices])
        return 0
    if not devices:
        out.print("no audio devices found (PortAudio lists none): use `voicebot simulate FILE.wav` or `voicebot chat`")
        return 4
    for d in devices:
        mark = ("*" if d.is_default_in or d.is_default_out else " ")
        out.print(f"{mark}{d.index:>3}  {d.name}  in:{d.inputs} out:{d.outputs}  {d.default_samplerate:.0f} Hz")
    return 0


def cmd_models(args: argparse.Namespace, out: Out) -> int:
    from .asr import models
    if args.models_command == "list":
        for name, spec in models.CATALOGUE.items():
            found = models.find_model(name)
            out.print(f"{name:<14} {'found: ' + str(found) if found else 'missing'}  {spec.description}")
        return 0
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), TimeRemainingColumn(), disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task(args.name, total=None)

        def progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        path = models.download(args.name, Path(args.dest) if args.dest else None, url=args.url, progress=progress)
    out.print(f"model {args.name} ready in {path}")
    return 0


def _policy(args: argparse.Namespace, book: Any) -> Any:
    from .dialog import Policy, PolicyOptions
    from .matcher import Matcher
    opts = book.options("policy", PolicyOptions)
    if getattr(args, "timeout", None):
        opts = dataclasses.replace(opts, no_input_timeout_s=args.timeout)
    key = book.fingerprint
    matcher = _MATCHERS.get(key) if key else None
    if matcher is None:
        matcher = Matcher(book)
        if key:
            _MATCHERS.clear()  # one book at a time is kept
            _MATCHERS[key] = matcher
    return Policy(book, matcher, opts)


_MATCHERS: dict[Any, Any] = {}
"""The matcher of the last book loaded, while its files are unchanged (in-process callers: tests, serve)."""


def _event_printer(args: argparse.Namespace, out: Out) -> Callable[[dict[str, Any]], None]:
    def show(ev: dict[str, Any]) -> None:
        if ev.get("truncated_from"):
            out.error(f"warning: a customer line of {ev['truncated_from']} characters: only its first "
                      f"{len(ev['text'])} are kept (a customer turn is a sentence or two)")
        if args.json:
            emit_json(ev)
            return
        kind = ev["type"]
        t = f"{ev['t']:7.2f}s"
        if kind == "say":
            out.print(f"{t}  bot      {ev['text']}" + (f"   [{ev['entry']}]" if ev.get("entry") else
                                                        f"   [{ev['reason']}]"), style="cyan")
        elif kind == "heard":
            how = []
            if ev.get("entries"):
                how.append(" + ".join(ev["entries"]))
            elif ev.get("entry"):
                how.append(f"{ev['entry']}" + (f" {ev['score']}" if ev.get("score") is not None else ""))
            if ev.get("branch"):
                how.append(f"reply to {ev.get('reply_to')}: {ev['branch']}")
            if ev.get("reply"):
                how.append(ev["reply"])
            if ev.get("negated"):
                how.append("takes back " + ", ".join(ev["negated"]))
            extra = f"   → {'; '.join(how)}" if how else ""
            out.print(f"{t}  customer {ev['text'] or '(unclear)'}{extra}", style="bold")
        elif kind == "cut":
            out.print(f"{t}  cut      after {ev['played_s']:.2f} s: the customer spoke", style="yellow")
        elif kind in ("record", "escalate", "hangup", "ringback", "silence"):
            detail = ev.get("kind") or ev.get("reason") or ev.get("seconds")
            fields = ev.get("fields") or {}
            shown = ", ".join(f"{k}={v}" for k, v in fields.items())
            out.print(f"{t}  {kind:<8} {detail}" + (f": {ev['text']}" if ev.get("text") else "")
                      + (f"  [{shown}]" if shown else ""), style="yellow")
    return show


def _call_options(args: argparse.Namespace, book: Any) -> Any:
    from .call import CallOptions
    opts = dataclasses.replace(book.options("call", CallOptions), second_visit=getattr(args, "second_visit", False))
    if getattr(args, "realtime", False):
        opts = dataclasses.replace(opts, realtime=True)
    if getattr(args, "no_barge_in", False):
        opts = dataclasses.replace(opts, barge_in=False)
    return opts


def cmd_simulate(args: argparse.Namespace, out: Out) -> int:
    from .audio import check_audio
    from .call import CustomerFile, simulate
    from .record import new_call_dir, remove_if_empty
    customer = [CustomerFile.parse(f) for f in args.files]
    for f in customer:            # every file is checked before the call starts (its header only:
        check_audio(f.path)       # the files stream during the call, read once)
    book = _load_kb(args)
    rec = _recognizer(args, out, book)
    synth = _synthesizer(args, book)
    _voice_note(synth, args, out)
    groups = [[f] for f in customer] if args.each else [customer]
    for files in groups:
        folder = new_call_dir(args.out)
        try:
            if not args.json:
                out.print(f"call record: {folder}", style="dim")
            result = simulate(_policy(args, book), rec, synth, files, folder, _call_options(args, book),
                              on_event=_event_printer(args, out))
        finally:
            remove_if_empty(folder)   # a call stopped before its first event leaves no empty folder
        if not args.json:
            out.print(f"call ended: {result.ended or 'line silent'}; record in {folder}", style="dim")
    return 0


def cmd_demo(args: argparse.Namespace, out: Out) -> int:
    from .call import simulate
    from .record import new_call_dir
    demo_dir = Path(__file__).resolve().parent / "demo"
    files = sorted(str(p) for p in demo_dir.glob("*.wav"))
    if not files:
        raise VoicebotError(f"no demo recordings in {demo_dir}: reinstall voicebot")
    book = _load_kb(args)
    rec = _recognizer(args, out, book)
    synth = _synthesizer(args, book)
    _voice_note(synth, args, out)
    folder = new_call_dir(args.out)
    out.print(f"demo call: the customer's side is {', '.join(Path(f).name for f in files)}", style="dim")
    speaker = None
    if not args.no_play:
        from .audio import SpeakerSink, list_devices
        from .errors import DeviceError
        try:
            if any(d.outputs for d in list_devices()):
                speaker = SpeakerSink()
        except DeviceError:
            speaker = None
        if speaker is None and not args.json:
            out.print("no speaker here: the call is written to a WAV recording instead", style="dim")
    result = simulate(_policy(args, book), rec, synth, files, folder, _call_options(args, book),
                      on_event=_event_printer(args, out))
    out.print(f"call ended: {result.ended}; recording with both voices: {folder / 'recording.wav'}", style="dim")
    if speaker is not None:
        from .audio import read_audio
        speaker.play(read_audio(folder / "recording.wav"))
    return 0


def cmd_call(args: argparse.Namespace, out: Out) -> int:
    from .audio import MicSource, SpeakerSink, list_devices
    from .call import CallRunner
    from .errors import DeviceError
    from .record import new_call_dir
    devices = list_devices()
    if not any(d.inputs for d in devices) or not any(d.outputs for d in devices):
        raise DeviceError("no microphone or speaker found: use `voicebot simulate FILE.wav` "
                          "(WAV files as the customer) or `voicebot chat` (typed)")
    book = _load_kb(args)
    rec = _recognizer(args, out, book)
    synth = _synthesizer(args, book)
    _voice_note(synth, args, out)
    folder = new_call_dir(args.out)
    speaker = SpeakerSink(args.device)
    mic = MicSource(args.device)
    options = _call_options(args, book)

    def play(audio: Any) -> None:
        if options.barge_in:
            # Full duplex: the call listens while the line plays and stops it when the customer speaks.
            speaker.play(audio, blocking=False)
            return
        # Half duplex: whatever the microphone caught while the bot spoke is its own voice.
        speaker.play(audio)
        mic.drain()

    runner = CallRunner(_policy(args, book), rec, synth, folder, options,
                        on_event=_event_printer(args, out), play=play, stop=speaker.stop)
    out.print(f"live call, record in {folder}; Ctrl-C ends the call", style="dim")
    from .call import end_reason
    from .record import remove_if_empty
    try:
        with mic:
            runner.listen(iter(mic))
            runner.start()
            runner.run_frames()
    except BaseException as err:
        runner.end(end_reason(err))  # (run_frames has ended it already; this covers the opening)
        raise
    finally:
        speaker.stop()
        remove_if_empty(folder)
    return 0


def cmd_chat(args: argparse.Namespace, out: Out) -> int:
    """A typed call: the same call runner as `simulate`, fed with typed lines instead of audio."""
    from .call import CallRunner, end_reason
    from .record import new_call_dir
    book = _load_kb(args)
    policy = _policy(args, book)
    folder = new_call_dir(args.out)
    runner = CallRunner(policy, None, None, folder, _call_options(args, book), on_event=_event_printer(args, out))
    if not args.json:
        out.print(f"typed call (empty line = the customer stays silent, Ctrl-D ends); record in {folder}", style="dim")
    try:
        runner.start()
        while not policy.ended:
            line = read_line("" if args.json else "customer> ")
            if not line:
                runner.end("end_of_input")
                break
            text = line.strip()
            if text:
                runner.hear_text(text)
            else:
                runner.stay_silent()
    except BaseException as err:
        runner.end(end_reason(err))
        raise
    runner.close()
    return 0


def cmd_report(args: argparse.Namespace, out: Out) -> int:
    from .record import EVENTS_FILE, collect_follow_ups, format_follow_up, format_report, report
    path = Path(args.call)
    if args.follow_ups:
        if not path.is_dir():
            raise VoicebotError(f"{path}: no such folder: give the folder that holds the calls, e.g. calls/")
        found = collect_follow_ups(path)
        for warning in found.warnings:
            out.error(f"warning: {warning}")
        if args.json:
            emit_json(found.rows)
        else:
            for r in found.rows:
                out.print(format_follow_up(r))
            if not found.rows:
                out.print("no follow-ups")
        return 0
    if not (path / EVENTS_FILE).exists() and not (path.is_file() and path.suffix == ".jsonl"):
        raise VoicebotError(f"no call record in {path} (expected {EVENTS_FILE}): give a folder under calls/")
    rep = report(path)
    if args.json:
        emit_json(rep.to_dict())
    else:
        for line in format_report(rep):
            out.print(line)
    return 0


SIMULATE_EPILOG = """\
the call clock: the bot opens at 0 s; each bare file starts 0.5 s after the bot has finished its
reply to the file before; FILE@S starts S seconds after the bot began that reply, even while the bot
is still talking: the bot stops at once (barge-in) and answers what the customer says. The record
then shows the bot's line followed by {"type": "cut", "played_s": ...}. With --no-barge-in the bot
always finishes and FILE@S waits like a bare file.

examples:
  voicebot simulate q.wav                       one customer line, then silence
  voicebot simulate owner_q.wav no.wav@1.5      the customer cuts in 1.5 s into the bot's answer
  voicebot simulate --json a.wav b.wav          one JSON event per line
"""


def _register_speech(sub: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    def engine(p: argparse.ArgumentParser) -> None:
        p.add_argument("--asr", choices=["auto", "vosk", "whisper"], default="auto",
                       help="recogniser: vosk (needs a Mandarin vosk model), whisper (from PyPI), "
                            "auto = vosk if a Mandarin vosk model is found, else whisper (default)")
        p.add_argument("--model", metavar="PATH", help="speech model folder (default: $VOICEBOT_MODEL, ./models/, cache)")

    def voice(p: argparse.ArgumentParser) -> None:
        p.add_argument("--rate", type=int, help="speaking rate of the bot's voice (words per minute)")
        p.add_argument("--voice", help="女/男 (female/male), a Kokoro voice (zf_xiaoyi, zm_yunxi, zf_xiaobei) "
                                      "or a pyttsx3 voice id (default: settings.yaml 声音, else 女)")

    def call_opts(p: argparse.ArgumentParser) -> None:
        engine(p)
        p.add_argument("--json", action="store_true", help="one JSON event per line (t, type, text, entry, reason …)")
        p.add_argument("--out", default="calls", metavar="DIR", help="where call records go (default: ./calls)")
        p.add_argument("--second-visit", action="store_true", help="open with the second-visit (二访) script")
        p.add_argument("--timeout", type=float, metavar="S", help="no-input timeout in seconds (default 4)")
        p.add_argument("--bias", action="store_true", help="bias recognition toward the book's phrases (vosk grammar)")
        p.add_argument("--no-barge-in", action="store_true",
                       help="the bot always finishes its line; the customer's speech meanwhile waits "
                            "(default: the customer's speech stops the bot at once)")
        voice(p)

    p = add("transcribe", cmd_transcribe, "print what the recogniser hears in audio files")
    engine(p)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per file, with word timings")

    p = add("say", cmd_say, "speak a line through the speaker, or write it to a WAV file")
    p.add_argument("text", nargs="+", metavar="TEXT")
    p.add_argument("-o", "--output", metavar="OUT.wav", help="write a WAV file instead of playing")
    p.add_argument("--language", choices=["zh", "en"], default="zh")
    voice(p)
    p.add_argument("--volume", type=float, help="volume 0.0–1.0 (default 1.0)")
    p.add_argument("--device", help="output device (see `voicebot devices`)")

    p = add("devices", cmd_devices, "list microphones and speakers")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("models", help="list or download speech models", description="Speech models.")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    add("list", cmd_models, "which models are found where", msub)
    q = add("download", cmd_models, "download a model (size and SHA-256 checked, resumable)", msub)
    q.add_argument("name", help="small-cn (vosk-model-small-cn-0.22, 42 MB) or cn (vosk-model-cn-0.22, 1.3 GB)")
    q.add_argument("--dest", metavar="DIR", help="where to unpack (default ./models)")
    q.add_argument("--url", help="download from this address instead (a mirror)")

    p = add("simulate", cmd_simulate, "run a call whose customer side is WAV files, one after another")
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = SIMULATE_EPILOG
    call_opts(p)
    p.add_argument("files", nargs="+", metavar="WAV[@S]",
                   help="customer recordings in order; a bare file starts 0.5 s after the bot has finished, "
                        "FILE@S starts S seconds after the bot began its reply to the previous file (the "
                        "opening, for the first), cutting the bot short (barge-in)")
    p.add_argument("--each", action="store_true", help="each file its own call")
    p.add_argument("--realtime", action="store_true",
                   help="run the call at real speed (the files and the bot's lines take as long as they sound), "
                        "as a live call would; the default runs as fast as the machine can")

    p = add("demo", cmd_demo, "a demo call from a shipped customer recording, answered by voice")
    call_opts(p)
    p.add_argument("--no-play", action="store_true",
                   help="do not play the call on the speaker (it is always written to recording.wav)")

    p = add("call", cmd_call, "a live call: microphone and speaker (Ctrl-C ends it)")
    call_opts(p)
    p.add_argument("--device", help="audio device (see `voicebot devices`)")

    p = add("chat", cmd_chat, "the same call typed in the terminal (no microphone needed)")
    p.add_argument("--json", action="store_true", help="one JSON event per line")
    p.add_argument("--out", default="calls", metavar="DIR")
    p.add_argument("--second-visit", action="store_true", help="open with the second-visit (二访) script")
    p.add_argument("--timeout", type=float, metavar="S", help="no-input timeout in seconds (default 4)")

    p = add("report", cmd_report, "summarise a call record for the trainer")
    p.add_argument("call", metavar="CALL", help="a call folder (calls/<time>), or a folder of calls with --follow-ups")
    p.add_argument("--follow-ups", action="store_true", help="list every follow-up across the calls in the folder")
    p.add_argument("--json", action="store_true")


# ---------------------------------------------------------------- parser

KB_HELP = "script book folder (default: $VOICEBOT_KB, ./scripts_kb, or the shipped book)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voicebot", description="Offline Mandarin voice-bot for rehearsing 10086 outbound calls "
        "against the book of standard answers (口径).", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kb", metavar="DIR", default=None, help=KB_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Callable[..., int], help: str, parent: Any = sub) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        # --kb after the subcommand too (`voicebot kb check --kb DIR`); SUPPRESS keeps the value
        # given before the subcommand when it is not repeated after it.
        p.add_argument("--kb", metavar="DIR", default=argparse.SUPPRESS, help=KB_HELP)
        return p

    kb = sub.add_parser("kb", help="check, list or copy the script book", description="The script book.")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    p = add("check", cmd_kb_check, "load every file and report each problem as file:line: message", kb_sub)
    p.add_argument("--json", action="store_true", help="one JSON object with the problems")
    p = add("list", cmd_kb_list, "print the entries", kb_sub)
    p.add_argument("--json", action="store_true", help="one JSON array of all entries with all their fields")
    p.add_argument("--category", help="only this category")
    p = add("init", cmd_kb_init, "copy the shipped book into DIR for editing", kb_sub)
    p.add_argument("dir", metavar="DIR")

    p = add("match", cmd_match, "which entry each customer line is, with score, runner-up and answer")
    p.add_argument("text", nargs="*", metavar="TEXT", help="customer lines; - reads one per line from stdin")
    p.add_argument("--json", action="store_true", help="one JSON object per line")

    for register in _EXTRA_COMMANDS:
        register(sub, add)
    return parser


# ---------------------------------------------------------------- voice (rendering ahead)

def cmd_voice_warm(args: argparse.Namespace, out: Out) -> int:
    import time
    from .tts import book_lines
    book = _load_kb(args)
    synth = _synthesizer(args, book)
    lines = book_lines(book)
    todo = [item for item in lines if not synth.cached(*item)]
    out.print(f"{synth.inner.name} voice {synth.voice_id('zh')}: {len(lines)} lines in the book, "
              f"{len(todo)} to render into {synth.cache_dir}", style="dim")
    start = time.monotonic()
    chars = sum(len(text) for text, _ in todo)
    if out.tty and todo:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
        columns = (TextColumn("rendering"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f} characters"),
                   TimeRemainingColumn(), TextColumn("{task.description}"))
        with Progress(*columns, console=out.console) as bar:
            task = bar.add_task("", total=chars)
            synth.warm(todo, on_line=lambda text, _: bar.update(task, advance=len(text),
                                                                   description=text[:16]))
    else:
        done = 0

        def each(text: str, fresh: bool) -> None:
            nonlocal done
            done += 1
            if done % 10 == 0 or done == len(todo):
                out.print(f"rendered {done}/{len(todo)}", style="dim")
        synth.warm(todo, on_line=each)
    spent = time.monotonic() - start
    out.print(f"rendered {len(todo)} lines ({chars} characters) in {spent:.0f} s; "
              f"{len(lines)} lines ready")
    return 0


def _register_voice(sub: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    p = sub.add_parser("voice", help="the bot's voice: render the book ahead of calls",
                       description="The bot's voice.")
    vsub = p.add_subparsers(dest="voice_command", metavar="ACTION", required=True)
    q = add("warm", cmd_voice_warm, "render every line the bot can say from the book into the cache", vsub)
    q.add_argument("--voice", help="女/男, a Kokoro voice or a pyttsx3 voice id (default: settings.yaml 声音)")
    q.add_argument("--rate", type=int, help="speaking rate (words per minute; Kokoro: 150 = natural)")


def _register_serve(sub: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    from .web.command import register
    register(sub, add)


_EXTRA_COMMANDS: list[Callable[[Any, Callable[..., argparse.ArgumentParser]], None]] = [
    _register_speech, _register_drill, _register_voice, _register_score, _register_serve]


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    out = Out()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    import signal
    import threading
    previous = None
    if threading.current_thread() is threading.main_thread():
        # SIGTERM unwinds like Ctrl-C, so a call being recorded ends with its closing `hangup`.
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return int(args.func(args, out) or 0)
    except VoicebotError as err:
        out.error(str(err))
        return err.exit_code
    except KeyboardInterrupt:
        out.error("interrupted")
        return 130
    except Terminated:
        out.error("terminated")
        return 143
    except BrokenPipeError:
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())

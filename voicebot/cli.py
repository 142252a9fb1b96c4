"""The `voicebot` command: the only place that prints for people.

Exit codes: 0 ok · 1 failure · 2 usage · 3 audio file · 4 audio device · 5 model · 6 script book ·
7 text-to-speech · 130 interrupted.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

from .errors import VoicebotError

EXIT_USAGE = 2
EXIT_KB = 6

EPILOG = """\
commands, from the book to a whole call:
  kb check|list|init   the script book in scripts_kb/ (trainers edit it)
  match TEXT...        which book entry a customer line is, and the standard answer
  transcribe FILE...   what the recogniser hears in audio files
  say TEXT             speak a line (or write it with -o out.wav)
  devices              microphones and speakers
  models list|download speech models
  simulate WAV...      a whole call, the customer's side from WAV files
  demo                 a demo call from a shipped customer recording
  call                 a live call on microphone and speaker
  chat                 the same call, typed
  report CALL          a call record summarised for the trainer
  drill                the bot plays the customer, you answer, you get scored
  progress             a trainee's mastery per category

exit codes: 0 ok, 1 failure, 2 usage, 3 audio file, 4 audio device, 5 model,
            6 script book, 7 text-to-speech, 130 interrupted
"""


class Out:
    """Human output: rich colours and tables only on a terminal; plain text otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self._console = None

    @property
    def console(self) -> Any:
        if self._console is None:
            from rich.console import Console
            self._console = Console(highlight=False, no_color=not self.tty, soft_wrap=True)
        return self._console

    def print(self, text: str = "", style: str | None = None) -> None:
        if self.tty:
            self.console.print(text, style=style, markup=False)
        else:
            print(text, flush=True)

    def error(self, text: str) -> None:
        if sys.stderr.isatty() and not os.environ.get("NO_COLOR"):
            print(f"\x1b[31mvoicebot: {text}\x1b[0m", file=sys.stderr)
        else:
            print(f"voicebot: {text}", file=sys.stderr)


def emit_json(obj: Any) -> None:
    """One JSON object per line, flushed, so a pipe sees each as it happens."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------- kb

def _load_kb(args: argparse.Namespace) -> Any:
    from . import kb
    return kb.load(args.kb)


def cmd_kb_check(args: argparse.Namespace, out: Out) -> int:
    book = _load_kb(args)
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
    if out.tty:
        from rich.table import Table
        table = Table("id", "category", "source", "customer", "answer", "action")
        for e in entries:
            table.add_row(e.id, e.category, e.source, e.customer[0] if e.customer else "",
                          (book.fill(e.answer[0]) if e.answer else e.ask or "")[:40], e.action)
        out.console.print(table)
    else:
        for e in entries:
            answer = book.fill(e.answer[0]) if e.answer else (e.ask or "")
            print(f"{e.id}\t{e.category}\t{e.source}\t{e.customer[0] if e.customer else ''}\t{answer}\t{e.action}")
    return 0


def cmd_kb_init(args: argparse.Namespace, out: Out) -> int:
    from .kb import default_kb_dir
    source = default_kb_dir()
    dest = Path(args.dir)
    if dest.exists() and any(dest.iterdir()):
        raise VoicebotError(f"{dest} is not empty: choose a new folder for your copy of the book")
    shutil.copytree(source, dest, dirs_exist_ok=True)
    out.print(f"copied the book from {source} to {dest}; use it with --kb {dest} or VOICEBOT_KB={dest}")
    return 0


# ---------------------------------------------------------------- match

def cmd_match(args: argparse.Namespace, out: Out) -> int:
    from .matcher import Matcher
    book = _load_kb(args)
    matcher = Matcher(book)
    lines: list[str] = list(args.text)
    if lines == ["-"]:
        lines = [line.rstrip("\n") for line in sys.stdin]
    if not lines:
        raise VoicebotError("no text to match: give customer lines as arguments, or - to read them from stdin")
    for line in lines:
        m = matcher.match(line)
        entry = m.entry
        answer = " ".join(book.fill(a) for a in entry.answer) if entry and entry.answer_mode == "sequence" \
            else (book.fill(entry.answer[0]) if entry and entry.answer else None)
        if entry is not None and entry.ask:
            answer = ((answer + " ") if answer else "") + book.fill(entry.ask)
        if entry is None:
            off = book.protocol("off_topic")
            answer = book.fill(off.get("prompts", [off.get("ask", "")])[0]) if off else None
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


# ---------------------------------------------------------------- parser

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voicebot", description="Offline Mandarin voice-bot for rehearsing 10086 outbound calls "
        "against the book of standard answers (口径).", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kb", metavar="DIR", default=None,
                        help="script book folder (default: $VOICEBOT_KB, ./scripts_kb, or the shipped book)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Callable[..., int], help: str, parent: Any = sub) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
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


_EXTRA_COMMANDS: list[Callable[[Any, Callable[..., argparse.ArgumentParser]], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    out = Out()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args, out) or 0)
    except VoicebotError as err:
        out.error(str(err))
        return err.exit_code
    except KeyboardInterrupt:
        out.error("interrupted")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())

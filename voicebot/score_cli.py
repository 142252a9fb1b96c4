"""`voicebot score`: a recorded call scored against the book.

    voicebot score call.wav --agent-channel left            # a call centre's two-channel recording
    voicebot score call.wav --agent-channel right --json    # one JSON object
    voicebot score calls/20261130-101500/ --html call.html  # one of our call records (the bot is the agent)

Registered into the main parser by `register(sub, add)` (see `voicebot.cli._EXTRA_COMMANDS`).
It never imports `cli`: the printer both use lives in `console`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

from .errors import OutputError, VoicebotError


class UsageError(VoicebotError):
    """The command was given the wrong arguments (exit 2, like argparse)."""

    exit_code = 2


class _LazyRecognizer:
    """Loads the recogniser on its first use, so a recording with a silent channel (or two channels
    holding the same audio) is reported before the model loads."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._rec: Any = None

    def transcribe(self, samples: Any) -> Any:
        if self._rec is None:
            from .asr import for_scoring, load_recognizer
            rec, note = load_recognizer(self.args.asr, self.args.model)
            self._rec = for_scoring(rec)
            print(note, file=sys.stderr, flush=True)
        return self._rec.transcribe(samples)


def cmd_score(args: argparse.Namespace, out: Any) -> int:
    from .console import emit_json
    from .kb import load
    from .matcher import Matcher
    from .score import check_two_channels, format_report, score_record, score_recording

    path = Path(args.call)
    book = load(args.kb)
    matcher = Matcher(book)
    if path.is_dir():
        result = score_record(path, book, matcher)
    else:
        if args.agent_channel is None:
            raise UsageError(f"{path}: which channel is the agent? give --agent-channel left or right "
                             "(call centres record agent and customer on separate channels)")
        check_two_channels(path)   # a missing, broken or mono file says so before the recogniser loads
        result = score_recording(path, args.agent_channel, book, matcher, _LazyRecognizer(args))
    if args.html:
        from .score_html import render
        html_path = Path(args.html)
        try:
            html_path.write_text(render(result), encoding="utf-8")
        except OSError as err:
            raise OutputError(f"{html_path}: cannot write the page ({err.strerror or err}): "
                              "give --html a file in a folder you can write") from err
    if args.json:
        emit_json(result.to_dict())
    else:
        for line in format_report(result):
            out.print(line)
        if args.html:
            out.print(f"page: {args.html}", style="dim")
    return 0


def register(sub: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `score` to the main parser (called from cli.build_parser)."""
    p = add("score", cmd_score, "score a recorded call: each challenge's answer, the words to avoid, the protocols")
    p.add_argument("call", metavar="CALL", help="a two-channel WAV (with --agent-channel) or one of our call "
                                                "folders (calls/<time>/)")
    p.add_argument("--agent-channel", choices=["left", "right"], help="the channel the agent is on (WAV only)")
    p.add_argument("--json", action="store_true", help="one JSON object: score, exchanges, rules, protocols, timeline")
    p.add_argument("--html", metavar="FILE", help="also write a self-contained HTML page of the scored call")
    p.add_argument("--asr", choices=["auto", "vosk", "whisper"], default="whisper",
                   help="recogniser for the recording (default whisper)")
    p.add_argument("--model", metavar="PATH", help="speech model folder")

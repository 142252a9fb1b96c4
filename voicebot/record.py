"""The call record: a JSON-lines transcript written as the call goes, and the trainer's report.

Each event is one line, flushed and fsynced as it happens, so a call killed mid-way keeps every
event (and every follow-up record) made before the kill. A torn last line is skipped on reading.
"""
from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Iterable, Iterator

EVENTS_FILE: Final = "events.jsonl"
RECORDING_FILE: Final = "recording.wav"
FOLLOW_UP_KINDS: Final = ("complaint", "suggestion", "do_not_call", "sensitive", "earlier_problem", "callback",
                          "cancel", "no_response", "escalation", "abroad_ringback")


def new_call_dir(base: str | os.PathLike[str] = "calls") -> Path:
    """A fresh folder named by local time (a suffix keeps two calls in one second apart)."""
    base = Path(base)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        path = base / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot create a call folder under {base}")


class CallLog:
    """Appends events to `events.jsonl`, one durable line each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / EVENTS_FILE
        self._file = open(self.path, "a", encoding="utf-8")

    def write(self, event: dict[str, Any]) -> None:
        self._file.write(json.dumps(event, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> "CallLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_events(folder: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Events of a call; a line torn by a kill is skipped."""
    path = Path(folder)
    if path.is_dir():
        path = path / EVENTS_FILE
    events = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events


@dataclass
class Report:
    """What a trainer wants to know about one call."""

    folder: str
    turns: int = 0
    duration_s: float = 0.0
    matched: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    protocols: dict[str, int] = field(default_factory=dict)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    ended: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def report(folder: str | os.PathLike[str]) -> Report:
    """Summarise a call: turns, matched entries and scores, unmatched lines, protocols, follow-ups."""
    events = read_events(folder)
    rep = Report(str(folder))
    protocols: Counter[str] = Counter()
    for ev in events:
        kind = ev.get("type")
        rep.duration_s = max(rep.duration_s, float(ev.get("t", 0.0)))
        if kind == "heard":
            rep.turns += 1
            if ev.get("entry"):
                rep.matched.append({"t": ev.get("t"), "text": ev.get("text"), "entry": ev["entry"],
                                    "score": ev.get("score")})
            elif ev.get("text"):
                rep.unmatched.append(ev["text"])
        elif kind == "say" and ev.get("reason") not in ("answer", "branch", "ask", "continue", "opening"):
            protocols[str(ev.get("reason"))] += 1
        elif kind == "record":
            rep.follow_ups.append({"t": ev.get("t"), "kind": ev.get("kind"), "text": ev.get("text"),
                                   "entry": ev.get("entry")})
        elif kind == "hangup":
            rep.ended = ev.get("reason")
    rep.protocols = dict(protocols)
    return rep


def call_folders(base: str | os.PathLike[str]) -> Iterator[Path]:
    """Every call folder under `base` (itself included), oldest first."""
    base = Path(base)
    found = [p.parent for p in base.rglob(EVENTS_FILE)]
    yield from sorted(found)


def open_follow_ups(base: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every follow-up record across the calls in a folder, for the trainer's to-do list."""
    rows = []
    for folder in call_folders(base):
        for item in report(folder).follow_ups:
            rows.append({"call": str(folder)} | item)
    return rows


def format_report(rep: Report) -> Iterable[str]:
    """Plain lines for people."""
    yield f"call {rep.folder}: {rep.turns} customer turns, {rep.duration_s:.1f} s, ended: {rep.ended or 'open'}"
    if rep.matched:
        yield "matched:"
        for m in rep.matched:
            yield f"  {m['t']:>6.1f}s  {m['entry']:<24} {m['score'] if m['score'] is not None else '':>5}  {m['text']}"
    if rep.unmatched:
        yield "unmatched:"
        for text in rep.unmatched:
            yield f"  {text}"
    if rep.protocols:
        yield "protocols: " + ", ".join(f"{k}×{v}" for k, v in sorted(rep.protocols.items()))
    if rep.follow_ups:
        yield "follow-ups:"
        for f in rep.follow_ups:
            yield f"  {f['t']:>6.1f}s  {f['kind']:<16} {f['text']}"

"""The call record: a JSON-lines transcript written as the call goes, and the trainer's report.

Each event is one line, flushed and fsynced as it happens, so a call killed mid-way keeps every
event (and every follow-up record) made before the kill. On reading,
damaged lines (a last line torn inside a UTF-8 character, a line that is not an event) are skipped
and counted, and odd values are read as well as they can be: a report never fails on a damaged
record, and one bad call never hides the others. Output errors are one-line `OutputError`s.
"""
from __future__ import annotations

import errno
import json
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Iterable, Iterator

from .errors import OutputError, VoicebotError

EVENTS_FILE: Final = "events.jsonl"
RECORDING_FILE: Final = "recording.wav"
FOLLOW_UP_KINDS: Final = ("complaint", "suggestion", "do_not_call", "sensitive", "earlier_problem", "callback",
                          "cancel", "no_response", "escalation", "abroad_ringback")


def _output_error(path: Path, err: OSError, what: str) -> OutputError:
    """One line for an output that cannot be written: what, why, and the fix."""
    reason = err.strerror or str(err)
    if err.errno == errno.ENOSPC or err.errno == errno.EDQUOT:
        fix = "disk full: free some space, or give --out a folder on another disk"
    elif err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = f"{reason}: give --out a folder you can write, e.g. --out ~/calls"
    elif err.errno in (errno.ENOTDIR, errno.EEXIST):
        fix = f"{reason}: --out must name a folder (it is created if missing), not a file"
    else:
        fix = f"{reason}: check the folder, or give --out another folder"
    return OutputError(f"{path}: cannot {what} ({fix})")


def new_call_dir(base: str | os.PathLike[str] = "calls") -> Path:
    """A fresh folder named by local time (a suffix keeps two calls in one second apart).

    Raises OutputError (one line with the fix) when `base` is a file, unwritable, or the disk is full.
    """
    base = Path(base)
    if base.exists() and not base.is_dir():
        raise OutputError(f"{base}: is a file, not a folder: give --out a folder for the call records "
                          f"(it is created if missing), e.g. --out calls")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        path = base / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            if path.parent.exists() and not path.parent.is_dir():
                raise OutputError(f"{path.parent}: is a file, not a folder: give --out a folder") from None
            continue
        except OSError as err:
            raise _output_error(base, err, "create a call folder") from err
    raise OutputError(f"cannot create a call folder under {base} (1000 calls this second?): give --out another folder")


def remove_if_empty(folder: Path) -> None:
    """Remove a call folder that nothing was written to (a call stopped before its first event)."""
    try:
        folder.rmdir()      # only succeeds on an empty folder
    except OSError:
        pass


class CallLog:
    """Appends events to `events.jsonl`, one durable line each.

    Every failure to write is an OutputError (one line with the fix), never a raw OSError; a line
    that could not be written whole is cut off again, so the file stays a list of whole lines.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / EVENTS_FILE
        try:
            self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as err:
            raise _output_error(self.path, err, "create the call record") from err

    @property
    def closed(self) -> bool:
        return self._fd is None

    def write(self, event: dict[str, Any]) -> None:
        if self._fd is None:
            raise OutputError(f"{self.path}: the call record is already closed")
        data = (json.dumps(event, ensure_ascii=False) + "\n").encode("utf-8")
        fd = self._fd
        try:
            start = os.lseek(fd, 0, os.SEEK_END)
        except OSError:
            start = None
        view = memoryview(data)
        try:
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except OSError as err:
            if start is not None:
                try:
                    os.ftruncate(fd, start)   # no torn line left behind
                except OSError:
                    pass
            raise _output_error(self.path, err, "write the call record") from err
        except BaseException:
            # Ctrl-C or SIGTERM in the middle of a line: no torn line either (the closing
            # `hangup` written next must start on a line of its own).
            if view and start is not None:
                try:
                    os.ftruncate(fd, start)
                except OSError:
                    pass
            raise

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> "CallLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


MAX_LINE_BYTES: Final = 1 << 20
"""A record line longer than this is damage (a real event is a few hundred bytes): skipped."""


@dataclass
class Events:
    """The readable events of a call record and how many lines were skipped as damaged."""

    events: list[dict[str, Any]]
    skipped: int = 0


def _events_path(folder: str | os.PathLike[str]) -> Path:
    path = Path(folder)
    return path / EVENTS_FILE if path.is_dir() else path


def load_events(folder: str | os.PathLike[str]) -> Events:
    """Events of a call, damaged lines skipped and counted.

    A line is damaged when it is torn (a kill mid-write, often inside a UTF-8 character), not JSON,
    not a JSON object, or has no `type`. Raises VoicebotError (one line) when the record cannot be
    read at all (missing, a folder, unreadable).
    """
    path = _events_path(folder)
    events: list[dict[str, Any]] = []
    skipped = 0
    try:
        with open(path, "rb") as f:
            while True:
                raw = f.readline(MAX_LINE_BYTES + 1)
                if not raw:
                    break
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    while raw and not raw.endswith(b"\n"):   # drop the rest of the giant line
                        raw = f.readline(MAX_LINE_BYTES)
                    skipped += 1
                    continue
                if not raw.strip():
                    continue
                event = _parse_line(raw)
                if event is None:
                    skipped += 1
                else:
                    events.append(event)
    except IsADirectoryError:
        raise VoicebotError(f"{path}: is a folder, not a call record: give the call folder that holds "
                            f"{EVENTS_FILE}") from None
    except FileNotFoundError:
        raise VoicebotError(f"{path}: no call record here: give a folder under calls/") from None
    except OSError as err:
        raise VoicebotError(f"{path}: cannot read the call record ({err.strerror or err}): "
                            "check its permissions") from err
    return Events(events, skipped)


def _parse_line(raw: bytes) -> dict[str, Any] | None:
    text = raw.decode("utf-8", errors="replace").strip().lstrip("\ufeff")
    try:
        event = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return None
    return event


def read_events(folder: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Events of a call; damaged lines (torn by a kill, not JSON, no `type`) are skipped."""
    return load_events(folder).events


def _num(value: Any) -> float | None:
    """A finite number from a number or a numeric string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _str(value: Any) -> str | None:
    """Text for people from whatever a damaged record holds (None stays None)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _fields(value: Any) -> dict[str, str]:
    """A record's `fields` ({"number": "139…", "verdict": "accepted"}) as text, or {}."""
    if not isinstance(value, dict):
        return {}
    return {str(k): _str(v) or "" for k, v in value.items()}


@dataclass
class Report:
    """What a trainer wants to know about one call."""

    folder: str
    turns: int = 0
    duration_s: float = 0.0
    matched: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    branched: list[dict[str, Any]] = field(default_factory=list)
    """Customer turns answered by a branch of the question asked back (not unmatched)."""
    protocols: dict[str, int] = field(default_factory=dict)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    ended: str | None = None
    skipped_lines: int = 0
    """Damaged lines of events.jsonl left out (torn, not JSON, not an event)."""

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def report(folder: str | os.PathLike[str]) -> Report:
    """Summarise a call: turns, matched entries and scores, unmatched lines, protocols, follow-ups.

    Reads any damaged record: bad lines are skipped and counted in `skipped_lines`; odd values
    (a `t` that is text or null, numbers written as strings) are read as well as they can be.
    """
    loaded = load_events(folder)
    rep = Report(str(folder), skipped_lines=loaded.skipped)
    protocols: Counter[str] = Counter()
    for ev in loaded.events:
        kind = ev.get("type")
        t = _num(ev.get("t"))
        if t is not None:
            rep.duration_s = max(rep.duration_s, t)
        if kind == "heard":
            rep.turns += 1
            text = _str(ev.get("text"))
            entry = _str(ev.get("entry"))
            by = ev.get("handled_by") or ev.get("branch") or ev.get("reply_to")
            if entry:
                rep.matched.append({"t": t, "text": text, "entry": entry, "score": _num(ev.get("score"))})
            elif by:
                rep.branched.append({"t": t, "text": text, "by": _str(ev.get("reply_to") or ev.get("handled_by")),
                                     "branch": _str(ev.get("branch"))})
            elif text:
                rep.unmatched.append(text)
        elif kind == "say" and ev.get("reason") not in ("answer", "branch", "ask", "continue", "opening"):
            protocols[_str(ev.get("reason")) or "unknown"] += 1
        elif kind == "record":
            rep.follow_ups.append({"t": t, "kind": _str(ev.get("kind")) or "unknown", "text": _str(ev.get("text")),
                                   "entry": _str(ev.get("entry")), "fields": _fields(ev.get("fields"))})
        elif kind == "hangup":
            rep.ended = _str(ev.get("reason")) or "hangup"
    rep.protocols = dict(protocols)
    return rep


def call_folders(base: str | os.PathLike[str]) -> Iterator[Path]:
    """Every call folder under `base` (itself included), oldest first; unreadable subfolders are passed over."""
    base = Path(base)
    found: list[Path] = []
    for root, dirs, files in os.walk(base, onerror=lambda err: None):
        if EVENTS_FILE in files or EVENTS_FILE in dirs:
            found.append(Path(root))
        dirs[:] = [d for d in dirs if d != EVENTS_FILE]
    yield from sorted(found)


@dataclass
class FollowUps:
    """Follow-ups across calls, and a warning line for each call that could not be read whole."""

    rows: list[dict[str, Any]]
    warnings: list[str]


def collect_follow_ups(base: str | os.PathLike[str]) -> FollowUps:
    """Every follow-up record across the calls in a folder; one bad call never hides the others."""
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    for folder in call_folders(base):
        try:
            rep = report(folder)
        except VoicebotError as err:
            warnings.append(f"{folder}: skipped: {err}")
            continue
        except Exception as err:  # noqa: BLE001 - a record we did not foresee must not hide the others
            warnings.append(f"{folder}: skipped: unreadable call record ({type(err).__name__}: {err})")
            continue
        if rep.skipped_lines:
            warnings.append(f"{folder}: {rep.skipped_lines} damaged line(s) in {EVENTS_FILE} skipped")
        for item in rep.follow_ups:
            rows.append({"call": str(folder)} | item)
    return FollowUps(rows, warnings)


def open_follow_ups(base: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every follow-up record across the calls in a folder, for the trainer's to-do list."""
    return collect_follow_ups(base).rows


def _t(value: Any) -> str:
    return f"{value:>6.1f}s" if isinstance(value, (int, float)) else "     ?s"


def format_fields(fields: dict[str, Any] | None) -> str:
    """`number=139… verdict=accepted`, or '' when there are none."""
    return " ".join(f"{k}={v}" for k, v in (fields or {}).items())


def format_follow_up(row: dict[str, Any]) -> str:
    """One follow-up as a line: time, kind, text, fields (and the call when across calls)."""
    call = f"{row['call']}  " if "call" in row else "  "
    extra = format_fields(row.get("fields"))
    return f"{call}{_t(row.get('t'))}  {str(row.get('kind')):<16} {row.get('text') or ''}" + (f"  [{extra}]" if extra else "")


def format_report(rep: Report) -> Iterable[str]:
    """Plain lines for people."""
    yield f"call {rep.folder}: {rep.turns} customer turns, {rep.duration_s:.1f} s, ended: {rep.ended or 'open'}"
    if rep.skipped_lines:
        yield f"skipped {rep.skipped_lines} damaged line(s) in {EVENTS_FILE} (torn or not an event)"
    if rep.matched:
        yield "matched:"
        for m in rep.matched:
            score = m["score"] if m["score"] is not None else ""
            yield f"  {_t(m['t'])}  {m['entry']:<24} {score:>5}  {m['text'] or ''}"
    if rep.branched:
        yield "answered by a branch:"
        for b in rep.branched:
            by = " ".join(x for x in (b.get("by"), b.get("branch")) if x)
            yield f"  {_t(b['t'])}  {by:<24} {b['text'] or ''}"
    if rep.unmatched:
        yield "unmatched:"
        for text in rep.unmatched:
            yield f"  {text}"
    if rep.protocols:
        yield "protocols: " + ", ".join(f"{k}×{v}" for k, v in sorted(rep.protocols.items()))
    if rep.follow_ups:
        yield "follow-ups:"
        for f in rep.follow_ups:
            yield format_follow_up(f)

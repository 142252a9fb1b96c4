"""A harness for whole scripted calls (like pipecat's `run_test`): feed typed customer lines through
`voicebot chat --json`, split the events into turns, check each turn's expectations.

A call is a dict as in tests/data/conversations.yaml: `turns` of `customer` + `expect`, and an
optional `final`. `run_call` returns the events; `check_call` returns the failures (empty = pass).
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any

from voicebot import cli

ANY: str = "*"


def run_chat(lines: list[str], out_dir: Path, kb: str | None = None, extra: list[str] | None = None) -> tuple[int, list[dict[str, Any]]]:
    """Run `voicebot chat --json` in-process with `lines` on stdin; (exit code, events)."""
    stdin = io.StringIO("".join(line + "\n" for line in lines))
    stdout = io.StringIO()
    argv = (["--kb", kb] if kb else []) + ["chat", "--json", "--out", str(out_dir)] + (extra or [])
    old = sys.stdin
    sys.stdin = stdin
    try:
        with contextlib.redirect_stdout(stdout):
            code = cli.main(argv)
    finally:
        sys.stdin = old
    events = [json.loads(line) for line in stdout.getvalue().splitlines() if line.startswith("{")]
    return code, events


def split_turns(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """[opening events, turn 1 events, …]: a turn starts at each `heard` or `silence` event."""
    turns: list[list[dict[str, Any]]] = [[]]
    for ev in events:
        if ev["type"] in ("heard", "silence"):
            turns.append([])
        turns[-1].append(ev)
    return turns


def _fields_ok(want: dict[str, Any], got: dict[str, Any]) -> bool:
    for key, value in want.items():
        if key not in got:
            return False
        if value == ANY:
            if got[key] in (None, "", [], {}):
                return False
        elif str(got[key]) != str(value) and got[key] != value:
            return False
    return True


def _record_ok(want: dict[str, Any], records: list[dict[str, Any]]) -> bool:
    for r in records:
        if r.get("kind") != want.get("kind"):
            continue
        if not _fields_ok(want.get("fields") or {}, r.get("fields") or {}):
            continue
        if not all(w in (r.get("text") or "") for w in want.get("text_contains") or []):
            continue
        return True
    return False


def check_turn(expect: dict[str, Any], evs: list[dict[str, Any]]) -> list[str]:
    says = [e for e in evs if e["type"] == "say"]
    reasons = [e["reason"] for e in says]
    entries = [e["entry"] for e in says if e.get("entry")]
    heard = next((e for e in evs if e["type"] == "heard"), {})
    answered = list(dict.fromkeys(entries + (heard.get("entries") or []) + ([heard["entry"]] if heard.get("entry") else [])))
    text = "".join(e["text"] for e in says)
    records = [e for e in evs if e["type"] == "record"]
    # The input running out after the last line is the test's doing, not the bot's.
    hangup = next((e["reason"] for e in evs if e["type"] == "hangup" and e["reason"] != "end_of_input"), None)
    fails = []
    if "entry" in expect and expect["entry"] not in entries:
        fails.append(f"entry {expect['entry']} not answered (said: {entries or reasons})")
    if "entries" in expect:
        order = [e for e in dict.fromkeys(entries) if e in expect["entries"]]
        if order != list(expect["entries"]):
            fails.append(f"entries {expect['entries']} not answered in order (said: {list(dict.fromkeys(entries))})")
    if "not_entry" in expect and expect["not_entry"] in entries:
        fails.append(f"answered from {expect['not_entry']}")
    for r in expect.get("reasons") or []:
        if r not in reasons:
            fails.append(f"no say with reason {r} (reasons: {reasons})")
    for r in expect.get("not_reasons") or []:
        if r in reasons:
            fails.append(f"said a line with reason {r}")
    for w in expect.get("say_contains") or []:
        if w not in text:
            fails.append(f"bot did not say {w!r}")
    for w in expect.get("say_not_contains") or []:
        if w in text:
            fails.append(f"bot said {w!r}")
    if "record" in expect and not _record_ok(expect["record"], records):
        fails.append(f"no record {expect['record']} (records: {[(r['kind'], r.get('fields')) for r in records]})")
    for kind in expect.get("no_record") or []:
        if any(r["kind"] == kind for r in records):
            fails.append(f"unexpected {kind} record")
    if "escalate" in expect:
        escalated = any(e["type"] == "escalate" for e in evs)
        if escalated != bool(expect["escalate"]):
            fails.append(f"escalate is {escalated}")
    if "hangup" in expect:
        want = expect["hangup"]
        if want is False and hangup is not None:
            fails.append(f"hung up ({hangup})")
        elif want not in (False, None) and want != "any" and hangup != want:
            fails.append(f"hangup {hangup!r}, expected {want!r}")
        elif want == "any" and hangup is None:
            fails.append("did not hang up")
    return fails


def check_final(final: dict[str, Any], events: list[dict[str, Any]]) -> list[str]:
    fails = []
    records = [e for e in events if e["type"] == "record"]
    # The opening names the caller (北京移动10086客服): what the bot says after it is what is checked.
    text = "".join(e["text"] for e in events if e["type"] == "say" and e.get("reason") != "opening")
    for kind in final.get("no_record") or []:
        if any(r["kind"] == kind for r in records):
            fails.append(f"final: unexpected {kind} record")
    for want in final.get("records") or []:
        if not _record_ok(want, records):
            fails.append(f"final: no record {want} (records: {[(r['kind'], r.get('fields')) for r in records]})")
    for w in final.get("no_say_contains") or []:
        if w in text:
            fails.append(f"final: bot said {w!r}")
    for word, limit in (final.get("max_count") or {}).items():
        count = text.count(word)
        if count > limit:
            fails.append(f"final: {word} said {count} times (max {limit})")
    return fails


def check_call(call: dict[str, Any], out_dir: Path, kb: str | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    lines = [str(t.get("customer") or "") for t in call["turns"]]
    code, events = run_chat(lines, out_dir, kb)
    fails = [] if code == 0 else [f"exit code {code}"]
    turns = split_turns(events)
    for i, turn in enumerate(call["turns"], start=1):
        evs = turns[i] if i < len(turns) else []
        if not evs:
            fails.append(f"turn {i} ({turn.get('customer')!r}): the call had already ended")
            continue
        for f in check_turn(turn.get("expect") or {}, evs):
            fails.append(f"turn {i} ({turn.get('customer')!r}): {f}")
    fails += check_final(call.get("final") or {}, events)
    if not events or events[-1]["type"] != "hangup":
        fails.append("the record does not end with a hangup")
    return fails, events

"""Drill items beyond the book's entries, typed from `scripts_kb/drills.yaml`: the protocols and
service phrases (quiet voice, noisy line, dialect, silence, off-topic, second visit…) and whole
exchanges that follow one of the book's branches (问题28 not calmed, cancel with a callback, abroad).

An exercise is a list of steps. In each step the bot plays the customer (a line, maybe spoken
quietly or over noise, or nothing at all) and the trainee's turn is scored against the book's line
for that moment, named by reference so the words live once in the book:

    answer: {entry: q28_complain_agent}                   # the entry's answer and question back
    answer: {entry: q28_complain_agent, branch: [insist]} # what the book says down that branch
    answer: {protocol: speak_louder}                      # a protocol's line (protocols.yaml)
    answer: {protocol: no_response, line: closing}        # one field of a typed protocol
    answer: {protocol: off_topic, line: prompts, index: 1}

Shape problems are reported through `problem(line, message)`, never raised; `resolve` turns a
reference into lines (or says what is wrong with it) for `kb check` and for the drill.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Callable, Final, Mapping, Sequence

SITUATIONS: Final = ("normal", "quiet", "noisy", "dialect", "silence", "ringback")
"""How the bot plays the customer's line: as is, quietly (−20 dB), over line noise, in a dialect
wording (the line itself), not at all (the customer says nothing), or a foreign ringback tone
before anyone answers (特殊问题1: hang up)."""
SITUATION_LABELS: Final = {"normal": "", "quiet": "（客户声音很小）", "noisy": "（电话里很嘈杂）",
                           "dialect": "（客户说方言）", "silence": "（电话接通了，客户不说话）",
                           "ringback": "（接通前听到和平时不一样的嘟嘟声，国外的那种）"}
"""The stage direction printed before the customer's line (typed drills, and the terminal)."""
KINDS: Final = ("protocol", "exchange")
"""protocol: drills a service phrase or protocol of the book; exchange: follows one of its branches."""
_ID: Final = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True)
class AnswerRef:
    """Where the book's line for a step is."""

    entry: str | None = None
    """An entry id: its answer (and question back), or with `branch` the lines down a branch."""
    branch: tuple[str, ...] = ()
    """The `when` of each branch on the way (yes, no, insist, a phrase of the branch's list…)."""
    protocol: str | None = None
    """A protocol of protocols.yaml."""
    line: str | None = None
    """The protocol's field (prompt, closing, prompts…); default `say`."""
    index: int | None = None
    """For a field that holds several lines: which one (default all)."""
    lines: tuple[str, ...] = ()
    """Lines written out (placeholders allowed) where the book's line is in no entry or protocol."""


@dataclass(frozen=True)
class Step:
    """One turn: what the customer does, and what the trainee should say to it."""

    customer: str
    """The customer's line ('' when the customer says nothing)."""
    answer: AnswerRef
    situation: str = "normal"
    """One of SITUATIONS."""
    key_points: tuple[str, ...] = ()
    """What the trainee's turn must cover (default: the referenced entry's, else wording only)."""
    must_not: tuple[str, ...] = ()
    """Rule ids (rules.yaml) the turn is held to, besides the referenced entry's."""
    line: int = 0


@dataclass(frozen=True)
class Exercise:
    """A protocol drill or a whole exchange."""

    id: str
    kind: str
    """protocol or exchange."""
    category: str
    """What `voicebot drill --category` picks it by."""
    source: str
    """Where it stands in the book."""
    title: str
    """One line naming the situation (shown before the first step)."""
    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()
    file: str = ""
    line: int = 0


def _strs(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return tuple(str(v) for v in value)
    return None


def _ref(node: Any, where: str, problem: Callable[[str], None]) -> AnswerRef | None:
    if isinstance(node, (str, list)):
        lines = _strs(node)
        if lines:
            return AnswerRef(lines=lines)
    if not isinstance(node, dict):
        problem(f"{where}: `answer` must be {{entry: id}}, {{protocol: name}} or the book's lines")
        return None
    unknown = set(node) - {"entry", "branch", "protocol", "line", "index"}
    if unknown:
        problem(f"{where}: unknown key(s) in `answer`: {', '.join(sorted(map(str, unknown)))}")
    entry, protocol = node.get("entry"), node.get("protocol")
    if (entry is None) == (protocol is None):
        problem(f"{where}: `answer` names either an `entry` or a `protocol`")
        return None
    branch = _strs(node.get("branch"))
    if branch is None:
        problem(f"{where}: `branch` must be a list of `when` values")
        branch = ()
    index = node.get("index")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool) or index < 0):
        problem(f"{where}: `index` must be a whole number from 0")
        index = None
    return AnswerRef(entry=str(entry) if entry is not None else None, branch=branch,
                     protocol=str(protocol) if protocol is not None else None,
                     line=str(node["line"]) if node.get("line") is not None else None, index=index)


def build(data: Any, problem: Callable[[int, str], None], line_of: Callable[..., int]) -> tuple[Exercise, ...]:
    """Typed exercises from drills.yaml (a list); each problem goes to `problem(line, message)`."""
    if data is None:
        return ()
    if not isinstance(data, list):
        problem(1, "drills.yaml must be a YAML list of drills (each starting with `- id:`)")
        return ()
    out: list[Exercise] = []
    seen: set[str] = set()
    for node in data:
        line = line_of(node)
        if not isinstance(node, dict):
            problem(line, "a drill must be a mapping (id, kind, category, title, steps)")
            continue
        ex_id = node.get("id")
        if not isinstance(ex_id, str) or not _ID.match(ex_id):
            problem(line, f"drill id {ex_id!r} missing or not lowercase letters, digits and _")
            continue
        if ex_id in seen:
            problem(line, f"duplicate drill id '{ex_id}'")
            continue
        seen.add(ex_id)
        kind = node.get("kind") or "protocol"
        if kind not in KINDS:
            problem(line, f"{ex_id}: unknown kind '{kind}': use protocol or exchange")
            kind = "protocol"
        category = node.get("category")
        title = node.get("title")
        if not isinstance(category, str) or not category or not isinstance(title, str) or not title:
            problem(line, f"{ex_id}: needs a `category` and a `title`")
            category, title = str(category or "未分类"), str(title or ex_id)
        raw_steps = node.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            problem(line, f"{ex_id}: `steps` must be a non-empty list of {{customer, answer}}")
            continue
        steps: list[Step] = []
        for n, s in enumerate(raw_steps, 1):
            sline = line_of(s) or line
            where = f"{ex_id} step {n}"
            if not isinstance(s, dict):
                problem(sline, f"{where}: a step must be a mapping (customer, answer, situation)")
                continue
            customer = s.get("customer", "")
            situation = s.get("situation") or ("silence" if not customer else "normal")
            silent = situation in ("silence", "ringback")
            if not isinstance(customer, str):
                problem(sline, f"{where}: `customer` must be a line of text ('' for silence)")
                customer = ""
            if situation not in SITUATIONS:
                problem(sline, f"{where}: unknown situation '{situation}': use one of {', '.join(SITUATIONS)}")
                situation = "normal"
            if not customer and not silent:
                problem(sline, f"{where}: no `customer` line: give one, or `situation: silence`")
            ref = _ref(s.get("answer"), where, lambda msg: problem(sline, msg))
            key_points, must_not = _strs(s.get("key_points")), _strs(s.get("must_not"))
            if key_points is None or must_not is None:
                problem(sline, f"{where}: `key_points` and `must_not` must be lists")
                key_points, must_not = key_points or (), must_not or ()
            if ref is not None:
                steps.append(Step(customer=customer, answer=ref, situation=str(situation), key_points=key_points,
                                  must_not=must_not, line=sline))
        notes = _strs(node.get("notes")) or ()
        if steps:
            out.append(Exercise(id=ex_id, kind=str(kind), category=category, source=str(node.get("source") or ""),
                                title=title, steps=tuple(steps), notes=notes, line=line))
    return tuple(out)


def _branch_lines(branches: Sequence[Any], path: Sequence[str]) -> list[str]:
    """The lines said down a path of `when` values (say, then the question back)."""
    lines: list[str] = []
    current = branches
    for n, key in enumerate(path):
        found = next((b for b in current if b.when == key or (isinstance(b.when, tuple) and key in b.when)), None)
        if found is None:
            whens = ", ".join(w if isinstance(w, str) else w[0] + "…" for w in (b.when for b in current)) or "none"
            raise ValueError(f"no branch `{key}` there (the branches: {whens})")
        if n == len(path) - 1:
            lines = list(found.say) + ([found.ask] if found.ask else [])
        current = found.branches
    return lines


def resolve(ref: AnswerRef, entries: Mapping[str, Any], protocols: Any) -> list[str]:
    """The book's lines a reference names (placeholders unfilled); ValueError names what is wrong."""
    if ref.lines:
        return list(ref.lines)
    if ref.entry is not None:
        entry = entries.get(ref.entry)
        if entry is None:
            raise ValueError(f"unknown entry '{ref.entry}'")
        if not ref.branch:
            return list(entry.answer) + ([entry.ask] if entry.ask else [])
        lines = _branch_lines(entry.branches, ref.branch)
        if not lines:
            raise ValueError(f"the branch {'/'.join(ref.branch)} of {ref.entry} says nothing")
        return lines
    value = getattr(protocols, ref.protocol or "", None)
    if value is None or not dataclasses.is_dataclass(value):
        raise ValueError(f"unknown protocol '{ref.protocol}'")
    field = ref.line or "say"
    if not hasattr(value, field):
        names = ", ".join(f.name for f in dataclasses.fields(value))
        raise ValueError(f"protocol '{ref.protocol}' has no `{field}` (it has: {names})")
    got = getattr(value, field)
    lines = [got] if isinstance(got, str) else [x for x in got if isinstance(x, str)] if isinstance(got, tuple) else []
    if ref.index is not None:
        if ref.index >= len(lines):
            raise ValueError(f"protocol '{ref.protocol}' has {len(lines)} `{field}` line(s), no index {ref.index}")
        lines = [lines[ref.index]]
    lines = [x for x in lines if x]
    if not lines:
        raise ValueError(f"protocol '{ref.protocol}' has no `{field}` line to say")
    return lines

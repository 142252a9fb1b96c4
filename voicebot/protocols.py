"""The bot's own procedures (protocols.yaml), typed when the book is loaded.

Each protocol is a frozen dataclass; `SCHEMA` says which keys each one takes and of what shape, so
`kb check` can name the file and line of a protocol of the wrong shape (`no_response: 5`, a nested
list under `say:`) and the call never meets one. Defaults are empty: no spoken line lives in Python,
and an empty line is simply not said.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Final


@dataclass(frozen=True)
class Lines:
    """A protocol that is just lines to say (the next one on each repeat, the last one after that)."""

    say: tuple[str, ...] = ()
    """The lines, placeholders unfilled."""

    def line(self, index: int = 0) -> str:
        """The index-th line, or the last one; '' when there is none."""
        if not self.say:
            return ""
        return self.say[min(max(index, 0), len(self.say) - 1)]


@dataclass(frozen=True)
class SecondVisit:
    """二访口径: 1. identity 2. apology + number check 3. purpose 4. confirmation and goodbye."""

    identity: str = ""
    apology_confirm: str = ""
    purpose: str = ""
    closing: str = ""
    wrong_number: str = ""
    """Said when the customer is not the person the number belongs to."""


@dataclass(frozen=True)
class NoResponse:
    """特殊问题5: ask `prompt` `times` times, then `closing`, then hang up."""

    prompt: str = ""
    times: int = 2
    closing: str = ""
    record: str = "no_response"
    record_text: str = ""
    """What the record says (the book: 填单不接受回访拒绝)."""


@dataclass(frozen=True)
class OffTopic:
    """特殊问题6: the two working-hours lines, then `ask` `ask_times` times, then `closing` and a wait."""

    prompts: tuple[str, ...] = ()
    ask: str = ""
    ask_times: int = 3
    closing: str = ""


@dataclass(frozen=True)
class WordsToAvoid:
    """特殊问题3: each group of words (先生/女士, 咱/咱们, a filler 对) at most `cap` times a call."""

    cap: int = 3
    groups: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Ringback:
    """特殊问题1: a foreign ringback before the greeting: hang up, and file this record."""

    record: str = "abroad_ringback"
    record_text: str = ""


@dataclass(frozen=True)
class ComplaintListen:
    """特殊问题1(5): 让客户去说 — invite the customer to go on, then sum up and record."""

    listen: str = ""
    """Said once the customer starts complaining (before the book's answer)."""
    go_on: str = ""
    """Said between the customer's turns while they go on."""
    summary: str = ""
    """Said before the book's answer; {要点} is the customer's own words, shortened."""
    max_turns: int = 2
    """Substantive turns listened to before summing up."""


@dataclass(frozen=True)
class Protocols:
    """Every protocol of protocols.yaml."""

    opening: Lines = field(default_factory=Lines)
    second_visit: SecondVisit = field(default_factory=SecondVisit)
    no_response: NoResponse = field(default_factory=NoResponse)
    off_topic: OffTopic = field(default_factory=OffTopic)
    not_heard: Lines = field(default_factory=Lines)
    speak_louder: Lines = field(default_factory=Lines)
    noisy: Lines = field(default_factory=Lines)
    dialect: Lines = field(default_factory=Lines)
    closing: Lines = field(default_factory=Lines)
    thanks_prefix: Lines = field(default_factory=Lines)
    correction: Lines = field(default_factory=Lines)
    reask: Lines = field(default_factory=Lines)
    complaint: ComplaintListen = field(default_factory=ComplaintListen)
    words_to_avoid: WordsToAvoid = field(default_factory=WordsToAvoid)
    ringback: Ringback = field(default_factory=Ringback)
    escalate: Lines = field(default_factory=Lines)

    def spoken(self) -> list[str]:
        """Every line of every protocol (for rendering the voice ahead of time)."""
        out: list[str] = []

        def walk(value: Any) -> None:
            if isinstance(value, str):
                if value:
                    out.append(value)
            elif isinstance(value, tuple):
                for v in value:
                    walk(v)
            elif dataclasses.is_dataclass(value):
                for f in dataclasses.fields(value):
                    if f.name not in ("record", "record_text", "groups"):
                        walk(getattr(value, f.name))

        walk(self)
        return out


# Field shapes: "line" (a string), "lines" (a string or a list of strings), "count" (an integer ≥ 0),
# "groups" (a list of words or of lists of words), "record" (a record kind).
Shape = str
SCHEMA: Final[dict[str, tuple[type, dict[str, Shape]]]] = {
    "opening": (Lines, {"say": "lines"}),
    "second_visit": (SecondVisit, {"identity": "line", "apology_confirm": "line", "purpose": "line",
                                   "closing": "line", "wrong_number": "line"}),
    "no_response": (NoResponse, {"prompt": "line", "times": "count", "closing": "line", "record": "record",
                                 "record_text": "line"}),
    "off_topic": (OffTopic, {"prompts": "lines", "ask": "line", "ask_times": "count", "closing": "line"}),
    "not_heard": (Lines, {"say": "lines"}),
    "speak_louder": (Lines, {"say": "lines"}),
    "noisy": (Lines, {"say": "lines"}),
    "dialect": (Lines, {"say": "lines"}),
    "closing": (Lines, {"say": "lines"}),
    "thanks_prefix": (Lines, {"say": "lines"}),
    "correction": (Lines, {"say": "lines"}),
    "reask": (Lines, {"say": "lines"}),
    "complaint": (ComplaintListen, {"listen": "line", "go_on": "line", "summary": "line", "max_turns": "count"}),
    "words_to_avoid": (WordsToAvoid, {"cap": "count", "groups": "groups", "words": "groups"}),
    "ringback": (Ringback, {"record": "record", "record_text": "line", "foreign": "line"}),
    "escalate": (Lines, {"say": "lines"}),
}
REQUIRED: Final = ("opening", "no_response", "off_topic", "not_heard", "speak_louder", "noisy", "dialect",
                   "closing", "words_to_avoid", "thanks_prefix", "correction", "complaint")
"""Protocols a call cannot do without (kb check reports each one missing)."""
IGNORED_KEYS: Final = ("notes",)
"""Keys every protocol may carry for trainers; never spoken."""
MAX_COUNT: Final = 20
"""Counts (times, cap) above this are surely a typo: a call would ask 100 times."""

Report = Callable[[int, str], None]
"""problem(line, message)."""


def _shape_ok(value: Any, shape: Shape) -> tuple[bool, Any, str]:
    """(ok, converted value, what was expected)."""
    if shape == "line":
        if isinstance(value, str):
            return True, value, ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, str(value), ""
        return False, None, "a line of text"
    if shape == "lines":
        if isinstance(value, str):
            return True, (value,), ""
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return True, tuple(value), ""
        return False, None, "a line or a list of lines (no nested lists)"
    if shape == "count":
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT:
            return True, value, ""
        return False, None, f"a whole number from 0 to {MAX_COUNT}"
    if shape == "record":
        if isinstance(value, str) and value:
            return True, value, ""
        return False, None, "a record kind"
    if shape == "groups":
        if isinstance(value, list) and value:
            groups = []
            for v in value:
                if isinstance(v, str) and v:
                    groups.append((v,))
                elif isinstance(v, list) and v and all(isinstance(w, str) and w for w in v):
                    groups.append(tuple(v))
                else:
                    return False, None, "a list of words, or of lists of words counted together ([咱, 咱们])"
            return True, tuple(groups), ""
        return False, None, "a list of words, or of lists of words counted together ([咱, 咱们])"
    raise ValueError(shape)


def build(data: Any, problem: Report, line_of: Callable[[Any, Any], int], records: tuple[str, ...]) -> Protocols:
    """Typed protocols from the parsed protocols.yaml; every shape error is reported, never raised.

    `line_of(node, key)` gives the 1-based line of a key (0 if unknown).
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problem(1, "protocols.yaml must be a mapping of protocol names (opening:, no_response:, …)")
        data = {}
    for name in REQUIRED:
        if name not in data:
            problem(0, f"protocols.yaml has no `{name}` protocol: copy it from the shipped book (voicebot kb init)")
    built: dict[str, Any] = {}
    for name, node in data.items():
        name = str(name)
        line = line_of(data, name)
        if name not in SCHEMA:
            problem(line, f"unknown protocol `{name}`: use one of {', '.join(SCHEMA)}")
            continue
        cls, shapes = SCHEMA[name]
        if node is None:
            problem(line, f"`{name}` is empty: give its lines")
            continue
        if cls is Lines and not isinstance(node, dict):
            node = {"say": node}  # `dialect: 对不起…` is a natural shorthand for `dialect: {say: …}`
        if not isinstance(node, dict):
            problem(line, f"`{name}` must be a mapping of {', '.join(shapes)}, not {type(node).__name__}")
            continue
        values: dict[str, Any] = {}
        for key, value in node.items():
            key = str(key)
            kline = line_of(node, key) or line
            if key in IGNORED_KEYS:
                continue
            shape = shapes.get(key)
            if shape is None:
                problem(kline, f"`{name}` has an unknown key `{key}`: use {', '.join(shapes)}")
                continue
            ok, converted, expected = _shape_ok(value, shape)
            if not ok:
                problem(kline, f"`{name}.{key}` must be {expected}, not {value!r:.40}")
                continue
            if shape == "record" and converted not in records:
                problem(kline, f"`{name}.{key}`: unknown record '{converted}': use one of {', '.join(records)}")
                continue
            field_name = "groups" if key == "words" else key
            if key == "foreign":
                continue  # what to do on a foreign ringback: only "hangup" is meaningful, kept for trainers
            values[field_name] = converted
        if cls is Lines and not values.get("say") and name != "escalate":
            problem(line, f"`{name}` has no `say` lines")
        built[name] = cls(**values)
    return Protocols(**built)

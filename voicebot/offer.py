"""The business the call offers (来电目的), typed from `scripts_kb/offer.yaml`.

The call exists to offer one business. Its facts (price, what it includes, when it takes effect, how to
stop it, how long the offer runs) are settings the trainer fills in; offer.yaml holds the lines that
speak them and the ways customers ask for each. The business is opened only after explicit consent
and a second confirmation (二访 step 4, 问题23).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Final

from .replies import valid_patterns

LINES: Final = ("pitch", "ask", "confirm", "reconfirm", "accepted", "declined", "undecided", "brief")
REQUIRED_LINES: Final = ("pitch", "ask", "confirm", "accepted", "declined")


@dataclass(frozen=True)
class Topic:
    """One thing customers ask about the offer (price, content, …) and the line that answers it."""

    name: str
    say: str
    customer: tuple[str, ...]
    patterns: tuple[str, ...] = ()
    """Regular expressions over the squashed line (no spaces or punctuation) that ask it."""
    line: int = 0


@dataclass(frozen=True)
class Offer:
    """The offer's lines (placeholders unfilled) and its topics."""

    pitch: str = ""
    """What the business is, said when the customer agrees to hear about it."""
    ask: str = ""
    """The question that asks for consent (您看需要为您开通吗？)."""
    confirm: str = ""
    """二次确认: the facts once more and 您确认办理吗？"""
    reconfirm: str = ""
    """Said when the answer to the confirmation was not an explicit yes (嗯)."""
    accepted: str = ""
    declined: str = ""
    undecided: str = ""
    """The polite close when the customer would not say yes or no."""
    brief: str = ""
    """The offer in one sentence (a customer abroad who wants to talk now)."""
    topics: tuple[Topic, ...] = ()

    def topic(self, name: str) -> Topic | None:
        return next((t for t in self.topics if t.name == name), None)

    def spoken(self) -> list[str]:
        return [getattr(self, n) for n in LINES if getattr(self, n)] + [t.say for t in self.topics]


def build(data: Any, problem: Callable[[int, str], None], line_of: Callable[[Any, Any], int]) -> Offer:
    """Typed offer from parsed offer.yaml; shape errors are reported, never raised."""
    if data is None:
        problem(0, "offer.yaml is empty: copy it from the shipped book (voicebot kb init)")
        return Offer()
    if not isinstance(data, dict):
        problem(1, "offer.yaml must be a mapping (pitch:, ask:, confirm:, …, topics:)")
        return Offer()
    values: dict[str, Any] = {}
    for key, value in data.items():
        key = str(key)
        line = line_of(data, key)
        if key == "notes":
            continue
        if key == "topics":
            continue
        if key not in LINES:
            problem(line, f"offer.yaml: unknown key `{key}`: use {', '.join(LINES)} or topics")
            continue
        if not isinstance(value, str) or not value.strip():
            problem(line, f"offer.yaml: `{key}` must be a line of text")
            continue
        values[key] = value
    for key in REQUIRED_LINES:
        if key not in values:
            problem(0, f"offer.yaml has no `{key}` line")
    topics = []
    node = data.get("topics")
    if not isinstance(node, dict) or not node:
        problem(line_of(data, "topics"), "offer.yaml: `topics` must map each topic (price, content, …) to say + customer")
    else:
        for name, tnode in node.items():
            tline = line_of(node, name)
            if not isinstance(tnode, dict):
                problem(tline, f"offer topic `{name}` must be a mapping with `say` and `customer`")
                continue
            say = tnode.get("say")
            customer = tnode.get("customer")
            if not isinstance(say, str) or not say.strip():
                problem(line_of(tnode, "say") or tline, f"offer topic `{name}`: `say` must be a line of text")
                continue
            if not isinstance(customer, list) or not customer or not all(isinstance(c, str) for c in customer):
                problem(line_of(tnode, "customer") or tline,
                        f"offer topic `{name}`: `customer` must be a list of ways customers ask it")
                continue
            patterns = tnode.get("patterns") or []
            if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
                problem(line_of(tnode, "patterns") or tline, f"offer topic `{name}`: `patterns` must be a list")
                patterns = []
            pline = line_of(tnode, "patterns") or tline
            good = valid_patterns(patterns, lambda msg: problem(pline, f"offer topic `{name}`: {msg}"))
            topics.append(Topic(str(name), say, tuple(customer), good, tline))
    return Offer(topics=tuple(topics), **values)

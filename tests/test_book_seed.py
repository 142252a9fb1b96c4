"""The shipped book against its seed (tests/data/seed_book.txt): every line the seed gives the agent is
in scripts_kb/ as the seed words it, up to punctuation, spaces and filled placeholders.

The quotes are listed in tests/data/seed_answers.yaml; each must also be in the seed itself, so the list
cannot drift from the source. Marked `book`: these tests are about the shipped book's wording.
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import Any, Iterator

import pytest
from ruamel.yaml import YAML

from voicebot.kb import CAPPED_WORDS, Branch

from helpers import DATA

pytestmark = pytest.mark.book

SEED = (DATA / "seed_book.txt").read_text(encoding="utf-8")
QUOTES = YAML(typ="safe").load((DATA / "seed_answers.yaml").read_text(encoding="utf-8"))
GAP = "\x00"
"""Stands for a placeholder on both sides: a value the trainer fills in."""

_SEED_PLACEHOLDER = re.compile(r"(?:本次来电是|本次联系您|今天来电)?(?:[…·]{2,}|~{3,})|\*+元|\*{2,}|X{3,}|"
                               r"先生\s*[（(/]\s*女士\s*[)）]?")
"""The seed's blanks: ****, XXXX, *元, 先生(女士) and 本次来电是~~~ (the call's purpose, {来电目的})."""
_STAGE = re.compile(r"[（(][^（()）]*[)）]")
_BOOK_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def squash(text: str) -> str:
    """Compare words only: NFKC, lower case, no punctuation, symbols or spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if ch == GAP or not (ch.isspace() or unicodedata.category(ch)[0] in "PS"))


def seed_chunks(say: str) -> list[str]:
    """A seed quote as the words between its placeholders; a (stage direction or alternative) is a gap."""
    text = _STAGE.sub(GAP, _SEED_PLACEHOLDER.sub(GAP, say))
    return [c for c in squash(text).split(GAP) if c]


def book_text(line: str) -> str:
    """A book line with its placeholders as gaps; 咱/咱们 are words the bot says (capped, not filled)."""
    def gap(m: re.Match[str]) -> str:
        name = m.group(1)
        return name if name in CAPPED_WORDS and name != "称呼" else GAP
    return squash(_BOOK_PLACEHOLDER.sub(gap, line))


def _branch_lines(branches: tuple[Branch, ...]) -> Iterator[str]:
    for b in branches:
        yield from b.say
        if b.ask:
            yield b.ask
        yield from _branch_lines(b.branches)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def spoken_units(book) -> dict[str, str]:
    """What the bot can say, one text per entry / protocol / offer line, its lines in order (one seed
    answer may be split over an entry's answer, question back and branches)."""
    units = {}
    for e in book:
        lines = [*e.answer, *([e.ask] if e.ask else []), *_branch_lines(e.branches)]
        units[e.id] = "".join(book_text(line) for line in lines)
    for f in dataclasses.fields(book.protocols):
        value = dataclasses.asdict(getattr(book.protocols, f.name))
        value.pop("notes", None)
        units[f"protocols.{f.name}"] = "".join(book_text(s) for s in _strings(value))
    for i, line in enumerate(book.offer.spoken()):
        units[f"offer.{i}"] = book_text(line)
    return units


def found_in(chunks: list[str], text: str) -> bool:
    """The chunks appear in `text` in order."""
    at = 0
    for chunk in chunks:
        at = text.find(chunk, at)
        if at < 0:
            return False
        at += len(chunk)
    return True


def test_the_quotes_are_the_seeds_words():
    seed = squash(SEED)
    assert len(QUOTES) >= 90
    missing = [q["say"] for q in QUOTES if squash(q["say"]) not in seed]
    assert missing == []


def test_the_placeholder_reading_of_a_quote():
    assert seed_chunks("对不起先生(女士),我的工号是****,您记住") == ["对不起", "我的工号是", "您记住"]
    assert seed_chunks("不方便回答您,本次来电是~~~~") == ["不方便回答您"]
    assert seed_chunks("开通方式(或取消方式),好吗?") == ["开通方式", "好吗"]
    assert seed_chunks("资费是*元/月。") == ["资费是", "月"]
    assert book_text("{称呼}，因为您是{咱}北京移动的，工号{工号}") == f"{GAP}因为您是咱北京移动的工号{GAP}"
    assert found_in(["因为您是咱", "移动的"], book_text("因为您是{咱}北京移动的"))
    assert not found_in(["移动的", "因为您是咱"], book_text("因为您是{咱}北京移动的"))


SPOKEN = [q for q in QUOTES if "omitted" not in q]
OMITTED = [q for q in QUOTES if "omitted" in q]


@pytest.mark.parametrize("quote", SPOKEN, ids=[f"{i:02d}-{q['source']}" for i, q in enumerate(SPOKEN)])
def test_every_seed_answer_is_in_the_book(shipped_book, quote):
    chunks = seed_chunks(quote["say"])
    assert chunks, quote
    units = spoken_units(shipped_book)
    where = [name for name, text in units.items() if found_in(chunks, text)]
    assert where, f"{quote['source']}: {quote['say']!r} is not in scripts_kb/ as the seed words it"


@pytest.mark.parametrize("quote", OMITTED, ids=[q["source"] for q in OMITTED])
def test_a_seed_line_the_book_leaves_out_is_left_out_on_purpose(shipped_book, quote):
    """The seed overrules a few of its own lines (问题28: never send a complaint to 10086): the book
    leaves them out and its entry's notes say why."""
    units = spoken_units(shipped_book)
    assert not [name for name, text in units.items() if found_in(seed_chunks(quote["say"]), text)]
    entry = shipped_book.get(quote["omitted"]["entry"])
    assert any(quote["omitted"]["note"] in note for note in entry.notes), entry.notes

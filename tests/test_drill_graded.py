"""Honest measurement of the drill scorer (issue 14 item 5).

Graded answers were written from the book by a helper session that never read the scorer, and split
by entry: thresholds, weights and the book's must_not rules were tuned on the tune part
(tests/data/drill_graded_tune.yaml, with the older tests/data/drill_graded.yaml folded in); the
held-out part (tests/data/drill_graded_heldout.yaml) was only ever scored by this test, which prints
its figures and names misordered pairs by entry and grade, never by their text.

Two figures for each part:
- order: share of (better, worse) pairs among good, partial and wrong that score in that order;
- fluent: share of (fluent wrong, partial) pairs of the same entry where the fluent wrong answer
  scores below the partial one (the target is all of them).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from voicebot.drill import score_answer

from helpers import DATA

TUNE = (DATA / "drill_graded_tune.yaml", DATA / "drill_graded.yaml")
HELDOUT = DATA / "drill_graded_heldout.yaml"
GRADES = ("good", "partial", "wrong")

ORDER_TARGET = 0.95
"""Issue 14: good > partial > wrong for at least 95 % of the held-out pairs."""
TUNE_ORDER_FLOOR = 0.97
"""Measured on the tune part: 0.984 (309/314)."""
HELDOUT_ORDER_FLOOR = 0.96
"""Measured on the held-out part, in its one run after tuning: 0.967 (232/240): the 95 % target is met."""
FLUENT_TARGET = 1.0
"""Every fluent wrong answer below every partial answer of the same entry (met on the tune part: 92/92)."""
HELDOUT_FLUENT_FLOOR = 0.47
"""Measured on the held-out part, in the same run: 0.477 (41/86), far short of the target. The
must_not rules of the held-out entries were written from the book alone, before the run; the
held-out writer's fluent wrong answers make claims those rules did not foresee (the tune part,
whose fluent wrong answers the rules were fitted to, reaches 100 %). Not tuned on: the floor sits
just under the real figure so that a regression shows, and the shortfall is reported."""


@dataclass(frozen=True)
class Figures:
    ordered: int
    pairs: int
    fluent_below: int
    fluent_pairs: int
    misordered: tuple[str, ...]
    """entry: better grade ≤ worse grade (scores), never the answers' text."""

    @property
    def order(self) -> float:
        return self.ordered / self.pairs

    @property
    def fluent(self) -> float:
        return self.fluent_below / self.fluent_pairs

    def line(self, name: str) -> str:
        return (f"{name}: good > partial > wrong for {self.ordered}/{self.pairs} pairs ({self.order:.1%}); "
                f"fluent wrong below partial for {self.fluent_below}/{self.fluent_pairs} pairs ({self.fluent:.1%})")


def _texts(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [item["text"] if isinstance(item, dict) else str(item) for item in items]


def _load(paths: tuple[Path, ...]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in paths:
        rows += YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return rows


def measure(book: Any, matcher: Any, rows: list[dict[str, Any]]) -> Figures:
    ordered = pairs = below = fluent_pairs = 0
    misordered: list[str] = []
    for row in rows:
        entry = book.get(row["entry"])
        scores = {g: [score_answer(entry, t, book, matcher).total for t in _texts(row.get(g))]
                  for g in GRADES + ("fluent_wrong",)}
        for better, worse in combinations(GRADES, 2):
            for a in scores[better]:
                for b in scores[worse]:
                    pairs += 1
                    ordered += a > b
                    if a <= b:
                        misordered.append(f"{entry.id}: {better} {a:.0f} ≤ {worse} {b:.0f}")
        for f in scores["fluent_wrong"]:
            for p in scores["partial"]:
                fluent_pairs += 1
                below += f < p
                if f >= p:
                    misordered.append(f"{entry.id}: fluent_wrong {f:.0f} ≥ partial {p:.0f}")
    return Figures(ordered, pairs, below, fluent_pairs, tuple(misordered))


def test_graded_files_cover_the_book_and_do_not_overlap(book) -> None:
    tune = {r["entry"] for r in _load(TUNE[:1])}
    held = {r["entry"] for r in _load((HELDOUT,))}
    assert tune and held and not tune & held, "the held-out entries are not tuned on"
    assert tune | held <= set(book.ids())
    for row in _load(TUNE[:1]) + _load((HELDOUT,)):
        assert set(GRADES) <= set(row) and _texts(row.get("fluent_wrong")), row["entry"]


def test_tune_part(book, matcher) -> None:
    figures = measure(book, matcher, _load(TUNE))
    print("\n" + figures.line("tune") + "; misordered: " + "; ".join(figures.misordered))
    assert figures.order >= TUNE_ORDER_FLOOR, figures.misordered
    assert figures.fluent >= FLUENT_TARGET, figures.misordered


def test_held_out_part(book, matcher) -> None:
    figures = measure(book, matcher, _load((HELDOUT,)))
    print("\n" + figures.line("held-out") + "; misordered: " + "; ".join(figures.misordered))
    assert figures.order >= HELDOUT_ORDER_FLOOR, figures.line("held-out")
    assert figures.fluent >= HELDOUT_FLUENT_FLOOR, figures.line("held-out")

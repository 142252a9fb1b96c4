"""Honest measurement of the drill scorer (issue 14 item 5).

Graded answers were written from the book by helper sessions that never read the scorer, and split
by entry. Three parts:
- tune (tests/data/drill_graded_tune.yaml, with the older tests/data/drill_graded.yaml folded in):
  thresholds, weights and the book's must_not rules were fitted here;
- dev (tests/data/drill_graded_heldout.yaml): held out for one run (order 96.7 %, fluent 47.7 %),
  then read: its misses taught the general detectors (act_on_the_spot, personal_contact, the
  polarity check of the book's own facts…), so it is development data now;
- fresh (tests/data/drill_graded_heldout2.yaml): written by a session that never saw the scorer,
  after the detectors were done; scored once by this test, never read or tuned on.

Two figures for each part, printed; misordered pairs are named by entry and grade, never by text:
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
DEV = DATA / "drill_graded_heldout.yaml"
FRESH = DATA / "drill_graded_heldout2.yaml"
GRADES = ("good", "partial", "wrong")

ORDER_TARGET = 0.95
"""Issue 14: good > partial > wrong for at least 95 % of the held-out pairs."""
TUNE_ORDER_FLOOR = 0.97
"""Measured on the tune part: 0.984 (309/314)."""
FLUENT_TARGET = 1.0
"""Every fluent wrong answer below every partial answer of the same entry (met on the tune part: 92/92)."""
DEV_ORDER_FLOOR = 0.97
"""Measured on the dev part: 0.967 (232/240) in its one held-out run; 0.983 (236/240) since."""
DEV_FLUENT_FLOOR = 1.0
"""Measured on the dev part: 0.477 (41/86) in its one held-out run, before its misses were read;
1.0 (86/86) with the general detectors learnt from them (tuned on: not a measure of generalising)."""
FRESH_ORDER_FLOOR = 0.90
"""Measured on the fresh part in its one run: 0.906 (281/310), short of the 95 % target; main's
scorer before the general detectors: 0.932 (289/310). The drop is good answers put in the
contradicting band (q01_who_allowed, q07_send_sms, q20_reach_you, q23_why_not_now score 2-3):
false positives of the new detectors. Not tuned on: the floor sits just under the real figure."""
FRESH_FLUENT_FLOOR = 0.73
"""Measured on the fresh part in the same run: 0.735 (222/302), short of the 100 % target; main's
scorer before the general detectors: 0.593 (179/302)."""


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
    dev = {r["entry"] for r in _load((DEV,))}
    assert tune and dev and not tune & dev, "the tune and dev parts hold different entries"
    assert tune | dev <= set(book.ids())
    for row in _load(TUNE[:1]) + _load((DEV,)):
        assert set(GRADES) <= set(row) and _texts(row.get("fluent_wrong")), row["entry"]


def test_tune_part(book, matcher) -> None:
    figures = measure(book, matcher, _load(TUNE))
    print("\n" + figures.line("tune") + "; misordered: " + "; ".join(figures.misordered))
    assert figures.order >= TUNE_ORDER_FLOOR, figures.misordered
    assert figures.fluent >= FLUENT_TARGET, figures.misordered


def test_dev_part(book, matcher) -> None:
    figures = measure(book, matcher, _load((DEV,)))
    print("\n" + figures.line("dev (held-out v1, now tuned on)") + "; misordered: " + "; ".join(figures.misordered))
    assert figures.order >= DEV_ORDER_FLOOR, figures.line("dev")
    assert figures.fluent >= DEV_FLUENT_FLOOR, figures.misordered


def test_fresh_held_out_part(book, matcher) -> None:
    """The fresh held-out answers (never read, never tuned on): the figures issue 14 asks for."""
    assert FRESH.exists(), f"{FRESH} missing: git checkout graded2 -- tests/data/drill_graded_heldout2.yaml"
    rows = _load((FRESH,))
    assert rows and {r["entry"] for r in rows} <= set(book.ids())
    figures = measure(book, matcher, rows)
    print("\n" + figures.line("fresh held-out") + f" (targets {ORDER_TARGET:.0%} and {FLUENT_TARGET:.0%}); misordered: "
          + "; ".join(figures.misordered))
    assert figures.order >= FRESH_ORDER_FLOOR, figures.line("fresh held-out")
    assert figures.fluent >= FRESH_FLUENT_FLOOR, figures.line("fresh held-out")

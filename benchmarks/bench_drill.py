"""Figures behind drill scoring's thresholds, on the hand-graded answers in tests/data/drill_graded.yaml.

Prints: how often the score orders good > partial > wrong (pairs); the key-point coverage of good
answers against that of unrelated text (each entry's key points checked against the other entries'
good answers), which places KEY_POINT_MADE and KEY_POINT_FLOOR; the same for wording; a sweep of
the thresholds; and the ordering with rapidfuzz partial_ratio as the coverage measure instead.

    python benchmarks/bench_drill.py
    python benchmarks/bench_drill.py --rules   # the book's rules on every graded set and book line

`--rules` prints, for the tune part and the held-out v1–v19 (development data since read), how
many good and partial answers a contradicting rule flags (false alarms, by rule) and how many fluent
wrong answers it catches; then how often each `general` rule would fire on the book's own lines of
the entries it is narrowed away from (the book's exceptions: 问题28 and 特殊问题1 promise a reply).
"""
from __future__ import annotations

import itertools
import statistics
import sys
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voicebot import drill, kb  # noqa: E402
from voicebot.matcher import Matcher  # noqa: E402

GRADES = ("good", "partial", "wrong")


def ordering(book: kb.KnowledgeBase, matcher: Matcher, rows: list[dict[str, str]]) -> tuple[float, dict[str, float]]:
    ok = n = 0
    totals: dict[str, list[float]] = {g: [] for g in GRADES}
    for row in rows:
        entry = book.get(row["entry"])
        t = {g: drill.score_answer(entry, row[g], book, matcher).total for g in GRADES}
        for g in GRADES:
            totals[g].append(t[g])
        ok += sum(t[a] > t[b] for a, b in itertools.combinations(GRADES, 2))
        n += 3
    return ok / n, {g: statistics.median(v) for g, v in totals.items()}


def percentiles(values: list[float]) -> str:
    return " ".join(f"p{q}={np.percentile(values, q):.0f}" for q in (10, 25, 50, 75, 90, 95))


def main() -> None:
    book = kb.load(ROOT / "scripts_kb")
    matcher = Matcher(book)
    rows = YAML(typ="safe").load((ROOT / "tests" / "data" / "drill_graded.yaml").read_text(encoding="utf-8"))
    rate, medians = ordering(book, matcher, rows)
    print(f"{len(rows)} entries, {3 * len(rows)} pairs: ordered {rate:.1%}; median totals "
          + ", ".join(f"{g} {m:.0f}" for g, m in medians.items()))

    good_cov, other_cov, good_w, other_w = [], [], [], []
    for row in rows:
        entry = book.get(row["entry"])
        s = drill.score_answer(entry, row["good"], book, matcher)
        good_cov += [k.coverage for k in s.key_points]
        good_w.append(s.wording)
        for other in rows:
            if other["entry"] != row["entry"]:
                s = drill.score_answer(entry, other["good"], book, matcher)
                other_cov += [k.coverage for k in s.key_points]
                other_w.append(s.wording)
    print(f"key-point coverage, good answers:    {percentiles(good_cov)}")
    print(f"key-point coverage, unrelated text:  {percentiles(other_cov)}")
    for t in (55, 60, 65, 70, 75):
        print(f"  made at >= {t}: good {np.mean(np.array(good_cov) >= t):.1%}, "
              f"unrelated {np.mean(np.array(other_cov) >= t):.1%}")
    print(f"wording, good answers:   {percentiles(good_w)}")
    print(f"wording, unrelated text: {percentiles(other_w)}")

    saved = {k: getattr(drill, k) for k in ("KEY_POINT_MADE", "KEY_POINT_FLOOR", "WORDING_FLOOR", "WORDING_FULL")}
    print("sweep (made, floor, wording floor, wording full): ordered, median good/partial/wrong")
    for made, floor, wfloor, wfull in itertools.product((60, 65, 70), (25, 35, 45), (20, 30), (70, 80, 90)):
        for name, value in zip(saved, (made, floor, wfloor, wfull)):
            setattr(drill, name, value)
        rate, med = ordering(book, matcher, rows)
        print(f"  {made} {floor} {wfloor} {wfull}: {rate:.1%}  "
              f"{med['good']:.0f}/{med['partial']:.0f}/{med['wrong']:.0f}")
    for k, v in saved.items():
        setattr(drill, k, v)

    coverage = drill._coverage
    drill._coverage = lambda point, answer: float(fuzz.partial_ratio(point, answer)) if point and answer else 0.0
    rate, med = ordering(book, matcher, rows)
    drill._coverage = coverage
    print(f"with partial_ratio as coverage: ordered {rate:.1%}; median good/partial/wrong "
          f"{med['good']:.0f}/{med['partial']:.0f}/{med['wrong']:.0f}")


GRADED = {"tune": ("drill_graded_tune.yaml", "drill_graded.yaml"), "v1": ("drill_graded_heldout.yaml",),
          "v2": ("drill_graded_heldout2.yaml",), "v3": ("drill_graded_heldout3.yaml",),
          "v4": ("drill_graded_heldout4.yaml",), "v5": ("drill_graded_heldout5.yaml",),
          "v6": ("drill_graded_heldout6.yaml",), "v7": ("drill_graded_heldout7.yaml",),
          "v8": ("drill_graded_heldout8.yaml",), "v9": ("drill_graded_heldout9.yaml",),
          "v10": ("drill_graded_heldout10.yaml",), "v11": ("drill_graded_heldout11.yaml",),
          "v12": ("drill_graded_heldout12.yaml",), "v13": ("drill_graded_heldout13.yaml",),
          "v14": ("drill_graded_heldout14.yaml",), "v15": ("drill_graded_heldout15.yaml",),
          "v16": ("drill_graded_heldout16.yaml",), "v17": ("drill_graded_heldout17.yaml",),
          "v18": ("drill_graded_heldout18.yaml",), "v19": ("drill_graded_heldout19.yaml",),
          "v20": ("drill_graded_heldout20.yaml",), "v21": ("drill_graded_heldout21.yaml",)}


def unsupported_alone(book: kb.KnowledgeBase, rows: list[dict], exercises: dict) -> tuple[list[str], int]:
    """What the `unsupported` rules (claims of a risky class the book does not make) find on their own:
    the entries with a flagged good/partial answer, and how many fluent wrong answers they flag."""
    from voicebot import rules
    alarms: list[str] = []
    caught = 0
    for row in rows:
        entry = (drill.step_entry(book, exercises[row["drill"]], 1) if "drill" in row else book.get(row["entry"]))
        kinds = [r for r in (drill.rules_of(entry, book) if entry.language == "zh" else book.rules.values())
                 if r.kind == rules.UNSUPPORTED_KIND]
        lines = drill.standard_lines(entry, book) + [book.fill(k) for k in entry.key_points]
        asked = book.fill(entry.customer[0]) if entry.customer else ""
        for grade in ("good", "partial", "fluent_wrong"):
            value = row.get(grade) or []
            for item in value if isinstance(value, list) else [value]:
                text = item["text"] if isinstance(item, dict) else str(item)
                found = rules.unsupported(kinds, lines, text, book.settings, asked)
                if grade == "fluent_wrong":
                    caught += found is not None
                elif found is not None:
                    alarms.append(f"{entry.id}/{grade}/{found.rule}")
    return alarms, caught


def rules_report() -> None:
    """False alarms and catches of the contradicting rules on every graded set, by rule."""
    from collections import Counter
    from voicebot import rules

    book = kb.load(ROOT / "scripts_kb")
    exercises = {x.id: x for x in book.exercises}
    for name, files in GRADED.items():
        rows = []
        for f in files:
            rows += YAML(typ="safe").load((ROOT / "tests" / "data" / f).read_text(encoding="utf-8"))
        alarms: Counter[str] = Counter()
        caught: Counter[str] = Counter()
        honest = fluent = missed = 0
        for row in rows:
            entry = (drill.step_entry(book, exercises[row["drill"]], 1) if "drill" in row else book.get(row["entry"]))
            for grade in ("good", "partial", "fluent_wrong"):
                value = row.get(grade) or []
                for item in value if isinstance(value, list) else [value]:
                    text = item["text"] if isinstance(item, dict) else str(item)
                    found = [v.rule for v in drill.check_rules(entry, text, book)[0] if v.severity == "contradicts"]
                    if grade == "fluent_wrong":
                        fluent += 1
                        missed += not found
                        caught.update(found[:1])
                    else:
                        honest += 1
                        alarms.update(found[:1])
        print(f"{name}: false alarms on good/partial {sum(alarms.values())}/{honest} {dict(alarms)}; "
              f"fluent wrong caught {fluent - missed}/{fluent} (first rule: {dict(caught.most_common())})")
        alone_alarms, alone_caught = unsupported_alone(book, rows, exercises)
        print(f"  the unsupported rules alone (no phrase rule, no polarity check): fluent wrong caught "
              f"{alone_caught}/{fluent}, false alarms on good/partial {len(alone_alarms)}/{honest} {alone_alarms}")
    general = [r for r in book.rules.values() if r.scope == "general"]
    fired: Counter[str] = Counter()
    lines = 0
    for entry in book:
        if entry.language != "zh":
            continue
        for line in drill.standard_lines(entry, book):
            lines += 1
            fired.update(v.rule for v in rules.check(general, line, book.settings))
    print(f"general rules on the book's own {lines} lines (narrowed away for those entries): {dict(fired)}")


if __name__ == "__main__":
    if "--rules" in sys.argv[1:]:
        rules_report()
    else:
        main()

"""Tune the matcher's threshold and blend on the book's own paraphrases (5-fold), report held-out.

Each fold removes a fifth of every entry's paraphrases (and of the off-topic examples) from the
index and matches them: accuracy on in-scope lines, rejection of off-topic lines. The chosen
defaults are then scored once on tests/data/heldout.yaml, which tuning never sees.

    python benchmarks/tune_matcher.py
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voicebot import kb  # noqa: E402
from voicebot.matcher import Matcher, MatcherOptions  # noqa: E402

FOLDS = 5


def fold_sets(book: kb.KnowledgeBase, k: int):
    for fold in range(k):
        train, test = [], []
        for e in book:
            keep = tuple(p for i, p in enumerate(e.customer) if i == 0 or i % k != fold)
            test += [(p, e.id) for i, p in enumerate(e.customer) if i != 0 and i % k == fold]
            train.append(dataclasses.replace(e, customer=keep))
        oos_train = [p for i, p in enumerate(book.out_of_scope) if i % k != fold]
        oos_test = [p for i, p in enumerate(book.out_of_scope) if i % k == fold]
        yield train, oos_train, test, oos_test


def evaluate(matcher: Matcher, lines, oos) -> tuple[float, float]:
    ok = sum(1 for text, want in lines if (m := matcher.match(text)).entry is not None and m.entry.id == want)
    rej = sum(1 for text in oos if matcher.match(text).entry is None)
    return ok / max(len(lines), 1), rej / max(len(oos), 1)


def main() -> None:
    book = kb.load(ROOT / "scripts_kb")
    grid = [MatcherOptions(threshold=t, fuzzy_weight=w, out_of_scope_weight=o)
            for t in (20, 25, 30, 35) for w in (0.4, 0.5) for o in (0.9, 1.0, 1.1)]
    folds = list(fold_sets(book, FOLDS))
    print(f"{'threshold':>9} {'fuzzy_w':>7} {'oos_w':>6} {'cv-acc':>7} {'cv-rej':>7}")
    results = []
    for opts in grid:
        accs, rejs = [], []
        for train, oos_train, test, oos_test in folds:
            acc, rej = evaluate(Matcher(train, opts, oos_train), test, oos_test)
            accs.append(acc)
            rejs.append(rej)
        acc, rej = sum(accs) / len(accs), sum(rejs) / len(rejs)
        results.append((min(acc, rej), acc, rej, opts))
        print(f"{opts.threshold:>9} {opts.fuzzy_weight:>7} {opts.out_of_scope_weight:>6} {acc:>7.1%} {rej:>7.1%}")
    best = max(results, key=lambda r: r[0])
    print(f"best by min(acc, rej): {best[3]}")
    held = YAML(typ="safe").load((ROOT / "tests/data/heldout.yaml").read_text(encoding="utf-8"))
    for label, opts in (("defaults", MatcherOptions()), ("cv-best", best[3])):
        acc, rej = evaluate(Matcher(book, opts), [(r["text"], r["entry"]) for r in held["in_scope"]],
                            held["out_of_scope"])
        print(f"held-out with {label}: top-1 accuracy {acc:.1%}, off-topic rejection {rej:.1%}")


if __name__ == "__main__":
    main()

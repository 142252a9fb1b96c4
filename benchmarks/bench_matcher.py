"""Match latency: one customer line against the shipped book and against a 1,000-entry book.

The 1,000-entry book repeats the shipped entries with distinct ids and lightly varied phrasings
(a character appended), so the index is as large and as realistic as a big book would be.

    python benchmarks/bench_matcher.py
"""
from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voicebot import kb  # noqa: E402
from voicebot.matcher import Matcher  # noqa: E402

FILLER = "的了呢吧啊嘛哦呀"


def big_book(book: kb.KnowledgeBase, size: int) -> list[kb.Entry]:
    out = []
    for i in range(size):
        e = book.entries[i % len(book.entries)]
        tag = FILLER[i % len(FILLER)] * (1 + i // len(book.entries) % 3)
        out.append(dataclasses.replace(e, id=f"{e.id}_{i}", customer=tuple(p + tag for p in e.customer),
                                       answer=e.answer + (str(i),)))
    return out


def measure(matcher: Matcher, lines: list[str], rounds: int = 3) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        for line in lines:
            t0 = time.perf_counter()
            matcher.match(line)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def main() -> None:
    book = kb.load(ROOT / "scripts_kb")
    held = YAML(typ="safe").load((ROOT / "tests/data/heldout.yaml").read_text(encoding="utf-8"))
    lines = [r["text"] for r in held["in_scope"]] + held["out_of_scope"]
    for label, entries in (("shipped book", book.entries), ("1,000-entry book", big_book(book, 1000))):
        t0 = time.perf_counter()
        matcher = Matcher(entries, out_of_scope=book.out_of_scope)
        build = time.perf_counter() - t0
        med, p99 = measure(matcher, lines)
        phrases = sum(len(e.customer) for e in entries)
        print(f"{label:<18} {len(entries):>5} entries {phrases:>6} phrasings  index {build:5.2f} s  "
              f"match median {med:5.2f} ms  p99 {p99:5.2f} ms  ({len(lines) * 3} matches)")


if __name__ == "__main__":
    main()

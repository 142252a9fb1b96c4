"""`voicebot score` on the three test calls (tests/data/recorded_calls.yaml): score, rules named, and
how long scoring takes per minute of call (VAD on both channels + whisper on every turn).

The calls are built as in tests/test_score.py: the shipped customer WAVs against agent lines in the
Kokoro voice (renders kept in the user's voice cache, so a second run builds them in about a second).

    python benchmarks/bench_score.py
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from recorded_calls import build_call, scripts  # noqa: E402
from voicebot import kb  # noqa: E402
from voicebot.asr import load_recognizer  # noqa: E402
from voicebot.matcher import Matcher  # noqa: E402
from voicebot.score import score_recording  # noqa: E402
from voicebot.tts import load_synthesizer  # noqa: E402


def main() -> None:
    book = kb.load(ROOT / "scripts_kb")
    matcher = Matcher(book)
    synth = load_synthesizer(engine="kokoro")
    rec, note = load_recognizer("whisper")
    print(note)
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, script) in enumerate(scripts().items()):
            start = time.monotonic()
            path = build_call(script, synth, Path(tmp) / f"{name}.wav", seed=i)
            built = time.monotonic() - start
            start = time.monotonic()
            cs = score_recording(path, script["agent_channel"], book, matcher, rec)
            spent = time.monotonic() - start
            per_minute = spent / (cs.duration_s / 60.0)
            print(f"{name:<6} score {cs.total:5.1f} ({cs.tier}), answers {cs.answers_mean:5.1f}, "
                  f"{len(cs.turns)} turns, {len(cs.exchanges)} challenges, {cs.duration_s:5.1f} s of call; "
                  f"built in {built:5.1f} s, scored in {spent:5.1f} s ({per_minute:4.1f} s per minute of call)")
            print(f"       rules broken: {', '.join(cs.broken_rules) or 'none'}")


if __name__ == "__main__":
    main()

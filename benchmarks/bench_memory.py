"""Peak memory of `voicebot transcribe` and `voicebot simulate` on one minute and one hour of audio.

The audio is generated at benchmark time into a temporary folder (never committed): a customer line
from tests/data/customer every `--every` seconds over low noise. Each command runs as its own
process; its peak resident memory is read from the kernel (wait4 → ru_maxrss). Both commands
stream their files in blocks, so the hour stays within a few MB of the minute (goal: +50 MB at most).
`simulate` ends when the bot hangs up (no response, on the call clock), so it reads only the part
of the file the call reaches: it prints how long the call ran and how far into the file it got.

    python benchmarks/bench_memory.py                             # 16 kHz mono
    python benchmarks/bench_memory.py --rate 48000 --channels 2   # a studio file: must not cost GBs
    python benchmarks/bench_memory.py --only simulate --every 3   # a talkative customer: a longer call
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voicebot.audio import read_audio, resample  # noqa: E402

LINES = ["recording.wav", "number.wav", "owner_q.wav", "cancel_q.wav", "dnc.wav"]


def make_audio(path: Path, seconds: float, rate: int, channels: int, every: float) -> None:
    """Write `seconds` of low noise with a customer line every `every` seconds, block by block."""
    rng = np.random.default_rng(0)
    lines = [resample(read_audio(ROOT / "tests/data/customer" / name), 16000, rate) for name in LINES]
    block = int(every * rate)
    written, n = 0, 0
    total = int(seconds * rate)
    with sf.SoundFile(path, "w", samplerate=rate, channels=channels, subtype="PCM_16") as out:
        while written < total:
            size = min(block, total - written)
            chunk = (rng.standard_normal(size) * 0.002).astype(np.float32)
            line = lines[n % len(lines)][: max(0, size - rate)]
            chunk[rate: rate + len(line)] += line
            out.write(np.stack([chunk] * channels, 1) if channels > 1 else chunk)
            written += size
            n += 1


def peak_rss(cmd: list[str]) -> tuple[float, float, int]:
    """(peak RSS in MB, wall seconds, exit code) of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    kb = usage.ru_maxrss if sys.platform != "darwin" else usage.ru_maxrss / 1024
    return kb / 1024, time.perf_counter() - started, proc.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=16000, help="sample rate of the generated files")
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--every", type=float, default=120.0, help="seconds between customer lines")
    parser.add_argument("--asr", default="whisper")
    parser.add_argument("--only", choices=["transcribe", "simulate"], help="measure one command only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        files = {}
        for label, seconds in (("1 min", 60.0), ("1 h", 3600.0)):
            path = Path(tmp) / f"{label.replace(' ', '')}.wav"
            t0 = time.perf_counter()
            make_audio(path, seconds, args.rate, args.channels, min(args.every, seconds / 2))
            files[label] = path
            print(f"generated {label}: {path.stat().st_size / 1e6:.0f} MB, {args.rate} Hz × {args.channels} "
                  f"in {time.perf_counter() - t0:.1f} s", flush=True)
        calls = Path(tmp) / "calls"
        commands = {
            "transcribe": lambda f: [sys.executable, "-m", "voicebot", "transcribe", "--asr", args.asr, str(f)],
            "simulate": lambda f: [sys.executable, "-m", "voicebot", "simulate", "--asr", args.asr,
                                   "--out", str(calls), str(f)],
        }
        for name, make in commands.items():
            if args.only and name != args.only:
                continue
            peaks = {}
            for label, path in files.items():
                before = set(calls.iterdir()) if calls.exists() else set()
                mb, wall, code = peak_rss(make(path))
                peaks[label] = mb
                note = ""
                if name == "simulate":
                    new = sorted(set(calls.iterdir()) - before) if calls.exists() else []
                    note = "  " + (call_length(new[-1]) if new else "no call record")
                print(f"{name:<10} {label:>5}: peak RSS {mb:7.1f} MB  ({wall:6.1f} s, exit {code}){note}", flush=True)
            print(f"{name:<10} hour − minute: {peaks['1 h'] - peaks['1 min']:+.1f} MB (goal: at most +50 MB)",
                  flush=True)


def call_length(folder: Path) -> str:
    """How long the simulated call ran on its clock, and how it ended."""
    lines = (folder / "events.jsonl").read_text("utf-8").splitlines()
    last = json.loads(lines[-1])
    return f"call of {last['t']:.0f} s, ended {last.get('reason')}"


if __name__ == "__main__":
    main()

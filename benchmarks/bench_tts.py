"""TTS figures for each engine: how well whisper hears it, how fast it renders, how much memory.

    python3 benchmarks/bench_tts.py                      # kokoro and pyttsx3/espeak, 40 book answers
    python3 benchmarks/bench_tts.py --lines 10 --engines kokoro --voice 男

For each engine, in its own process (so peak memory is that engine's alone):
- renders the first N Mandarin answers of the book (settings filled in), uncached, timing each;
- first audio: from asking for an uncached line to its first chunk (Kokoro streams clause by
  clause; pyttsx3 gives the whole line at once);
- chars/s: spoken Chinese characters rendered per second of work; RTF: work / audio duration;
  CPU RTF: CPU seconds of this process / audio duration (less sensitive to other load);
- peak RSS of the process after rendering (before whisper is loaded);
- then whisper-base (the project's recogniser) transcribes every rendering; character error rate =
  edit distance / reference length, both sides through `to_simplified` and `normalize` (numbers as
  digits), the reference being the line as spoken (`to_spoken`: 10086 → 幺零零八六).
Timings depend on what else runs on the machine: the load average is printed with them.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voicebot.audio import SAMPLE_RATE  # noqa: E402


def answers(n: int) -> list[str]:
    """The first n distinct Mandarin answer lines of the book, placeholders filled."""
    from voicebot import kb
    book = kb.load(ROOT / "scripts_kb")
    out: list[str] = []
    for entry in book.entries:
        if entry.language != "zh":
            continue
        for line in entry.answer:
            text = book.fill(line).strip()
            if text and text not in out:
                out.append(text)
    return out[:n]


def cer_parts(reference: str, heard: str) -> tuple[int, int]:
    """(edits, reference length) after to_simplified + normalize on both sides."""
    from rapidfuzz.distance import Levenshtein
    from voicebot.text import normalize, to_simplified
    from voicebot.tts.reading import to_spoken
    ref = normalize(to_simplified(to_spoken(reference)))
    hyp = normalize(to_simplified(heard))
    return Levenshtein.distance(ref, hyp), len(ref)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(engine: str, n: int, voice: str | None, group: int | None = None) -> dict:
    """One engine in this process: render, time, then transcribe back."""
    import re

    import numpy as np

    from voicebot.tts import load_synthesizer
    from voicebot.tts.reading import to_spoken
    lines = answers(n)
    started = time.perf_counter()
    synth = load_synthesizer(engine=engine, cache=False, voice=voice)
    if hasattr(synth, "load"):
        synth.load()
        if group is not None:
            synth.group_ids = group
    load_s = time.perf_counter() - started
    rows = []
    for line in lines:
        t0, c0 = time.perf_counter(), time.process_time()
        first = None
        chunks = []
        stream = getattr(synth, "stream", None)
        for chunk in (stream(line) if stream else [synth.synthesize(line)]):
            if first is None:
                first = time.perf_counter() - t0
            chunks.append(chunk)
        work = time.perf_counter() - t0
        cpu = time.process_time() - c0
        audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        chars = len(re.findall(r"[\u3400-\u9fff]", to_spoken(line)))
        rows.append({"line": line, "first_s": first or work, "work_s": work, "cpu_s": cpu,
                     "audio_s": audio.size / SAMPLE_RATE, "chars": chars, "audio": audio})
    rss = peak_rss_mb()
    from voicebot.asr import load_recognizer
    rec, _ = load_recognizer("whisper")
    edits = total = 0
    per_line = []
    for row in rows:
        heard = rec.transcribe(row.pop("audio")).text
        e, t = cer_parts(row["line"], heard)
        edits, total = edits + e, total + t
        per_line.append((e / max(1, t), row["line"], heard, e))
    work = sum(r["work_s"] for r in rows)
    return {
        "engine": getattr(synth, "name", engine), "voice": synth.voice_id("zh"), "lines": len(rows),
        "chars": sum(r["chars"] for r in rows), "load_s": load_s,
        "cer": edits / max(1, total),
        "mean_line_cer": statistics.mean(c for c, _, _, _ in per_line),
        "chars_per_s": sum(r["chars"] for r in rows) / work,
        "rtf": work / sum(r["audio_s"] for r in rows),
        "cpu_rtf": sum(r["cpu_s"] for r in rows) / sum(r["audio_s"] for r in rows),
        "first_audio_median_s": statistics.median(r["first_s"] for r in rows),
        "first_audio_max_s": max(r["first_s"] for r in rows),
        "whole_line_median_s": statistics.median(r["work_s"] for r in rows),
        "peak_rss_mb": rss,
        "misheard": [p for p in sorted(per_line, reverse=True) if p[3]],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--engines", default="kokoro,pyttsx3")
    parser.add_argument("--voice", help="Kokoro voice for the kokoro engine (女/男/zf_xiaoyi …)")
    parser.add_argument("--group", type=int, help="Kokoro: join clauses after the first up to N phoneme ids")
    parser.add_argument("--all", action="store_true", help="print every misheard line, not the worst 5")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.lines, args.voice, args.group), ensure_ascii=False))
        return 0
    from rich.console import Console
    from rich.table import Table

    from voicebot.tts.reading import to_spoken
    console = Console(highlight=False, width=170)
    results = []
    for engine in args.engines.split(","):
        cmd = [sys.executable, __file__, "--child", engine, "--lines", str(args.lines)]
        if args.voice and engine == "kokoro":
            cmd += ["--voice", args.voice]
        if args.group is not None and engine == "kokoro":
            cmd += ["--group", str(args.group)]
        load_before = os.getloadavg()[0]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode:
            console.print(f"{engine}: failed\n{done.stderr[-2000:]}")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["load_avg"] = (load_before + os.getloadavg()[0]) / 2
        results.append(result)
        misheard = result["misheard"] if args.all else result["misheard"][:5]
        for cer, line, heard, edits in misheard:
            if args.all:
                console.print(f"  {engine} {edits:2d} edits {cer:5.1%}\n    said  {to_spoken(line)}\n    heard {heard}")
            else:
                console.print(f"  {engine} worst {cer:5.1%}  {line[:30]} → {heard[:30]}")
    table = Table(title=f"TTS on {args.lines} book answers, transcribed back by whisper-base")
    for col in ("engine", "CER", "mean line CER", "chars/s", "RTF", "CPU RTF", "first audio (median / max)",
                "whole line (median)", "load", "peak RSS", "load avg"):
        table.add_column(col)
    for r in results:
        table.add_row(r["engine"], f"{r['cer']:.1%}", f"{r['mean_line_cer']:.1%}", f"{r['chars_per_s']:.1f}",
                      f"{r['rtf']:.2f}", f"{r['cpu_rtf']:.2f}", f"{r['first_audio_median_s']:.2f} / {r['first_audio_max_s']:.2f} s",
                      f"{r['whole_line_median_s']:.2f} s", f"{r['load_s']:.1f} s", f"{r['peak_rss_mb']:.0f} MB",
                      f"{r['load_avg']:.1f}")
    console.print(table)
    for r in results:
        console.print(f"{r['engine']}: {r['voice']} ({r['lines']} lines, {r['chars']} characters)", style="dim")
    return 0


if __name__ == "__main__":
    sys.exit(main())

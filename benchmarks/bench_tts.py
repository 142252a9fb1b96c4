"""TTS figures for each engine: how well whisper hears it, how fast it renders, how steady, how much memory.

    python3 benchmarks/bench_tts.py                      # kokoro and pyttsx3/espeak, 40 book answers
    python3 benchmarks/bench_tts.py --engines kokoro --all --save /tmp/tts   # every diff, WAVs kept
    python3 benchmarks/bench_tts.py --lines 10 --engines kokoro --voice 男 --speed 0.9

For each engine, in its own process (so peak memory is that engine's alone):
- renders the first N Mandarin answers of the book (settings filled in), uncached, timing each;
- first audio: from asking for an uncached line to its first chunk (Kokoro streams clause by
  clause; pyttsx3 gives the whole line at once);
- chars/s: spoken Chinese characters rendered per second of work; RTF: work / audio duration;
  CPU RTF: CPU seconds of this process / audio duration (less sensitive to other load);
- steadiness: one sentence rendered 5 times, each by a new synthesizer with no cache: min / max
  duration of the audio (the issue saw espeak give 5.7 s and 8.1 s for one sentence);
- peak RSS of the process after rendering (before whisper is loaded);
- then whisper-base (the project's recogniser, on its whole 30 s window as trained) transcribes
  every rendering.

Character error rate: edit distance / reference length, the reference being the line as the bot
says it (`reading.to_spoken`: 10086 → 幺零零八六). Both sides go through one written form
(`tts_cer.cer_form`), the same way: NFKC and lower case, traditional → simplified, 百分之五十 → 50%,
spoken quantities → digits (三十一 → 31, 十元 → 10元), each digit character → its digit (幺/一 → 1,
零/〇 → 0: 幺零零八六, 一零零八六 and 10086 are one number), punctuation and spaces dropped. So a
number written as digits on one side and as numerals on the other is no error, while a wrong,
missing or extra digit (10086 heard as 1080086) still is, and so are homophones, dropped particles
and extra words (no "filler" is stripped). Every remaining edit is printed with its kind (`--all`):
digits, homophone (same syllable, another character), near-sound, dropped, inserted.
Timings depend on what else runs on the machine: the load average is printed with them.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tts_cer import cer_parts, classify, syllable_parts  # noqa: E402

from voicebot.audio import SAMPLE_RATE  # noqa: E402

STEADY_LINE = "很抱歉，我刚才没有听清楚，请您重复一遍，好吗？"
"""The sentence rendered 5 times fresh for the steadiness check (a protocol line every call says)."""
STEADY_RUNS = 5


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


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _synth(engine: str, voice: str | None, speed: float | None):
    from voicebot.tts import DEFAULT_RATE, load_synthesizer
    rate = None if speed is None else int(round(DEFAULT_RATE * speed))
    return load_synthesizer(engine=engine, cache=False, voice=voice, rate=rate)


def measure(engine: str, n: int, voice: str | None, speed: float | None, save: str | None) -> dict:
    """One engine in this process: render, time, check steadiness, then transcribe back."""
    import numpy as np

    from voicebot.tts.reading import to_spoken
    lines = answers(n)
    started = time.perf_counter()
    synth = _synth(engine, voice, speed)
    if hasattr(synth, "load"):
        synth.load()
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
    steady = []
    for _ in range(STEADY_RUNS):
        fresh = _synth(engine, voice, speed)
        steady.append(fresh.synthesize(STEADY_LINE).size / SAMPLE_RATE)
    rss = peak_rss_mb()
    from voicebot.asr.whisper import WhisperRecognizer
    # The voice is measured by whisper as trained (the whole 30 s window), not by the call's
    # faster short-window decode: a listener's ear, not a latency budget.
    rec = WhisperRecognizer(full_window=True)
    edits = total = syl_edits = syl_total = 0
    per_line = []
    kinds: collections.Counter[str] = collections.Counter()
    out_dir = Path(save) / engine if save else None
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    for i, row in enumerate(rows):
        audio = row.pop("audio")
        if out_dir:
            from voicebot.audio import write_wav
            write_wav(out_dir / f"{i:02d}.wav", audio)
        heard = rec.transcribe(audio).text
        said = to_spoken(row["line"])
        e, t = cer_parts(said, heard)
        edits, total = edits + e, total + t
        se, st = syllable_parts(said, heard)
        syl_edits, syl_total = syl_edits + se, syl_total + st
        found = classify(said, heard)
        for edit in found:
            kinds[edit.kind] += edit.cost
        per_line.append({"i": i, "cer": e / max(1, t), "edits": e, "said": said, "heard": heard,
                         "diff": [(x.said, x.heard, x.kind) for x in found]})
    if out_dir:
        (out_dir / "heard.json").write_text(json.dumps(per_line, ensure_ascii=False, indent=1),
                                            encoding="utf-8")
    work = sum(r["work_s"] for r in rows)
    return {
        "engine": getattr(synth, "name", engine), "voice": synth.voice_id("zh"), "lines": len(rows),
        "chars": sum(r["chars"] for r in rows), "load_s": load_s,
        "cer": edits / max(1, total), "edits": edits, "ref_chars": total, "kinds": dict(kinds),
        "syllable_er": syl_edits / max(1, syl_total),
        "mean_line_cer": statistics.mean(p["cer"] for p in per_line),
        "chars_per_s": sum(r["chars"] for r in rows) / work,
        "rtf": work / sum(r["audio_s"] for r in rows),
        "cpu_rtf": sum(r["cpu_s"] for r in rows) / sum(r["audio_s"] for r in rows),
        "first_audio_median_s": statistics.median(r["first_s"] for r in rows),
        "first_audio_max_s": max(r["first_s"] for r in rows),
        "whole_line_median_s": statistics.median(r["work_s"] for r in rows),
        "steady_min_s": min(steady), "steady_max_s": max(steady),
        "peak_rss_mb": rss,
        "misheard": sorted((p for p in per_line if p["edits"]), key=lambda p: -p["cer"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--engines", default="kokoro,pyttsx3")
    parser.add_argument("--voice", help="Kokoro voice for the kokoro engine (女/男/zf_xiaoyi …)")
    parser.add_argument("--speed", type=float, help="Kokoro speed (1.0 natural; default: the engine's)")
    parser.add_argument("--all", action="store_true", help="print every misheard line, not the worst 5")
    parser.add_argument("--save", help="keep each rendering as DIR/ENGINE/NN.wav with heard.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.lines, args.voice, args.speed, args.save),
                         ensure_ascii=False))
        return 0
    from rich.console import Console
    from rich.table import Table
    console = Console(highlight=False, width=170)
    results = []
    for engine in args.engines.split(","):
        cmd = [sys.executable, __file__, "--child", engine, "--lines", str(args.lines)]
        if args.voice and engine == "kokoro":
            cmd += ["--voice", args.voice]
        if args.speed is not None and engine == "kokoro":
            cmd += ["--speed", str(args.speed)]
        if args.save:
            cmd += ["--save", args.save]
        load_before = os.getloadavg()[0]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode:
            console.print(f"{engine}: failed\n{done.stderr[-2000:]}")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["load_avg"] = (load_before + os.getloadavg()[0]) / 2
        results.append(result)
        misheard = result["misheard"] if args.all else result["misheard"][:5]
        for p in misheard:
            if args.all:
                diff = "  ".join(f"{s or '∅'}→{h or '∅'} ({k})" for s, h, k in p["diff"])
                console.print(f"  {engine} line {p['i']:2d}: {p['edits']} edits {p['cer']:5.1%}\n"
                              f"    said  {p['said']}\n    heard {p['heard']}\n    diff  {diff}")
            else:
                console.print(f"  {engine} worst {p['cer']:5.1%}  {p['said'][:30]} → {p['heard'][:30]}")
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(result["kinds"].items(), key=lambda kv: -kv[1]))
        console.print(f"  {engine}: {result['edits']} edits in {result['ref_chars']} characters: {kinds}")
    table = Table(title=f"TTS on {args.lines} book answers, transcribed back by whisper-base")
    for col in ("engine", "CER", "syllable ER", "mean line CER", "chars/s", "RTF", "CPU RTF", "first audio (median / max)",
                "whole line (median)", f"one line ×{STEADY_RUNS} (min / max)", "load", "peak RSS",
                "load avg"):
        table.add_column(col)
    for r in results:
        table.add_row(r["engine"], f"{r['cer']:.1%}", f"{r.get('syllable_er', float('nan')):.1%}", f"{r['mean_line_cer']:.1%}", f"{r['chars_per_s']:.1f}",
                      f"{r['rtf']:.2f}", f"{r['cpu_rtf']:.2f}",
                      f"{r['first_audio_median_s']:.2f} / {r['first_audio_max_s']:.2f} s",
                      f"{r['whole_line_median_s']:.2f} s",
                      f"{r['steady_min_s']:.2f} / {r['steady_max_s']:.2f} s",
                      f"{r['load_s']:.1f} s", f"{r['peak_rss_mb']:.0f} MB", f"{r['load_avg']:.1f}")
    console.print(table)
    for r in results:
        console.print(f"{r['engine']}: {r['voice']} ({r['lines']} lines, {r['chars']} characters)", style="dim")
    return 0


if __name__ == "__main__":
    sys.exit(main())

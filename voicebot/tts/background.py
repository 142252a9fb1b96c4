"""Rendering ahead: while the call goes on, a worker thread renders the lines it may need next.

    renderer = BackgroundRenderer(cached_synth)
    renderer.submit(next_lines(policy))   # after each bot turn: replaces what was still queued
    renderer.pause()                      # the customer speaks: the recogniser gets the cores
    renderer.resume()

The call never waits for it: `submit` only queues, and a line the call asks for while the worker
renders it is followed chunk by chunk (see `CachedSynthesizer.stream`). The worker yields the CPU
between clauses whenever the call renders a line itself or the renderer is paused, so at most one
clause (about half a second on two cores) overlaps with the call's own work.
"""
from __future__ import annotations

import threading
from collections import deque
from typing import Final, Iterable

from voicebot.tts.cache import CachedSynthesizer
from voicebot.tts.reading import Language

POLL_S: Final = 0.02
"""How often a waiting worker looks again whether it may go on (between clauses only)."""


class BackgroundRenderer:
    """One daemon worker that renders queued lines into the cache, most likely first."""

    def __init__(self, synth: CachedSynthesizer) -> None:
        self.synth = synth
        self.rendered: list[tuple[str, Language]] = []
        """Lines this renderer put into the cache (for tests and reports)."""
        self._queue: deque[tuple[str, Language]] = deque()
        self._wake = threading.Condition()
        self._paused = False
        self._closed = False
        self._busy = False
        self._thread = threading.Thread(target=self._work, name="tts-ahead", daemon=True)
        self._thread.start()

    def submit(self, lines: Iterable[tuple[str, Language]]) -> None:
        """Render these lines next (uncached ones, in order), instead of what was still queued:
        after a new turn the old guesses are worth less than the new ones. Never blocks."""
        fresh = [(text, lang) for text, lang in lines if not self.synth.cached(text, lang)]
        with self._wake:
            self._queue.clear()
            self._queue.extend(dict.fromkeys(fresh))
            self._paused = False
            self._wake.notify_all()

    def pause(self) -> None:
        """Stop after the clause being rendered (the customer is speaking)."""
        with self._wake:
            self._paused = True

    def resume(self) -> None:
        with self._wake:
            self._paused = False
            self._wake.notify_all()

    def idle(self, timeout: float | None = None) -> bool:
        """Wait until the queue is empty and nothing renders (tests, benchmarks); True if so."""
        with self._wake:
            return self._wake.wait_for(lambda: self._closed or (not self._queue and not self._busy), timeout)

    def close(self) -> None:
        """Stop the worker after its current clause; what is still queued is dropped."""
        with self._wake:
            self._closed = True
            self._queue.clear()
            self._wake.notify_all()
        self._thread.join()

    def _may_go_on(self) -> bool:
        return self._closed or (not self._paused and not self.synth.foreground_busy)

    def _work(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._closed or (self._queue and not self._paused))
                if self._closed:
                    return
                text, lang = self._queue.popleft()
                self._busy = True
            try:
                if not self.synth.cached(text, lang):
                    self._render(text, lang)
            except Exception:  # noqa: BLE001 - a guess that fails to render costs nothing: the call renders it if needed
                pass
            finally:
                with self._wake:
                    self._busy = False
                    self._wake.notify_all()

    def _render(self, text: str, lang: Language) -> None:
        stream = self.synth.stream(text, lang, background=True)
        try:
            while True:
                with self._wake:
                    while not self._may_go_on():
                        self._wake.wait(POLL_S)
                    if self._closed:
                        return
                if next(stream, None) is None:
                    break
            self.rendered.append((text, lang))
        finally:
            stream.close()

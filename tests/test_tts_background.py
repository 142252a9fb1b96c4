"""No waiting for the voice: lines stream clause by clause, and a call renders its likely next lines
in the background.

The Kokoro tests use the real model (a short line or two each); the thread mechanics (following a
line another thread renders, pausing) are checked on a slow engine made here, whose timing the
test controls.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from voicebot.audio import SAMPLE_RATE
from voicebot.dialog import Heard, Policy, Started
from voicebot.tts import CachedSynthesizer
from voicebot.tts.background import BackgroundRenderer
from voicebot.tts.kokoro import KokoroSynthesizer
from voicebot.tts.lines import next_lines

installed = pytest.mark.engine
"""Needs the Kokoro voice (bash install.sh); without it these tests fail, they are never skipped."""

THREE_CLAUSES = "请您稍等，我帮您查询一下，马上就好。"


class SlowEngine:
    """A streaming engine whose every clause takes `clause_s` and is counted (thread mechanics only)."""

    name = "slow"
    rate = 150
    thread_safe = True

    def __init__(self, clause_s: float = 0.15) -> None:
        self.clause_s = clause_s
        self.clauses_rendered: list[str] = []
        self.lock = threading.Lock()

    def voice_id(self, language: str = "zh") -> str:
        return "slow-test-engine"

    def stream(self, text: str, language: str = "zh"):
        for clause in [c for c in text.replace("。", "，").split("，") if c]:
            time.sleep(self.clause_s)
            with self.lock:
                self.clauses_rendered.append(clause)
            yield np.full(int(0.1 * SAMPLE_RATE), 0.1, dtype=np.float32)

    def synthesize(self, text: str, language: str = "zh") -> np.ndarray:
        return np.concatenate(list(self.stream(text, language)))


@installed
def test_first_chunk_of_an_uncached_line_comes_before_the_rest_is_rendered(tmp_path: Path, monkeypatch) -> None:
    kokoro = KokoroSynthesizer().load()
    calls: list[int] = []
    infer = kokoro.runtime.infer
    monkeypatch.setattr(kokoro.runtime, "infer", lambda ids, *a: calls.append(len(ids)) or infer(ids, *a))
    cached = CachedSynthesizer(kokoro, tmp_path)
    assert len(kokoro.clauses(THREE_CLAUSES)) == 3
    started = time.perf_counter()
    stream = cached.stream(THREE_CLAUSES)
    first = next(stream)
    first_s = time.perf_counter() - started
    assert len(calls) == 1 and not cached.cached(THREE_CLAUSES)  # only the first clause is rendered
    assert 0.3 < first.size / SAMPLE_RATE < 2.0
    rest = list(stream)
    whole_s = time.perf_counter() - started
    assert len(calls) == 3 and len(rest) == 2 and cached.cached(THREE_CLAUSES)
    assert first_s < 0.75 * whole_s, (first_s, whole_s)


@installed
def test_background_renderer_fills_the_cache_with_the_lines_named(book, tmp_path: Path) -> None:
    cached = CachedSynthesizer(KokoroSynthesizer(), tmp_path)
    policy = Policy(book)
    policy.handle(Started(0.0))
    policy.handle(Heard(1.0, "我之前反映的问题呢", 0.9))
    likely = next_lines(policy)
    wanted = sorted(likely, key=lambda item: len(item[0]))[:2]
    renderer = BackgroundRenderer(cached)
    try:
        assert not any(cached.cached(t, lang) for t, lang in wanted)
        renderer.submit(wanted)
        assert renderer.idle(timeout=120)
        assert all(cached.cached(t, lang) for t, lang in wanted)
        assert renderer.rendered == wanted
        assert cached.misses == 2 and cached.hits == 0
        renderer.submit(wanted)  # already cached: nothing to do
        assert renderer.idle(timeout=5) and renderer.rendered == wanted
    finally:
        renderer.close()


def test_next_lines_are_the_open_question_s_branches_then_the_protocol_lines(book) -> None:
    policy = Policy(book)
    policy.handle(Started(0.0))
    turn = policy.handle(Heard(1.0, "我之前反映的问题呢", 0.9))
    assert [a.text for a in turn if hasattr(a, "text")][-1] == "您之前向我们反映过问题是吗？"
    counts_before = dict(policy.state.word_counts)
    lines = [text for text, _ in next_lines(policy)]
    assert lines[0] == "请问您是什么时间反馈的？是什么问题？有没有回复过您或者处理过？"
    assert "您之前向我们反映过问题是吗？" in lines  # said again when the customer asks to repeat
    proto = book.protocols
    assert book.fill(proto.no_response.prompt, {}) in lines
    assert book.fill(proto.no_response.closing, dict(counts_before), policy.cap) in lines
    assert book.fill(proto.not_heard.line(), dict(counts_before), policy.cap) in lines
    assert len(lines) == len(set(lines)) and not any("{" in line for line in lines)
    assert policy.state.word_counts == counts_before  # guessing fills a copy of the counts


def test_a_line_being_rendered_in_the_background_is_followed_not_rendered_twice(tmp_path: Path) -> None:
    engine = SlowEngine(clause_s=0.2)
    cached = CachedSynthesizer(engine, tmp_path)
    renderer = BackgroundRenderer(cached)
    try:
        renderer.submit([(THREE_CLAUSES, "zh")])
        time.sleep(0.1)  # the worker is inside the first clause
        chunks = list(cached.stream(THREE_CLAUSES))  # the call needs the line now
        assert len(chunks) == 3
        assert renderer.idle(timeout=5)
        assert engine.clauses_rendered == ["请您稍等", "我帮您查询一下", "马上就好"]  # once each
        assert cached.cached(THREE_CLAUSES) and renderer.rendered == [(THREE_CLAUSES, "zh")]
    finally:
        renderer.close()


def test_background_work_waits_while_paused_and_while_the_call_renders(tmp_path: Path) -> None:
    engine = SlowEngine(clause_s=0.05)
    cached = CachedSynthesizer(engine, tmp_path)
    renderer = BackgroundRenderer(cached)
    try:
        renderer.submit([("好的，收到，明白。", "zh")])  # a new turn's guesses: the worker may start
        renderer.pause()  # …but the customer speaks at once
        time.sleep(0.3)
        assert len(engine.clauses_rendered) <= 1  # at most the clause it had begun
        assert not cached.cached("好的，收到，明白。")
        renderer.resume()
        # the call renders a line of its own: the worker does not go on while it does
        mine = ["请稍等", "马上", "一会儿", "谢谢", "稍后"]
        stream = cached.stream("，".join(mine))
        next(stream)
        assert cached.foreground_busy
        list(stream)
        assert not cached.foreground_busy
        order = engine.clauses_rendered
        at = order.index("一会儿")
        assert order[at:at + 3] == mine[2:]  # nothing of the worker's between the call's clauses
        assert renderer.idle(timeout=5) and cached.cached("好的，收到，明白。")
        assert sorted(c for c in order if c not in mine) == sorted(["好的", "收到", "明白"])
    finally:
        renderer.close()


def test_a_live_call_renders_its_likely_next_lines_while_it_goes_on(book, tmp_path: Path) -> None:
    from voicebot.call import CallOptions, CallRunner
    cached = CachedSynthesizer(SlowEngine(clause_s=0.01), tmp_path)
    played: list[int] = []
    runner = CallRunner(Policy(book), None, cached, play=lambda audio: played.append(audio.size))
    try:
        runner.start()
        assert played and runner._ahead is not None
        assert runner._ahead.idle(timeout=20)
        prompt = book.fill(book.protocols.no_response.prompt, {})
        assert cached.cached(prompt)  # ready before the line is ever silent
        assert (prompt, "zh") in runner._ahead.rendered
    finally:
        runner.close()
    # a simulation's clock never waits for the voice: nothing renders behind it
    assert CallRunner(Policy(book), None, cached, options=CallOptions())._ahead is None

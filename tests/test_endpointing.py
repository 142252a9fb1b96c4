"""Turn-taking: the turn ends sooner where the customer has clearly finished, never mid-sentence.

`finished_by` / `cue_of` on typed lines (a short reply, a complete question, a strong book match, words
that stop mid-phrase); the runner holding a turn open while whisper's early decode runs, so a customer
who resumes before the reply can start stays one turn (with a stand-in decoder whose finishing time the
test sets); then whole simulated calls with whisper on real audio: a closed short reply (spoken by the
Kokoro voice) ends after `reply_end_ms`, and no customer fixture with a pause inside its line is cut off.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import numpy as np
import pytest
from ruamel.yaml import YAML

from helpers import CUSTOMER, customer_wav
from voicebot.asr.base import Partial, Transcript
from voicebot.audio import SAMPLE_RATE, iter_audio_blocks, read_audio, write_wav
from voicebot.call import FRAME, CallOptions, CallRunner, SimulatedLine, file_frames, simulate
from voicebot.dialog import Heard, Policy, Started
from voicebot.endpointing import cue_of, expecting_reply, finished_by, still_speaking, wait_ms
from voicebot.vad import SpeechDetector, VadOptions

installed = pytest.mark.engine
"""Needs the Kokoro voice (bash install.sh); without it these tests fail, they are never skipped."""


def test_a_closed_short_reply_to_a_yes_no_question_has_finished(policy) -> None:
    assert expecting_reply(policy)  # the opening asked 方便了解一下吗？
    for reply in ("不需要", "不用了谢谢", "可以", "没兴趣"):
        assert finished_by(reply, policy) == "reply", reply
    for opener in ("对", "好的", "是的", "不是", "嗯", "喂"):  # these as often open a longer reply
        assert finished_by(opener, policy) is None, opener
    for misheard in ("好灯", "对滴", "是得"):  # …and so do they misheard (whisper's 好灯 for 好的)
        assert finished_by(misheard, policy) is None, misheard
    assert finished_by("不要", policy) == "reply" and finished_by("可以的", policy) == "reply"
    assert finished_by("不需要，我现在很忙，你们以后别打了", policy) is None  # not short


def test_a_complete_question_has_finished_an_open_phrase_has_not(policy) -> None:
    assert finished_by("你的工号是多少", policy) == "question"
    assert finished_by("你们从哪儿弄到我电话号码的吗", policy) == "question"
    assert finished_by("为什么", policy) is None  # too short: often the start of a longer one
    assert finished_by("我想问一下那个", policy) is None
    assert finished_by("今天天气不错", policy) is None
    assert finished_by("", policy) is None


def test_a_strong_book_match_that_ends_complete_has_finished(policy) -> None:
    # 你们怎么知道我手机号码的 is how_number nearly in the book's words (score 76), no question word
    assert policy.matcher.match("你们怎么知道我手机号码的").score >= 70
    assert finished_by("你们怎么知道我手机号码的", policy) == "matched"
    assert finished_by("你们公司在什么地方办公", policy) is None   # placed (office), but only at 63
    assert finished_by("你们怎么知道我手机号码的因为", policy) is None   # …and then it goes on
    assert finished_by("谢谢", policy) is None   # too short to be placed by its match alone


def test_words_that_stop_mid_phrase_make_the_wait_longer(policy) -> None:
    opts = VadOptions()
    for text in ("我想问一下那个", "我是因为", "你们这个业务如果", "然后"):
        assert still_speaking(text) and cue_of(text, policy) == "open", text
        assert wait_ms(cue_of(text, policy), opts) == opts.open_end_ms > opts.end_silence_ms
    for text in ("我要投诉你", "今天天气不错", "你的工号是多少"):
        assert not still_speaking(text), text
    assert cue_of("今天天气不错", policy) is None and wait_ms(None, opts) == opts.end_silence_ms
    assert cue_of(None, policy) is None and cue_of("", policy) is None
    assert wait_ms(cue_of("你的工号是多少", policy), opts) == opts.question_end_ms
    assert wait_ms(cue_of("你们怎么知道我手机号码的", policy), opts) == opts.matched_end_ms


def test_the_call_detector_waits_for_the_longest_cue(policy) -> None:
    runner = CallRunner(policy, None, None, vad_options=VadOptions(frame_ms=30, open_end_ms=1000))
    assert runner.vad.options.end_silence_ms == 1000 and runner.turn_options.end_silence_ms == 600
    runner = CallRunner(policy, None, None, vad_options=VadOptions(frame_ms=30, open_end_ms=300))
    assert runner.vad.options.end_silence_ms == 600


def test_no_reply_cue_when_the_bot_asked_nothing(book) -> None:
    policy = Policy(book)
    policy.handle(Started(0.0))
    policy.handle(Heard(1.0, "我之前反映的问题呢", 0.9))  # asked back: 您之前向我们反映过问题是吗？
    assert policy.state.open is not None and finished_by("没有", policy) is None  # an opener
    assert finished_by("没反映过", policy) == "reply"
    policy.state.open, policy.state.asked = None, None  # the bot's last line asked nothing
    assert not expecting_reply(policy) and finished_by("不需要", policy) is None


def first_turn(book, whisper, path, vad: VadOptions | None = None) -> tuple[list[dict], float]:
    """The customer's file as the first turn of a simulated call. The runner is set up as `simulate`
    does, without its ringback check: q13_no_rebate_tel8k.wav is taken for a foreign ringback there
    (a separate matter), and this is about turn-taking."""
    runner = CallRunner(Policy(book), whisper, None, vad_options=vad)
    opts = runner.options
    runner.listen(SimulatedLine([(file_frames(iter_audio_blocks(path)), None)], runner, opts.customer_gap_s,
                                30.0, opts.barge_in))
    runner.start()
    result = runner.run_frames()
    heard = [e for e in result.events if e["type"] == "heard"]
    assert heard, result.events
    return heard, (heard[0]["t"] - heard[0]["speech_end"]) * 1000


@installed
def test_a_short_reply_ends_the_turn_after_the_reply_wait(book, whisper, tmp_path) -> None:
    from voicebot.tts.kokoro import KokoroSynthesizer
    path = tmp_path / "reply.wav"
    write_wav(path, KokoroSynthesizer("zm_yunxi").synthesize("不需要。"))
    heard, wait_ms = first_turn(book, whisper, path)
    assert len(heard) == 1 and "需要" in heard[0]["text"]
    opts = VadOptions()
    assert opts.reply_end_ms - 31 <= wait_ms < opts.end_silence_ms - 100, wait_ms
    plain = VadOptions(reply_end_ms=600, question_end_ms=600)
    _, plain_ms = first_turn(book, whisper, path, plain)
    assert plain_ms >= plain.end_silence_ms - 31


class HeldDecoder:
    """A recogniser that decodes whole buffers only, as whisper does, and whose decodes finish when
    the test releases them (`release`), so the runner's logic is tested apart from how fast this
    machine decodes (real whisper's timing is in benchmarks/bench_call.py). It hears the first
    clause in a buffer that ends before `second_at` seconds, the whole line otherwise."""

    name = "whisper"
    sample_rate = SAMPLE_RATE

    def __init__(self, first: str, whole: str, second_at: float) -> None:
        self.first, self.whole, self.second_at = first, whole, second_at
        self.release = threading.Event()
        self.decoded: list[float] = []

    def start(self) -> "HeldUtterance":
        return HeldUtterance(self)

    def transcribe(self, samples: np.ndarray) -> Transcript:
        assert self.release.wait(timeout=20), "the test never released the decode"
        seconds = len(samples) / SAMPLE_RATE
        self.decoded.append(seconds)
        text = self.whole if seconds > self.second_at else self.first
        return Transcript(text, 0.9, (), 0.0, seconds, "zh", None, self.name)


class HeldUtterance:
    def __init__(self, decoder: HeldDecoder) -> None:
        self.decoder, self.frames = decoder, []

    def accept(self, frame: np.ndarray) -> None:
        self.frames.append(frame)

    @property
    def samples(self) -> np.ndarray:
        return np.concatenate(self.frames) if self.frames else np.zeros(0, np.float32)

    def finish(self) -> Transcript:
        return self.decoder.transcribe(self.samples)


def two_clauses_with_a_long_pause(pause_s: float) -> tuple[np.ndarray, float]:
    """q12_called_before (你们前几天不是打过电话了吗，怎么又打) with its comma pause stretched to
    `pause_s` (if longer than it is): the line, and where its second clause starts (s)."""
    audio = read_audio(customer_wav("q12_called_before.wav"))
    det = SpeechDetector(VadOptions(end_silence_ms=3000, frame_ms=30))
    pause_end = None
    for i in range(0, len(audio), FRAME):
        before = det.trailing_silence_s
        det.push(audio[i:i + FRAME])
        if det.in_speech and before >= 0.3 and det.trailing_silence_s == 0.0:
            pause_end, pause_len = i, before
            break
    assert pause_end is not None
    cut = pause_end - int(0.1 * SAMPLE_RATE)
    extra = np.zeros(max(0, int((pause_s - pause_len) * SAMPLE_RATE)), dtype=np.float32)
    lead = np.zeros(int(0.5 * SAMPLE_RATE), dtype=np.float32)
    line = np.concatenate([lead, audio[:cut], extra, audio[cut:], np.zeros(3 * SAMPLE_RATE, np.float32)])
    return line, (len(lead) + cut + len(extra)) / SAMPLE_RATE


def held_call(fixture_book, decoder: HeldDecoder, line: np.ndarray, release_at: float | None,
              preempt: float | None) -> tuple[list[dict], CallRunner]:
    """The customer's line, frame by frame, after the opening, in a live-like call (a `play`
    callback); the held decode is released once the line reaches `release_at` seconds."""
    policy = Policy(fixture_book)
    runner = CallRunner(policy, decoder, None, options=CallOptions(preemptive_after_s=preempt),
                        play=lambda audio: None)

    def frames() -> Iterator[np.ndarray]:
        for i in range(0, len(line) - FRAME + 1, FRAME):
            if release_at is not None and i / SAMPLE_RATE >= release_at:
                decoder.release.set()
            if decoder.release.is_set():  # a released decode finishes within the frame, however
                for running in (runner._preempt, runner._stale):  # busy the machine (deterministic)
                    if running is not None:
                        running.result(timeout=20)
            yield line[i:i + FRAME]

    runner.start()
    runner.run_frames(frames())
    return [e for e in runner.result.events if e["type"] == "heard"], runner


FIRST, WHOLE = "你们前几天不是打过电话了吗", "你们前几天不是打过电话了吗怎么又打"


def test_speech_resuming_while_the_early_decode_runs_is_the_same_turn(fixture_book) -> None:
    line, second_at = two_clauses_with_a_long_pause(0.8)
    # The early decode starts 120 ms into the pause and is still running when the customer goes on
    # after 800 ms (longer than any wait): the turn stays open, that decode is dropped, one turn.
    decoder = HeldDecoder(FIRST, WHOLE, second_at)
    heard, _ = held_call(fixture_book, decoder, line, release_at=second_at + 0.3, preempt=0.12)
    assert [h["text"] for h in heard] == [WHOLE]
    assert decoder.decoded[0] < second_at < decoder.decoded[-1]   # the early decode was of the first clause
    # With no decode in flight, the same pause ends the turn at the plain wait: the customer is cut off.
    decoder = HeldDecoder(FIRST, WHOLE, second_at)
    decoder.release.set()
    heard, _ = held_call(fixture_book, decoder, line, release_at=None, preempt=None)
    assert len(heard) == 2 and heard[0]["text"] == FIRST


def test_the_early_decode_is_the_turns_transcript_when_the_silence_holds(fixture_book) -> None:
    line, second_at = two_clauses_with_a_long_pause(0.5)
    decoder = HeldDecoder(FIRST, WHOLE, second_at)
    heard, runner = held_call(fixture_book, decoder, line, release_at=0.0, preempt=0.12)
    assert [h["text"] for h in heard] == [WHOLE]
    assert runner.preempted_turns == 1   # the decode started at silence onset answered the turn


def multi_clause_fixtures() -> list[str]:
    rows = YAML(typ="safe").load((CUSTOMER / "manifest.yaml").read_text(encoding="utf-8"))
    return [r["file"] for r in rows if re.search(r"[，？。！,?!].", r["text"])]


@pytest.mark.parametrize("name", multi_clause_fixtures())
def test_no_fixture_with_a_pause_inside_its_line_is_cut_off(book, whisper, name) -> None:
    """Every customer fixture whose line has a comma pause (up to 570 ms), through the real detector
    and whisper with the shipped book's waits: heard as one turn."""
    heard, _ = first_turn(book, whisper, customer_wav(name))
    assert len(heard) == 1, [h["text"] for h in heard]


class StreamingStandIn:
    """A recogniser that decodes while the audio arrives, as vosk does, and whose running text is
    `words` from the first frame on: how a streaming engine's partial text drives the cues."""

    name = "vosk"
    sample_rate = SAMPLE_RATE

    def __init__(self, words: str) -> None:
        self.words = words

    def start(self) -> "StreamingStandIn":
        self.sent = False
        return self

    def accept(self, frame: np.ndarray) -> Partial | None:
        if self.sent:
            return None
        self.sent = True
        return Partial(self.words)

    def finish(self) -> Transcript:
        return Transcript(self.words, 0.9, (), 0.0, 1.0, None, None, self.name)

    def transcribe(self, samples: np.ndarray) -> Transcript:
        return self.finish()


@pytest.mark.parametrize(("words", "wait"), [("不需要", "reply_end_ms"), ("我想问一下那个", "open_end_ms"),
                                             ("今天天气不错", "end_silence_ms")])
def test_a_streaming_recognisers_words_set_the_wait(fixture_book, words, wait) -> None:
    # the opening just asked a yes/no question; any one-clause line will do for the audio
    result = simulate(Policy(fixture_book), StreamingStandIn(words), None, [customer_wav("recording.wav")])
    heard = [e for e in result.events if e["type"] == "heard"]
    assert len(heard) == 1 and heard[0]["text"] == words
    waited_ms = (heard[0]["t"] - heard[0]["speech_end"]) * 1000
    assert abs(waited_ms - getattr(VadOptions(), wait)) <= 31, waited_ms

"""Turn-taking: the turn ends sooner where the customer has clearly finished, never mid-sentence.

`finished_by` on typed lines; then whole simulated calls with whisper on real audio: a closed short
reply (spoken by the Kokoro voice) ends after `reply_end_ms`, while fixtures whose first clause
already reads as complete (对，是我自己的身份证; 我的资料你们不是都有吗，还问我干嘛) stay one turn.
"""
from __future__ import annotations

import pytest

from helpers import customer_wav
from voicebot.audio import write_wav
from voicebot.call import simulate
from voicebot.dialog import Heard, Policy, Started
from voicebot.endpointing import expecting_reply, finished_by
from voicebot.vad import VadOptions

installed = pytest.mark.engine
"""Needs the Kokoro voice (bash install.sh); without it these tests fail, they are never skipped."""


def test_a_closed_short_reply_to_a_yes_no_question_has_finished(policy) -> None:
    assert expecting_reply(policy)  # the opening asked 方便了解一下吗？
    for reply in ("不需要", "不用了谢谢", "可以", "没兴趣"):
        assert finished_by(reply, policy) == "reply", reply
    for opener in ("对", "好的", "是的", "不是", "嗯", "喂"):  # these as often open a longer reply
        assert finished_by(opener, policy) is None, opener
    assert finished_by("不需要，我现在很忙，你们以后别打了", policy) is None  # not short


def test_a_complete_question_has_finished_an_open_phrase_has_not(policy) -> None:
    assert finished_by("你的工号是多少", policy) == "question"
    assert finished_by("你们从哪儿弄到我电话号码的吗", policy) == "question"
    assert finished_by("为什么", policy) is None  # too short: often the start of a longer one
    assert finished_by("我想问一下那个", policy) is None
    assert finished_by("今天天气不错", policy) is None
    assert finished_by("", policy) is None


def test_no_reply_cue_when_the_bot_asked_nothing(book) -> None:
    policy = Policy(book)
    policy.handle(Started(0.0))
    policy.handle(Heard(1.0, "我之前反映的问题呢", 0.9))  # asked back: 您之前向我们反映过问题是吗？
    assert policy.state.open is not None and finished_by("没有", policy) is None  # an opener
    assert finished_by("没反映过", policy) == "reply"
    policy.state.open, policy.state.asked = None, None  # the bot's last line asked nothing
    assert not expecting_reply(policy) and finished_by("不需要", policy) is None


def first_turn(book, whisper, path, vad: VadOptions | None = None) -> tuple[list[dict], float]:
    result = simulate(Policy(book), whisper, None, [path], vad_options=vad)
    heard = [e for e in result.events if e["type"] == "heard"]
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


@pytest.mark.parametrize("name", ["yes_dui.wav", "q02_why_my_data.wav", "complain_q.wav", "no_bushi.wav"])
def test_a_pause_after_a_complete_looking_first_clause_does_not_end_the_turn(book, whisper, name) -> None:
    heard, _ = first_turn(book, whisper, customer_wav(name))
    assert len(heard) == 1, [h["text"] for h in heard]

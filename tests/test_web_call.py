"""The classroom with real engines on a real server, against SQLite and PostgreSQL.

A WebSocket client streams a shipped customer WAV (16-bit 16 kHz PCM, at real speed, after the
bot's opening has played) and receives the bot's audio and the call's events; headless Chromium
(Debian's, driven by Playwright) opens the trainer's page during such a call and sees the transcript
and the matched entry; a second Chromium plays the trainee, its microphone fed from a WAV, through
the page's AudioWorklet. Screenshots are kept in test-artifacts/.
"""
from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import ROOT, customer_wav
from store_fixtures import db_url  # noqa: F401  (the parametrized SQLite / PostgreSQL fixture)
from voicebot.audio import SAMPLE_RATE, read_audio
from voicebot.store import Store
from voicebot.web.app import create_app
from voicebot.web.client import Browser, CallSocket
from voicebot.web.engines import Engines, LockedVoice
from web_helpers import running_server

pytestmark = [pytest.mark.engine, pytest.mark.book]   # the shipped book: its notes (注意/强调/思路) are on show

PASSWORD = "trainer-pw"
CUSTOMER = "q01_who_allowed.wav"
ENTRY = "q01_who_allowed"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def classroom(db_url: str, shipped_book, shipped_matcher, whisper, synth, tmp_path: Path):
    """A real server (uvicorn) with whisper and the espeak-ng voice, a trainer and a class."""
    store = Store(db_url)
    store.set_trainer_password(PASSWORD)
    engines = Engines(shipped_book, shipped_matcher, whisper, LockedVoice(synth))
    with running_server(create_app(store, engines, tmp_path / "calls")) as url:
        trainer = Browser(url)
        trainer.login(PASSWORD)
        cls = trainer.request("/api/classes", {"name": "早班"})[1]
        yield url, store, cls
    store.close()


def _is_event(kind: str, **fields: object):
    return lambda m: isinstance(m, dict) and m.get("type") == kind and all(m.get(k) == v for k, v in fields.items())


def speak_after_opening(call: CallSocket, wav: Path) -> None:
    """Wait for the bot's opening, let it play to its end, then speak."""
    opening = call.wait_bot_line()
    time.sleep(len(opening) / SAMPLE_RATE + 0.5)
    call.send_audio(read_audio(wav), realtime=True)


def test_call_over_the_socket_from_a_customer_wav(classroom) -> None:
    url, store, cls = classroom
    trainee = Browser(url)
    trainee_id = trainee.join(cls["code"], "小王")
    call = trainee.call()
    speak_after_opening(call, customer_wav(CUSTOMER))
    heard = call.until(_is_event("heard"), 120)
    assert heard["entry"] == ENTRY and heard["score"] > 0, heard
    assert heard["speech_end"] > heard["speech_start"] and heard["confidence"] > 0
    reply = call.wait_bot_line(120)
    assert len(reply) > SAMPLE_RATE // 2 and np.abs(reply).max() > 0.05      # a spoken line, not silence
    said = [e for e in call.events if e.get("type") == "say"]
    assert said[0]["reason"] == "opening" and any(e.get("entry") == ENTRY for e in said)
    assert call.events[0]["type"] == "call" and call.events[1]["type"] == "start"
    call.hang_up()
    rest = list(call.drain())
    assert any(isinstance(m, dict) and m.get("type") == "hangup" for m in rest)
    row = store.calls(trainee_id=trainee_id)[0]
    assert row.entries[0] == ENTRY and row.turns >= 1 and row.ended_reason == "customer_hangup"
    recording = read_audio(Path(row.folder) / "recording.wav")
    assert len(recording) / SAMPLE_RATE > 3.0                                  # both voices, as a file


def speech_onset_s(samples: np.ndarray, floor_dbfs: float = -40.0) -> float:
    """Where the file's speech starts: its first 30 ms frame louder than `floor_dbfs`."""
    frame = SAMPLE_RATE * 30 // 1000
    for i in range(0, len(samples) - frame + 1, frame):
        if 20 * np.log10(np.sqrt(np.mean(samples[i:i + frame] ** 2)) + 1e-12) > floor_dbfs:
            return i / SAMPLE_RATE
    raise AssertionError("no speech in the file")


def test_barge_in_over_the_socket(classroom) -> None:
    """Full duplex: the customer talks over the bot (its opening, then its answer), the server cuts
    the bot with a `cut` event at the right point and answers what the customer said instead."""
    url, store, cls = classroom
    b = Browser(url)
    b.join(cls["code"], "小吴")
    call = b.call()
    first, second = read_audio(customer_wav("q10_office_name.wav")), read_audio(customer_wav(CUSTOMER))
    lines: list[tuple[dict, dict]] = []     # (say event, cut event) of each line cut short
    for customer, into_s, entry in ((first, 1.0, "q10_office_name"), (second, 2.0, ENTRY)):
        say = call.until(_is_event("say"), 120) if not lines else call.until(_is_event("say", entry="q10_office_name"), 120)
        audio = call.wait_bot_line(120)
        assert len(audio) / SAMPLE_RATE > into_s + 3.0, say    # the line goes on well past the customer's words
        time.sleep(into_s)                                     # the bot's line is still playing
        call.send_audio(customer, realtime=True)
        cut = call.until(lambda m: isinstance(m, dict) and m.get("type") in ("cut", "heard"), 60)
        assert cut["type"] == "cut", "the bot was not cut short"
        expected = into_s + speech_onset_s(customer)
        print(f"\ncut at {cut['played_s']} s of the line; the customer began speaking at {expected:.2f} s")
        assert expected - 0.3 <= cut["played_s"] <= expected + 1.0, (cut, expected)
        heard = call.until(_is_event("heard"), 120)
        assert heard["entry"] == entry, heard
        lines.append((say, cut))
    answer = call.until(_is_event("say"), 120)
    assert answer["entry"] == ENTRY and answer["reason"] == "answer"     # the second line is answered
    kinds = [e["type"] for e in call.events]
    assert kinds.count("cut") == 2
    call.hang_up()
    list(call.drain())
    row = store.calls(class_ids=[cls["id"]])[0]
    assert list(row.entries[:2]) == ["q10_office_name", ENTRY]


def _chromium(playwright, *extra: str):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS + list(extra))


def _keep(page, name: str, tmp_path: Path) -> Path:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=True)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / name)
    return shot


def test_trainer_page_follows_a_live_call(classroom, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from playwright.sync_api import expect, sync_playwright
    url, store, cls = classroom
    finished = threading.Event()
    seen_by_page = threading.Event()
    problems: list[BaseException] = []

    def trainee() -> None:
        try:
            b = Browser(url)
            b.join(cls["code"], "小李")
            call = b.call()
            speak_after_opening(call, customer_wav(CUSTOMER))
            call.until(_is_event("heard"), 120)
            seen_by_page.wait(180)          # the call stays live while the trainer's page looks
            call.hang_up()
            list(call.drain())
        except BaseException as err:  # noqa: BLE001 - reported by the test below
            problems.append(err)
        finally:
            finished.set()

    with sync_playwright() as p:
        browser = _chromium(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url + "/trainer")
        page.fill("#password", "wrong")
        page.click("#login button")
        expect(page.locator("#login-msg")).to_contain_text("wrong password")
        page.fill("#password", PASSWORD)
        page.click("#login button")
        expect(page.locator("#code")).to_have_text(cls["code"], timeout=30_000)   # the class code, large
        expect(page.locator("#live-status")).to_have_text("live 实时", timeout=30_000)
        asked: list[str] = []                   # every request the page makes from now on
        page.on("request", lambda r: asked.append(r.url))
        thread = threading.Thread(target=trainee, daemon=True)
        thread.start()
        try:
            expect(page.locator("#running .item")).to_contain_text("小李", timeout=60_000)
            expect(page.locator("#transcript .ev.customer")).to_contain_text("电话", timeout=180_000)
            expect(page.locator("#current-entry")).to_contain_text(ENTRY, timeout=30_000)
            expect(page.locator("#current-entry")).to_contain_text("score")
            expect(page.locator("#notes li").first).to_be_visible()                # the book's notes
            # pushed, not polled: the page asked the server for no call list and no call events,
            # and each change showed within half a second of happening on the server
            polled = [u for u in asked if "/api/calls" in u]
            assert not polled, polled
            lags = page.evaluate("window.pushLag")
            print(f"\ntrainer page: {len(lags)} pushes, event-to-page max {max(lags)} ms, median "
                  f"{sorted(lags)[len(lags) // 2]} ms")
            assert len(lags) >= 3 and max(lags) < 500, lags
            _keep(page, f"trainer-live-{request.node.callspec.id}.png", tmp_path)
        finally:
            seen_by_page.set()
            finished.wait(120)
        assert not problems, problems
        expect(page.locator("#history .item")).to_contain_text("customer_hangup", timeout=30_000)
        expect(page.locator("#history audio")).to_have_count(1)                    # its recording, playable
        browser.close()


FAKE_MIC = """
// The microphone replaced by a WAV the test plays on cue: the page's own AudioWorklet, socket and
// playback code run unchanged (Chromium's looping fake device cannot wait for the bot to finish).
navigator.mediaDevices.getUserMedia = async () => {
  const c = new AudioContext({sampleRate: 48000});
  const dest = c.createMediaStreamDestination();
  window.speakFile = async (url) => {
    const audio = await c.decodeAudioData(await (await fetch(url)).arrayBuffer());
    const src = c.createBufferSource();
    src.buffer = audio; src.connect(dest); src.start();
    return audio.duration;
  };
  return dest.stream;
};
"""


def test_trainee_page_calls_with_the_microphone(classroom, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The trainee's page: join with the code, call with the microphone (a customer WAV played into
    it while the bot's opening plays), the AudioWorklet streams 16 kHz PCM, the server cuts the bot
    short and the page stops its voice at once, the server hears the question, and the bot's answer
    comes back and plays."""
    from playwright.sync_api import expect, sync_playwright
    url, store, cls = classroom
    wav = customer_wav(CUSTOMER).read_bytes()
    with sync_playwright() as p:
        browser = _chromium(p, "--autoplay-policy=no-user-gesture-required")
        page = browser.new_page()
        page.add_init_script(FAKE_MIC)
        page.route("**/test-customer.wav", lambda route: route.fulfill(body=wav, content_type="audio/wav"))
        page.goto(url + "/")
        page.fill("#code", "wrong1")
        page.fill("#name", "小张")
        page.click("#join button")
        expect(page.locator("#msg")).to_contain_text("code")                     # a wrong code is refused
        page.fill("#code", cls["code"].lower())
        page.click("#join button")
        expect(page.locator("#who")).to_contain_text("小张", timeout=30_000)
        page.click("#start-mic")
        expect(page.locator("#transcript .ev.bot")).to_contain_text("10086", timeout=60_000)   # the opening
        # the opening's audio has come (the event comes first) and plays: the trainee talks over it
        page.wait_for_function("window.botLines >= 1 && window.botSpeaking() > 4", timeout=120_000, polling=100)
        page.wait_for_timeout(1000)
        page.evaluate("window.speakFile('/test-customer.wav')")
        page.wait_for_function("window.cuts >= 1", timeout=60_000, polling=50)    # barge-in: the server cut it
        assert page.evaluate("window.botSpeaking()") == 0                       # and the page stopped at once
        expect(page.locator("#transcript .ev.cut")).to_contain_text("cut the bot short")
        expect(page.locator("#transcript .ev.customer .tag.match")).to_contain_text(ENTRY, timeout=120_000)
        expect(page.locator("#transcript .ev.bot .tag").last).to_contain_text(ENTRY, timeout=60_000)
        _keep(page, f"trainee-mic-{request.node.callspec.id}.png", tmp_path)
        page.click("#hangup")
        expect(page.locator("#status")).to_contain_text("call ended", timeout=60_000)
        browser.close()
    calls = store.calls(class_ids=[cls["id"]])
    assert calls and calls[0].entries[0] == ENTRY and calls[0].ended_reason == "customer_hangup"

"""Drills from the browser (`/ws/drill`) on a real server, against SQLite and PostgreSQL.

A websockets client drills as the trainee page does: typed answers on a text-only server, and a
spoken answer (the book's answer rendered by the project's voice, never a customer WAV) through the
same VAD → whisper → scorer as `voicebot drill`. Each result must land in the class store, equal what
the CLI's scorer gives for the same answer, show in the trainee's own progress and stay hidden from
another trainee.
"""
from __future__ import annotations

import random
import re
import time
from pathlib import Path

import numpy as np
import pytest

from store_fixtures import db_url  # noqa: F401  (the parametrized SQLite / PostgreSQL fixture)
from voicebot.audio import SAMPLE_RATE
from voicebot.drill import Timing, answer_outline, pick_entries, score_answer, standard_lines
from voicebot.progress import ProgressDB
from voicebot.store import Store
from voicebot.web.app import create_app
from voicebot.web.client import Browser, CallSocket
from voicebot.web.engines import Engines, LockedVoice
from web_helpers import running_server

PASSWORD = "drill-pw"


def seed_for(book, target: str, kinds: tuple[str, ...] = ("entry",), progress: ProgressDB | None = None,
             trainee: str = "") -> int:
    """A seed whose first item for this trainee (their results so far in `progress`) is `target`, as
    the server picks it."""
    known = progress.mastery(trainee) if progress is not None else {}

    class Known:                      # the trainee's mastery read once, not once per seed tried
        def mastery(self, _: str) -> dict:
            return known

    for seed in range(2000):
        picked = pick_entries(book, Known(), trainee, None, 1, random.Random(seed), now=time.time(), kinds=kinds)
        if picked[0].id == target:
            return seed
    raise AssertionError(f"no seed puts {target} first")


def _is(kind: str):
    return lambda m: isinstance(m, dict) and m.get("type") == kind


def _classroom(db_url: str, engines: Engines, tmp_path: Path):
    store = Store(db_url)
    store.set_trainer_password(PASSWORD)
    server = running_server(create_app(store, engines, tmp_path / "calls"))
    return store, server


@pytest.fixture
def typed_room(db_url: str, shipped_book, shipped_matcher, tmp_path: Path):
    """A text-only server on the shipped book (its key points and rules), a class, two trainees."""
    store, server = _classroom(db_url, Engines(shipped_book, shipped_matcher, None, None, pace_typed=False), tmp_path)
    with server as url:
        trainer = Browser(url)
        trainer.login(PASSWORD)
        cls = trainer.request("/api/classes", {"name": "早班"})[1]
        yield url, store, cls, trainer
    store.close()


def test_typed_drill_is_scored_stored_and_private(typed_room, shipped_book, shipped_matcher) -> None:
    url, store, cls, trainer = typed_room
    wang, li = Browser(url), Browser(url)
    wang_id = wang.join(cls["code"], "小王")
    li.join(cls["code"], "小李")
    answers = {"q06_hk_macau_taiwan": "您去港澳台的话接电话是要收费的，大陆31个省内不收国际漫游费，港澳台不算在里面。",
               "q24_recording": "没有录音的，您放心说吧，我们不会录的。"}          # breaks the book: no recording
    results = {}
    key = f"{cls['id']}:小王"
    for target, answer in answers.items():
        drill = wang.drill(count=1, seed=seed_for(shipped_book, target, progress=ProgressDB(store=store), trainee=key))
        start = drill.until(_is("drill"), 30)
        assert start["items"] == 1 and start["spoken"] is False
        question = drill.until(_is("question"), 30)
        assert question["entry"] == target and question["customer"] in [shipped_book.fill(c) for c in
                                                                         shipped_book.get(target).customer]
        drill.send_text(answer)
        result = drill.until(_is("score"), 60)
        summary = drill.until(_is("summary"), 30)
        assert summary["answers"] == 1 and summary["ended"] == "finished"
        list(drill.drain(30))
        assert drill.closed
        # the CLI's scorer on the same answer gives the same card
        cli = score_answer(shipped_book.get(target), answer, shipped_book, shipped_matcher)
        assert result["total"] == round(cli.total, 1) and result["made"] == list(cli.made)
        assert result["missed"] == list(cli.missed) and result["answer"] == answer
        assert result["book_answer"] == answer_outline(shipped_book.get(target), shipped_book)
        assert "标准答案：" + result["book_answer"][0] in result["feedback"]
        results[target] = result

    wrong, good = results["q24_recording"], results["q06_hk_macau_taiwan"]
    assert wrong["total"] < 5.0 and wrong["violations"]                       # below every honest answer
    broken = wrong["violations"][0]
    assert broken["rule"] in shipped_book.rules and broken["book"] and "问题" in broken["book"]   # the book line
    assert good["total"] >= 50 and good["made"] and not good["violations"]

    # in the store, under this trainee, with the points
    stored = {a.entry_id: a.score for a in ProgressDB(store=store).attempts(key)}
    assert stored == pytest.approx({"q24_recording": wrong["total"], "q06_hk_macau_taiwan": good["total"]}, abs=0.05)
    status, own = wang.request(f"/api/progress/{wang_id}")
    assert status == 200 and {r["entry_id"] for r in own["results"]} == set(answers)
    row = next(r for r in own["results"] if r["entry_id"] == "q06_hk_macau_taiwan")
    assert row["points_made"] == good["made"] and row["points_missed"] == good["missed"]
    assert li.request(f"/api/progress/{wang_id}")[0] == 403                  # another trainee cannot read it
    assert trainer.request(f"/api/progress/{wang_id}")[1]["weakest"][0]["entry_id"] == "q24_recording"


def test_protocol_and_exchange_drills_step_by_step(typed_room, shipped_book) -> None:
    url, store, cls, _ = typed_room
    b = Browser(url)
    b.join(cls["code"], "小张")
    exchange = next(x for x in shipped_book.exercises if x.kind == "exchange")
    drill = b.drill(exchanges=1, count=1, seed=seed_for(shipped_book, exchange.id, ("exchange",)))
    for step in range(1, len(exchange.steps) + 1):
        question = drill.until(_is("question"), 30)
        assert (question["item"], question["step"], question["steps"]) == (exchange.id, step, len(exchange.steps))
        drill.send_text("您好，请您放心，我帮您记录下来。")
        assert drill.until(_is("score"), 60)["step"] == step
    done = drill.until(_is("exchange"), 30)
    assert done["item"] == exchange.id and done["steps"] == len(exchange.steps)
    list(drill.drain(30))
    protocol = b.drill(protocols=1, count=2)
    first = protocol.until(_is("question"), 30)
    assert first["category"] == "服务流程"
    protocol.hang_up()                                         # stopping half-way keeps what was answered
    summary = protocol.until(_is("summary"), 30)
    assert summary["answers"] == 0 and summary["ended"] == "trainee_hangup"
    items = {a.entry_id for a in ProgressDB(store=store).attempts(f"{cls['id']}:小张")}
    assert items == {exchange.id}


def test_bad_drill_requests_get_one_line(typed_room) -> None:
    url, _, cls, trainer = typed_room
    b = Browser(url)
    b.join(cls["code"], "小赵")
    for query, words in (({"count": 0}, "count=0"), ({"category": "没有这类"}, "no category"),
                         ({"seed": "x"}, "seed")):
        drill = b.drill(**query)
        err = drill.until(_is("error"), 30)
        assert words in err["message"] and "\n" not in err["message"]
        list(drill.drain(10))
    drill = trainer.drill()                                    # a trainer has no progress to file it under
    assert "join a class" in drill.until(_is("error"), 30)["message"]
    drill = b.drill(count=1)
    drill.until(_is("question"), 30)
    drill.ws.send("not json")
    assert "typed" in drill.until(_is("error"), 30)["message"]
    drill.hang_up()
    list(drill.drain(10))


@pytest.mark.engine
def test_spoken_drill_answer_through_whisper(db_url: str, shipped_book, shipped_matcher, whisper, synth,
                                             tmp_path: Path) -> None:
    """The customer's line comes as audio; the answer is the book's answer rendered by the project's
    voice, streamed as the page's AudioWorklet streams the microphone, heard by whisper, scored by the
    CLI's scorer and stored."""
    target = "s_work_id"
    store, server = _classroom(db_url, Engines(shipped_book, shipped_matcher, whisper, LockedVoice(synth)), tmp_path)
    with server as url:
        trainer = Browser(url)
        trainer.login(PASSWORD)
        cls = trainer.request("/api/classes", {"name": "晚班"})[1]
        b = Browser(url)
        b.join(cls["code"], "小周")
        drill: CallSocket = b.drill(count=1, seed=seed_for(shipped_book, target))
        assert drill.until(_is("drill"), 30)["spoken"] is True
        question = drill.until(_is("question"), 30)
        assert question["entry"] == target
        line = drill.wait_bot_line(120)                        # the customer's line, spoken
        assert len(line) > SAMPLE_RATE // 2 and np.abs(line).max() > 0.05
        time.sleep(len(line) / SAMPLE_RATE + 0.2)             # it plays; then the trainee answers
        answer = "".join(standard_lines(shipped_book.get(target), shipped_book))
        quiet = np.zeros(int(0.6 * SAMPLE_RATE), dtype=np.float32)
        drill.send_audio(np.concatenate([quiet, synth.synthesize(answer), np.zeros(3 * SAMPLE_RATE, np.float32)]),
                         realtime=False)
        result = drill.until(_is("score"), 180)
        list(drill.drain(60))
    print(f"\nspoken drill: heard {result['answer']!r}, score {result['total']}, made {result['made']}")
    assert result["answer"] and not result["no_answer"]
    assert result["timing"]["start_s"] == pytest.approx(0.6, abs=0.3)
    t = result["timing"]
    cli = score_answer(shipped_book.get(target), result["answer"], shipped_book, shipped_matcher,
                       Timing(t["start_s"], tuple(t["pauses"]), t["speech_s"]))
    assert result["total"] == pytest.approx(cli.total, abs=0.2)
    # espeak-ng's rendering of 8086 changes from run to run (heard 八零八六 one run, 霸凌霸佑 the next):
    # the score must be the CLI scorer's for what was heard (above), and the line must be heard as
    # the work-id line; how well the digits come through depends on that run's rendering.
    assert "我的" in result["answer"] and "我的工号是" in result["made"], result
    stored = ProgressDB(store=store).attempts(f"{cls['id']}:小周")
    assert [(a.entry_id, round(a.score, 1)) for a in stored] == [(target, result["total"])]
    store.close()


def test_trainee_page_drill_tab(typed_room, tmp_path: Path) -> None:
    """The page's Drill tab in headless Chromium: a typed drill, the score card with the points and
    the book's answer, the result in the trainee's progress on the page."""
    import shutil
    from playwright.sync_api import expect, sync_playwright
    from test_web_call import ARTIFACTS, _chromium
    url, store, cls, _ = typed_room
    with sync_playwright() as p:
        browser = _chromium(p)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url + "/")
        page.fill("#code", cls["code"])
        page.fill("#name", "小陈")
        page.click("#join button")
        expect(page.locator("#who")).to_contain_text("小陈", timeout=30_000)
        page.click("#tab-drill")
        page.fill("#drill-count", "1")
        page.click("#drill-text")
        expect(page.locator("#question .question")).to_contain_text("客户", timeout=30_000)
        page.fill("#answer-line", "是的，我们的通话是有录音的，为了提高服务质量，请您谅解。")
        page.click("#answer-send")
        card = page.locator("#results .card.score").first
        expect(card).to_contain_text("标准答案", timeout=60_000)
        expect(card.locator(".total")).to_have_text(re.compile(r"^\d+$"))
        expect(page.locator("#drill-status")).to_contain_text("1 answer,", timeout=30_000)
        expect(page.locator("#progress")).not_to_contain_text("no drill results", timeout=30_000)
        shot = tmp_path / "trainee-drill.png"
        page.screenshot(path=str(shot), full_page=True)
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(shot, ARTIFACTS / shot.name)
        browser.close()
    assert len(ProgressDB(store=store).attempts(f"{cls['id']}:小陈")) == 1

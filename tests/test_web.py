"""The classroom server's doors, on SQLite and PostgreSQL: health, the trainer's password, class codes,
CSRF, and who sees what (a trainee only their own calls and progress; the trainer everyone's)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from store_fixtures import db_url  # noqa: F401  (the parametrized SQLite / PostgreSQL fixture)
from voicebot.progress import ProgressDB
from voicebot.store import Store
from voicebot.web.app import create_app
from voicebot.web.client import Browser
from voicebot.web.engines import load_engines
from helpers import FIXTURE_BOOK
from web_helpers import running_server

PASSWORD = "班长的密码"


@pytest.fixture(scope="module")
def typed_engines():
    """The fixture book and its matcher only: these tests never speak (nor wait for unspoken lines)."""
    return load_engines(str(FIXTURE_BOOK), speech=False, pace_typed=False)


@pytest.fixture
def server(db_url: str, typed_engines, tmp_path: Path):
    store = Store(db_url)
    store.set_trainer_password(PASSWORD)
    with running_server(create_app(store, typed_engines, tmp_path / "calls")) as url:
        yield url, store
    store.close()


def test_health_and_pages(server) -> None:
    url, _ = server
    b = Browser(url)
    assert b.request("/healthz") == (200, {"ok": True, "calls_here": 0})
    for page in ("/", "/trainee", "/trainer", "/static/trainer.js", "/static/mic-worklet.js"):
        status, body = b.request(page)
        assert status == 200 and len(body) > 100, page


def test_wrong_password_and_wrong_code_are_refused(server) -> None:
    url, _ = server
    b = Browser(url)
    status, body = b.request("/api/login", {"password": "guess"})
    assert status == 401 and "wrong password" in body["error"]
    assert b.request("/api/classes")[0] == 403                      # not signed in
    status, body = b.request("/api/join", {"code": "ZZZZZZ", "name": "小王"})
    assert status == 403 and "code" in body["error"]
    assert b.request("/api/me")[1] == {"role": None}


def test_csrf_is_required(server) -> None:
    url, _ = server
    b = Browser(url)
    b.request("/api/me")
    status, body = b.request("/api/login", {"password": PASSWORD}, csrf=False)
    assert status == 403 and b"CSRF" in body                        # starlette-csrf refuses it
    status, _ = b.request("/api/login", {"password": PASSWORD})
    assert status == 200


def test_trainee_sees_only_their_own(server, tmp_path: Path) -> None:
    url, store = server
    trainer = Browser(url)
    trainer.login(PASSWORD)
    status, cls = trainer.request("/api/classes", {"name": "早班"})
    assert status == 200 and len(cls["code"]) == 6
    wang, li = Browser(url), Browser(url)
    wang_id, li_id = wang.join(cls["code"].lower(), "小王"), li.join(cls["code"], "小李")

    # each trainee holds a typed call over the socket
    for who, line in ((wang, "你们怎么知道我的号码"), (li, "谁让你们给我打电话的")):
        call = who.call()
        call.until(lambda m: isinstance(m, dict) and m.get("type") == "say", 30)
        call.send_text(line)
        heard = call.until(lambda m: isinstance(m, dict) and m.get("type") == "heard", 60)
        assert heard["text"] == line and heard["entry"]
        call.hang_up()
        assert any(isinstance(m, dict) and m.get("type") == "hangup" for m in call.drain())
    # drill results for both
    with ProgressDB(store=store) as db:
        db.record(f"{cls['id']}:小王", "q24_recording", "资料与隐私", 80.0, points_made=["录音"], points_missed=[])
        db.record(f"{cls['id']}:小李", "q17_signal", "投诉与建议", 30.0)

    status, mine = wang.request("/api/calls")
    assert status == 200 and [c["trainee"] for c in mine] == ["小王"]
    assert mine[0]["entries"] == ["how_number"] and mine[0]["running"] is False
    status, li_calls = li.request("/api/calls")
    li_call = li_calls[0]["id"]
    assert wang.request(f"/api/calls/{li_call}/events")[0] == 403    # another trainee's call
    assert wang.request(f"/api/calls/{li_call}/recording")[0] == 403
    assert wang.request(f"/api/progress/{li_id}")[0] == 403          # another trainee's progress
    assert wang.request("/api/follow-ups")[0] == 403                  # trainers only
    assert wang.request("/api/classes")[0] == 403
    status, own = wang.request(f"/api/progress/{wang_id}")
    assert status == 200 and own["categories"][0]["category"] == "资料与隐私"
    assert own["results"][0]["points_made"] == ["录音"]

    status, everyone = trainer.request(f"/api/calls?class_id={cls['id']}")
    assert status == 200 and sorted(c["trainee"] for c in everyone) == ["小李", "小王"]
    status, events = trainer.request(f"/api/calls/{li_call}/events")
    assert status == 200 and events["notes"]["who_allowed"]["category"] == "资料"     # the book's view of it
    assert events["notes"]["who_allowed"]["answer"] and events["count"] == len(events["events"])
    assert trainer.request(f"/api/progress/{li_id}")[1]["weakest"][0]["entry_id"] == "q17_signal"
    status, follow_ups = trainer.request("/api/follow-ups")
    assert status == 200 and {f["kind"] for f in follow_ups} >= {"offer"}

    # a second trainer-less browser with a forged session cookie gets nothing
    forged = Browser(url)
    forged.request("/api/me")
    assert forged.request(f"/api/calls/{li_call}/events")[0] == 403


def test_socket_needs_a_session(server) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect
    url, _ = server
    with pytest.raises(InvalidStatus):
        with connect("ws" + url[4:] + "/ws/call", open_timeout=10):
            pass
    # a page on another site cannot open a trainee's socket with the trainee's cookie
    trainer = Browser(url)
    trainer.login(PASSWORD)
    code = trainer.request("/api/classes", {"name": "x"})[1]["code"]
    wang = Browser(url)
    wang.join(code, "小王")
    with pytest.raises(InvalidStatus):
        with connect("ws" + url[4:] + "/ws/call", open_timeout=10,
                     additional_headers={"Cookie": wang.cookie_header(), "Origin": "http://evil.example"}):
            pass


def test_unknown_socket_message_is_answered(server) -> None:
    url, _ = server
    trainer = Browser(url)
    trainer.login(PASSWORD)
    code = trainer.request("/api/classes", {"name": "x"})[1]["code"]
    b = Browser(url)
    b.join(code, "小张")
    call = b.call()
    call.ws.send("not json")
    err = call.until(lambda m: isinstance(m, dict) and m.get("type") == "error", 30)
    assert "hangup" in err["message"]
    call.hang_up()
    list(call.drain())
    assert json.dumps(call.events, ensure_ascii=False).count('"hangup"') >= 1


def test_serve_command(tmp_path: Path) -> None:
    """`voicebot serve` itself: refuses to start without a trainer password, sets one from stdin, answers
    /healthz while it runs, and says in one line when the port is taken."""
    import os
    import subprocess
    import sys
    import time
    from web_helpers import free_port
    db = tmp_path / "class.sqlite3"
    env = {k: v for k, v in os.environ.items() if k != "VOICEBOT_TRAINER_PASSWORD"}
    cmd = [sys.executable, "-m", "voicebot", "serve", "--typed-only", "--db", str(db), "--out", str(tmp_path / "calls")]
    cwd = Path(__file__).resolve().parents[1]
    refused = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "--set-password" in refused.stderr and "Traceback" not in refused.stderr
    done = subprocess.run(cmd + ["--set-password"], input="秘密\n", env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and Store(db).check_trainer("秘密") is not None
    port = free_port()
    server = subprocess.Popen(cmd + ["--port", str(port)], env=env, cwd=cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        b = Browser(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 120
        while True:
            try:
                assert b.request("/healthz") == (200, {"ok": True, "calls_here": 0})
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr
                time.sleep(0.5)
        b.login("秘密")
        taken = subprocess.run(cmd + ["--port", str(port)], env=env, cwd=cwd, capture_output=True, text=True,
                               timeout=120)
        assert taken.returncode == 1 and "already in use" in taken.stderr and "--port" in taken.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_trainer_view_is_pushed(server) -> None:
    """/ws/trainer: a new call, each event of the selected call and a drill result arrive without
    being asked for, within a fraction of a second; trainees cannot open it."""
    import time
    from websockets.exceptions import InvalidStatus
    url, store = server
    trainer = Browser(url)
    trainer.login(PASSWORD)
    cls = trainer.request("/api/classes", {"name": "推送"})[1]
    view = trainer.live_view()
    view.send_json({"type": "watch", "class_id": cls["id"]})
    first = view.until(lambda m: m.get("type") == "calls", 30)
    assert first["calls"] == [] and first["class_id"] == cls["id"]
    wang = Browser(url)
    wang.join(cls["code"], "小王")
    with pytest.raises(InvalidStatus):          # a trainee cannot watch the class
        wang.live_view()

    call = wang.call()
    started = view.until(lambda m: m.get("type") == "calls" and m["calls"], 30)
    live = started["calls"][0]
    assert live["running"] and live["trainee"] == "小王"
    view.send_json({"type": "select", "call_id": live["id"]})
    reset = view.until(lambda m: m.get("type") == "events" and m["reset"], 30)
    assert reset["call"]["id"] == live["id"]
    call.until(lambda m: isinstance(m, dict) and m.get("type") == "say", 30)
    sent = time.time()
    call.send_text("你们怎么知道我的号码")
    pushed = view.until(lambda m: m.get("type") == "events" and any(e["type"] == "heard" for e in m["events"]), 30)
    arrived = time.time()
    heard = next(e for e in pushed["events"] if e["type"] == "heard")
    assert heard["text"] == "你们怎么知道我的号码" and heard["entry"] == "how_number"
    assert pushed["notes"]["how_number"]["answer"]                # the book's view comes along
    assert sent * 1000 <= pushed["at"] <= arrived * 1000
    assert arrived * 1000 - pushed["at"] < 500                     # from the event to the trainer: pushed
    call.hang_up()
    list(call.drain())
    ended = view.until(lambda m: m.get("type") == "calls" and not m["calls"][0]["running"], 30)
    assert ended["calls"][0]["ended_reason"] == "customer_hangup"

    drill = wang.drill(count=1, seed=1)
    drill.until(lambda m: isinstance(m, dict) and m.get("type") == "question", 30)
    drill.send_text("您好，请您放心。")
    result = drill.until(lambda m: isinstance(m, dict) and m.get("type") == "score", 30)
    scored = view.until(lambda m: m.get("type") == "drill", 30)
    assert scored["trainee"] == "小王" and scored["item"] == result["item"] and scored["total"] == result["total"]
    list(drill.drain(10))
    view.send_json({"type": "select", "call_id": 10_000})
    assert "no such call" in view.until(lambda m: m.get("type") == "error", 30)["message"]
    view.close()

"""The classroom's Starlette application: pages, JSON routes, the call socket, sessions and CSRF.

Who sees what: a trainer signs in with the password (stored hashed in the store) and sees every
call and trainee of their classes; a trainee joins a class with its code and a name and sees only
their own calls and progress. Sessions are Starlette's signed cookies (SessionMiddleware; the key
is kept in the store, so every server process on one database accepts the same cookie); CSRF is
starlette-csrf's double-submit cookie (the pages send it back in the `x-csrftoken` header). The
call socket checks the browser's Origin instead (starlette-csrf handles HTTP requests only).

The trainer's live view reads a running call's `events.jsonl` (flushed per event) through the
calls index, so it sees calls held by any server process that shares the store and the calls folder.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Final

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect
from starlette_csrf import CSRFMiddleware

from ..progress import ProgressDB
from ..record import RECORDING_FILE, load_events, new_call_dir, report
from ..drill import categories
from ..errors import VoicebotError
from ..store import CallRow, Store, TraineeRow
from .hub import FALLBACK_S, Bell, Hub
from .live import LiveCall
from .live_drill import DrillOptions, LiveDrill

STATIC: Final = Path(__file__).resolve().parent / "static"
SESSION_HOURS: Final = 12
"""A session outlives a training day, not a week: a shared classroom PC is signed out overnight."""
MAX_NAME: Final = 40
"""A trainee's name as shown on the projector."""


class HttpOnlyCSRF:
    """starlette-csrf for HTTP requests; WebSockets pass by (their Origin is checked in the route)."""

    def __init__(self, app: Any, **options: Any) -> None:
        self.app = app
        self.csrf = CSRFMiddleware(app, **options)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self.csrf(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class Classroom:
    """The routes, over one store, one set of engines and one calls folder."""

    def __init__(self, store: Store, engines: Any, calls_dir: Path) -> None:
        self.store = store
        self.engines = engines
        self.calls_dir = Path(calls_dir)
        self.running: dict[int, LiveCall] = {}
        self.hub = Hub()
        self._lock = threading.Lock()

    # -- who is asking

    def trainer_id(self, request: Request) -> int | None:
        s = request.session
        return int(s["trainer_id"]) if s.get("role") == "trainer" and "trainer_id" in s else None

    def trainee_id(self, conn: Any) -> int | None:
        s = conn.session
        return int(s["trainee_id"]) if s.get("role") == "trainee" and "trainee_id" in s else None

    def trainer_classes(self, trainer_id: int) -> list[int]:
        return [c.id for c in self.store.classes_of(trainer_id)]

    def may_see_call(self, request: Request, call: CallRow) -> bool:
        trainer = self.trainer_id(request)
        if trainer is not None:
            return call.class_id in self.trainer_classes(trainer)
        trainee = self.trainee_id(request)
        return trainee is not None and call.trainee_id == trainee

    # -- pages and health

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"ok": True, "calls_here": len(self.running)})

    async def page(self, request: Request) -> Response:
        name = {"/": "index.html", "/trainee": "trainee.html", "/trainer": "trainer.html"}[request.url.path]
        return FileResponse(STATIC / name)

    # -- signing in

    async def me(self, request: Request) -> Response:
        trainer, trainee = self.trainer_id(request), self.trainee_id(request)
        if trainer is not None:
            return JSONResponse({"role": "trainer"})
        if trainee is not None:
            row = self.store.trainee(trainee)
            cls = self.store.class_by_id(row.class_id) if row else None
            if row and cls:
                return JSONResponse({"role": "trainee", "id": row.id, "name": row.name, "class": cls.name,
                                     "code": cls.code})
        return JSONResponse({"role": None})

    async def login(self, request: Request) -> Response:
        password = (await _body(request)).get("password")
        trainer = self.store.check_trainer(password) if isinstance(password, str) else None
        if trainer is None:
            request.session.clear()
            return _error(401, "wrong password: ask whoever started `voicebot serve` (it is set with --set-password)")
        request.session.clear()
        request.session.update({"role": "trainer", "trainer_id": trainer})
        return JSONResponse({"role": "trainer"})

    async def join(self, request: Request) -> Response:
        body = await _body(request)
        code, name = body.get("code"), body.get("name")
        if not isinstance(code, str) or not isinstance(name, str) or not name.strip():
            return _error(400, "give the class code the trainer shows and your name")
        if len(name.strip()) > MAX_NAME:
            return _error(400, f"a name of at most {MAX_NAME} characters, please")
        trainee = self.store.join(code, name)
        if trainee is None:
            return _error(403, "no class has this code: check the code on the trainer's screen")
        request.session.clear()
        request.session.update({"role": "trainee", "trainee_id": trainee.id, "class_id": trainee.class_id})
        return JSONResponse({"role": "trainee", "id": trainee.id, "name": trainee.name})

    async def logout(self, request: Request) -> Response:
        request.session.clear()
        return JSONResponse({"role": None})

    # -- the trainer's classes

    async def classes(self, request: Request) -> Response:
        trainer = self.trainer_id(request)
        if trainer is None:
            return _error(403, "trainers only: sign in on /trainer")
        if request.method == "POST":
            name = str((await _body(request)).get("name") or "").strip() or time.strftime("class %Y-%m-%d %H:%M")
            cls = self.store.create_class(trainer, name[:100])
            return JSONResponse({"id": cls.id, "code": cls.code, "name": cls.name})
        out = []
        for cls in self.store.classes_of(trainer):
            out.append({"id": cls.id, "code": cls.code, "name": cls.name,
                        "trainees": [{"id": t.id, "name": t.name} for t in self.store.trainees_of([cls.id])]})
        return JSONResponse(out)

    # -- calls

    def _call_dict(self, call: CallRow, names: dict[int, str]) -> dict[str, Any]:
        return call.to_dict() | {"trainee": names.get(call.trainee_id or -1, "trainer"),
                                 "has_recording": (Path(call.folder) / RECORDING_FILE).exists()}

    async def calls(self, request: Request) -> Response:
        trainer, trainee = self.trainer_id(request), self.trainee_id(request)
        if trainer is not None:
            class_ids = self.trainer_classes(trainer)
            wanted = request.query_params.get("class_id")
            if wanted is not None:
                class_ids = [c for c in class_ids if str(c) == wanted]
            rows = self.store.calls(class_ids=class_ids)
            names = {t.id: t.name for t in self.store.trainees_of(class_ids)}
        elif trainee is not None:
            rows = self.store.calls(trainee_id=trainee)
            row = self.store.trainee(trainee)
            names = {trainee: row.name if row else ""}
        else:
            return _error(403, "sign in first: trainers on /trainer, trainees with the class code on /")
        return JSONResponse([self._call_dict(c, names) for c in rows])

    def _visible_call(self, request: Request) -> CallRow | Response:
        call = self.store.call(int(request.path_params["call_id"]))
        if call is None:
            return _error(404, "no such call")
        if not self.may_see_call(request, call):
            return _error(403, "not your call: a trainee sees only their own calls")
        return call

    async def call_events(self, request: Request) -> Response:
        call = self._visible_call(request)
        if isinstance(call, Response):
            return call
        try:
            events = load_events(call.folder).events
        except Exception:  # noqa: BLE001 - a call whose record is gone still lists
            events = []
        since = int(request.query_params.get("since", "0") or 0)
        entries = {ev["entry"] for ev in events if ev.get("type") == "heard" and ev.get("entry")}
        notes = {e: self.engines.notes(e) for e in sorted(entries)}
        return JSONResponse({"call": call.to_dict(), "events": events[since:], "count": len(events),
                             "notes": {k: v for k, v in notes.items() if v}})

    async def recording(self, request: Request) -> Response:
        call = self._visible_call(request)
        if isinstance(call, Response):
            return call
        path = Path(call.folder) / RECORDING_FILE
        if not path.exists():
            return _error(404, "this call has no recording (a typed call)")
        return FileResponse(path, media_type="audio/wav")

    async def follow_ups(self, request: Request) -> Response:
        trainer = self.trainer_id(request)
        if trainer is None:
            return _error(403, "trainers only: sign in on /trainer")
        class_ids = self.trainer_classes(trainer)
        names = {t.id: t.name for t in self.store.trainees_of(class_ids)}
        out = []
        for call in self.store.calls(class_ids=class_ids, running=False):
            try:
                rep = report(call.folder)
            except Exception:  # noqa: BLE001 - one unreadable call never hides the others
                continue
            for item in rep.follow_ups:
                out.append({"call_id": call.id, "trainee": names.get(call.trainee_id or -1, "")} | item)
        return JSONResponse(out)

    # -- progress

    async def progress(self, request: Request) -> Response:
        wanted = int(request.path_params["trainee_id"])
        trainer, trainee = self.trainer_id(request), self.trainee_id(request)
        row = self.store.trainee(wanted)
        if row is None:
            return _error(404, "no such trainee")
        if trainer is not None:
            if row.class_id not in self.trainer_classes(trainer):
                return _error(403, "not a trainee of your classes")
        elif trainee != wanted:
            return _error(403, "not your progress: a trainee sees only their own")
        db = ProgressDB(store=self.store)
        mastery = sorted(db.mastery(row.key).values(), key=lambda m: m.mastery)
        results = [{"entry_id": r.entry_id, "category": r.category, "score": r.score, "time": r.time,
                    "points_made": _json_list(r.points_made), "points_missed": _json_list(r.points_missed)}
                   for r in self.store.attempt_rows(row.key)][-50:]
        return JSONResponse({"trainee": {"id": row.id, "name": row.name},
                             "categories": [c.to_dict() for c in db.categories(row.key)],
                             "weakest": [{"entry_id": m.entry_id, "category": m.category,
                                          "mastery": round(m.mastery, 1), "attempts": m.attempts}
                                         for m in mastery[:5]],
                             "history": db.history(row.key), "results": results})

    # -- the sockets

    async def _socket_user(self, ws: WebSocket) -> tuple[int | None, TraineeRow | None] | None:
        """(trainer id, trainee) of a socket from this site with a session; None (closed) otherwise."""
        origin = ws.headers.get("origin")
        host = ws.headers.get("host")
        if origin is not None and origin.split("://", 1)[-1] != host:
            await ws.close(code=1008, reason="cross-site socket refused")
            return None
        trainer = ws.session.get("trainer_id") if ws.session.get("role") == "trainer" else None
        trainee_id = self.trainee_id(ws)
        trainee = self.store.trainee(trainee_id) if trainee_id is not None else None
        if trainee is None and trainer is None:
            await ws.close(code=1008, reason="sign in first")
            return None
        return (int(trainer) if trainer is not None else None), trainee

    async def _pump(self, ws: WebSocket, live: Any, outbox: asyncio.Queue[str | bytes | None],
                    thread: threading.Thread) -> None:
        """Feed what the browser sends to `live` while its thread runs; the sender drains `outbox`."""
        thread.start()
        sender = asyncio.create_task(self._send_all(ws, outbox))
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    live.hang_up("disconnected")
                    break
                if message.get("bytes") is not None:
                    live.feed_audio(message["bytes"])
                elif message.get("text") is not None:
                    live.feed_message(message["text"])
        except WebSocketDisconnect:
            live.hang_up("disconnected")
        except RuntimeError:
            pass   # the sender closed the socket after the bot hung up
        await sender
        await asyncio.to_thread(thread.join)

    def _outbox(self) -> tuple[asyncio.Queue[str | bytes | None], Callable[[str | bytes | None], None]]:
        loop = asyncio.get_running_loop()
        outbox: asyncio.Queue[str | bytes | None] = asyncio.Queue()

        def send(item: str | bytes | None) -> None:
            loop.call_soon_threadsafe(outbox.put_nowait, item)
        return outbox, send

    async def ws_call(self, ws: WebSocket) -> None:
        user = await self._socket_user(ws)
        if user is None:
            return
        trainer, trainee = user
        await ws.accept()
        outbox, send = self._outbox()
        who = f"{trainee.class_id}/{trainee.id}" if trainee else "trainer"
        folder = new_call_dir(self.calls_dir / who)
        class_id = trainee.class_id if trainee else None
        call_id = self.store.start_call(folder, trainee.id if trainee else None, class_id)

        def ended(runner: Any) -> None:
            events = runner.result.events
            heard = [e for e in events if e.get("type") == "heard"]
            entries = [e["entry"] for e in heard if e.get("entry")]
            try:
                self.store.end_call(call_id, runner.result.ended or "line_silent", len(heard), entries)
            finally:
                with self._lock:
                    self.running.pop(call_id, None)
                send(None)
                self.ring(Bell("calls", class_id) if class_id is not None else None)

        live = LiveCall(self.engines, folder, send, on_end=ended,
                        on_event=lambda _: self.ring(Bell("event", class_id, call_id) if class_id is not None else None))
        self.ring(Bell("calls", class_id) if class_id is not None else None)
        with self._lock:
            self.running[call_id] = live
        send(f'{{"type": "call", "id": {call_id}}}')
        await self._pump(ws, live, outbox, threading.Thread(target=live.run, name=f"call-{call_id}", daemon=True))

    async def ws_drill(self, ws: WebSocket) -> None:
        """A trainee's drill (see live_drill): questions out, answers in, results into the store."""
        user = await self._socket_user(ws)
        if user is None:
            return
        _, trainee = user
        await ws.accept()
        if trainee is None:
            await ws.send_text(json.dumps({"type": "error", "message": "drills are filed under a trainee: join a "
                                           "class with its code on / to drill"}))
            await ws.close()
            return
        try:
            options = DrillOptions.parse(dict(ws.query_params), categories(self.engines.book))
        except VoicebotError as err:
            await ws.send_text(json.dumps({"type": "error", "message": str(err)}, ensure_ascii=False))
            await ws.close()
            return
        outbox, send = self._outbox()
        progress = ProgressDB(store=self.store)

        def run() -> None:
            try:
                drill.run()
            finally:
                send(None)

        def scored(result: dict[str, Any]) -> None:
            self.ring(Bell("drill", trainee.class_id, data={"trainee_id": trainee.id, "trainee": trainee.name}
                           | result))

        drill = LiveDrill(self.engines, progress, trainee.key, trainee.id, options, send, on_result=scored)
        await self._pump(ws, drill, outbox, threading.Thread(target=run, name=f"drill-{trainee.id}", daemon=True))

    def ring(self, bell: Bell | None) -> None:
        if bell is not None:
            self.hub.ring(bell)

    async def ws_trainer(self, ws: WebSocket) -> None:
        """The trainer's live view, pushed: the class's calls, the selected call's events as they
        happen (with the book's notes for its entries), drill results as they are scored.

        In: `{"type": "watch", "class_id": N}`, `{"type": "select", "call_id": N}`. Out: `calls`
        (the class's calls, newest first), `events` (new events of the selected call; `reset` when
        it was just selected), `drill` (a scored answer with the trainee). Each pushed message has
        `at`, when the change happened (ms since the epoch), so the page can tell how late it is."""
        user = await self._socket_user(ws)
        if user is None:
            return
        trainer, _ = user
        if trainer is None:
            await ws.close(code=1008, reason="trainers only: sign in on /trainer")
            return
        await ws.accept()
        sub = self.hub.subscribe(set(self.trainer_classes(trainer)))
        view = _TrainerView(self, ws, trainer)

        async def listen() -> None:
            try:
                while True:
                    try:
                        msg = json.loads(await ws.receive_text())
                    except ValueError:
                        msg = None
                    view.requests.append(msg if isinstance(msg, dict) else {"type": None})
                    sub.queue.put_nowait(None)          # wake the pusher with the request
            except (WebSocketDisconnect, RuntimeError, KeyError):
                view.closed = True
                sub.queue.put_nowait(None)

        listener = asyncio.create_task(listen())
        try:
            while not view.closed:
                try:
                    bell = await asyncio.wait_for(sub.queue.get(), FALLBACK_S)
                except asyncio.TimeoutError:
                    bell = None
                    await view.look_again()            # calls held by another process
                while view.requests:
                    await view.handle(view.requests.pop(0), sub)
                if bell is not None:
                    await view.on_bell(bell)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            self.hub.unsubscribe(sub)
            listener.cancel()

    async def _send_all(self, ws: WebSocket, outbox: asyncio.Queue[str | bytes | None]) -> None:
        """Send what the call produces, in order; after the call's end (None) close the socket."""
        broken = False
        while True:
            item = await outbox.get()
            try:
                if item is None:
                    if not broken:
                        await ws.close()
                    return
                if broken:
                    continue   # the browser went away: the call still runs to its end
                if isinstance(item, bytes):
                    await ws.send_bytes(item)
                else:
                    await ws.send_text(item)
            except (RuntimeError, WebSocketDisconnect, OSError):
                broken = True
                if item is None:
                    return


class _TrainerView:
    """What one trainer's page shows and has been sent: the class watched, the call selected and
    how many of its events went out; sends only what is new."""

    def __init__(self, room: Classroom, ws: WebSocket, trainer: int) -> None:
        self.room, self.ws, self.trainer = room, ws, trainer
        self.class_id: int | None = None
        self.call: CallRow | None = None
        self.sent = 0
        self.calls_sent: Any = None
        self.requests: list[dict[str, Any]] = []
        self.closed = False

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_text(json.dumps(message, ensure_ascii=False))

    async def handle(self, msg: dict[str, Any], sub: Any) -> None:
        room = self.room
        mine = room.trainer_classes(self.trainer)
        room.hub.update(sub, set(mine))
        if msg.get("type") == "watch":
            wanted = msg.get("class_id")
            self.class_id = int(wanted) if isinstance(wanted, int) and wanted in mine else None
            if self.class_id is None:
                await self.send({"type": "error", "message": "not a class of yours: pick one from the list"})
                return
            self.calls_sent = None
            await self.push_calls(time.time())
        elif msg.get("type") == "select":
            call = room.store.call(int(msg.get("call_id") or 0)) if isinstance(msg.get("call_id"), int) else None
            if call is None or call.class_id not in mine:
                await self.send({"type": "error", "message": "no such call in your classes"})
                return
            self.call, self.sent = call, 0
            await self.push_events(time.time(), reset=True)
        else:
            await self.send({"type": "error", "message": 'send {"type": "watch", "class_id": N} or '
                             '{"type": "select", "call_id": N}'})

    async def on_bell(self, bell: Bell) -> None:
        if bell.kind == "calls" and bell.class_id == self.class_id:
            await self.push_calls(bell.at)
        elif bell.kind == "event" and self.call is not None and bell.call_id == self.call.id:
            await self.push_events(bell.at)
        elif bell.kind == "drill" and bell.class_id == self.class_id:
            await self.send((bell.data or {}) | {"type": "drill", "at": round(bell.at * 1000)})

    async def look_again(self) -> None:
        if self.class_id is not None:
            await self.push_calls(time.time())
        if self.call is not None:
            await self.push_events(time.time())

    async def push_calls(self, at: float) -> None:
        room = self.room
        rows = room.store.calls(class_ids=[self.class_id]) if self.class_id is not None else []
        names = {t.id: t.name for t in room.store.trainees_of([self.class_id])} if self.class_id is not None else {}
        calls = [room._call_dict(c, names) for c in rows]
        if calls != self.calls_sent:
            self.calls_sent = calls
            await self.send({"type": "calls", "class_id": self.class_id, "calls": calls, "at": round(at * 1000)})

    async def push_events(self, at: float, reset: bool = False) -> None:
        assert self.call is not None
        call = self.call
        try:
            events = load_events(call.folder).events
        except Exception:  # noqa: BLE001 - a call whose record is gone (or not begun) shows nothing yet
            events = []
        new = events[self.sent:]
        if not new and not reset:
            return
        if reset or any(ev.get("type") == "hangup" for ev in new):
            call = self.room.store.call(call.id) or call      # (the store is read once a call, not per event)
        self.sent, self.call = len(events), call
        entries = {ev["entry"] for ev in new if ev.get("type") == "heard" and ev.get("entry")}
        notes = {e: n for e in sorted(entries) if (n := self.room.engines.notes(e))}
        await self.send({"type": "events", "call": call.to_dict(), "events": new, "reset": reset,
                         "notes": notes, "at": round(at * 1000)})


def _json_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    try:
        got = json.loads(value)
    except ValueError:
        return None
    return got if isinstance(got, list) else None


def create_app(store: Store, engines: Any, calls_dir: str | Path = "calls", https_only: bool = False) -> Starlette:
    """The ASGI application; uvicorn serves it (`voicebot serve`), tests start it in a thread."""
    room = Classroom(store, engines, Path(calls_dir))
    secret = store.secret()

    def route(path: str, endpoint: Callable[[Request], Awaitable[Response]], methods: list[str] | None = None) -> Route:
        return Route(path, endpoint, methods=methods or ["GET"])

    routes = [
        route("/healthz", room.healthz),
        route("/", room.page), route("/trainee", room.page), route("/trainer", room.page),
        route("/api/me", room.me),
        route("/api/login", room.login, ["POST"]),
        route("/api/join", room.join, ["POST"]),
        route("/api/logout", room.logout, ["POST"]),
        route("/api/classes", room.classes, ["GET", "POST"]),
        route("/api/calls", room.calls),
        route("/api/calls/{call_id:int}/events", room.call_events),
        route("/api/calls/{call_id:int}/recording", room.recording),
        route("/api/follow-ups", room.follow_ups),
        route("/api/progress/{trainee_id:int}", room.progress),
        WebSocketRoute("/ws/call", room.ws_call),
        WebSocketRoute("/ws/drill", room.ws_drill),
        WebSocketRoute("/ws/trainer", room.ws_trainer),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [
        Middleware(SessionMiddleware, secret_key=secret, session_cookie="voicebot_session",
                   max_age=SESSION_HOURS * 3600, same_site="lax", https_only=https_only),
        Middleware(HttpOnlyCSRF, secret=secret, cookie_secure=https_only),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.classroom = room
    return app

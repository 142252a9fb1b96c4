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
from ..errors import VoicebotError
from ..store import CallRow, Store, TraineeRow
from .live import LiveCall
from .live_drill import DrillOptions, LiveDrill, known_categories

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

        live = LiveCall(self.engines, folder, send, on_end=ended)
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
            options = DrillOptions.parse(dict(ws.query_params), known_categories(self.engines.book))
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

        drill = LiveDrill(self.engines, progress, trainee.key, trainee.id, options, send)
        await self._pump(ws, drill, outbox, threading.Thread(target=run, name=f"drill-{trainee.id}", daemon=True))

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

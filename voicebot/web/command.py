"""`voicebot serve`: the classroom server, and `--set-password` for the trainer's password."""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any, Callable, Final

from ..errors import VoicebotError

ENV_PASSWORD: Final = "VOICEBOT_TRAINER_PASSWORD"
LOCAL_HOSTS: Final = ("127.0.0.1", "localhost", "::1")


def _read_password() -> str:
    """Twice on a terminal; one line from a pipe (scripts)."""
    if sys.stdin.isatty():
        first = getpass.getpass("trainer password: ")
        if getpass.getpass("again: ") != first:
            raise VoicebotError("the two passwords differ: run `voicebot serve --set-password` again")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_serve(args: argparse.Namespace, out: Any) -> int:
    try:
        import uvicorn
        from .app import create_app
    except ImportError as err:
        raise VoicebotError(f"the web server is not installed ({err.name} missing): "
                            "pip install 'voicebot[web]' (bash install.sh installs it)") from None
    from ..store import Store
    from .engines import load_engines
    store = Store(args.db)
    if args.set_password:
        password = _read_password()
        if not password:
            raise VoicebotError("an empty password: give the trainer a password of at least one character")
        store.set_trainer_password(password)
        out.print(f"trainer password set in {store.where}")
        return 0
    if os.environ.get(ENV_PASSWORD):
        store.set_trainer_password(os.environ[ENV_PASSWORD])
    if not store.has_trainer():
        raise VoicebotError("no trainer password yet: run `voicebot serve --set-password` "
                            f"(or set ${ENV_PASSWORD}), then start the server again")
    _check_port(args.host, args.port)
    engines = load_engines(args.kb, args.asr, args.model, args.voice, speech=not args.typed_only)
    out.print(engines.note, style="dim")
    app = create_app(store, engines, args.out, https_only=args.https_only)
    where = f"http://{args.host}:{args.port}"
    if args.host not in LOCAL_HOSTS:
        out.print(f"listening on {args.host}: anyone on the network can reach the sign-in page "
                  "(put it behind HTTPS and pass --https-only)", style="yellow")
    out.print(f"voicebot classroom on {where}  (trainer: {where}/trainer; trainees: {where}/ with the class code); "
              f"store {store.where}; calls in {args.out}", style="bold")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", ws_max_size=1 << 20)
    return 0


def _check_port(host: str, port: int) -> None:
    """Fail before loading the engines, in one line, when the address cannot be listened on."""
    import socket
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(infos[0][4])
    except OSError as err:
        raise VoicebotError(f"cannot listen on {host}:{port} ({err.strerror or err}): "
                            "give another --port, or stop what holds it") from None


def register(sub: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `serve` to the main parser (called from cli.build_parser)."""
    p = add("serve", cmd_serve, "the classroom: role-play in the browser, the trainer's live view, the class store")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8086, help="port (default 8086)")
    p.add_argument("--db", metavar="PATH|URL", help="the class store: a SQLite file or a postgresql:// URL "
                   "(default $VOICEBOT_DB, $VOICEBOT_PROGRESS_DB, or the user data folder)")
    p.add_argument("--out", default="calls", metavar="DIR", help="where call records go (default: ./calls)")
    p.add_argument("--set-password", action="store_true",
                   help=f"set the trainer's password (asked twice; or ${ENV_PASSWORD} at start) and exit")
    p.add_argument("--asr", choices=["auto", "vosk", "whisper"], default="auto", help="recogniser (default auto)")
    p.add_argument("--model", metavar="PATH", help="speech model folder")
    p.add_argument("--voice", help="女/男, a Kokoro voice or a pyttsx3 voice id (default: settings.yaml 声音)")
    p.add_argument("--typed-only", action="store_true", help="no recogniser or voice: typed calls only (light)")
    p.add_argument("--https-only", action="store_true", help="session and CSRF cookies only over HTTPS "
                   "(behind a TLS proxy)")

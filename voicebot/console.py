"""What the commands print for people and for machines: one printer shared by `cli` and `drill_cli`.

Colours and tables only on a terminal (and never with NO_COLOR); `--json` output is one object per
line, flushed, so a pipe sees each as it happens.
"""
from __future__ import annotations

import json
import os
import select
import sys
from typing import Any, Final


class Out:
    """Human output: rich colours and tables only on a terminal; plain text otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self._console = None

    @property
    def console(self) -> Any:
        if self._console is None:
            from rich.console import Console
            self._console = Console(highlight=False, no_color=not self.tty, soft_wrap=True)
        return self._console

    def print(self, text: str = "", style: str | None = None) -> None:
        if self.tty:
            self.console.print(text, style=style, markup=False)
        else:
            print(text, flush=True)

    def error(self, text: str) -> None:
        if sys.stderr.isatty() and not os.environ.get("NO_COLOR"):
            print(f"\x1b[31mvoicebot: {text}\x1b[0m", file=sys.stderr)
        else:
            print(f"voicebot: {text}", file=sys.stderr)


def emit_json(obj: Any) -> None:
    """One JSON object per line, flushed, so a pipe sees each as it happens."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


TICK_S: Final = 0.25
"""How long `read_line` waits at a time before it looks again."""


class LineReader:
    """Lines typed or piped into a call, read so that Ctrl-C and SIGTERM end it at once.

    A plain blocking `readline` leaves it to the kernel to wake the main thread: a signal that lands
    on another thread (a native library's worker) sets Python's flag while the main thread sleeps on
    in `read`, and the call never hears it (a `chat` sent SIGTERM mid-call once sat out the test's
    60 s). Waiting in ticks of `TICK_S` brings the main thread back to Python, which runs the handler.
    Bytes are kept between lines, so a pipe's whole script read at once still comes line by line."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self._buffer = b""
        self._eof = False

    def readline(self) -> str:
        """The next line with its newline; "" at end of input (as `io` does)."""
        try:
            fd = self.stream.fileno()
        except (AttributeError, OSError, ValueError):
            return self.stream.readline()  # not a file (a test's StringIO): nothing can block
        while b"\n" not in self._buffer and not self._eof:
            ready, _, _ = select.select([fd], [], [], TICK_S)
            if ready:
                chunk = os.read(fd, 65536)
                self._buffer += chunk
                self._eof = not chunk
        line, sep, self._buffer = self._buffer.partition(b"\n")
        return (line + sep).decode("utf-8", errors="replace")


_READER: LineReader | None = None


def read_line(prompt: str = "") -> str:
    """One line from standard input ("" at its end), `prompt` shown first on a terminal."""
    global _READER
    if prompt and sys.stdin.isatty():
        sys.stdout.write(prompt)
        sys.stdout.flush()
    if _READER is None or _READER.stream is not sys.stdin:
        _READER = LineReader(sys.stdin)
    return _READER.readline()

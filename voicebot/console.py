"""What the commands print for people and for machines: one printer shared by `cli` and `drill_cli`.

Colours and tables only on a terminal (and never with NO_COLOR); `--json` output is one object per
line, flushed, so a pipe sees each as it happens.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any


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

"""The proof that the engine suite does not depend on the shipped book's wording (issue 12).

A trainer copies the book with `voicebot kb init DIR`, rewrites three answers and one protocol line,
and points VOICEBOT_KB at the copy: the engine suite (everything not marked `book`) must stay green.
This test does exactly that and runs the text-only part (`-m "not book and not engine"`) in a
subprocess; the full engine suite is run the same way by hand (README, "Testing").

Marked `book` and `engine`: it reruns the fast suite (minutes), so neither the fast suite nor the
engine suite contains it, and it cannot call itself.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from voicebot import kb

from helpers import ROOT, SHIPPED_BOOK

pytestmark = [pytest.mark.book, pytest.mark.engine]

EDITS = {
    # file, entry id → the trainer's new first answer
    ("questions.yaml", "q24_recording"): "是的，通话有录音，请您放心，这是为了保障您的权益。",
    ("service.yaml", "s_thanks"): "不用谢，这是我应该做的。",
    ("special.yaml", "sp_manager"): "好的，请您稍候，我请值班经理来和您通话。",
}
NEW_PROMPT = "喂，您好，请问您能听见我说话吗？"


def rewrite(path: Path, old: str, new: str) -> None:
    """Replace one line of book text by hand, as a trainer does in an editor (the text must be there once)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def edited_copy(dest: Path) -> Path:
    """`voicebot kb init dest`, then three answers and the no-response prompt rewritten."""
    env = {k: v for k, v in os.environ.items() if k != kb.ENV_KB}
    done = subprocess.run([sys.executable, "-m", "voicebot", "kb", "init", str(dest)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    shipped = kb.load(SHIPPED_BOOK)
    for (name, entry_id), answer in EDITS.items():
        rewrite(dest / name, shipped.get(entry_id).answer[0], answer)
    rewrite(dest / "protocols.yaml", shipped.protocols.no_response.prompt, NEW_PROMPT)
    return dest


def test_an_edited_copy_of_the_book_leaves_the_engine_suite_green(tmp_path):
    copy = edited_copy(tmp_path / "my_book")
    book, shipped = kb.load(copy), kb.load(SHIPPED_BOOK)
    assert [str(p) for p in book.problems] == []
    for (_, entry_id), answer in EDITS.items():
        assert book.get(entry_id).answer[0] == answer != shipped.get(entry_id).answer[0]
    assert book.protocols.no_response.prompt == NEW_PROMPT != shipped.protocols.no_response.prompt
    env = os.environ | {kb.ENV_KB: str(copy)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-m", "not book and not engine", "-q", "-p", "no:cacheprovider",
                          "-x", "tests"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=3000)
    tail = "\n".join(run.stdout.splitlines()[-30:])
    assert run.returncode == 0, tail
    assert " passed" in run.stdout.splitlines()[-1] and "failed" not in run.stdout.splitlines()[-1], tail

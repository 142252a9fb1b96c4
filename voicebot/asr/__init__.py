"""Speech recognition behind one small protocol: `load_recognizer` picks and loads an engine.

    rec, note = load_recognizer("auto", phrases=book_phrases)
    utt = rec.start()
    for frame in frames:
        partial = utt.accept(frame)      # vosk: running text; whisper: None
    transcript = utt.finish()            # Transcript(text, confidence, words, ...)

`auto` takes vosk when a Mandarin vosk model (small-cn, cn) is found (it answers within a few
hundred ms of the endpoint), otherwise whisper-base (which PyPI can supply). The Korean vosk
model exists for tests and is never picked for Mandarin.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from voicebot.asr.base import Partial, Recognizer, Transcript, Utterance, Word
from voicebot.asr.models import (CATALOGUE, ModelSpec, download, find_vosk_model,
                                 find_whisper_model, is_whisper_model)
from voicebot.errors import ModelError

__all__ = ["CATALOGUE", "ModelSpec", "Partial", "Recognizer", "Transcript", "Utterance", "Word",
           "download", "for_scoring", "find_vosk_model", "find_whisper_model", "load_recognizer"]

Engine = Literal["vosk", "whisper", "auto"]


def _engine_of(model: str) -> Literal["vosk", "whisper"]:
    """Which engine a model name or folder belongs to."""
    if model in CATALOGUE:
        return CATALOGUE[model].engine
    return "whisper" if is_whisper_model(Path(model).expanduser()) else "vosk"


def load_recognizer(engine: Engine = "auto", model: str | None = None,
                    phrases: list[str] | None = None,
                    language: str | None = "zh") -> tuple[Recognizer, str]:
    """Load a recogniser and say in one line which one and why.

    `model` is a folder or a catalogue name; `phrases` biases vosk (a small model's grammar;
    whisper ignores them: a long domain prompt measured worse); `language` is whisper's language
    (None detects it, to notice a caller who does not speak Mandarin).
    """
    if engine == "auto":
        if model is not None:
            engine = _engine_of(model)
        else:
            try:
                find_vosk_model()
                engine = "vosk"
            except ModelError:
                engine = "whisper"
                try:
                    find_whisper_model()
                except ModelError:
                    raise ModelError("no speech model found (no Mandarin vosk model, no whisper-base): "
                                     "run `voicebot models download small-cn`") from None
    if engine == "vosk":
        from voicebot.asr.vosk import VoskRecognizer

        rec = VoskRecognizer(model, phrases=phrases)
        note = f"using vosk ({rec.model_path.name}, loaded in {rec.load_seconds:.1f} s"
        if rec.grammar_report is not None:
            note += f"; {rec.grammar_report.summary()}"
        return rec, note + ")"
    if engine == "whisper":
        from voicebot.asr.whisper import WhisperRecognizer

        wrec = WhisperRecognizer(model, language=language)
        lang = language or "detected per utterance"
        note = (f"using whisper ({wrec.model_dir.name}, language {lang}, loaded in "
                f"{wrec.load_seconds:.1f} s; decodes whole utterances: about 0.5 s after the customer stops")
        if phrases:
            note += "; phrase list not used by whisper"
        return wrec, note + ")"
    raise ModelError(f"unknown engine {engine!r}: choose vosk, whisper or auto")


def for_scoring(recognizer: Any) -> Any:
    """The recogniser to score a trainee's or an agent's words with: whisper on its whole window
    (slower, steadier on digits such as a work id); any other engine as it is."""
    with_window = getattr(recognizer, "with_window", None)
    return with_window(True) if with_window is not None else recognizer

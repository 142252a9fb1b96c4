"""Errors a user can cause. Each message is one line: the problem, then the fix.

The CLI catches `VoicebotError` and prints its message, never a traceback.
"""
from __future__ import annotations


class VoicebotError(Exception):
    """Base class: a problem the user can fix; `str(err)` is the one-line message."""

    exit_code: int = 1


class AudioError(VoicebotError):
    """An audio file is missing, empty, corrupt or not audio."""

    exit_code = 3


class DeviceError(VoicebotError):
    """No usable microphone or speaker."""

    exit_code = 4


class ModelError(VoicebotError):
    """A speech model is missing, incomplete or fails its checksum."""

    exit_code = 5


class KbError(VoicebotError):
    """The script book cannot be loaded at all (a broken file is reported as a Problem instead)."""

    exit_code = 6


class TtsError(VoicebotError):
    """Text-to-speech is unavailable (no engine, no voice)."""

    exit_code = 7


class OutputError(VoicebotError):
    """An output cannot be written: `--out` names a file, a folder is not writable, the disk is full."""

    exit_code = 8


class Terminated(BaseException):
    """SIGTERM arrived: unwinds like KeyboardInterrupt so a call ends with its closing `hangup`."""

    hangup_reason = "terminated"

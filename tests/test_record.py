"""Call records: damaged `events.jsonl` files never break `report` or `report --follow-ups`,
and output errors (not a folder, unwritable, disk full) are one line with the fix."""
from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest

from voicebot import record
from voicebot.audio import WavAppender, read_audio
from voicebot.cli import main
from voicebot.errors import OutputError, VoicebotError
from voicebot.record import (EVENTS_FILE, CallLog, collect_follow_ups, format_report, load_events,
                             new_call_dir, report)

GOOD = [
    {"t": 0.0, "type": "start", "second_visit": False},
    {"t": 0.0, "type": "say", "text": "您好，我是10086的客服", "reason": "opening"},
    {"t": 3.2, "type": "heard", "text": "你们这个电话录音吗", "entry": "q24_recording", "score": 88.1},
    {"t": 4.0, "type": "say", "text": "是有录音的", "reason": "answer", "entry": "q24_recording"},
    {"t": 7.5, "type": "heard", "text": "我要投诉你们", "entry": "q28_complain_agent", "score": 80.0},
    {"t": 8.0, "type": "record", "kind": "complaint", "text": "我要投诉你们", "entry": "q28_complain_agent"},
    {"t": 12.0, "type": "heard", "text": "今天天气不错", "entry": None, "score": 12.0},
    {"t": 12.5, "type": "say", "text": "不好意思", "reason": "off_topic"},
    {"t": 20.0, "type": "hangup", "reason": "guide_hangup"},
]


def lines(events: list) -> bytes:
    return b"".join(json.dumps(e, ensure_ascii=False).encode("utf-8") + b"\n" for e in events)


def good_bytes() -> bytes:
    return lines(GOOD)


def torn_in_char() -> bytes:
    data = good_bytes()
    last = json.dumps({"t": 21.0, "type": "say", "text": "再见，祝您生活愉快"}, ensure_ascii=False).encode()
    cut = last.index("愉".encode()) + 1          # inside the 3-byte character
    return data + last[:cut]


# (name, bytes of events.jsonl, lines that must be skipped, at least) — the ways a record gets damaged.
DAMAGED: list[tuple[str, bytes, int]] = [
    ("torn_last_line_in_utf8_char", torn_in_char(), 1),
    ("torn_last_line_ascii", good_bytes() + b'{"t": 21.0, "type": "hang', 1),
    ("invalid_utf8_middle", good_bytes()[:40] + b"\xff\xfe\x80" + good_bytes()[40:], 0),
    ("non_object_lines", good_bytes() + b"[1, 2]\n42\n\"text\"\nnull\ntrue\n", 5),
    ("t_is_string_word", lines([{"t": "soon", "type": "heard", "text": "喂", "entry": None}]) + good_bytes(), 0),
    ("t_is_null", lines([{"t": None, "type": "record", "kind": "callback", "text": "明天再打"}]) + good_bytes(), 0),
    ("t_missing", lines([{"type": "heard", "text": "你好", "entry": "q01_identity", "score": 70}]) + good_bytes(), 0),
    ("type_missing", good_bytes() + lines([{"t": 3.0, "text": "no type"}]), 1),
    ("type_not_string", good_bytes() + lines([{"t": 3.0, "type": 7}, {"t": 3.0, "type": None}]), 2),
    ("numbers_as_strings", lines([{"t": "3.5", "type": "heard", "text": "录音吗", "entry": "q24_recording",
                                   "score": "88.5"}]) + good_bytes(), 0),
    ("nan_and_infinity", good_bytes() + b'{"t": NaN, "type": "heard", "text": "x"}\n'
                                        b'{"t": Infinity, "type": "hangup", "reason": "x"}\n', 0),
    ("empty_file", b"", 0),
    ("only_blank_lines", b"\n\n  \n", 0),
    ("nul_bytes", good_bytes() + b"\x00\x00\x00\x00\n", 1),
    ("crlf_line_ends", good_bytes().replace(b"\n", b"\r\n"), 0),
    ("utf8_bom", b"\xef\xbb\xbf" + good_bytes(), 0),
    ("gbk_line", good_bytes() + '{"t": 30, "type": "heard", "text": "投诉"}\n'.encode("gbk"), 0),
    ("text_and_entry_odd_types", good_bytes() + lines([{"t": 31, "type": "heard", "text": ["a", 1], "entry": 5},
                                                       {"t": 32, "type": "record", "kind": ["x"], "text": {"a": 1},
                                                        "fields": [1, 2]},
                                                       {"t": 33, "type": "say", "reason": {"r": 1}},
                                                       {"t": 34, "type": "hangup", "reason": 9}]), 0),
    ("deeply_nested_json", good_bytes() + b"[" * 100000 + b"\n", 1),
    ("giant_line", good_bytes() + b'{"t": 1, "type": "heard", "text": "' + b"a" * (2 << 20) + b'"}\n', 1),
    ("no_newline_at_all", json.dumps(GOOD[2], ensure_ascii=False).encode(), 0),
    ("binary_garbage", os.urandom(4096) + b"\n" + good_bytes(), 1),
    ("duplicate_hangups_and_unknown_types", good_bytes() + lines([{"t": 40, "type": "hangup", "reason": "again"},
                                                                  {"t": 41, "type": "what"}]), 0),
]


def write_call(folder: Path, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / EVENTS_FILE).write_bytes(data)
    return folder


@pytest.mark.parametrize("name, data, skipped", DAMAGED, ids=[d[0] for d in DAMAGED])
def test_report_reads_every_damaged_record(tmp_path: Path, name: str, data: bytes, skipped: int, capsys) -> None:
    folder = write_call(tmp_path / name, data)
    rep = report(folder)
    assert rep.skipped_lines >= skipped
    text = "\n".join(format_report(rep))
    json.dumps(rep.to_dict(), ensure_ascii=False)        # --json works
    assert ("damaged" in text) is (rep.skipped_lines > 0)     # said exactly when lines were skipped
    assert main(["report", str(folder)]) == 0
    assert main(["report", "--json", str(folder)]) == 0
    assert main(["report", "--follow-ups", str(tmp_path)]) == 0
    assert main(["report", "--follow-ups", "--json", str(tmp_path)]) == 0
    capsys.readouterr()


def test_torn_utf8_line_is_skipped_and_the_rest_kept(tmp_path: Path) -> None:
    rep = report(write_call(tmp_path / "c", torn_in_char()))
    assert rep.skipped_lines == 1
    assert rep.ended == "guide_hangup" and rep.turns == 3
    assert [m["entry"] for m in rep.matched] == ["q24_recording", "q28_complain_agent"]
    assert rep.unmatched == ["今天天气不错"]


def test_numbers_as_strings_are_read(tmp_path: Path) -> None:
    rep = report(write_call(tmp_path / "c", lines([{"t": "3.5", "type": "heard", "text": "录音吗",
                                                     "entry": "q24_recording", "score": "88.5"}])))
    assert rep.duration_s == 3.5 and rep.matched[0]["score"] == 88.5 and rep.matched[0]["t"] == 3.5


def test_one_bad_call_never_hides_the_others(tmp_path: Path, capsys) -> None:
    write_call(tmp_path / "1_good", good_bytes())
    write_call(tmp_path / "2_torn", torn_in_char())
    (tmp_path / "3_folder" / EVENTS_FILE).mkdir(parents=True)              # events.jsonl is a folder
    unreadable = write_call(tmp_path / "4_unreadable", good_bytes())
    write_call(tmp_path / "5_good", good_bytes())
    real_open = open

    def fake_open(path, *a, **k):  # root reads any file: make one unreadable by hand
        if str(path).startswith(str(unreadable)):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *a, **k)

    import builtins
    builtins.open = fake_open
    try:
        found = collect_follow_ups(tmp_path)
        code = main(["report", "--follow-ups", str(tmp_path)])
    finally:
        builtins.open = real_open
    calls = {Path(r["call"]).name for r in found.rows}
    assert calls == {"1_good", "2_torn", "5_good"}
    assert any("3_folder" in w for w in found.warnings)
    assert any("4_unreadable" in w and "Permission denied" in w for w in found.warnings)
    assert any("2_torn" in w and "damaged" in w for w in found.warnings)
    assert code == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert out.count("complaint") == 3 and "warning" in err


def test_report_on_a_folder_named_events_jsonl_is_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "c" / EVENTS_FILE).mkdir(parents=True)
    assert main(["report", str(tmp_path / "c")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "folder" in err
    with pytest.raises(VoicebotError):
        load_events(tmp_path / "c")


def test_branch_turns_are_not_unmatched(tmp_path: Path, capsys) -> None:
    events = [{"t": 1, "type": "heard", "text": "是的", "entry": None, "reply_to": "s_callback", "branch": "yes"},
              {"t": 2, "type": "heard", "text": "好的吧", "entry": None, "handled_by": "branch"},
              {"t": 3, "type": "heard", "text": "真不知道", "entry": None}]
    rep = report(write_call(tmp_path / "c", lines(events)))
    assert rep.unmatched == ["真不知道"]
    assert [b["text"] for b in rep.branched] == ["是的", "好的吧"]
    assert "answered by a branch" in "\n".join(format_report(rep))


def test_fields_shown_in_report_and_follow_ups(tmp_path: Path, capsys) -> None:
    events = [{"t": 5, "type": "record", "kind": "callback", "text": "换个号码联系",
               "fields": {"number": "13912345678", "verdict": "accepted"}}]
    folder = write_call(tmp_path / "c", lines(events))
    rep = report(folder)
    assert rep.follow_ups[0]["fields"] == {"number": "13912345678", "verdict": "accepted"}
    assert "number=13912345678" in "\n".join(format_report(rep))
    assert main(["report", "--follow-ups", str(tmp_path)]) == 0
    assert "number=13912345678 verdict=accepted" in capsys.readouterr().out
    assert main(["report", "--follow-ups", "--json", str(tmp_path)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["fields"]["verdict"] == "accepted"


def test_follow_ups_of_a_missing_folder_is_one_line(tmp_path: Path, capsys) -> None:
    assert main(["report", "--follow-ups", str(tmp_path / "nope")]) == 1
    assert capsys.readouterr().err.count("\n") == 1


# ------------------------------------------------------------------ output errors


def test_out_naming_a_file(tmp_path: Path) -> None:
    f = tmp_path / "calls.txt"
    f.write_text("x")
    with pytest.raises(OutputError) as err:
        new_call_dir(f)
    assert "not a folder" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(OutputError):
        new_call_dir(f / "sub")


def test_unwritable_folder(tmp_path: Path, monkeypatch) -> None:
    def deny(self, *a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))
    monkeypatch.setattr(Path, "mkdir", deny)
    with pytest.raises(OutputError) as err:
        new_call_dir(tmp_path / "calls")
    assert "Permission denied" in str(err.value) and "--out" in str(err.value)


def test_disk_full_call_log_and_wav(tmp_path: Path, monkeypatch) -> None:
    folder = new_call_dir(tmp_path)
    log = CallLog(folder)
    log.write({"t": 0, "type": "start"})
    rec = WavAppender(folder / "recording.wav")
    rec.append(np.full(1600, 0.1, np.float32))
    real_write = os.write

    def full(fd, data):
        real_write(fd, bytes(data)[:7])             # part of it lands, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OutputError) as err:
        log.write({"t": 1, "type": "say", "text": "您好"})
    assert "disk full" in str(err.value)
    monkeypatch.undo()
    assert [e["type"] for e in load_events(folder).events] == ["start"]
    assert load_events(folder).skipped == 0                # the torn part was cut off again

    class FullFile:
        def __init__(self, fh):
            self.fh = fh

        def write(self, data):
            self.fh.write(bytes(data)[:10])
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.fh, name)
    real = rec._fh
    rec._fh = FullFile(real)
    with pytest.raises(OutputError):
        rec.append(np.full(1600, 0.2, np.float32))
    rec._fh = real
    rec.close()
    assert len(read_audio(folder / "recording.wav")) == 1600   # header matches data


def test_chat_out_naming_a_file_is_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("你好\n"))
    assert main(["chat", "--out", str(f)]) == OutputError.exit_code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a folder" in err


def test_record_module_has_no_raw_oserror_on_create(tmp_path: Path) -> None:
    with pytest.raises(OutputError):
        CallLog(tmp_path / "missing" / "deeper")
    assert record.OutputError is OutputError

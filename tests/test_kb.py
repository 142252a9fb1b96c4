"""The script book as data: the shipped book loads clean (marked `book`); planted errors in a book built
on the fixture book's files are reported with file:line."""
from pathlib import Path
import shutil

import pytest

from voicebot import kb
from voicebot.cli import main
from voicebot.errors import KbError

from helpers import FIXTURE_BOOK, SHIPPED_BOOK

GOOD_SETTINGS = ("工号: '8086'\n业务: 流量包\n资费: '10'\n号码: '13800138000'\n称呼: 先生\n来电目的: 本次来电是{业务}\n"
                 "包含: 每月5GB流量\n生效: 立即生效\n取消方式: 拨打10086取消\n优惠期限: 12个月\n")


@pytest.mark.book
def test_shipped_book_has_no_problems(shipped_book):
    assert [str(p) for p in shipped_book.problems] == []


@pytest.mark.book
def test_shipped_kb_check_is_clean(capsys):
    assert main(["--kb", str(SHIPPED_BOOK), "kb", "check"]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


@pytest.mark.book
def test_shipped_book_covers_every_part_of_the_book(shipped_book):
    book = shipped_book
    ids = set(book.ids())
    numbered = {e.source for e in book if e.source.startswith("问题")}
    for n in range(1, 29):
        assert any(s.startswith(f"问题{n}") and not s[len(f"问题{n}"):][:1].isdigit() for s in numbered), n
    for must in ["f_foreign_caller", "sp_cancel", "sp_manager", "s_thanks", "s_praise", "s_work_id",
                 "p_315_gala", "o_department", "c_earlier_problem"]:
        assert must in ids
    from voicebot.protocols import REQUIRED
    for name in REQUIRED:
        assert book.protocol(name), name


@pytest.mark.book
def test_every_entry_has_book_wording_and_paraphrases(shipped_book):
    for entry in shipped_book:
        assert len(entry.customer) >= 5, entry.id        # the book's wording + at least four paraphrases
        assert entry.answer or entry.ask, entry.id


def test_placeholders_are_filled_from_settings(fixture_book):
    book = fixture_book
    text = book.fill("我的工号是{工号}，{业务}每月{资费}元")
    assert text == f"我的工号是{book.settings['工号']}，{book.settings['业务']}每月{book.settings['资费']}元"
    assert "{" not in book.fill(book.settings["来电目的"])


def test_capped_words_stop_after_the_cap():
    values = {"称呼": "女士"}
    counts: dict[str, int] = {}
    said = [kb.fill("{称呼}您好，{咱们}这边", values, counts, cap=3) for _ in range(5)]
    assert said[:3] == ["女士您好，咱们这边"] * 3
    assert said[3:] == ["您好，我们这边"] * 2
    assert counts == {"称呼": 3, "咱们": 3}


def write_book(tmp_path: Path, entries: str, settings: str = GOOD_SETTINGS) -> Path:
    for name in ("protocols.yaml", "replies.yaml", "offer.yaml"):
        shutil.copy(FIXTURE_BOOK / name, tmp_path / name)
    (tmp_path / "settings.yaml").write_text(settings, encoding="utf-8")
    (tmp_path / "book.yaml").write_text(entries, encoding="utf-8")
    return tmp_path


ENTRY = """\
- id: {id}
  category: 测试
  customer: [{phrase}, 第二种说法, 第三种说法{id}, 第四种说法{id}, 第五种说法{id}]
  answer: ["{answer}"]
  action: {action}
"""


def test_planted_errors_are_reported_with_file_and_line(tmp_path):
    text = (ENTRY.format(id="a1", phrase="你们是谁", answer="我们是北京移动", action="wait")
            + ENTRY.format(id="a1", phrase="录音吗", answer="有录音", action="wait")          # duplicate id, line 6
            + ENTRY.format(id="a3", phrase="你们是谁", answer="别的答案", action="fly")        # shared phrase (11) + bad action (15)
            + "- id: a4\n  category: 测试\n  customer: [哪里, b, c, d, e]\n  answer: []\n"     # missing answer, line 16
            + ENTRY.format(id="a5", phrase="工号", answer="我的工号是{员工号}", action="wait"))  # unknown placeholder, line 20
    path = write_book(tmp_path, text)
    book = kb.load(path)
    messages = [str(p) for p in book.problems]
    f = str(path / "book.yaml")
    assert any(m.startswith(f"{f}:6: duplicate id 'a1'") for m in messages), messages
    assert any(m.startswith(f"{f}:15:") and "unknown action 'fly'" in m for m in messages), messages
    assert any(m.startswith(f"{f}:11:") and "also belongs to a1" in m for m in messages), messages
    assert any(m.startswith(f"{f}:16:") and "missing answer" in m for m in messages), messages
    assert any(f"{f}:" in m and "unknown placeholder {员工号}" in m for m in messages), messages
    assert {e.id for e in book} == {"a1", "a3", "a4", "a5"}   # the rest of the book still loads


def test_broken_yaml_is_a_problem_not_a_crash(tmp_path):
    path = write_book(tmp_path, "- id: x\n  customer: [a, b\n  answer: [c]\n")
    book = kb.load(path)
    assert len(book.problems) == 1
    assert book.problems[0].file.endswith("book.yaml") and book.problems[0].line > 0
    assert "YAML syntax error" in book.problems[0].message


def test_kb_check_cli_exit_codes(tmp_path, capsys):
    assert main(["--kb", str(FIXTURE_BOOK), "kb", "check"]) == 0
    path = write_book(tmp_path, ENTRY.format(id="a1", phrase="x", answer="y", action="nope"))
    assert main(["--kb", str(path), "kb", "check"]) == 6
    out = capsys.readouterr().out
    assert f"{path / 'book.yaml'}:" in out and "unknown action 'nope'" in out


def test_missing_book_folder_is_one_line_error(tmp_path, capsys):
    with pytest.raises(KbError):
        kb.load(tmp_path / "nowhere")
    assert main(["--kb", str(tmp_path / "nowhere"), "kb", "list"]) == 6
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "kb init" in err


def test_kb_list_json_has_all_fields(capsys):
    import json
    assert main(["--kb", str(FIXTURE_BOOK), "kb", "list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data) == len(kb.load(FIXTURE_BOOK))
    first = data[0]
    for key in ["id", "category", "customer", "answer", "action", "record", "notes", "key_points", "branches"]:
        assert key in first

"""The matcher: ASR-style text on the fixture book, and the held-out paraphrase set of the shipped book
(tests/data/heldout.yaml, never stored in the book; those tests are marked `book`)."""
import json

import pytest
from ruamel.yaml import YAML

from voicebot.cli import main

from helpers import DATA, FIXTURE_KB

HELDOUT = YAML(typ="safe").load((DATA / "heldout.yaml").read_text(encoding="utf-8"))


@pytest.mark.book
def test_heldout_lines_are_not_stored_in_the_book(shipped_book):
    from voicebot.text import normalize
    stored = {normalize(p) for e in shipped_book for p in e.customer}
    leaked = [row["text"] for row in HELDOUT["in_scope"] if normalize(row["text"]) in stored]
    assert len(leaked) <= len(HELDOUT["in_scope"]) * 0.02, leaked


@pytest.mark.book
def test_heldout_covers_every_entry(shipped_book):
    assert {row["entry"] for row in HELDOUT["in_scope"]} == set(shipped_book.ids())


@pytest.mark.book
def test_top1_accuracy_on_heldout_paraphrases(shipped_matcher, request):
    matcher = shipped_matcher
    rows = HELDOUT["in_scope"]
    misses = []
    for row in rows:
        m = matcher.match(row["text"])
        got = m.entry.id if m.entry else None
        if got != row["entry"]:
            misses.append((row["text"], row["entry"], got, round(m.score, 1),
                           [(c.entry_id, round(c.score, 1)) for c in m.top]))
    accuracy = 1 - len(misses) / len(rows)
    if request.config.getoption("capture") == "no":  # figures only with -s
        print(f"\n[matcher] top-1 accuracy on {len(rows)} held-out lines: {accuracy:.1%}")
        for miss in misses:
            print("   miss:", miss)
    assert accuracy >= 0.95, (accuracy, misses)


@pytest.mark.book
def test_off_topic_lines_are_rejected(shipped_matcher, request):
    matcher = shipped_matcher
    rows = HELDOUT["out_of_scope"]
    accepted = [(t, matcher.match(t).entry.id, round(matcher.match(t).score, 1))
                for t in rows if matcher.match(t).entry is not None]
    rejection = 1 - len(accepted) / len(rows)
    if request.config.getoption("capture") == "no":  # figures only with -s
        print(f"\n[matcher] out-of-scope rejection on {len(rows)} lines: {rejection:.1%}")
        for a in accepted:
            print("   accepted:", a)
    assert rejection >= 0.95, (rejection, accepted)


@pytest.mark.parametrize("heard, entry", [
    ("现在 咱们 的 通话 有 录音 吗", "recording"),                # vosk spacing
    ("你們這通話有錄音嗎", "recording"),                          # whisper traditional
    ("来电显示为什么是零一零一零零八六", "caller_id"),              # numerals
    ("你是怎么知道我手机好的", "how_number"),                      # homophone 号→好
    ("喂你好我想问一下啊就是你们这个电话现在有没有在录音啊", "recording"),  # padding
])
def test_asr_style_text_matches(fixture_matcher, heard, entry):
    m = fixture_matcher.match(heard)
    assert m.entry is not None and m.entry.id == entry, m.to_dict()


def test_match_result_has_runner_up_and_top_three(fixture_matcher):
    m = fixture_matcher.match("现在咱们的通话有录音吗")
    assert m.reason == "matched" and m.phrase and m.entry.id == "recording"
    assert m.runner_up is not None and m.runner_up.entry_id != "recording"
    assert m.score > m.runner_up.score
    assert len(m.top) == 3


def test_empty_and_noise_text_is_no_match(fixture_matcher):
    assert fixture_matcher.match("").reason == "empty"
    assert fixture_matcher.match("，。？").reason == "empty"
    assert fixture_matcher.match("今天中午吃的红烧肉").entry is None


def test_match_cli_json(capsys):
    assert main(["--kb", FIXTURE_KB, "match", "--json", "你们这通话有录音吗", "明天会下雨吗"]) == 0
    lines = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert lines[0]["entry"] == "recording" and lines[0]["answer"] == "本次通话全程录音，用来核对服务质量，请您理解。"
    assert lines[0]["action"]
    assert lines[1]["entry"] is None and lines[1]["answer"] and lines[1]["action"] == "off_topic"
    for line in lines:
        assert {"text", "entry", "score", "answer", "action"} <= set(line)


def test_match_cli_reads_stdin(monkeypatch, capsys, fixture_book):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("你工号多少\n你们在录音吗\n"))
    assert main(["--kb", FIXTURE_KB, "match", "--json", "-"]) == 0
    lines = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert [l["entry"] for l in lines] == ["work_id", "recording"]
    assert lines[0]["answer"] == f"我的工号{fixture_book.settings['工号']}。"   # the work id, filled in

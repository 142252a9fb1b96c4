"""Reply understanding measured on held-out replies (tests/data/replies_heldout.yaml, written by a
helper who never saw scripts_kb/replies.yaml; marked `book`: it measures the shipped book's reply kinds),
plus the rules the conversation relies on (on the fixture book)."""
from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest
from ruamel.yaml import YAML

from voicebot.dialog import Heard, Policy, Started
from voicebot.replies import ReplyClassifier, clauses, negated_spans, squash

HELDOUT = YAML(typ="safe").load((Path(__file__).parent / "data" / "replies_heldout.yaml").read_text("utf-8"))
OFFER_KINDS = ("offer_price", "offer_content", "offer_effective", "offer_cancel", "offer_duration")


def read(policy: Policy, kind: str, line: str) -> str | None:
    """What the policy makes of a held-out line, in the context that kind belongs to."""
    if kind in ("yes", "no"):
        return policy.replies.polarity(line)
    if kind in ("calm", "insist", "done"):
        return policy.replies.classify(line, ["calm", "insist", "done"]).kind
    if kind == "repeat":
        return "repeat" if policy._is_repeat(line) else None
    if kind == "negated":
        return "negated" if any(i.kind == "negated" for i in policy._read_line(line)) else None
    intents = policy._read_line(line)
    return intents[0].reply if intents and intents[0].kind in ("reply", "topic") else (
        intents[0].kind if intents else None)


DEV: Final = 10
"""The first 10 lines of each kind were looked at while writing replies.yaml's patterns (the dev half);
the last 10 never were (the test half): its figure is the honest one."""


def accuracy(book, matcher, part: slice) -> dict[str, tuple[int, int]]:
    out = {}
    for kind, lines in HELDOUT.items():
        policy = Policy(book, matcher)
        policy.handle(Started(0))
        hits = sum(1 for line in lines[part] if read(policy, str(kind), str(line)) == str(kind))
        out[str(kind)] = (hits, len(lines[part]))
    return out


@pytest.mark.book
def test_heldout_replies_are_understood(shipped_book, shipped_matcher, capsys):
    book, matcher = shipped_book, shipped_matcher
    figures = {}
    for name, part in (("dev", slice(0, DEV)), ("test", slice(DEV, None))):
        acc = accuracy(book, matcher, part)
        hits, total = sum(h for h, _ in acc.values()), sum(n for _, n in acc.values())
        figures[name] = hits / total
        with capsys.disabled():
            print(f"\n[replies] {name} half: " + ", ".join(f"{k} {h}/{n}" for k, (h, n) in acc.items())
                  + f"; overall {100 * hits / total:.1f} % of {total}")
    assert figures["dev"] >= 0.85 and figures["test"] >= 0.55   # measured 95.0 % and 61.4 % (2026-11-30)
    # The rules that matter most hold on every held-out line of their kind.
    for kind in ("consent", "refuse"):
        policy = Policy(book, matcher)
        policy.handle(Started(0))
        for line in HELDOUT["backchannel"]:
            assert read(policy, "backchannel", str(line)) != "consent", line


@pytest.mark.parametrize("line", ["嗯", "嗯嗯", "可以，你说", "你说吧", "好的你讲", "哦", "行，你说说看"])
def test_a_backchannel_never_opens_the_business(fixture_book, fixture_matcher, line):
    p = Policy(fixture_book, fixture_matcher)
    p.handle(Started(0))
    for _ in range(4):
        turn = p.handle(Heard(1, line))
        assert not any(getattr(a, "reason", "") == "offer_accepted" for a in turn)
        if p.ended:
            break
    assert not any(getattr(a, "kind", "") == "offer" and a.fields.get("verdict") == "accepted"
                   for a in p.handle(Heard(2, "先这样")))


def test_consent_is_confirmed_once_before_opening(fixture_book, fixture_matcher):
    p = Policy(fixture_book, fixture_matcher)
    p.handle(Started(0))
    first = p.handle(Heard(1, "行，那你给我开一个吧"))
    assert [a.reason for a in first if hasattr(a, "reason") and a.__class__.__name__ == "Say"] == ["offer_confirm"]
    assert not p.ended
    done = p.handle(Heard(2, "对，确认"))
    assert done[-1].reason == "offer_accepted"
    assert [a.fields for a in done if getattr(a, "kind", "") == "offer"] == [{"verdict": "accepted"}]


@pytest.mark.parametrize("line,entry", [("我没说要投诉", "complaint"), ("不用叫领导了", "manager"),
                                        ("我不是要取消", "cancel")])
def test_a_request_taken_back_does_not_trigger_it(fixture_book, fixture_matcher, line, entry):
    p = Policy(fixture_book, fixture_matcher)
    p.handle(Started(0))
    turn = p.handle(Heard(1, line))
    assert entry in turn.negated
    assert not any(a.__class__.__name__ in ("Record", "Escalate") for a in turn)
    assert [a.reason for a in turn if a.__class__.__name__ == "Say"][0] == "correction" and not p.ended


def test_two_requests_in_one_line_get_both_answers_in_order(fixture_book, fixture_matcher):
    p = Policy(fixture_book, fixture_matcher)
    p.handle(Started(0))
    turn = p.handle(Heard(1, "通话录音吗？你工号多少"))
    assert list(turn.entries) == ["recording", "work_id"]


def test_clauses_and_negation_cues():
    assert clauses("通话录音吗？你工号多少") == ["通话录音吗", "你工号多少"]
    assert clauses("好的，另外你们在哪办公") == ["好的", "你们在哪办公"]
    assert [f for _, f in negated_spans("我没说要投诉")] == ["投诉"]
    assert squash("嗯，好的！") == "嗯好的"


def test_classifier_scores_examples_and_patterns():
    c = ReplyClassifier({"refuse": ["不需要"], "consent": ["给我开吧"]}, {"consent": [r"(给我|帮我)(开|办)(一个|个)"]})
    assert c.classify("不需要，谢谢").kind == "refuse"
    assert c.classify("那你帮我办个吧").kind == "consent"
    assert c.classify("你们在哪办公").kind is None

"""Honest measurement of the drill scorer (issue 14 item 5).

Graded answers were written from the book by helper sessions that never read the scorer, and split
by entry. Three parts:
- tune (tests/data/drill_graded_tune.yaml, with the older tests/data/drill_graded.yaml folded in):
  thresholds, weights and the book's must_not rules were fitted here;
- dev (tests/data/drill_graded_heldout.yaml): held out for one run (order 96.7 %, fluent 47.7 %),
  then read: its misses taught the general detectors (act_on_the_spot, personal_contact, the
  polarity check of the book's own facts…), so it is development data now;
- fresh (tests/data/drill_graded_heldout2.yaml): written by a session that never saw the scorer,
  after the detectors were done; scored once by this test, never read or tuned on.

Two figures for each part, printed; misordered pairs are named by entry and grade, never by text:
- order: share of (better, worse) pairs among good, partial and wrong that score in that order;
- fluent: share of (fluent wrong, partial) pairs of the same entry where the fluent wrong answer
  scores below the partial one (the target is all of them).

A row is `entry: <id>` (a book entry) or `drill: <id>` (a protocol drill or exchange of
scripts_kb/drills.yaml: the trainee's line at its first step, scored by the drill's step scorer).

Since the fresh v2 run, v2 is development data too (its misses were read, by class, for the general
mechanisms of the scorer3 session). Held-out v3 (62 entries + 15 protocol drills) was scored once
by the lead with the scorer3 scorer (order 95.3 %, fluent 90.4 %), then read by the scorer4 session
(its misses by class: protocol drills, indirect questions, consent conditions): DEV3, development data.
Held-out v4 (62 entries + 16 protocol drills) was scored once by the lead with the scorer4 scorer
(order 96.2 %, fluent 86.9 %), then read by the scorer5 session (its misses by class: claims with no
frame, stated the other way round; protocol drills; filler-only partial answers): DEV4, development data.
The scorer5 mechanisms are general (the `opposite` rules of scripts_kb/rules.yaml: a claim's two poles,
the book deciding entry by entry which one it states; frames for moves), never a copy of a v4 phrase.
The fresh part now is FRESH5 (62 entries + 15 protocol drills, 472 answers), written by a session
that never saw the scorer (nor the notes describing it), scored once by the lead with the scorer5
scorer: order 97.7 % (376/385), fluent wrong below partial 89.6 % (294/328; target 100 %); then read by
the scorer6 session: DEV5, development data. Before reading it, scorer6 built the `unsupported` rules
(scripts_kb/rules.yaml: a clause the entry's book lines do not support that says a risky term of a class
— a number, a guarantee, an act on the spot, who/where we are, a referral, blame, money — the book never
says there) on tune and v1–v4 only: they raised v5 to 92.1 % (302/328; fluent wrong answers flagged
123 → 133 of 164) with no v5 phrase; reading v5 added terms to the classes, two classes (ending the
call at a protocol step, pushing the offer at a step that has none) and the English lines' class, and a
general claim rule (the work id undermined): 97.9 % (321/328), order 99.2 % (382/385).
The fresh part now is FRESH6 (tests/data/drill_graded_heldout6.yaml, 62 entries + 15 protocol drills),
written by a session that never saw the scorer, the rules, the notes nor v1–v5, scored once by the lead
with the scorer6 scorer: order 97.4 % (375/385), fluent wrong below partial 96.4 % (297/308; target
100 %); then read by the scorer7 session: DEV6, development data (order 99.2 %, fluent 98.7 % with
scorer7). Its good answers' false alarms
taught that a risky term's claim is judged, not its syllables (an act the book itself does for the
customer, a guarantee of the book's own condition: `book_claim` in voicebot/rules.py).
The fresh part now is FRESH7 (tests/data/drill_graded_heldout7.yaml, 62 entries + 15 protocol drills,
474 answers), written by a session that never saw the scorer, the rules, the notes nor v1–v6, while
scorer7 worked without seeing it. The lead scored it with main before scorer7 and with scorer7, each
once: order 98.2 % (378/385) and fluent wrong below partial 95.6 % (302/316) both times; then read by
the scorer8 session: DEV7, development data. Its misses taught, by class and never as a copy of a v7
phrase: a "differs" claim is about its subject (the 权限 differ, not the numbers); A的，还是B的？ asks; a
line the book only asks (取消之后还给您回电话吗？) supports a question back, not a statement; a clause that
is only its term (再见) and the result after a condition's 的话 are judged on their own; and four
`unsupported` classes (a cause or authority, a use of the customer's data, the company's profit, a
made-up procedure). With scorer8: order 99.0 % (381/385), fluent 100 % (316/316).
FRESH8 (tests/data/drill_graded_heldout8.yaml, 78 items, about half of its fluent wrong answers the whole
good answer with one wrong detail) was written by a session that never saw the scorer while scorer8
worked without seeing it: scorer7 (main) 97.4 % / 88.6 % (287/324), scorer8 once after its last change
97.4 % / 91.0 % (295/324); then read by the lead (lead round 8: transfers, the agent's competence, the
company's fault, 10086 said not to handle things, English moves, amounts with a lone numeral, a term
alone in its clause, negated conditions, refusals to tell): DEV8, development data.
FRESH9 (tests/data/drill_graded_heldout9.yaml, 77 items, 197 fluent wrong) was written while both
worked, read by neither: scorer7 95.8 % / 89.1 % (351/394), scorer8 95.8 % / 90.6 % (357/394), scorer8 +
lead round 8 95.8 % / 90.6 % (357/394); then read by the lead (phone numbers said only where the entry's
lines say them, 再说 is no 再, the customer's own call is no promise, 绝对不外泄 is 完全保密, denying the
recording anywhere, skipping the number check, 算您同意): DEV9.
FRESH10 (tests/data/drill_graded_heldout10.yaml, 62 entries + 15 protocol drills, 476 answers), written by
a session that never saw the scorer, the rules, the notes nor v1–v9, was scored once by the lead with the
scorer after round 9: order 95.6 % (368/385), fluent wrong below partial 94.6 % (316/334); scorer7 on the
same set: 96.4 % / 90.1 % (301/334). Then read (round 10): DEV10.
FRESH11 (tests/data/drill_graded_heldout11.yaml, 62 entries + 15 protocol drills, 462 answers, written the
same way), scored once with the scorer after round 10: order 97.1 % (374/385), fluent wrong below partial
89.3 % (275/308); scorer7 on the same set: 97.1 % / 85.1 % (262/308). Then read (round 11): DEV11.
FRESH12 (nervous new trainees, fillers), scored once after round 11: 97.9 % (382/390) / 79.5 % (248/312;
the scorer at the start of the stop 78.8 %). Then read (round 12): DEV12.
FRESH13 (fast, casual 北京口语), scored once after round 12: 99.0 % (381/385) / 87.0 % (268/308; start of
the stop 80.8 %). Then read (round 13): DEV13.
FRESH14 (a trainee who half-remembers the book: a neighbouring fact swapped in), scored once after round
13: 97.7 % (376/385) / 79.2 % (244/308; start of that stop 73.4 %). Then read (round 14): DEV14.
FRESH15 (experienced agents paraphrasing freely; 73 of its 78 items: five multi-step drills answered with
every step joined by " / " were dropped unread, since a drill row is scored at its first step), scored
once after round 14: 94.2 % (344/365) / 89.0 % (260/292) — the one fresh order figure under 95 %: good
answers in the trainee's own words tripped claim classes (这个很正常, 改一点点, 催他们赶紧). Then read
(round 15): DEV15.
FRESH16 (warm, chatty agents), scored once after round 15: 96.4 % (376/390) / 84.9 % (265/312; the scorer
at the start of the stop 95.9 % / 82.1 %). Then read (round 16): DEV16.
FRESH17 (answers the way a call flows), scored once after round 16: 99.7 % (389/390) / 86.9 % (271/312;
start of the stop 99.2 % / 81.7 %). Then read (round 17): DEV17.
FRESH18 (written as an offline recogniser transcribes speech: no punctuation, numbers in characters,
fillers), scored once after round 17: order 96.9 % (378/390), fluent wrong below partial 86.5 % (270/312);
the scorer at the start of that stop 96.9 % / 80.4 % (251/312). Then read (round 18: a long unpunctuated
clause judged by the stretch that states each fact or term, a question told by its words, 一零零八六九九九
read as one number, and classes): DEV18.
FRESH19 (terse veteran agents, 84 items with the six exchanges' first steps), scored once after round 18:
98.3 % (413/420) / 81.0 % (272/336) — the same as the scorer at the start of the stop: round 18's classes,
read from recogniser-style text, caught none of this writer's wrong details. Then read (round 19): DEV19.
FRESH20 ("a mixed classroom": six trainees of different backgrounds per item), scored once after round 19:
order 98.7 % (385/390), fluent wrong below partial 88.5 % (276/312); the scorer at the start of that stop
98.7 % / 86.5 % (270/312). Its writer, counting ids, saw the names (not the texts) of the entries' own rules.
Then read (round 20: a mixed-in English sorry and 对不住 are apologies, and classes): DEV20.
The fresh part now is FRESH21 (tests/data/drill_graded_heldout21.yaml, 62 entries + 16 protocol drills,
468 answers, "a careless note-taker": run-on lines, fillers, numbers in characters, synonyms; written by
four helper sessions, a quarter each), scored with the scorer of round 19 before round 20 began: 97.7 %
(381/390) / 85.9 % (268/312), and once after round 20: 97.7 % (381/390) / 86.5 % (270/312).
Each round lifts its development sets to 93–100 % and the next fresh set by 0–6 points, to 79–90 %: the
classes generalise a little, but every fresh writer finds claims outside them.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from voicebot.drill import score_answer, step_entry

from helpers import DATA

TUNE = (DATA / "drill_graded_tune.yaml", DATA / "drill_graded.yaml")
DEV = DATA / "drill_graded_heldout.yaml"
DEV2 = DATA / "drill_graded_heldout2.yaml"
DEV3 = DATA / "drill_graded_heldout3.yaml"
DEV4 = DATA / "drill_graded_heldout4.yaml"
DEV5 = DATA / "drill_graded_heldout5.yaml"
DEV6 = DATA / "drill_graded_heldout6.yaml"
DEV7 = DATA / "drill_graded_heldout7.yaml"
DEV8 = DATA / "drill_graded_heldout8.yaml"
DEV9 = DATA / "drill_graded_heldout9.yaml"
DEV10 = DATA / "drill_graded_heldout10.yaml"
DEV11 = DATA / "drill_graded_heldout11.yaml"
DEV12 = DATA / "drill_graded_heldout12.yaml"
DEV13 = DATA / "drill_graded_heldout13.yaml"
DEV14 = DATA / "drill_graded_heldout14.yaml"
DEV15 = DATA / "drill_graded_heldout15.yaml"
DEV16 = DATA / "drill_graded_heldout16.yaml"
DEV17 = DATA / "drill_graded_heldout17.yaml"
DEV18 = DATA / "drill_graded_heldout18.yaml"
DEV19 = DATA / "drill_graded_heldout19.yaml"
DEV20 = DATA / "drill_graded_heldout20.yaml"
GRADES = ("good", "partial", "wrong")

ORDER_TARGET = 0.95
"""Issue 14: good > partial > wrong for at least 95 % of the held-out pairs."""
FLUENT_TARGET = 1.0
"""Every fluent wrong answer below every partial answer of the same entry."""
TUNE_ORDER_FLOOR = 0.97
"""Measured on the tune part: 0.984 (309/314) on main before scorer3; 0.985 (321/326) with the four
drill items and the scorer3 mechanisms."""
TUNE_FLUENT_FLOOR = 1.0
"""Met on the tune part: every pair."""
DEV_ORDER_FLOOR = 0.97
"""Held-out v1, measured once: 0.967 (232/240); 0.983 (236/240) on main, 0.988 (237/240) with scorer3."""
DEV_FLUENT_FLOOR = 1.0
"""Held-out v1, measured once: 0.477 (41/86); 1.0 (86/86) since (tuned on)."""
DEV2_ORDER_FLOOR = 0.97
"""Held-out v2, measured once: 0.906 (281/310); with the scorer3 mechanisms 0.974 (302/310). Its misses
were read by class (development data now): not a measure of generalising."""
DEV2_FLUENT_FLOOR = 0.99
"""Held-out v2, measured once: 0.735 (222/302); with the scorer3 mechanisms 0.983 (297/302), with
scorer5's 0.993 (300/302)."""
DEV3_ORDER_FLOOR = 0.97
"""Held-out v3 (62 entries + 15 protocol drills), measured once by the lead with the scorer3 scorer:
0.953 (367/385) — entries 0.961 (298/310), protocol drills 0.920 (69/75); then read (development
data): 0.982 (378/385) with the scorer4 mechanisms."""
DEV3_FLUENT_FLOOR = 0.99
"""Held-out v3, measured once: 0.904 (338/374) — entries 0.935 (286/306), protocol drills 0.765 (52/68);
0.976 (365/374) with the scorer4 mechanisms, 0.992 (371/374) with scorer5's."""
DEV4_ORDER_FLOOR = 0.98
"""Held-out v4 (62 entries + 16 protocol drills), measured once by the lead with the scorer4 scorer:
0.962 (375/390) — entries 0.987 (306/310), protocol drills 0.862 (69/80); then read (development data):
0.987 (385/390) with the scorer5 mechanisms."""
DEV4_FLUENT_FLOOR = 0.99
"""Held-out v4, measured once: 0.869 (273/314) — entries 0.891 (221/248), protocol drills 0.788 (52/66);
0.994 (312/314) with the scorer5 mechanisms (left: 问题6's 开了加油包就不收漫游费 — the book says both
收费 and 不收漫游费 there, for different places — and 问题23's 三个月才生效); 0.990 (311/314) with scorer6's
(d_manager's partial 我找一下我们负责人 names a person the step's line never names)."""
DEV5_ORDER_FLOOR = 0.99
"""Held-out v5, measured once (scorer5): 0.977 (376/385); then read (development data): 0.992 (382/385) with scorer6."""
DEV5_FLUENT_FLOOR = 1.0
"""Held-out v5, measured once (scorer5): 0.896 (294/328), against 0.9935 on v1–v4 (1069/1076); with
scorer6's `unsupported` rules built before reading v5 0.921 (302/328), after reading it 0.979 (321/328);
1.0 (328/328) with scorer8 (its classes read from v7, then v5's and v6's remaining misses read by class)."""
DEV6_ORDER_FLOOR = 0.99
"""Held-out v6, measured once by the lead with the scorer6 scorer: 0.974 (375/385; target 0.95); then
read (development data): 0.982 (378/385) on main, 0.992 (382/385) with scorer7."""
DEV6_FLUENT_FLOOR = 0.98
"""Held-out v6, measured once by the lead with the scorer6 scorer: 0.964 (297/308), against 0.989
(1389/1404) on the development parts v1–v5; the target is 1.0. Every earlier round fell from ~99 % to
87–90 % on its next fresh set (v3 90.4, v4 86.9, v5 89.6). 0.987 (304/308) with scorer7."""
DEV7_ORDER_FLOOR = 0.985
"""Held-out v7, scored by the lead with the scorer6 scorer (plus the lead's two fixes read from v6) and
again with scorer7, neither tuned on v7: 0.982 (378/385) both times (target 0.95); then read (development
data): 0.990 (381/385) with scorer8 (left: thin acknowledgements of a thanks tied with off-topic lines)."""
DEV7_FLUENT_FLOOR = 1.0
"""Held-out v7, the same two runs: 0.956 (302/316) both times (target 1.0; fresh v6 0.964 with scorer6);
1.0 (316/316) with scorer8."""
DEV8_ORDER_FLOOR = 0.98
"""Held-out v8, measured once with scorer8: 0.974 (380/390); then read: 0.987 (385/390)."""
DEV8_FLUENT_FLOOR = 0.98
"""Held-out v8, measured once with scorer8: 0.910 (295/324; scorer7 0.886); then read: 0.988 (320/324)."""
DEV9_ORDER_FLOOR = 0.97
"""Held-out v9, measured with scorer7, scorer8 and scorer8 + lead round 8, none tuned on it: 0.958
(369/385) each time; then read: 0.977 (376/385)."""
DEV9_FLUENT_FLOOR = 0.94
"""Held-out v9, the same runs: 0.891 (351/394), 0.906 (357/394), 0.906 (357/394); then read: 0.949
(374/394). Left: 问题27 营业厅投诉 read by the book's later rule (no 10086 for any complaint), claims said
in the book's own words (打10086也是办不了的), purposes and causes outside every class (信用评分)."""
DEV10_ORDER_FLOOR = 0.97
"""Held-out v10, measured once after round 9: 0.956 (368/385); then read: 0.977 (376/385)."""
DEV10_FLUENT_FLOOR = 0.99
"""Held-out v10, measured once after round 9: 0.946 (316/334; scorer7 0.901); then read: 0.991 (331/334)."""
DEV11_ORDER_FLOOR = 0.97
"""Held-out v11, measured once after round 10: 0.971 (374/385); then read: 0.971 (374/385)."""
DEV11_FLUENT_FLOOR = 0.99
"""Held-out v11, measured once after round 10: 0.893 (275/308); then read (round 11): 0.990 (305/308)."""
DEV12_ORDER_FLOOR = 0.98
"""Held-out v12, measured once after round 11: 0.979 (382/390); then read: 0.987 (385/390)."""
DEV12_FLUENT_FLOOR = 0.93
"""Held-out v12, measured once after round 11: 0.795 (248/312); then read (round 12): 0.933 (291/312). Left:
a wrong purpose of the call said in the book's words (调查服务满意度), a made-up number read back when
cancelling, answering an off-topic question instead of turning it back."""
DEV13_ORDER_FLOOR = 0.98
"""Held-out v13, measured once after round 12: 0.990 (381/385); then read: 0.990 (381/385)."""
DEV13_FLUENT_FLOOR = 0.94
"""Held-out v13, measured once after round 12: 0.870 (268/308); then read (round 13): 0.948 (292/308)."""
DEV14_ORDER_FLOOR = 0.99
"""Held-out v14, measured once after round 13: 0.977 (376/385); then read (round 14): 0.995 (383/385)."""
DEV14_FLUENT_FLOOR = 0.97
"""Held-out v14, measured once after round 13: 0.792 (244/308); then read (round 14): 0.968 (298/308)."""
DEV15_ORDER_FLOOR = 0.98
"""Held-out v15 (free paraphrase; 73 items: five multi-step drills answered with every step joined were
dropped unread), measured once after round 14: 0.942 (344/365); then read (round 15): 0.981 (358/365)."""
DEV15_FLUENT_FLOOR = 0.98
"""Held-out v15, measured once after round 14: 0.890 (260/292); then read (round 15): 0.986 (288/292)."""
DEV16_ORDER_FLOOR = 0.99
"""Held-out v16 (warm, chatty agents), measured once after round 15: 0.964 (376/390); then read (round 16):
0.992 (387/390)."""
DEV16_FLUENT_FLOOR = 0.97
"""Held-out v16, measured once after round 15: 0.849 (265/312); then read (round 16): 0.978 (305/312)."""
DEV17_ORDER_FLOOR = 0.99
"""Held-out v17 (answers the way a call flows), measured once after round 16: 0.997 (389/390); then read
(round 17): 0.997 (389/390)."""
DEV17_FLUENT_FLOOR = 0.99
"""Held-out v17, measured once after round 16: 0.869 (271/312); then read (round 17): 1.0 (312/312)."""
DEV18_ORDER_FLOOR = 0.99
"""Held-out v18 (recogniser-style text), measured once after round 17: 0.969 (378/390); then read (round 18):
0.997 (389/390)."""
DEV18_FLUENT_FLOOR = 0.97
"""Held-out v18, measured once after round 17: 0.865 (270/312); then read (round 18): 0.981 (306/312)."""
DEV19_ORDER_FLOOR = 0.98
"""Held-out v19 (terse veteran agents), measured once after round 18: 0.983 (413/420); then read (round 19):
0.983 (413/420)."""
DEV19_FLUENT_FLOOR = 0.93
"""Held-out v19, measured once after round 18: 0.810 (272/336); then read (round 19): 0.935 (314/336). Left:
a complaint about a store sent to 10086 (问题27 read by the book's later rule), 对/先生 three times in one
line (the call-wide cap of 特殊问题3 is three), a thin line of thanks tied with a partial one, an opening
without the caller's identity (missing, not contradicting), a made-up customer number in the read-back."""
DEV20_ORDER_FLOOR = 0.98
"""Held-out v20 (a mixed classroom), measured once after round 19: 0.987 (385/390); then read (round 20):
0.987 (385/390)."""
DEV20_FLUENT_FLOOR = 0.97
"""Held-out v20, measured once after round 19: 0.885 (276/312); then read (round 20): 0.971 (303/312). Left:
a complaint about a store sent to 10086 (问题27 read by the book's later rule, which the writer's good answer
breaks), a made-up reason for charging first (问题26), answering an off-topic question before turning back,
an offer to speak the customer's dialect (a partial answer scored as low), and a charge for the free report
line where the partial answer is also flagged."""


@dataclass(frozen=True)
class Figures:
    ordered: int
    pairs: int
    fluent_below: int
    fluent_pairs: int
    misordered: tuple[str, ...]
    """entry: better grade ≤ worse grade (scores), never the answers' text."""

    @property
    def order(self) -> float:
        return self.ordered / self.pairs

    @property
    def fluent(self) -> float:
        return self.fluent_below / self.fluent_pairs

    def line(self, name: str) -> str:
        return (f"{name}: good > partial > wrong for {self.ordered}/{self.pairs} pairs ({self.order:.1%}); "
                f"fluent wrong below partial for {self.fluent_below}/{self.fluent_pairs} pairs ({self.fluent:.1%})")


def _texts(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [item["text"] if isinstance(item, dict) else str(item) for item in items]


def _load(paths: tuple[Path, ...]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in paths:
        rows += YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return rows


def item_id(row: dict[str, Any]) -> str:
    """The row's book entry id, or its drill id (`drill: d_thanks`)."""
    return str(row.get("entry") or row.get("drill"))


def item_entry(book: Any, row: dict[str, Any]) -> Any:
    """What the row's answers are scored against: the entry, or the drill's first step as the drill
    scores it (its line, key points and rules)."""
    if "drill" in row:
        exercise = next((x for x in book.exercises if x.id == row["drill"]), None)
        assert exercise is not None, f"no drill {row['drill']} in scripts_kb/drills.yaml"
        return step_entry(book, exercise, 1)
    return book.get(row["entry"])


def known_ids(book: Any) -> set[str]:
    return set(book.ids()) | {x.id for x in book.exercises}


def measure(book: Any, matcher: Any, rows: list[dict[str, Any]]) -> Figures:
    ordered = pairs = below = fluent_pairs = 0
    misordered: list[str] = []
    for row in rows:
        entry = item_entry(book, row)
        name = item_id(row)
        scores = {g: [score_answer(entry, t, book, matcher).total for t in _texts(row.get(g))]
                  for g in GRADES + ("fluent_wrong",)}
        for better, worse in combinations(GRADES, 2):
            for a in scores[better]:
                for b in scores[worse]:
                    pairs += 1
                    ordered += a > b
                    if a <= b:
                        misordered.append(f"{name}: {better} {a:.0f} ≤ {worse} {b:.0f}")
        for f in scores["fluent_wrong"]:
            for p in scores["partial"]:
                fluent_pairs += 1
                below += f < p
                if f >= p:
                    misordered.append(f"{name}: fluent_wrong {f:.0f} ≥ partial {p:.0f}")
    return Figures(ordered, pairs, below, fluent_pairs, tuple(misordered))


def test_graded_files_cover_the_book_and_do_not_overlap(book) -> None:
    tune = {item_id(r) for r in _load(TUNE[:1])}
    dev = {item_id(r) for r in _load((DEV,))}
    assert tune and dev and not tune & dev, "the tune and dev parts hold different entries"
    assert tune | dev <= known_ids(book)
    assert any("drill" in r for r in _load(TUNE[:1])), "the tune part holds protocol drill items"
    for row in _load(TUNE[:1]) + _load((DEV,)):
        assert set(GRADES) <= set(row) and _texts(row.get("fluent_wrong")), item_id(row)


def test_drill_items_are_scored_by_the_drill_step(book, matcher) -> None:
    """A `drill:` row is scored against the drill's step (its own line and rules), not an entry."""
    row = {"drill": "d_noisy"}
    entry = item_entry(book, row)
    line = "对不起，听不清您讲话，请您换一个安静点的地方可以吗？"
    assert entry.id == "d_noisy_1"
    assert score_answer(entry, line, book, matcher).total >= 90
    assert score_answer(book.get("s_thanks"), line, book, matcher).total < 50


def test_tune_part(book, matcher) -> None:
    figures = measure(book, matcher, _load(TUNE))
    print("\n" + figures.line("tune") + "; misordered: " + "; ".join(figures.misordered))
    assert figures.order >= TUNE_ORDER_FLOOR, figures.misordered
    assert figures.fluent >= TUNE_FLUENT_FLOOR, figures.misordered


@pytest.mark.parametrize("path, order_floor, fluent_floor", [
    (DEV, DEV_ORDER_FLOOR, DEV_FLUENT_FLOOR),
    (DEV2, DEV2_ORDER_FLOOR, DEV2_FLUENT_FLOOR),
    (DEV3, DEV3_ORDER_FLOOR, DEV3_FLUENT_FLOOR),
    (DEV4, DEV4_ORDER_FLOOR, DEV4_FLUENT_FLOOR),
    (DEV5, DEV5_ORDER_FLOOR, DEV5_FLUENT_FLOOR),
    (DEV6, DEV6_ORDER_FLOOR, DEV6_FLUENT_FLOOR),
    (DEV7, DEV7_ORDER_FLOOR, DEV7_FLUENT_FLOOR),
    (DEV8, DEV8_ORDER_FLOOR, DEV8_FLUENT_FLOOR),
    (DEV9, DEV9_ORDER_FLOOR, DEV9_FLUENT_FLOOR),
    (DEV10, DEV10_ORDER_FLOOR, DEV10_FLUENT_FLOOR),
    (DEV11, DEV11_ORDER_FLOOR, DEV11_FLUENT_FLOOR),
    (DEV12, DEV12_ORDER_FLOOR, DEV12_FLUENT_FLOOR),
    (DEV13, DEV13_ORDER_FLOOR, DEV13_FLUENT_FLOOR),
    (DEV14, DEV14_ORDER_FLOOR, DEV14_FLUENT_FLOOR),
    (DEV15, DEV15_ORDER_FLOOR, DEV15_FLUENT_FLOOR),
    (DEV16, DEV16_ORDER_FLOOR, DEV16_FLUENT_FLOOR),
    (DEV17, DEV17_ORDER_FLOOR, DEV17_FLUENT_FLOOR),
    (DEV18, DEV18_ORDER_FLOOR, DEV18_FLUENT_FLOOR),
    (DEV19, DEV19_ORDER_FLOOR, DEV19_FLUENT_FLOOR),
    (DEV20, DEV20_ORDER_FLOOR, DEV20_FLUENT_FLOOR),
], ids=["dev_v1", "dev_v2", "dev_v3", "dev_v4", "dev_v5", "dev_v6", "dev_v7", "dev_v8", "dev_v9", "dev_v10",
        "dev_v11", "dev_v12", "dev_v13", "dev_v14", "dev_v15", "dev_v16", "dev_v17", "dev_v18", "dev_v19", "dev_v20"])
def test_dev_parts(book, matcher, path: Path, order_floor: float, fluent_floor: float) -> None:
    """The held-out sets already scored once and read since: development data, floors as measured."""
    figures = measure(book, matcher, _load((path,)))
    print("\n" + figures.line(f"dev {path.name} (held out once, now tuned on)") + "; misordered: "
          + "; ".join(figures.misordered))
    assert figures.order >= order_floor, figures.line(path.name)
    assert figures.fluent >= fluent_floor, figures.misordered


FRESH21 = DATA / "drill_graded_heldout21.yaml"
FRESH21_ORDER_FLOOR = 0.97
"""Held-out v21 (a careless note-taker), scored by the lead with the scorer of round 19 (0.977, 381/390) and once
after round 20 (0.977, 381/390; target 0.95), never read nor tuned on."""
FRESH21_FLUENT_FLOOR = 0.86
"""Held-out v21, the same two runs: 0.859 (268/312) and 0.865 (270/312; target 1.0). Fresh sets before, each
with its round's scorer: v20 0.885, v19 0.810, v18 0.865, v17 0.869, v16 0.849, v15 0.890, v14 0.792, v13
0.870, v12 0.795, v11 0.893, v10 0.946, v9 0.906, v8 0.910, v7 0.956, v6 0.964."""
FRESH_PARTS = [(FRESH21, FRESH21_ORDER_FLOOR, FRESH21_FLUENT_FLOOR)]
"""Held-out sets never read nor tuned on: FRESH21, written by a session that never saw the scorer."""


@pytest.mark.parametrize("path, order_floor, fluent_floor", FRESH_PARTS, ids=[p.stem for p, _, _ in FRESH_PARTS])
def test_fresh_held_out_part(book, matcher, path: Path, order_floor: float, fluent_floor: float) -> None:
    """The fresh held-out answers: the figures issue 14 asks for (targets 95 % and 100 %)."""
    assert path.exists(), f"{path} missing: the lead adds the fresh held-out set on main (git checkout main -- {path.relative_to(DATA.parent.parent)})"
    rows = _load((path,))
    assert rows and {item_id(r) for r in rows} <= known_ids(book)
    figures = measure(book, matcher, rows)
    print("\n" + figures.line(f"fresh held-out {path.name}") + f" (targets {ORDER_TARGET:.0%} and {FLUENT_TARGET:.0%}); "
          "misordered: " + "; ".join(figures.misordered))
    assert figures.order >= order_floor, figures.line(path.name)
    assert figures.fluent >= fluent_floor, figures.line(path.name)

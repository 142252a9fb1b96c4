"""Has the customer clearly finished, or clearly not? The cues that set how long a turn waits.

The call waits `VadOptions.end_silence_ms` (600 ms) of silence before it ends a turn: Mandarin
speakers pause up to about half a second between the clauses of one sentence (the natural-voice
fixtures pause up to 570 ms at a comma, after complete-looking first clauses as much as after
unfinished ones: `python3 benchmarks/bench_call.py --pauses`). The words heard so far (vosk's
partial text as it arrives, whisper's decode started at silence onset) change that wait:
- a short reply to the yes/no question the bot just asked (可以 / 不需要 / 没兴趣; not 对 or 好的,
  which often open a longer one): `VadOptions.reply_end_ms`;
- a complete question (it ends in a question particle or a question word: …吗, …呢, 多少, 为什么):
  `VadOptions.question_end_ms`;
- a line the matcher places strongly in the book (score ≥ `MATCHED_MIN_SCORE`) that ends complete:
  `VadOptions.matched_end_ms` (the semantic cue);
- words that end mid-phrase (…因为, …然后, 我想问一下那个): the customer is still speaking, the
  wait grows to `VadOptions.open_end_ms`.
Otherwise the full wait stands. Prosody (a falling end) was measured on the fixtures and does not
tell a comma from a full stop there: over the last 300 ms before a pause, pitch ratio 0.84 at a
comma vs 0.82 at the end, level −14.4 vs −15.0 dB. Nor does the matcher's score tell a first clause
from a whole line below `MATCHED_MIN_SCORE`, nor does a question's end: of the fixtures' first
clauses, complete questions (我的资料你们不是都有吗) are followed by pauses of up to 570 ms as much
as unfinished ones (我人在国外): so the question and plain waits stay at 600 ms.
"""
from __future__ import annotations

import re
from typing import Any, Final, Literal

from .replies import squash

Cue = Literal["reply", "question", "matched", "open"]

QUESTION_END: Final = re.compile(
    r"(吗|嘛|呢|么|啥|什么|多少|几个|几号|几点|哪儿|哪里|哪个|谁|怎么办|怎么样|为什么|干嘛|是不是|对不对|行不行|好不好|可以吗)$")
"""A line that ends like this is a complete question (the particle or question word closes it)."""
STILL_SPEAKING: Final = re.compile(r"(的话|就是|然后|还有|那个|这个|因为|所以|但是|而且|如果|我想|我要|就|和|跟|还|要是|不过|或者|比如)$")
"""Words that end like this stop mid-phrase (我想问一下那个 …, 因为 …): the customer goes on."""
OPEN_END: Final = re.compile(STILL_SPEAKING.pattern[:-2] + r"|是|我|你)$")
"""…nor is a line complete that ends in a bare 是 / 我 / 你 (我想问你 …); checked before QUESTION_END.
(These do not make the wait longer: 不是 is a whole reply, 我要投诉你 a whole line.)"""
MIN_QUESTION_CHARS: Final = 4
"""Shorter questions (什么? 谁呢?) are often the start of a longer one: the full wait stands."""
SHORT_REPLY_CHARS: Final = 6
"""A reply to a yes/no question this short (可以 / 不需要 / 没兴趣谢谢) is the whole reply…"""
OPENERS: Final = frozenset(("对", "对的", "是", "是的", "嗯", "嗯嗯", "好", "好的", "行", "哦", "喂", "不是", "没有", "不对"))
"""…unless it is one of these, which as often open a longer reply (对，是我自己的身份证;
不是，是我老婆的; 好的，可以): after them the full wait stands."""
OPENER_HEADS: Final = "对是嗯好行哦喂"
"""A two-character line that starts with one of these is an opener too, misheard: whisper decodes
the first clause of 好的，可以 (0.9 s, confidence 0.25–0.34) as 好的 or as 好灯 from run to run, and
好灯 read as a whole yes cut the turn at its comma (the clean-clone CI, stop 24)."""
ASKED: Final = ("opening", "offer", "confirm")
"""The policy's `state.asked` values that are yes/no questions (方便了解吗? 需要开通吗? 确认开通吗?)."""
MATCHED_MIN_SCORE: Final = 70.0
"""The semantic cue: the matcher's score a line must reach. Measured on the 151 customer fixtures
(clause before each comma pause, by its text): first clauses score at most 65.9 (你工号多少), whole
lines 17–94, so the cue fires on whole book questions said nearly in the book's words and on no
first clause."""
MIN_MATCHED_CHARS: Final = 6
"""A line shorter than this is not placed by its match alone (谢谢 matches 谢谢 strongly and as
often opens 谢谢，那你们是怎么…)."""


def expecting_reply(policy: Any) -> bool:
    """True when the bot's last line asked the customer a yes/no question (an open question
    back, the opening's 方便吗, the offer, its confirmation)."""
    state = policy.state
    return state.open is not None or state.asked in ASKED


def finished_by(text: str, policy: Any) -> Cue | None:
    """Which cue says the customer has finished with `text` (what the recogniser heard so far),
    or None when nothing does ("open" is never returned here: see `cue_of`)."""
    words = squash(text)
    if not words:
        return None
    if (expecting_reply(policy) and len(words) <= SHORT_REPLY_CHARS and not opener(words)
            and not STILL_SPEAKING.search(words) and policy.replies.polarity(text) is not None):
        return "reply"
    if OPEN_END.search(words):
        return None
    if len(words) >= MIN_QUESTION_CHARS and QUESTION_END.search(words):
        return "question"
    if len(words) >= MIN_MATCHED_CHARS:
        match = policy.matcher.match(text)
        if match.entry is not None and match.score >= MATCHED_MIN_SCORE:
            return "matched"
    return None


def opener(words: str) -> bool:
    """True for a word that as often opens a longer reply (`OPENERS`), or one misheard (`OPENER_HEADS`)."""
    return words in OPENERS or (len(words) <= 2 and words[:1] in OPENER_HEADS)


def still_speaking(text: str) -> bool:
    """True when the words end mid-phrase (…因为, …然后, …那个): the customer is not done."""
    words = squash(text)
    return bool(words) and STILL_SPEAKING.search(words) is not None


def cue_of(text: str | None, policy: Any) -> Cue | None:
    """The cue the words so far give (None: no words yet, or nothing tells)."""
    if not text:
        return None
    return finished_by(text, policy) or ("open" if still_speaking(text) else None)


def wait_ms(cue: Cue | None, options: Any) -> int:
    """Trailing silence (ms) that ends the turn under this cue (`options`: a `VadOptions`)."""
    return {"reply": options.reply_end_ms, "question": options.question_end_ms,
            "matched": options.matched_end_ms, "open": options.open_end_ms}.get(cue or "", options.end_silence_ms)

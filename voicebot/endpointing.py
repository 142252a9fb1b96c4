"""Has the customer clearly finished? The cues that end a turn before the full trailing-silence wait.

The speech detector ends a turn after `VadOptions.end_silence_ms` (600 ms) of silence: Mandarin
speakers pause up to about half a second between the clauses of one sentence (the natural-voice
fixtures pause up to 570 ms at a comma). Most of the gap between the customer's last word and the
bot's reply is that wait. Where the words heard so far show the customer is done, the call ends the
turn sooner:
- a short reply to the yes/no question the bot just asked (可以 / 不需要 / 没兴趣; not 对 or 好的,
  which often open a longer one), after `VadOptions.reply_end_ms` of silence;
- a complete question (it ends in a question particle or a question word: …吗, …呢, 多少, 为什么),
  after `VadOptions.question_end_ms`.
Otherwise (the words end mid-phrase, or there are none yet) the full wait stands. Prosody (a
falling end) was measured on the fixtures and does not tell a comma from a full stop there: the
pitch and level of the last 300 ms before a pause are spread alike in both (see the README).
"""
from __future__ import annotations

import re
from typing import Any, Final, Literal

from .replies import squash

Cue = Literal["reply", "question"]

QUESTION_END: Final = re.compile(
    r"(吗|嘛|呢|么|啥|什么|多少|几个|几号|几点|哪儿|哪里|哪个|谁|怎么办|怎么样|为什么|干嘛|是不是|对不对|行不行|好不好|可以吗)$")
"""A line that ends like this is a complete question (the particle or question word closes it)."""
OPEN_END: Final = re.compile(r"(的话|就是|然后|还有|那个|这个|因为|所以|但是|而且|如果|我想|我要|我|你|就|和|跟|还|是)$")
"""…unless it is one of these unfinished openings (我想问一下那个 …); checked before QUESTION_END."""
MIN_QUESTION_CHARS: Final = 4
"""Shorter questions (什么? 谁呢?) are often the start of a longer one: the full wait stands."""
SHORT_REPLY_CHARS: Final = 6
"""A reply to a yes/no question this short (可以 / 不需要 / 没兴趣谢谢) is the whole reply…"""
OPENERS: Final = frozenset(("对", "对的", "是", "是的", "嗯", "嗯嗯", "好", "好的", "行", "哦", "喂", "不是", "没有", "不对"))
"""…unless it is one of these, which as often open a longer reply (对，是我自己的身份证;
不是，是我老婆的; 好的，可以): after them the full wait stands."""
ASKED: Final = ("opening", "offer", "confirm")
"""The policy's `state.asked` values that are yes/no questions (方便了解吗? 需要开通吗? 确认开通吗?)."""


def expecting_reply(policy: Any) -> bool:
    """True when the bot's last line asked the customer a yes/no question (an open question
    back, the opening's 方便吗, the offer, its confirmation)."""
    state = policy.state
    return state.open is not None or state.asked in ASKED


def finished_by(text: str, policy: Any) -> Cue | None:
    """Which cue says the customer has finished with `text` (what the recogniser heard so far),
    or None when nothing does."""
    words = squash(text)
    if not words:
        return None
    if (expecting_reply(policy) and len(words) <= SHORT_REPLY_CHARS and words not in OPENERS
            and policy.replies.polarity(text) is not None):
        return "reply"
    if len(words) >= MIN_QUESTION_CHARS and not OPEN_END.search(words) and QUESTION_END.search(words):
        return "question"
    return None

"""Every line the bot can say from the book, as it will be spoken: for rendering ahead of a call.

The book is taken as it is loaded (`voicebot.kb.KnowledgeBase`: entries, protocols, `fill`); this
module only reads those attributes, so tts does not import kb.
"""
from __future__ import annotations

from typing import Any, Final, Iterator

from voicebot.tts.reading import Language

UNSPOKEN_KEYS: Final = frozenset({"notes", "triggers", "words", "yes", "no", "record", "foreign"})
"""protocols.yaml keys whose strings are never said (notes, customer words, record kinds)."""


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if str(key) not in UNSPOKEN_KEYS:
                yield from _strings(item)


def _branch_lines(branches: Any) -> Iterator[str]:
    for branch in branches or ():
        yield from branch.say
        if branch.ask:
            yield branch.ask
        yield from _branch_lines(branch.branches)


def book_lines(book: Any) -> list[tuple[str, Language]]:
    """(line, language) for each answer, question back, branch line and protocol line, with the
    settings filled in, once each, in book order. A line with a capped word (先生/女士, 咱们) is
    listed as said before the cap and as said after it."""
    raw: list[tuple[str, Language]] = []
    for entry in book.entries:
        lang: Language = "en" if entry.language == "en" else "zh"
        raw.extend((line, lang) for line in entry.answer)
        if entry.ask:
            raw.append((entry.ask, lang))
        raw.extend((line, "en" if not any("\u4e00" <= ch <= "\u9fff" for ch in line) else "zh")
                   for line in _branch_lines(entry.branches))
    for line in list(book.protocols.spoken()) + list(book.offer.spoken()):
        if "{要点}" not in line:  # filled with the customer's own words during the call
            raw.append((line, "en" if not any("\u4e00" <= ch <= "\u9fff" for ch in line) else "zh"))
    if book.settings.get("转业务话术"):
        raw.append((book.settings["转业务话术"], "zh"))
    out: list[tuple[str, Language]] = []
    seen: set[tuple[str, str]] = set()
    for template, lang in raw:
        if lang == "en":
            variants = [template]
        else:
            variants = [book.fill(template), book.fill(template, {}, 0)]
        for text in variants:
            text = text.strip()
            if len(text) > 1 and (text, lang) not in seen:
                seen.add((text, lang))
                out.append((text, lang))
    return out

"""Every line the bot can say from the book, as it will be spoken: for rendering ahead of a call;
and the few it is likely to say next in a call, for rendering in the background while it goes on.

The book is taken as it is loaded (`voicebot.kb.KnowledgeBase`: entries, protocols, `fill`) and the
call's policy as it runs (`voicebot.dialog.Policy`: state, book, cap); this module only reads
those attributes, so tts imports neither kb nor dialog.
"""
from __future__ import annotations

from typing import Any, Iterator

from voicebot.tts.reading import Language

def _language(line: str) -> Language:
    """en for a line without Chinese characters (the foreign caller's), else zh."""
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in line) else "en"


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
        raw.extend((line, _language(line)) for line in _branch_lines(entry.branches))
    for line in list(book.protocols.spoken()) + list(book.offer.spoken()):
        if "{要点}" not in line:  # filled with the customer's own words during the call
            raw.append((line, _language(line)))
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


def next_lines(policy: Any) -> list[tuple[str, Language]]:
    """(line, language) the bot is likely to say at its next turn, most likely first, as the
    policy would fill them now: the branches of the question it just asked, its last lines again
    (the customer asks to repeat), then the protocol lines any turn may need (not heard, speak
    louder, noisy line, no response and its closing, the closing). Placeholders are filled on a copy of the
    call's word counts: the call itself is never changed."""
    book, state, proto = policy.book, policy.state, policy.book.protocols
    counts = dict(state.word_counts)
    cap = getattr(policy, "cap", None)
    raw: list[tuple[str, Language]] = []
    if state.open is not None:
        for branch in state.open.branches:
            raw.extend((line, _language(line)) for line in branch.say)
            if branch.ask:
                raw.append((branch.ask, _language(branch.ask)))
    raw.extend((say.text, say.language if say.language == "en" else "zh") for say in state.last_said)
    for line in (proto.not_heard.line(), proto.speak_louder.line(state.quiet), proto.noisy.line(),
                 proto.no_response.prompt, proto.no_response.closing, proto.closing.line()):
        raw.append((line, "zh"))
    out: list[tuple[str, Language]] = []
    seen: set[tuple[str, str]] = set()
    for template, lang in raw:
        if not template or "{要点}" in template:
            continue
        text = (book.fill(template, dict(counts), cap) if lang == "zh" else template).strip()
        if len(text) > 1 and (text, lang) not in seen:
            seen.add((text, lang))
            out.append((text, lang))
    return out

"""The scored call as one self-contained HTML page (no scripts, no files beside it): the score, the
timeline with each challenge, the agent's answer, its score, the book's answer and the rules broken,
then the words to avoid and the protocols. Every text from the call is escaped."""
from __future__ import annotations

from html import escape
from typing import Final

from .score import AGENT, CallScore, Exchange

_STYLE: Final = """
body{font-family:system-ui,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2em auto;
max-width:62em;padding:0 1em;color:#222;line-height:1.5}
h1{font-size:1.4em;margin-bottom:.2em} .meta{color:#666;margin-top:0}
.total{font-size:2.2em;font-weight:700} .excellent,.good{color:#1a7f37} .fair{color:#9a6700} .poor{color:#cf222e}
table{border-collapse:collapse;width:100%;margin:1em 0} th,td{border-bottom:1px solid #ddd;padding:.4em .5em;
text-align:left;vertical-align:top} th{background:#f6f8fa}
tr.agent td.text{color:#0550ae} tr.customer td.text{font-weight:600}
.exchange{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:.8em 0}
.book{color:#555;background:#f6f8fa;padding:.3em .6em;border-radius:4px}
.rule{color:#cf222e} .ok{color:#1a7f37} .na{color:#888} .missed{color:#9a6700}
"""


def _clock(t: float | None) -> str:
    return "" if t is None else f"{int(t // 60):02d}:{t % 60:04.1f}"


def _exchange(x: Exchange) -> str:
    s = x.score
    rules = "".join(f'<li class="rule">✗ {escape(v.rule)}: {escape(v.message)}</li>' for v in s.violations)
    missed = (f'<div class="missed">missed: {escape("、".join(s.missed))}</div>' if s.missed else "")
    made = (f'<div class="ok">made: {escape("、".join(s.made))}</div>' if s.made else "")
    return (f'<div class="exchange" id="x{x.challenge.start:.1f}">'
            f'<div><b>{_clock(x.challenge.start)}</b> customer: <b>{escape(x.challenge.text)}</b> '
            f'<span class="na">[{escape(x.entry_id)} · {escape(x.source)}]</span></div>'
            f'<div>agent: {escape(x.answer) or "<i>(nothing said)</i>"}</div>'
            f'<div>score <b class="{s.tier}">{s.total:.0f}</b> ({s.tier})</div>{made}{missed}'
            + (f"<ul>{rules}</ul>" if rules else "")
            + f'<div class="book">book: {escape(x.book_answer)}</div></div>')


def render(cs: CallScore) -> str:
    """The whole page."""
    total = cs.total
    headline = ("no challenge from the book in this call" if total is None
                else f'<span class="total {cs.tier}">{total:.0f}</span> {cs.tier}')
    where = f"agent on the {cs.agent_channel} channel" if cs.agent_channel else "our call record (the bot is the agent)"
    by_turn = {x.challenge.start: x for x in cs.exchanges}
    rows = []
    for t in cs.turns:
        x = by_turn.get(t.start) if t.side != AGENT else None
        note = f'<a href="#x{t.start:.1f}">{escape(x.entry_id)} · {x.score.total:.0f}</a>' if x else (
            escape(t.entry_id or t.match or "") if t.side != AGENT else "")
        rows.append(f'<tr class="{t.side}"><td>{_clock(t.start)}</td><td>{t.side}</td>'
                    f'<td class="text">{escape(t.text)}</td><td>{note}</td></tr>')
    words = "".join(f'<tr><td>{escape(w.label)}</td><td class="{"rule" if w.over else "ok"}">{w.count}</td>'
                    f"<td>{w.cap}</td></tr>" for w in cs.words)
    protocols = "".join(
        f'<tr><td>{escape(p.name)}</td><td class="{"na" if not p.applies else ("ok" if p.ok else "rule")}">'
        f'{"–" if not p.applies else ("✓" if p.ok else "✗")}</td><td>{escape(p.detail)}</td></tr>'
        for p in cs.protocols)
    broken = "".join(f'<li class="rule">{_clock(r.t)} {escape(r.rule)}: {escape(r.message)}</li>' for r in cs.broken)
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>voicebot score: {escape(cs.source)}</title>
<style>{_STYLE}</style></head><body>
<h1>Call score</h1><p class="meta">{escape(cs.source)} · {where} · {cs.duration_s:.1f} s · {len(cs.turns)} turns ·
{len(cs.exchanges)} challenges</p>
<p>{headline}</p>
<h2>Rules broken</h2>{f"<ul>{broken}</ul>" if broken else '<p class="ok">none</p>'}
<h2>Challenges and answers</h2>{"".join(_exchange(x) for x in cs.exchanges) or "<p>none</p>"}
<h2>Timeline</h2><table><tr><th>time</th><th>side</th><th>said</th><th>book</th></tr>{"".join(rows)}</table>
<h2>Words to avoid (特殊问题3)</h2><table><tr><th>words</th><th>said</th><th>cap</th></tr>{words}</table>
<h2>Protocols</h2><table><tr><th>protocol</th><th></th><th>what happened</th></tr>{protocols}</table>
</body></html>
"""

"""The script book (口径) as data: loading `scripts_kb/*.yaml`, checking it, filling placeholders.

Trainers edit the YAML files by hand, so a broken file must never crash the program: every problem
is collected as a `Problem(file, line, message)` and the rest of the book still loads.
"""
from __future__ import annotations

import dataclasses
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Final, Iterable, Iterator, TypeVar

from ruamel.yaml import YAML
try:  # ruamel.yaml >= 0.18.7 records per-document info that `load` sets up
    from ruamel.yaml.docinfo import DocInfo, version
except ImportError:  # pragma: no cover - older ruamel.yaml
    DocInfo = None  # type: ignore[assignment,misc]
from ruamel.yaml.error import MarkedYAMLError

from . import exercises as _exercises
from . import offer as _offer
from . import protocols as _protocols
from .errors import KbError
from .offer import Offer
from .protocols import Protocols
from .replies import KINDS as REPLY_KINDS, valid_patterns
from .rules import Rule, build_rule, check as check_rules
from .text import normalize

ACTIONS: Final = ("wait", "continue", "guide_hangup", "hangup", "escalate", "listen", "offer")
RECORDS: Final = ("complaint", "suggestion", "do_not_call", "sensitive", "earlier_problem", "callback",
                  "cancel", "no_response", "escalation", "abroad_ringback", "contact_preference", "offer")
ANSWER_MODES: Final = ("first", "sequence")
LANGUAGES: Final = ("zh", "en")
# Placeholders filled from settings.yaml.
VALUE_PLACEHOLDERS: Final = ("工号", "业务", "资费", "来电目的", "号码", "包含", "生效", "取消方式", "优惠期限")
# Filled during the call, not from settings: {要点} is the customer's complaint in their own words.
RUNTIME_PLACEHOLDERS: Final = ("要点",)
# Words the book caps per call (特殊问题3): said as written until the cap, then the fallback.
CAPPED_WORDS: Final = {"称呼": "", "咱们": "我们", "咱": ""}
PLACEHOLDERS: Final = VALUE_PLACEHOLDERS + tuple(CAPPED_WORDS) + RUNTIME_PLACEHOLDERS
ENTRY_FILES_EXCLUDED: Final = ("settings.yaml", "protocols.yaml", "out_of_scope.yaml", "tuning.yaml",
                               "replies.yaml", "offer.yaml", "rules.yaml", "drills.yaml")
T = TypeVar("T")
_PLACEHOLDER: Final = re.compile(r"\{([^{}]*)\}")
_ID: Final = re.compile(r"^[a-z0-9_]+$")
WHEN_KEYWORDS: Final = ("yes", "no", "other", "english", "chinese", "date", "number")
"""Besides these, a branch's `when` may name a reply kind of replies.yaml (calm, insist, …)."""
ENV_KB: Final = "VOICEBOT_KB"


@dataclass(frozen=True)
class Problem:
    """One thing `kb check` reports."""

    file: str
    """The file, as given to the loader."""
    line: int
    """1-based line of the node at fault (0 when the whole file is at fault)."""
    message: str
    """What is wrong and, where it helps, how to fix it."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Branch:
    """A kind of reply to a question the bot asked back, and what it leads to."""

    when: str | tuple[str, ...]
    """'yes', 'no', 'other', or phrases the reply may resemble."""
    say: tuple[str, ...] = ()
    """Lines the bot says, in order (placeholders unfilled)."""
    action: str = "wait"
    """What happens after saying them (one of ACTIONS)."""
    record: str | None = None
    """A follow-up record to file (one of RECORDS)."""
    ask: str | None = None
    """A further question back."""
    branches: tuple["Branch", ...] = ()
    """What each kind of reply to `ask` leads to."""
    record_fields: tuple[tuple[str, Any], ...] = ()
    """Fixed fields of the record (e.g. about: agent)."""
    line: int = 0
    """Line in its file, for messages."""


@dataclass(frozen=True)
class Entry:
    """One question of the book and its standard answer."""

    id: str
    """Stable id, unique across the book."""
    category: str
    """Part of the book (drill picks by it)."""
    customer: tuple[str, ...]
    """Ways customers say it: the book's wording first, then paraphrases."""
    answer: tuple[str, ...]
    """Spoken lines exactly as the book words them (placeholders unfilled)."""
    answer_mode: str = "first"
    """first: say answer[0], the next line on a repeat; sequence: all lines in order."""
    action: str = "wait"
    """What happens after the answer (one of ACTIONS)."""
    record: str | None = None
    """A follow-up record to file (one of RECORDS)."""
    record_fields: tuple[tuple[str, Any], ...] = ()
    """Fixed fields of the record (e.g. about: store)."""
    language: str = "zh"
    """Language of the answer (en for the foreign-caller lines)."""
    source: str = ""
    """Where it stands in the book (问题24, 特殊问题1(3), …)."""
    aliases: tuple[str, ...] = ()
    """Other places in the book that ask the same thing."""
    notes: tuple[str, ...] = ()
    """The book's 注意/强调/思路: for trainees, never spoken."""
    key_points: tuple[str, ...] = ()
    """What a trainee's answer must cover (drill)."""
    ask: str | None = None
    """A question back to the customer, spoken after the answer."""
    branches: tuple[Branch, ...] = ()
    """What each kind of reply to `ask` leads to."""
    patterns: tuple[str, ...] = ()
    """Regular expressions over the squashed line (no spaces or punctuation) that mean this entry
    whatever the matcher says (工号…投诉 is 问题28); use a negative lookahead to leave cases to others."""
    context_customer: tuple[str, ...] = ()
    """Wordings that mean this entry only right after one of `context_after` (the book asks
    你们10086不是有我的资料吗 in 问题2 and 问题12: after "you called me before" it is 问题12's)."""
    context_after: tuple[str, ...] = ()
    """Entry ids after which `context_customer` applies (default: this entry)."""
    must_not: tuple[str, ...] = ()
    """Ids of the rules (scripts_kb/rules.yaml, or defined in the entry's own `must_not:`) the book
    sets for this answer: claims it must not make, moves it must not take (drill, `voicebot score`)."""
    file: str = ""
    """File it was loaded from."""
    line: int = 0
    """Line of the entry in its file."""

    def to_dict(self) -> dict[str, Any]:
        """All fields, JSON-ready (for `kb list --json`)."""
        return _plain(self)


def _plain(obj: Any) -> Any:
    if isinstance(obj, (Entry, Branch)):
        return {k: _plain(v) for k, v in obj.__dict__.items()}
    if isinstance(obj, tuple):
        return [_plain(v) for v in obj]
    return obj


@dataclass
class KnowledgeBase:
    """The loaded book: entries, protocol lines, settings, and what was wrong with the files."""

    directory: Path
    entries: list[Entry] = field(default_factory=list)
    protocols: Protocols = field(default_factory=Protocols)
    settings: dict[str, str] = field(default_factory=dict)
    replies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Reply kinds (replies.yaml) and their example phrasings."""
    fingerprint: tuple[Any, ...] = field(default=(), compare=False, repr=False)
    """Folder and file stamps this book was loaded from (its matcher can be reused while they hold)."""
    reply_patterns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Reply kinds' patterns (replies.yaml `patterns:`), regular expressions over the squashed line."""
    offer: Offer = field(default_factory=Offer)
    """The business the call offers (offer.yaml)."""
    out_of_scope: list[str] = field(default_factory=list)
    """Things customers say that the book does not answer (examples for the matcher's no-match class)."""
    tuning: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Overrides of the engines' option defaults, by section (matcher, policy, vad, call)."""
    rules: dict[str, Rule] = field(default_factory=dict)
    """Every rule of the book by id: rules.yaml's general ones and those defined under entries."""
    exercises: tuple[_exercises.Exercise, ...] = ()
    """Protocol drills and whole exchanges (drills.yaml), for `voicebot drill --protocols/--exchanges`."""
    problems: list[Problem] = field(default_factory=list)

    def rules_for(self, entry: Entry) -> list[Rule]:
        """The rules an answer to `entry` is held to: its own `must_not`, then the general rules of
        scope `all` (unknown ids are reported by `kb check` and skipped here)."""
        own = [self.rules[r] for r in entry.must_not if r in self.rules]
        return own + [r for r in self.rules.values() if r.scope == "all" and r not in own]

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, entry_id: str) -> Entry:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)

    def ids(self) -> list[str]:
        return [e.id for e in self.entries]

    def protocol(self, name: str) -> dict[str, Any]:
        """A protocol as a plain dict ({} when unknown), for reports and tests; the policy reads
        `self.protocols` (typed)."""
        value = getattr(self.protocols, name, None)
        return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else {}

    def fill(self, text: str, counts: dict[str, int] | None = None, cap: int | None = None,
             extra: dict[str, str] | None = None) -> str:
        """The spoken line: placeholders filled, capped words said until their cap (counted by the
        groups of words_to_avoid: 咱 and 咱们 together)."""
        values = self.settings if not extra else {**self.settings, **extra}
        return fill(text, values, counts, cap, self.word_groups())

    def word_groups(self) -> dict[str, str]:
        """Capped word → the name its group is counted under (咱 and 咱们 → one count)."""
        out: dict[str, str] = {}
        for group in self.protocols.words_to_avoid.groups:
            for word in group:
                out[word] = group[0]
        title = self.settings.get("称呼", "先生")
        out["称呼"] = out.get(title, out.get("先生", "称呼"))
        return out

    def spoken_lines(self) -> list[str]:
        """Every line the bot can say from the book, placeholders filled (to render the voice ahead)."""
        lines: list[str] = []

        def branch_lines(branches: tuple[Branch, ...]) -> None:
            for b in branches:
                lines.extend(b.say)
                if b.ask:
                    lines.append(b.ask)
                branch_lines(b.branches)

        for e in self.entries:
            lines.extend(e.answer)
            if e.ask:
                lines.append(e.ask)
            branch_lines(e.branches)
        lines.extend(self.protocols.spoken())
        lines.extend(self.offer.spoken())
        if self.settings.get("转业务话术"):
            lines.append(self.settings["转业务话术"])
        out = [self.fill(t) for t in lines if t and "{要点}" not in t]
        return list(dict.fromkeys(x for x in out if x.strip()))

    def categories(self) -> list[str]:
        return sorted({e.category for e in self.entries})

    def options(self, section: str, cls: type[T]) -> T:
        """`cls()` with the overrides of tuning.yaml's `section`; unknown keys are left out
        (`tuning_problems` reports them)."""
        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        values = {k: v for k, v in self.tuning.get(section, {}).items() if k in known}
        try:
            return cls(**values)
        except (TypeError, ValueError):  # a value the options refuse (`tuning_problems` reports it)
            return cls()

    def tuning_problems(self, sections: dict[str, type]) -> list[Problem]:
        """Unknown sections or keys in tuning.yaml (checked by `kb check`)."""
        path = str(self.directory / "tuning.yaml")
        try:
            text = read_book_text(self.directory / "tuning.yaml").splitlines()
        except BookFileError:
            text = []

        def line_of(key: str) -> int:
            pattern = re.compile(rf"^\s*{re.escape(key)}\s*:")
            return next((i + 1 for i, line in enumerate(text) if pattern.match(line)), 0)

        out = []
        for section, values in self.tuning.items():
            cls = sections.get(section)
            if cls is None:
                out.append(Problem(path, line_of(section), f"unknown section '{section}': use one of {', '.join(sections)}"))
                continue
            known = {f.name for f in dataclasses.fields(cls)}
            for key in values:
                if key not in known:
                    out.append(Problem(path, line_of(key), f"{section}: unknown setting '{key}': use one of "
                                                f"{', '.join(sorted(known))}"))
            try:
                cls(**{k: v for k, v in values.items() if k in known})
            except (TypeError, ValueError) as err:
                out.append(Problem(path, line_of(section), f"{section}: {err} (the defaults are used instead)"))
        return out


def fill(template: str, values: dict[str, str], counts: dict[str, int] | None = None,
         cap: int | None = None, groups: dict[str, str] | None = None) -> str:
    """Fill `{工号}`-style placeholders; capped words ({称呼}, {咱们}, {咱}) count against `cap`.

    `counts` is the call's running tally, updated here, so the policy knows how many times each
    capped word has been said; `groups` maps a word to the name its group is counted under (咱 and
    咱们 share one count). Without a cap every capped word is said.
    """
    counts = counts if counts is not None else {}
    groups = groups or {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in CAPPED_WORDS:
            said = values.get(name, name) if name == "称呼" else name
            key = groups.get(name, name)
            if cap is not None and counts.get(key, 0) >= cap:
                return CAPPED_WORDS[name]
            counts[key] = counts.get(key, 0) + 1
            return said
        return str(values.get(name, match.group(0)))

    text = _PLACEHOLDER.sub(replace, template)
    # A dropped 称呼 leaves its comma behind: "，您可以…" or "抱歉，，我…".
    return re.sub(r"^[，,、]+|(?<=[，,、。！？])[，,、]+", "", text)


def placeholders(text: str) -> list[str]:
    return _PLACEHOLDER.findall(text)


# ---------------------------------------------------------------- loading

def default_kb_dir() -> Path:
    """$VOICEBOT_KB, else ./scripts_kb, else the book shipped beside the package."""
    env = os.environ.get(ENV_KB)
    if env:
        return Path(env)
    local = Path("scripts_kb")
    if (local / "settings.yaml").exists():
        return local
    shipped = Path(__file__).resolve().parent.parent / "scripts_kb"
    if shipped.exists():
        return shipped
    packaged = Path(__file__).resolve().parent / "book"
    return packaged


def _line(node: Any, key: Any = None) -> int:
    """1-based line of a ruamel node (or of one of its keys)."""
    try:
        if key is not None and hasattr(node, "lc"):
            return node.lc.key(key)[0] + 1
        return node.lc.line + 1
    except (AttributeError, KeyError, TypeError):
        return 0


def _item_line(seq: Any, index: int) -> int:
    """1-based line of a list's index-th item (a plain string has no line of its own)."""
    try:
        return seq.lc.item(index)[0] + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return 0


def _strings(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return tuple(str(v) for v in value)
    return None


MAX_FILE_BYTES: Final = 2 * 1024 * 1024
"""Largest book file read (the shipped book's largest, questions.yaml, is ~42 KB): a bigger one is a mistake."""
MAX_YAML_NODES: Final = 200_000
"""Most YAML nodes a file may hold once aliases are expanded: the whole shipped book has ~3 700;
an alias bomb (a few KB of `&a [*b, *b, …]` levels) would expand to billions."""


class BookFileError(Exception):
    """A book file that cannot be read as text (reported as a Problem, never raised to the user)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


def read_book_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """The text of a book file: a regular file, at most `limit` bytes, UTF-8 (BOM accepted).

    Checked with stat before opening and opened non-blocking, so a FIFO or a link to /dev/zero
    named *.yaml is refused at once instead of hanging or filling memory.
    """
    try:
        st = os.stat(path)
    except OSError as err:
        raise BookFileError(f"cannot read ({err.strerror or err})") from err
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "a pipe" if stat.S_ISFIFO(st.st_mode) else \
            "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file"
        raise BookFileError(f"{kind}, not a text file: replace it with a YAML file (or remove it)")
    if st.st_size > limit:
        raise BookFileError(f"file too large ({st.st_size // 1024} KB, the limit is {limit // 1024} KB): "
                            "a book file is a few KB of text; split it or remove what is not the book")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as err:
        raise BookFileError(f"cannot read ({err.strerror or err}): check its permissions") from err
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced between stat and open
            raise BookFileError("not a regular file: replace it with a YAML file (or remove it)")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except BlockingIOError as err:
        raise BookFileError("not a regular file (reading would block): replace it with a YAML file") from err
    except OSError as err:
        raise BookFileError(f"cannot read ({err.strerror or err})") from err
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise BookFileError(f"file too large (over {limit // 1024} KB): split it or remove what is not the book")
    return decode_book_bytes(data)


def decode_book_bytes(data: bytes) -> str:
    """UTF-8 text (a UTF-8 BOM is dropped); any other encoding is a BookFileError saying which."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BookFileError("saved as UTF-16 (Unicode): save it as UTF-8 (in Notepad: Save As → Encoding: UTF-8)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        try:
            data.decode("gbk")
            guess = "saved as GBK/ANSI? save it as UTF-8"
        except UnicodeDecodeError:
            guess = "save it as UTF-8"
        raise BookFileError(f"not UTF-8 text (byte {err.start}, line {line}): {guess} "
                            "(in Notepad: Save As → Encoding: UTF-8)", line) from None


def _check_expansion(root: Any, limit: int = MAX_YAML_NODES) -> None:
    """Refuse a composed YAML document whose aliases expand beyond `limit` nodes, or loop.

    Aliases share nodes in the composed graph, so this counts, in linear time, the nodes a
    consumer walking the data would visit.
    """
    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            visiting.discard(key)
            total = 1
            for child in _children(node):
                total += sizes[id(child)]
            if total > limit:
                raise BookFileError(f"YAML aliases expand to more than {limit} values (an alias bomb?): "
                                    "write the lines out instead of nesting `*` references")
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in visiting:
            raise BookFileError("YAML alias refers to itself (a loop): write the lines out instead", 
                                getattr(getattr(node, "start_mark", None), "line", -1) + 1)
        visiting.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) not in sizes:
                stack.append((child, False))


def _children(node: Any) -> list[Any]:
    value = getattr(node, "value", None)
    if not isinstance(value, list):
        return []
    out = []
    for item in value:
        if isinstance(item, tuple):
            out.extend(item)
        else:
            out.append(item)
    return out


class _Loader:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problems: list[Problem] = []
        self.yaml = YAML(typ="rt")
        self.reply_kinds: tuple[str, ...] = REPLY_KINDS
        self.rules: dict[str, Rule] = {}
        """Every rule read so far, by id (rules.yaml first, then the entries' own)."""
        self.rule_refs: list[tuple[str, int, str, str]] = []
        """(file, line, entry id, rule id) of each rule an entry names by id, checked once all are read."""

    def problem(self, file: str, line: int, message: str) -> None:
        self.problems.append(Problem(file, line, message))

    def read(self, path: Path) -> Any:
        """A book file's YAML, or None with a Problem: never blocks, never explodes.

        Only regular files up to MAX_FILE_BYTES, UTF-8 (a BOM is accepted), at most MAX_YAML_NODES
        nodes once aliases are expanded (an alias bomb is refused before it is built).
        """
        name = str(path)
        try:
            text = read_book_text(path)
        except BookFileError as err:
            self.problem(name, err.line, str(err))
            return None
        try:
            return self._load_bounded(text)
        except BookFileError as err:
            self.problem(name, err.line, str(err))
            return None
        except MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            line = mark.line + 1 if mark else 0
            what = (err.problem or err.context or "syntax error").strip()
            self.problem(name, line, f"YAML syntax error: {what} (check indentation and quotes)")
            return None
        except RecursionError:
            self.problem(name, 0, "YAML nested too deeply: flatten the file")
            return None
        except Exception as err:  # ruamel raises a few unmarked errors (e.g. duplicate keys)
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            self.problem(name, 0, f"YAML error: {first}")
            return None

    def _load_bounded(self, text: str) -> Any:
        """`YAML.load`, with the composed document's alias expansion checked before constructing it."""
        yaml = self.yaml
        if DocInfo is not None and hasattr(yaml, "doc_infos"):
            yaml.doc_infos.append(DocInfo(requested_version=version(yaml.version)))
        yaml.tags = {}
        constructor, parser = yaml.get_constructor_parser(text)
        try:
            node = constructor.composer.get_single_node()
            if node is None:
                return None
            _check_expansion(node)
            return constructor.construct_document(node)
        finally:
            parser.dispose()
            for comp in ("reader", "scanner"):
                try:
                    getattr(getattr(yaml, "_" + comp), f"reset_{comp}")()
                except AttributeError:
                    pass

    def check_text(self, file: str, line: int, text: str, where: str) -> None:
        for name in placeholders(text):
            if name not in PLACEHOLDERS:
                self.problem(file, line, f"unknown placeholder {{{name}}} in {where}: "
                                         f"use one of {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")

    def branch(self, file: str, node: Any, depth: int) -> Branch | None:
        line = _line(node)
        if not isinstance(node, dict):
            self.problem(file, line, "a branch must be a mapping with `when` and `say`")
            return None
        when_raw = node.get("when")
        when: str | tuple[str, ...]
        if isinstance(when_raw, str) and (when_raw in WHEN_KEYWORDS or when_raw in self.reply_kinds):
            when = when_raw
        else:
            phrases = _strings(when_raw) if not isinstance(when_raw, str) else None
            if not phrases:
                self.problem(file, _line(node, "when") or line,
                             f"branch `when` must be {', '.join(WHEN_KEYWORDS)}, a reply kind of replies.yaml "
                             f"({', '.join(self.reply_kinds)}), or a list of phrases; not {when_raw!r:.40}")
                return None
            when = phrases
        say = _strings(node.get("say"))
        if say is None:
            self.problem(file, _line(node, "say") or line, "branch `say` must be a line or a list of lines")
            say = ()
        for text in say:
            self.check_text(file, line, text, "a branch")
        action, record = self.action_record(file, node, line)
        record_fields = self.record_fields(file, node, line)
        ask = node.get("ask")
        if ask is not None:
            self.check_text(file, line, str(ask), "a branch's ask")
        sub = self.branches(file, node.get("branches"), depth + 1, line)
        if not say and ask is None and action == "wait":
            self.problem(file, line, "branch says nothing, asks nothing and does nothing")
        return Branch(when=when, say=say, action=action, record=record,
                      ask=str(ask) if ask is not None else None, branches=sub, record_fields=record_fields,
                      line=line)

    def branches(self, file: str, node: Any, depth: int, line: int) -> tuple[Branch, ...]:
        if node is None:
            return ()
        if not isinstance(node, list):
            self.problem(file, line, "`branches` must be a list")
            return ()
        if depth > 6:
            self.problem(file, line, "branches nested deeper than 6 levels")
            return ()
        out = [self.branch(file, b, depth) for b in node]
        return tuple(b for b in out if b is not None)

    def record_fields(self, file: str, node: Any, line: int) -> tuple[tuple[str, Any], ...]:
        value = node.get("record_fields")
        if value is None:
            return ()
        if not isinstance(value, dict) or not all(
                isinstance(v, (str, int, float, bool)) for v in value.values()):
            self.problem(file, _line(node, "record_fields") or line,
                         "`record_fields` must map field names to plain values (about: store)")
            return ()
        if not node.get("record"):
            self.problem(file, _line(node, "record_fields") or line, "`record_fields` without a `record`")
        return tuple((str(k), v if not isinstance(v, str) else str(v)) for k, v in value.items())

    def action_record(self, file: str, node: Any, line: int) -> tuple[str, str | None]:
        action = node.get("action") or "wait"
        if action not in ACTIONS:
            self.problem(file, _line(node, "action") or line,
                         f"unknown action '{action}': use one of {', '.join(ACTIONS)}")
            action = "wait"
        record = node.get("record")
        if record is not None and record not in RECORDS:
            self.problem(file, _line(node, "record") or line,
                         f"unknown record '{record}': use one of {', '.join(RECORDS)}")
            record = None
        return str(action), record

    def entry(self, file: str, node: Any) -> Entry | None:
        line = _line(node)
        if not isinstance(node, dict):
            self.problem(file, line, "an entry must be a mapping (id, category, customer, answer, …)")
            return None
        entry_id = node.get("id")
        if not isinstance(entry_id, str) or not _ID.match(entry_id):
            self.problem(file, line, f"entry id {entry_id!r} missing or not lowercase letters, digits and _")
            return None
        fields: dict[str, tuple[str, ...]] = {}
        for key in ("customer", "answer", "aliases", "notes", "key_points"):
            value = _strings(node.get(key))
            if value is None:
                self.problem(file, _line(node, key) or line, f"{entry_id}: `{key}` must be a list of lines")
                value = ()
            fields[key] = value
        ask = node.get("ask")
        if not fields["answer"] and ask is None:
            self.problem(file, line, f"{entry_id}: missing answer (give `answer` lines or an `ask`)")
        if not fields["customer"]:
            self.problem(file, line, f"{entry_id}: no `customer` lines: the matcher could never pick it")
        for text in fields["answer"]:
            self.check_text(file, _line(node, "answer") or line, text, f"{entry_id}'s answer")
        if ask is not None:
            self.check_text(file, _line(node, "ask") or line, str(ask), f"{entry_id}'s ask")
        mode = node.get("answer_mode") or "first"
        if mode not in ANSWER_MODES:
            self.problem(file, _line(node, "answer_mode") or line,
                         f"{entry_id}: unknown answer_mode '{mode}': use first or sequence")
            mode = "first"
        language = node.get("language") or "zh"
        if language not in LANGUAGES:
            self.problem(file, _line(node, "language") or line,
                         f"{entry_id}: unknown language '{language}': use zh or en")
            language = "zh"
        category = node.get("category")
        if not isinstance(category, str) or not category:
            self.problem(file, line, f"{entry_id}: missing category")
            category = "未分类"
        action, record = self.action_record(file, node, line)
        record_fields = self.record_fields(file, node, line)
        branches = self.branches(file, node.get("branches"), 0, line)
        if branches and ask is None:
            self.problem(file, line, f"{entry_id}: has branches but no `ask`")
        patterns: list[str] = []
        raw = node.get("patterns")
        if raw is not None:
            values = _strings(raw)
            if values is None:
                self.problem(file, _line(node, "patterns") or line, f"{entry_id}: `patterns` must be a list")
                values = ()
            pline = _line(node, "patterns") or line
            patterns.extend(valid_patterns(values, lambda msg: self.problem(file, pline, f"{entry_id}: {msg}")))
        must_not = self.must_not(file, node, entry_id, line)
        context_customer: tuple[str, ...] = ()
        context_after: tuple[str, ...] = ()
        context = node.get("context")
        if context is not None:
            cline = _line(node, "context") or line
            if not isinstance(context, dict):
                self.problem(file, cline, f"{entry_id}: `context` must be a mapping with `customer` and `after`")
            else:
                cc, ca = _strings(context.get("customer")), _strings(context.get("after"))
                if not cc or ca is None:
                    self.problem(file, cline, f"{entry_id}: `context` needs `customer` lines (and `after`: entry ids)")
                else:
                    context_customer, context_after = cc, ca or (entry_id,)
        return Entry(id=entry_id, category=category, customer=fields["customer"], answer=fields["answer"],
                     answer_mode=str(mode), action=action, record=record, record_fields=record_fields,
                     language=str(language),
                     source=str(node.get("source") or ""), aliases=fields["aliases"], notes=fields["notes"],
                     key_points=fields["key_points"], ask=str(ask) if ask is not None else None,
                     branches=branches, patterns=tuple(patterns), context_customer=context_customer, context_after=context_after,
                     must_not=must_not, file=file, line=line)

    def rule(self, file: str, node: Any, line: int, where: str) -> Rule | None:
        """One rule mapping; its id must be unique across rules.yaml and every entry."""
        rule = build_rule(node, lambda msg: self.problem(file, line, msg), where, file, line)
        if rule is None:
            return None
        first = self.rules.get(rule.id)
        if first is not None:
            self.problem(file, line, f"duplicate rule id '{rule.id}' (first at {first.file}:{first.line}): "
                                     "give each rule its own id, or list the existing one by its id")
            return None
        self.rules[rule.id] = rule
        return rule

    def must_not(self, file: str, node: Any, entry_id: str, line: int) -> tuple[str, ...]:
        """An entry's `must_not:` list: ids of rules defined elsewhere, or rules defined here."""
        raw = node.get("must_not")
        if raw is None:
            return ()
        mline = _line(node, "must_not") or line
        if not isinstance(raw, list):
            self.problem(file, mline, f"{entry_id}: `must_not` must be a list of rule ids or rules "
                                      "(id, description, book, examples)")
            return ()
        ids: list[str] = []
        for i, item in enumerate(raw):
            iline = _line(item) or _item_line(raw, i) or mline
            if isinstance(item, str):
                ids.append(item)
                self.rule_refs.append((file, iline, entry_id, item))
            else:
                rule = self.rule(file, item, iline, f"{entry_id}'s must_not")
                if rule is not None:
                    ids.append(rule.id)
        return tuple(dict.fromkeys(ids))


_LOADED: dict[tuple[Any, ...], KnowledgeBase] = {}
"""Books already loaded in this process, by folder and the size and time of every file in it."""


def _fingerprint(path: Path) -> tuple[Any, ...] | None:
    try:
        files = sorted(path.iterdir())
        return (str(path.resolve()),) + tuple((p.name, st.st_size, st.st_mtime_ns)
                                              for p in files for st in [p.stat()])
    except OSError:
        return None


def load(directory: str | os.PathLike[str] | None = None) -> KnowledgeBase:
    """Load the book from a folder; problems are collected in `kb.problems`, never raised.

    Raises KbError only when there is no book at all (missing folder, no entry files). A folder
    whose files are unchanged since the last load in this process is not parsed again.
    """
    path = Path(directory) if directory is not None else default_kb_dir()
    if not path.is_dir():
        raise KbError(f"script book folder not found: {path} (give --kb DIR, set {ENV_KB}, "
                      f"or run `voicebot kb init DIR` to copy the shipped book)")
    key = _fingerprint(path)
    cached = _LOADED.get(key) if key is not None else None
    if cached is not None:
        return dataclasses.replace(cached, directory=path, problems=list(cached.problems))
    book = _load(path)
    if key is not None:
        if len(_LOADED) > 8:
            _LOADED.clear()
        _LOADED[key] = book
        book.fingerprint = key
    return dataclasses.replace(book, problems=list(book.problems))


def _load(path: Path) -> KnowledgeBase:
    loader = _Loader(path)
    kb = KnowledgeBase(directory=path)
    kb.replies, kb.reply_patterns = _load_replies(loader, path / "replies.yaml")
    loader.reply_kinds = tuple(dict.fromkeys(REPLY_KINDS + tuple(kb.replies)))
    _load_rules(loader, path / "rules.yaml")
    files = sorted(p for p in path.glob("*.yaml") if p.name not in ENTRY_FILES_EXCLUDED)
    if not files:
        raise KbError(f"no entry files (*.yaml) in {path}: run `voicebot kb init {path}` to copy the shipped book")
    seen: dict[str, Entry] = {}
    for file in files:
        data = loader.read(file)
        if data is None:
            continue
        if not isinstance(data, list):
            loader.problem(str(file), 1, "an entry file must be a YAML list of entries (each starting with `- id:`)")
            continue
        for node in data:
            entry = loader.entry(str(file), node)
            if entry is None:
                continue
            if entry.id in seen:
                first = seen[entry.id]
                loader.problem(str(file), entry.line,
                               f"duplicate id '{entry.id}' (first at {first.file}:{first.line})")
                continue
            seen[entry.id] = entry
            kb.entries.append(entry)
    _check_shared_phrases(loader, kb.entries)
    _check_context(loader, kb.entries)
    kb.settings = _load_settings(loader, path / "settings.yaml")
    kb.protocols = _load_protocols(loader, path / "protocols.yaml")
    kb.offer = _load_offer(loader, path / "offer.yaml")
    kb.out_of_scope = _load_out_of_scope(loader, path / "out_of_scope.yaml", kb.entries)
    kb.tuning = _load_tuning(loader, path / "tuning.yaml")
    kb.rules = dict(loader.rules)
    _check_must_not(loader, kb)
    kb.exercises = _load_exercises(loader, path / "drills.yaml", kb)
    kb.problems = loader.problems
    return kb


def _load_rules(loader: _Loader, path: Path) -> None:
    """The book's general rules (rules.yaml, a list of rules); entries name them in `must_not`."""
    if not path.exists():
        return
    data = loader.read(path)
    if data is None:
        return
    if not isinstance(data, list):
        loader.problem(str(path), 1, "rules.yaml must be a YAML list of rules (each starting with `- id:`)")
        return
    for i, node in enumerate(data):
        loader.rule(str(path), node, _line(node) or _item_line(data, i), "rules.yaml")
    _check_texts(loader, str(path), data, "rules.yaml")


def _load_exercises(loader: _Loader, path: Path, kb: KnowledgeBase) -> tuple[_exercises.Exercise, ...]:
    """drills.yaml (optional): typed, and every reference it makes checked against the loaded book."""
    if not path.exists():
        return ()
    data = loader.read(path)
    if data is None:
        return ()
    found = _exercises.build(data, lambda line, msg: loader.problem(str(path), line, msg), _line)
    _check_texts(loader, str(path), data, "drills.yaml")
    entries = {e.id: e for e in kb.entries}
    ids = set(entries)
    out = []
    for ex in found:
        if ex.id in ids:
            loader.problem(str(path), ex.line, f"{ex.id}: drill id is also an entry id: give the drill its own")
            continue
        ids.add(ex.id)
        ok = True
        for n, step in enumerate(ex.steps, 1):
            try:
                _exercises.resolve(step.answer, entries, kb.protocols)
            except ValueError as err:
                loader.problem(str(path), step.line, f"{ex.id} step {n}: {err}")
                ok = False
            for rule_id in step.must_not:
                if rule_id not in kb.rules:
                    loader.problem(str(path), step.line, f"{ex.id} step {n}: must_not names unknown rule '{rule_id}'")
        if ok:
            out.append(dataclasses.replace(ex, file=str(path)))
    return tuple(out)


def _book_answer(kb: KnowledgeBase, entry: Entry) -> str:
    """The entry's whole answer as the book words it (answer, question back, every branch), filled."""
    lines = list(entry.answer) + ([entry.ask] if entry.ask else [])

    def walk(branches: tuple[Branch, ...]) -> None:
        for b in branches:
            lines.extend(b.say)
            if b.ask:
                lines.append(b.ask)
            walk(b.branches)

    walk(entry.branches)
    return "。".join(kb.fill(line) for line in lines if "{要点}" not in line)


def _check_must_not(loader: _Loader, kb: KnowledgeBase) -> None:
    """Every rule an entry names exists, and the book's own answer breaks none of its rules (问题28
    promises a reply, 问题13/17 send to 10086: a rule against that on them contradicts the book)."""
    for file, line, entry_id, rule_id in loader.rule_refs:
        if rule_id not in kb.rules:
            known = ", ".join(sorted(kb.rules)) or "none: add rules.yaml"
            loader.problem(file, line, f"{entry_id}: must_not names unknown rule '{rule_id}' (rules: {known})")
    for entry in kb.entries:
        if entry.language != "zh":
            continue
        answer = _book_answer(kb, entry)
        first = kb.fill(entry.answer[0]) if entry.answer else answer
        for rule in kb.rules_for(entry):
            text = first if rule.kind == "first" else answer
            for v in check_rules([rule], text, kb.settings):
                said = f" (“{v.said}”)" if v.said else ""
                loader.problem(entry.file, entry.line,
                               f"{entry.id}: the book's own answer breaks its rule '{rule.id}'{said}: "
                               f"drop the rule from this entry or narrow its examples")


def _check_shared_phrases(loader: _Loader, entries: Iterable[Entry]) -> None:
    """A customer phrasing listed under two entries with different answers makes the match a coin toss."""
    owner: dict[str, Entry] = {}
    for entry in entries:
        for phrase in entry.customer:
            key = normalize(phrase)
            if not key:
                loader.problem(entry.file, entry.line, f"{entry.id}: customer line {phrase!r} is empty once normalised")
                continue
            other = owner.get(key)
            if other is not None and other.id != entry.id and other.answer != entry.answer:
                loader.problem(entry.file, entry.line,
                               f"{entry.id}: customer line {phrase!r} also belongs to {other.id} "
                               f"({other.file}:{other.line}): keep it in one entry")
            owner.setdefault(key, entry)


def _load_settings(loader: _Loader, path: Path) -> dict[str, str]:
    if not path.exists():
        loader.problem(str(path), 0, "settings.yaml missing: placeholders like {工号} will be spoken as written")
        return {}
    data = loader.read(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        loader.problem(str(path), 1, "settings.yaml must be a mapping such as `工号: \"1234\"`")
        return {}
    values = {str(k): str(v) for k, v in data.items() if v is not None}
    for name in VALUE_PLACEHOLDERS + ("称呼",):
        if name not in values:
            loader.problem(str(path), 0, f"settings.yaml has no `{name}`: add `{name}: ...`")
    for key, value in values.items():
        loader.check_text(str(path), _line(data, key), value, f"setting {key}")
    # A setting may use another ({来电目的} mentions {业务}): expand once, capped words untouched.
    plain = {k: v for k, v in values.items() if k not in CAPPED_WORDS}
    return {k: _PLACEHOLDER.sub(lambda m: plain.get(m.group(1), m.group(0)) if m.group(1) != k
                                else m.group(0), v) for k, v in values.items()}


def _load_out_of_scope(loader: _Loader, path: Path, entries: list[Entry]) -> list[str]:
    """Off-topic examples: optional; a line that is also an entry's customer line is a problem."""
    if not path.exists():
        return []
    data = loader.read(path)
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
        loader.problem(str(path), 1, "out_of_scope.yaml must be a list of lines (each starting with `- `)")
        return []
    owners = {normalize(p): e for e in entries for p in e.customer}
    for i, line in enumerate(data):
        entry = owners.get(normalize(line))
        if entry is not None:
            loader.problem(str(path), _line(data) + i if _line(data) else 0,
                           f"{line!r} is also a customer line of {entry.id}: keep it in one place")
    return [str(x) for x in data]


def _load_tuning(loader: _Loader, path: Path) -> dict[str, dict[str, Any]]:
    """Optional overrides: `section: {setting: number}`; anything else is a problem, not a crash."""
    if not path.exists():
        return {}
    data = loader.read(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        loader.problem(str(path), 1, "tuning.yaml must be a mapping of sections (matcher:, policy:, vad:, call:)")
        return {}
    out: dict[str, dict[str, Any]] = {}
    for section, values in data.items():
        if values is None:
            continue
        if not isinstance(values, dict):
            loader.problem(str(path), _line(data, section), f"section '{section}' must be a mapping of settings")
            continue
        good = {}
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                loader.problem(str(path), _line(values, key), f"{section}.{key} must be a number, not {value!r}")
                continue
            good[str(key)] = float(value) if isinstance(value, float) else int(value)
        out[str(section)] = good
    return out


def _load_typed(loader: _Loader, path: Path, missing: str, empty: T,
                build: Callable[[Any, Callable[[int, str], None]], T]) -> T:
    """One typed file of lines (protocols.yaml, offer.yaml): `empty` when missing or unreadable,
    shape problems reported by `build`, unknown placeholders checked."""
    if not path.exists():
        loader.problem(str(path), 0, missing)
        return empty
    data = loader.read(path)
    if data is None:
        return empty
    typed = build(data, lambda line, msg: loader.problem(str(path), line, msg))
    _check_texts(loader, str(path), data, path.stem)
    return typed


def _load_protocols(loader: _Loader, path: Path) -> Protocols:
    """Typed protocols; a missing or broken protocols.yaml gives empty ones (and problems)."""
    return _load_typed(loader, path, "protocols.yaml missing: the call has no opening, no closing and no "
                       "protocols: copy it from the shipped book (voicebot kb init)", Protocols(),
                       lambda data, problem: _protocols.build(data, problem, _line, RECORDS))


def _check_texts(loader: _Loader, file: str, data: Any, where: str) -> None:
    """Unknown placeholders anywhere in a file of lines."""
    def walk(node: Any, where: str, line: int) -> None:
        if isinstance(node, str):
            loader.check_text(file, line, node, where)
        elif isinstance(node, dict):
            for k, v in node.items():
                if k != "patterns":  # regular expressions: {0,6} is a repeat count, not a placeholder
                    walk(v, f"{where}.{k}", _line(node, k) or line)
        elif isinstance(node, list):
            for v in node:
                walk(v, where, line)

    walk(data, where, 1)


def _load_offer(loader: _Loader, path: Path) -> Offer:
    return _load_typed(loader, path, "offer.yaml missing: the bot cannot answer questions about the offer, "
                       "nor open it: copy it from the shipped book (voicebot kb init)", Offer(),
                       lambda data, problem: _offer.build(data, problem, _line))


def _load_replies(loader: _Loader, path: Path) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Reply kinds → examples, and kinds → patterns; every kind the policy relies on must be there."""
    if not path.exists():
        loader.problem(str(path), 0, "replies.yaml missing: the bot cannot tell 嗯 from 好的给我开吧: "
                                     "copy it from the shipped book (voicebot kb init)")
        return {}, {}
    data = loader.read(path)
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        loader.problem(str(path), 1, "replies.yaml must map each reply kind to a list of example phrasings")
        return {}, {}
    out: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}
    patterns: dict[str, tuple[str, ...]] = {}
    for kind, examples in data.items():
        kind = str(kind)
        line = _line(data, kind)
        if kind == "patterns":
            patterns = _load_patterns(loader, str(path), examples, line)
            continue
        if not _ID.match(kind):
            loader.problem(str(path), line, f"reply kind {kind!r}: use lowercase letters, digits and _")
            continue
        values = _strings(examples)
        if not values:
            loader.problem(str(path), line, f"reply kind `{kind}` must be a list of example phrasings")
            continue
        for example in values:
            key = "".join(ch for ch in example if not ch.isspace())
            if kind in ("yes", "no"):
                continue  # yes/no overlap the other kinds on purpose (好 is yes and calm)
            other = owner.get(key)
            if other is not None and other != kind and other not in ("yes", "no"):
                loader.problem(str(path), line, f"`{example}` is an example of both `{other}` and `{kind}`: keep it in one")
            owner.setdefault(key, kind)
        out[kind] = values
    for kind in REPLY_KINDS:
        if kind not in out:
            loader.problem(str(path), 0, f"replies.yaml has no `{kind}` kind")
    for kind in patterns:
        if kind not in out:
            loader.problem(str(path), 0, f"replies.yaml: patterns for unknown kind `{kind}`")
    return out, {k: v for k, v in patterns.items() if k in out}


def _load_patterns(loader: _Loader, file: str, node: Any, line: int) -> dict[str, tuple[str, ...]]:
    """`patterns:` kind → regular expressions; a bad expression is a problem, not a crash."""
    if not isinstance(node, dict):
        loader.problem(file, line, "`patterns` must map reply kinds to lists of regular expressions")
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for kind, pats in node.items():
        values = _strings(pats)
        kline = _line(node, kind) or line
        if not values:
            loader.problem(file, kline, f"patterns of `{kind}` must be a list of regular expressions")
            continue
        out[str(kind)] = valid_patterns(values, lambda msg: loader.problem(file, kline, f"patterns of `{kind}`: {msg}"))
    return out


def _check_context(loader: _Loader, entries: list[Entry]) -> None:
    ids = {e.id for e in entries}
    for e in entries:
        for after in e.context_after:
            if after not in ids:
                loader.problem(e.file, e.line, f"{e.id}: context.after names unknown entry '{after}'")

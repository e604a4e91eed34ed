"""How every finding and error is said: one format, one registry of rules.

Each message reads the way a modern compiler's does::

    report/sections/02-motives.md:6:5: error[schema.additionalProperties]: unknown field …
        6 |   - txt: "Sadr's movement"
          |     ^^^
      hint: did you mean 'text'?

``path:line:col: level[rule]: what is wrong``, then the line itself with a caret under
the place, then how to fix it. The rule names the entry of docs/checks.md that explains
it (every rule of ``RULES`` has one, and every entry there is a rule here); a warning
rule can be silenced with ``--ignore RULE`` or ``ignore:`` in ``report/brief.yaml``, an
error rule never.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Rule:
    name: str
    severity: Level  # "warning": may be silenced; "error": never
    summary: str
    doc: str = "checks.md"  # the page of docs/ that explains it


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {r.name: r for r in rules}


def _e(name: str, summary: str, doc: str = "checks.md") -> Rule:
    return Rule(name, "error", summary, doc)


def _w(name: str, summary: str, doc: str = "checks.md") -> Rule:
    return Rule(name, "warning", summary, doc)


TRADECRAFT = "checks-tradecraft.md"

RULES: dict[str, Rule] = _rules(
    # reading files
    _e("encoding", "a text file that is not UTF-8 (UTF-16, UTF-32, Latin-1, Windows-1252)"),
    _e("file.binary", "a binary file (PDF, DOCX, image, …) where text was expected"),
    # YAML
    _e("yaml.tab", "a tab in the indentation of YAML"),
    _e("yaml.indentation", "YAML lines indented inconsistently"),
    _e("yaml.unclosed-quote", "a quoted YAML value with no closing quote"),
    _e("yaml.colon-in-value", "an unquoted YAML value containing ': '"),
    _e("yaml.syntax", "any other YAML that does not parse"),
    _e("yaml.alias", "YAML anchors, aliases and merge keys"),
    _e("yaml.too-deep", "YAML nested deeper than any field of a brief"),
    _e("yaml.duplicate-key", "a field given twice"),
    _e("yaml.not-a-mapping", "YAML that is not a mapping of fields"),
    _e("front-matter.missing", "a section file without front matter"),
    _e("front-matter.unclosed", "front matter with no closing '---'"),
    # brief.yaml and sections
    _e("schema.additionalProperties", "an unknown field"),
    _e("schema.required", "a required field is missing"),
    _e("schema.enum", "a value that is not one of the allowed ones"),
    _e("schema.type", "a value of the wrong type (a list where text was expected, …)"),
    _e("schema.minItems", "an empty list"),
    _e("schema.minLength", "an empty text"),
    _e("schema.maxLength", "a text that is too long"),
    _e("schema.pattern", "a value of the wrong form (a date, a colour, an id)"),
    _e("schema.invalid", "any other value the schema refuses"),
    _e("schema.date", "a date in brief.yaml that is not a day of the calendar"),
    _w("section.stub", "a section still marked 'status: stub'"),
    _e("sections.kind", "a section with no kind, or an unknown one"),
    _e("sections.missing", "a listed section file that does not exist"),
    _w("sections.unlisted", "a section file that brief.yaml does not list"),
    _e("sections.nesting", "brackets, lists or quotes nested too deep"),
    _e("citations.syntax", "a citation written wrongly"),
    _e("config.ignore", "an 'ignore:' entry that is not a warning rule"),
    # house style
    _e("house.logo", "a logo that is not an SVG, PNG or JPEG in assets/"),
    _w("house.shadowed", "a field set in both report/brief.yaml and report/_house.yaml"),
    # citations and quotes
    _e("citation.unknown-key", "a citation key not in the bibliography"),
    _e("quote.not-found", "a quote that is not in its source"),
    _e("locator.mismatch", "a ¶ locator that is not where the quote is"),
    _e("locator.missing-paragraph", "a ¶ locator beyond the source's last paragraph"),
    _w("citation.bare", "a citation with neither a locator nor a quote"),
    _w("citation.unchecked-locator", "a locator that cannot be checked (p. 3)"),
    _w("quote.no-source", "a quote whose source has no stored text"),
    # coverage
    _w("section.uncited", "a section that cites nothing"),
    _w("paragraph.uncited", "a paragraph of analysis without a citation"),
    _w("bibliography.uncited", "a bibliography entry nothing cites"),
    # claims against their evidence
    _w("claim.number", "a number or date in a sentence that none of its cited passages has"),
    _w("claim.name", "a person, organisation or place in a sentence that none of its cited "
                     "passages names"),
    _w("claim.hedge-dropped", "a sentence stating flatly what its cited passage hedges"),
    _w("claim.source-likelihood", "a likelihood attributed to a source whose passages give "
                                  "none"),
    # names
    _w("style.name-variant", "a name spelt as a variant the name style sheet lists"),
    _e("style.names-sheet", "a name style sheet that lists one variant under two names"),
    # sources and the bibliography
    _e("bibliography", "a bibliography entry that pandoc would reject"),
    _e("bibliography.missing", "no bibliography.bib"),
    _e("bibliography.date", "a date, year or urldate that is not a real date"),
    _e("source.missing", "an entry's file that does not exist"),
    _e("source.unreadable", "a stored source that cannot be used (empty, too large, a type "
                            "not stored as text)"),
    _w("source.no-entry", "a file in seeds/ that no entry names"),
    _e("source.vanished", "a quoted passage gone from a changed source"),
    _e("source.removed", "a cited source whose file was removed"),
    _e("sources.lock", "a seeds/sources.lock that cannot be read, or a lock that would drop "
                    "evidence"),
    _e("sources.add", "a document 'brief sources add' cannot store"),
    # templates and rendering
    _e("template", "a template that does not parse or render"),
    _e("csl.unknown", "an unknown citation style"),
    _e("link.not-allowed", "an image or link the link policy does not allow"),
    _e("confine.symlink", "a symbolic link in the project's folders that points out of them, "
                          "or to nothing"),
    _e("source.outside", "a bibliography `file` outside `seeds/`"),
    _e("confine.size", "an input file over its size limit"),
    _e("render", "pandoc or WeasyPrint failed"),
    _w("pdf.css-ignored", "a stylesheet rule or declaration WeasyPrint ignored"),
    _e("parity", "the PDF, HTML and DOCX say different things"),
    # the command line
    _e("usage", "the command line is wrong"),
    _e("build.busy", "another build is writing build/"),
    _e("build.write", "the outputs cannot be written (the disk full, build/ read-only)"),
    _e("build.foreign", "a symbolic link or a folder in build/ that the build did not make"),
    _e("watch.port", "brief watch cannot serve on the port"),
    _e("input", "an input that cannot be read"),
    # brief review import
    _e("review.docx", "a returned DOCX that cannot be read (damaged, encrypted, not Word)"),
    _e("review.anchors", "a returned DOCX without the review anchors 'brief build' writes"),
    _e("review.stale", "a returned DOCX built from another brief or another version of it"),
    # tradecraft and figures (docs/checks-tradecraft.md)
    _e("tradecraft.attribution", "an attribution that is neither 'brief' nor a key",
       TRADECRAFT),
    _e("tradecraft.duplicate-id", "two scenarios or two key judgments with one id",
       TRADECRAFT),
    _e("tradecraft.recommendation-judgment", "a recommendation resting on no key judgment",
       TRADECRAFT),
    _e("tradecraft.likelihood-sum", "exclusive scenarios adding up to more than 100%",
       TRADECRAFT),
    _e("tradecraft.likely-count", "more than one exclusive scenario 'likely'", TRADECRAFT),
    _w("tradecraft.vague-likelihood", "a judgment hedged with words off the estimative scale",
       TRADECRAFT),
    _e("tradecraft.no-indicator", "a scenario with no indicator", TRADECRAFT),
    _w("tradecraft.indicator-not-diagnostic", "one indicator under two scenarios",
       TRADECRAFT),
    _e("tradecraft.assumption-scenario", "an assumption naming no scenario", TRADECRAFT),
    _e("tradecraft.likelihood-with-confidence",
       "a likelihood and a confidence level in one sentence", TRADECRAFT),
    _e("figures.date", "a timeline date that does not exist", TRADECRAFT),
    _e("figures.duplicate-actor", "two actors with one id", TRADECRAFT),
    _e("figures.unknown-actor", "a relation naming no actor", TRADECRAFT),
    _e("figures.self-relation", "a relation from an actor to itself", TRADECRAFT),
    _w("figures.duplicate-relation", "the same relation twice", TRADECRAFT),
    _w("figures.unrelated-actor", "an actor in no relation", TRADECRAFT),
    _w("figures.crowded", "an actor map too crowded to read", TRADECRAFT),
    _e("figures.timeline", "a timeline with more events than a page can show", TRADECRAFT),
    _e("figures.actors", "an actor map with more actors than a page can show", TRADECRAFT),
)


def rule(name: str) -> Rule | None:
    return RULES.get(name)


def warning_rules() -> list[str]:
    return [name for name, r in RULES.items() if r.severity == "warning"]


def suggest(word: str, choices: Iterable[object]) -> str:
    """``did you mean 'x'?`` or an empty string."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    if not close:
        close = [str(c) for c in choices if str(c).lower() == str(word).lower()]
    return f"did you mean '{close[0]}'?" if close else ""


def check_ignorable(name: str) -> str:
    """Why ``name`` cannot be ignored, or "" when it is a warning rule."""
    found = RULES.get(name)
    if found is None:
        hint = suggest(name, RULES)
        return f"there is no rule '{name}'" + (f"; {hint}" if hint else "")
    if found.severity == "error":
        return (f"'{name}' is an error rule: errors cannot be ignored, only fixed "
                f"(docs/{found.doc}#{name})")
    return ""


# --- formatting ----------------------------------------------------------------------


class Located(Protocol):
    """What :func:`render` needs: a Finding or a BriefError."""

    @property
    def severity(self) -> Level: ...
    @property
    def path(self) -> str | None: ...
    @property
    def line(self) -> int | None: ...
    @property
    def col(self) -> int: ...
    @property
    def message(self) -> str: ...
    @property
    def hint(self) -> str: ...
    @property
    def rule(self) -> str: ...
    @property
    def shown(self) -> str: ...


WIDTH = 100  # the longest piece of a line shown
# a quoted name: not an apostrophe ("the reader's folders): 'annex.pdf'" quotes annex.pdf)
_QUOTED = re.compile(r"(?<!\w)'([^'\n]{1,80})'")


def headline(item: Located, col: int = 0) -> str:
    """``path:line:col: level[rule]: message`` (the place left out when there is none)."""
    label = f"{item.severity}[{item.rule}]" if item.rule else item.severity
    if not item.path:
        return f"{label}: {item.message}"
    if not item.line:  # a file, but no line that can be known: none is made up
        return f"{item.path}: {label}: {item.message}"
    return f"{item.path}:{item.line}:{col or item.col or 1}: {label}: {item.message}"


def render(item: Located, root: Path | None = None, lines: LineCache | None = None) -> str:
    """The whole message: headline, the line with a caret (when it can be read), hint."""
    text = item.shown or None
    if text is None and item.path and root is not None:
        text = (lines or LineCache(root)).get(item.path, item.line or 1)
    if text is not None and not text.strip():
        text = None  # an empty line shows nothing
    col, width = item.col, 1
    if text is not None:
        col, width = _place(text, item.message, col)
    out = [headline(item, col)]
    if text is not None:
        out += _snippet(item.line or 1, text, col, width)
    if item.hint:
        out.append(f"  hint: {item.hint}")
    return "\n".join(out)


def render_all(items: Iterable[Located], root: Path | None) -> str:
    cache = LineCache(root) if root is not None else None
    return "\n".join(render(i, root, cache) for i in items)


def _place(text: str, message: str, col: int = 0) -> tuple[int, int]:
    """Where to put the caret, and how wide: at ``col`` when the finding gave one, else
    under the first name the message quotes that is on the line ('txt', '@key'), else
    under the line's start; as wide as that name when it is there."""
    for m in _QUOTED.finditer(message):
        word = m.group(1)
        if col:
            if text[col - 1: col - 1 + len(word)] == word:
                return col, len(word)
            continue
        at = _find_word(text, word)
        if at >= 0:
            return at + 1, len(word)
    if col:
        return col, 1
    stripped = len(text) - len(text.lstrip())
    return stripped + 1, 1


def _find_word(text: str, word: str) -> int:
    for m in re.finditer(re.escape(word), text):
        before = text[m.start() - 1] if m.start() else " "
        after = text[m.end()] if m.end() < len(text) else " "
        if not (before.isalnum() or before in "_-") and not (after.isalnum() or after in "_"):
            return m.start()
    return -1


def _snippet(line: int, text: str, col: int, width: int) -> list[str]:
    shown, at = _visible(text, max(col, 1))
    if len(shown) > WIDTH:
        start = max(0, min(at - WIDTH // 2, len(shown) - WIDTH))
        shown = ("…" if start else "") + shown[start:start + WIDTH] + \
            ("…" if start + WIDTH < len(shown) else "")
        at = at - start + (1 if start else 0)
    gutter = len(str(line)) + 4
    caret = " " * (at - 1) + "^" * max(1, min(width, len(shown) - at + 1))
    return [f"{line:>{gutter}} | {shown}".rstrip(), f"{'':>{gutter}} | {caret}"]


def _visible(text: str, col: int) -> tuple[str, int]:
    """The line as shown (a tab as '→' and spaces to the next stop of 4), and the shown
    column of ``col``."""
    out: list[str] = []
    at = col
    for i, ch in enumerate(text):
        if i == col - 1:
            at = len(out) + 1
        if ch == "\t":
            out.append("→")
            while len(out) % 4:
                out.append(" ")
        elif ch in "\r\ufeff":
            continue
        else:
            out.append(ch if ch.isprintable() else "�")
    if col - 1 >= len(text):
        at = len(out) + 1
    return "".join(out), at


MAX_SHOWN = 50 * 2**20  # the largest file a line is shown from (the largest input allowed)


def _no_block(path: str, flags: int) -> int:
    """Open without waiting: a pipe planted where a file was named is not waited on."""
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


class LineCache:
    """Lines of the project's files, read once each, for the snippets."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, list[str] | None] = {}

    def get(self, path: str, line: int) -> str | None:
        if path not in self._files:
            self._files[path] = self._read(path)
        lines = self._files[path]
        if lines is None or not 1 <= line <= len(lines):
            return None
        return lines[line - 1]

    def _read(self, path: str) -> list[str] | None:
        """The file's lines, when it is safe to show them: a path of the project read only
        when it stays in the project once every link is followed (a link out of it is
        reported, never shown), and only a regular file no larger than :data:`MAX_SHOWN`
        (a 3 GB input or a pipe is refused by its size or type, not read to show a line)."""
        given = self.root / path
        try:
            resolved = given.resolve()
            if not Path(path).is_absolute() and \
                    not resolved.is_relative_to(self.root.resolve()):
                return None
            with open(resolved, "rb", opener=_no_block) as handle:
                info = os.fstat(handle.fileno())
                if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SHOWN:
                    return None
                data = handle.read(8 * 2**20)
        except (OSError, RuntimeError, ValueError):
            return None
        if b"\0" in data:
            return None
        try:
            return data.decode("utf-8").split("\n")
        except UnicodeDecodeError:
            return None

"""The data model: frozen, typed dataclasses passed between the pipeline's stages.

Every object that comes from a file knows its ``path`` (relative to the project root,
with forward slashes) and its 1-based ``line``, so any finding about it can say where.
Structured front-matter fields stay plain data (dicts, lists, strings) and keep a map
from their JSON-pointer path (``items/0/citations/1/quote``) to the line they are on.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """A content problem found by a check: where, what, and how to fix it."""

    severity: Severity
    path: str
    line: int
    message: str
    hint: str = ""
    rule: str = ""
    col: int = 0  # 1-based; 0: the message's quoted name on the line, or its start
    shown: str = ""  # the line to show, when the file cannot be read as UTF-8 text
    # what the rule found, for code that acts on findings (never parse the message):
    key: str = ""  # the citation or bibliography key, or the field name, it is about
    quote: str = ""  # the quote it is about
    passage: str = ""  # the passage of the source it points at ("¶ 12")

    def __str__(self) -> str:
        """The message without the line shown (policybrief.messages.render adds it)."""
        from .messages import render

        return render(self)


# --- sources -------------------------------------------------------------------------


@dataclass(frozen=True)
class Passage:
    """One paragraph of a source, after normalisation.

    ``number`` is the paragraph's place in the whole document (the ``¶ N`` of a
    locator); ``slug`` is the stable id built from the heading path and the paragraph's
    place under its heading (``history/3``); ``anchor`` is its HTML id (``p14``).
    """

    number: int
    slug: str
    anchor: str
    heading: tuple[str, ...]
    text: str
    path: str
    line: int


@dataclass(frozen=True)
class Source:
    """A source document read into passages."""

    path: str
    title: str
    sha256: str
    passages: tuple[Passage, ...]

    def passage(self, number: int) -> Passage | None:
        if 1 <= number <= len(self.passages):
            return self.passages[number - 1]
        return None


@dataclass(frozen=True)
class QuoteMatch:
    """Where a quote was found: the passage, how, and the span in ``passage.text``."""

    passage: Passage
    mode: Literal["exact", "normalised"]
    start: int
    end: int


@dataclass(frozen=True)
class NearMiss:
    """The passage closest to a quote that was not found, with its similarity (0–1)."""

    passage: Passage
    similarity: float


# --- bibliography --------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A bibliography entry; ``fields`` are the BibTeX fields, lower-cased names."""

    key: str
    entry_type: str
    fields: Mapping[str, str]
    path: str
    line: int
    lines: Mapping[str, int] = field(default_factory=dict, compare=False)  # field → offset

    @property
    def title(self) -> str:
        return self.fields.get("title", "").strip("{}")

    @property
    def url(self) -> str:
        return self.fields.get("url", "")

    @property
    def file(self) -> str:
        """The stored copy of the source, relative to the project root."""
        return self.fields.get("file", "")


# --- the brief -----------------------------------------------------------------------


@dataclass(frozen=True)
class Citation:
    """One cited item: ``[@key, ¶ 14, quote "exact words"]``.

    ``where`` says which part of the brief depends on it (section title and item),
    ``claim`` the text it supports; both feed the evidence appendix and the report of
    what a changed source touches.
    """

    key: str
    locator: str | None
    quote: str | None
    path: str
    line: int
    where: str = ""
    claim: str = ""
    field: str = ""  # JSON pointer of the structured field, or "" for body text
    # a structured citation's 'key:' line (``line`` is its quote's); not part of its identity
    key_line: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True)
class Section:
    """One section file: its kind, structured fields and Markdown body."""

    path: str
    line: int
    kind: str
    title: str
    slug: str
    fields: Mapping[str, Any]
    lines: Mapping[str, int]
    body: str
    body_line: int
    citations: tuple[Citation, ...] = ()
    # pointer -> the line a Markdown field's text starts on (a block scalar's text starts
    # on the line after its key); where its citations and sentences are counted from
    text_lines: Mapping[str, int] = field(default_factory=dict)

    def line_of(self, pointer: str) -> int:
        """The line of a structured field, or of its closest parent that has one."""
        while pointer:
            if pointer in self.lines:
                return self.lines[pointer]
            pointer = pointer.rpartition("/")[0]
        return self.line


@dataclass(frozen=True)
class Meta:
    """``report/brief.yaml``: title, authors, style and the order of the sections."""

    path: str
    fields: Mapping[str, Any]
    lines: Mapping[str, int]
    # pointer -> (file, line) of each value taken from report/_house.yaml
    origin: Mapping[str, tuple[str, int]] = field(default_factory=dict)

    def where(self, pointer: str) -> tuple[str, int]:
        """The file and line that set a field (brief.yaml, or _house.yaml for a value
        the house style gives), or of its closest parent that has one."""
        while pointer:
            if pointer in self.origin:
                return self.origin[pointer]
            if pointer in self.lines:
                return self.path, self.lines[pointer]
            pointer = pointer.rpartition("/")[0]
        return self.path, 1

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


@dataclass(frozen=True)
class Project:
    """Where a brief project's inputs and outputs live."""

    root: Path

    @property
    def report(self) -> Path:
        return self.root / "report"

    @property
    def sections_dir(self) -> Path:
        return self.root / "report" / "sections"

    @property
    def seeds(self) -> Path:
        return self.root / "seeds"

    @property
    def bibliography(self) -> Path:
        return self.root / "bibliography.bib"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def build(self) -> Path:
        return self.root / "build"

    def rel(self, path: Path) -> str:
        """A path as findings print it: relative to the root, forward slashes."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()


# --- what later stages use of the house style and the figures ---------------------------

DEFAULT_ACCENT = "#1f4e79"


@dataclass(frozen=True)
class House:
    """The resolved house style, as templates and the DOCX writer use it."""

    accent: str = DEFAULT_ACCENT
    serif: str = "Noto Serif"
    sans: str = "Noto Sans"
    logo_path: str = ""
    logo_type: str = ""
    logo_bytes: bytes = b""
    logo_at: str = ""  # the file and line that name the logo
    logo_line: int = 1

    @property
    def accent_dark(self) -> str:
        return _mix(self.accent, "#000000", 0.28)

    @property
    def accent_soft(self) -> str:
        return _mix(self.accent, "#ffffff", 0.9)

    @property
    def logo(self) -> str:
        """The logo as a ``data:`` URL (self-contained HTML, nothing for PDF to fetch)."""
        if not self.logo_bytes:
            return ""
        return f"data:{self.logo_type};base64,{base64.b64encode(self.logo_bytes).decode()}"

    def fingerprint(self) -> str:
        # sha256, not hash(): bytes hash differently in every process
        return repr((self.accent, self.serif, self.sans, self.logo_path,
                     hashlib.sha256(self.logo_bytes).hexdigest()))


def _mix(colour: str, other: str, amount: float) -> str:
    a = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(other[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * amount):02x}" for x, y in zip(a, b, strict=True))


class FigureSet(Protocol):
    """The brief's figures as rendering uses them (assemble.figures.Figures draws them;
    the model names only what the later stages ask of them)."""

    @property
    def fingerprint(self) -> str: ...

    def __len__(self) -> int: ...

    def files(self) -> dict[str, bytes]: ...

    def for_pdf(self, html: str) -> str: ...


@dataclass(frozen=True)
class Brief:
    """Everything loaded and checked: what assembly and rendering work from."""

    project: Project
    meta: Meta
    sections: tuple[Section, ...]
    entries: Mapping[str, Entry]
    sources: Mapping[str, Source]
    matches: Mapping[Citation, QuoteMatch] = field(default_factory=dict)
    figures: FigureSet | None = None  # the timeline and the actor map
    house: House | None = None  # colours, faces and logo
    figure_citations: tuple[Citation, ...] = ()
    # claims.check: per citation, the numbers and names of its claim found in which
    # passage, and the sentences that are the brief's own (for the evidence appendix)
    claim_notes: Mapping[Citation, str] = field(default_factory=dict)

    @property
    def citations(self) -> tuple[Citation, ...]:
        """Every citation: the sections', then the figures'."""
        return tuple(c for s in self.sections for c in s.citations) + self.figure_citations

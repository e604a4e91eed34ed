"""Review anchors in the DOCX: where each paragraph of Word's text came from.

Every paragraph with text (in the body, in a table cell, in a note) gets a collapsed
bookmark ``pb_N`` at its start: invisible, kept by Word and LibreOffice when the text
around it is edited. A custom XML part (``customXml/itemK.xml``, namespace ``NS``) maps
each ``N`` to what was rendered there (the paragraph's text) and where it came from: the
section file, line and field of each piece of it, or, for text the pipeline makes (the
cover, the contents, the explainer, figures, the evidence appendix, the bibliography,
notes' citation text), the file that holds its source. The part also keeps the SHA-256
of every section file as it was at build time, so that ``brief review import`` can tell
whether the sources changed since.

Nothing here changes what a reader sees: only bookmarks and a data part are added.
"""

from __future__ import annotations

import hashlib
import html
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Any

from .. import citations as cit
from ..model import Brief, Section

if TYPE_CHECKING:
    from .docx import Entries

NS = "urn:x-policybrief:review:1"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f"{{{W_NS}}}"
R_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXml"
R_PROPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXmlProps"
DS = "http://schemas.openxmlformats.org/officeDocument/2006/customXml"
PREFIX = "pb_"
ITEM_ID = "{5E2B8C1A-7D43-4B0E-9C5F-2A61D0B3E7F4}"
# keys that name things rather than hold text the brief renders
NOT_TEXT = {"kind", "status", "id", "key", "locator", "quote", "attribution", "likelihood",
            "confidence", "scenarios", "date", "citations"}
FUZZY = 0.75  # a paragraph matched to no block as it is: the least similarity to one
# typographic variants matched as one (a 1:1 translation, so offsets stay valid)
KEY = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-",
                     "\u00a0": " ", "\u202f": " ", "\u2011": "-"})


# --- the section files as blocks of text ------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A piece of a section file the brief renders as one run of text.

    ``plain`` is the text as rendered (markup and citations gone, quotes made
    typographic, white space joined); ``index[i]`` is the offset in the file of
    ``plain[i]``; ``spans`` are the (start, end) offsets of the block's source text.
    """

    file: str
    line: int
    field: str
    plain: str
    index: tuple[int, ...]
    spans: tuple[tuple[int, int], ...]

    @property
    def start(self) -> int:
        return self.spans[0][0]

    @property
    def end(self) -> int:
        return self.spans[-1][1]


ENTITY = re.compile(r"&(#?\w+);")
LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+")
HEADING = re.compile(r"^(#{1,6})[ \t]+")
ATTRIBUTES = re.compile(r"[ \t]*\{[^{}]*\}[ \t]*$")
COMMENT = re.compile(r"<!--.*?-->", re.S)


def plain(text: str, base: int = 0) -> tuple[str, list[int]]:
    """Markdown inline text as pandoc renders it (near enough), with each character's
    offset (``base`` + offset in ``text``)."""
    out: list[str] = []
    index: list[int] = []
    n = len(text)
    closers: list[int] = []  # where a "](…)" or "]{…}" ends, for brackets opened
    i = 0

    def emit(ch: str, at: int) -> None:
        if ch.isspace():
            if not out or out[-1] == " ":
                return
            ch = " "
        out.append(ch)
        index.append(base + at)

    while i < n:
        c = text[i]
        if c == "[":
            group = cit.GROUP.match(text, i)
            if group is not None and not text.startswith("[@", i - 1):
                while out and out[-1] == " ":  # the note takes the space before it
                    out.pop()
                    index.pop()
                i = group.end()
                continue
            end = _matching(text, i, "[", "]")
            if end > 0 and end + 1 < n and text[end + 1] in "({":
                closers.append(end)
                i += 1
                continue
        if c == "]" and closers and closers[-1] == i:
            closers.pop()
            opener, closer = text[i + 1], ")" if text[i + 1] == "(" else "}"
            i = _matching(text, i + 1, opener, closer) + 1 if \
                _matching(text, i + 1, opener, closer) > 0 else i + 1
            continue
        if c == "!" and text.startswith("![", i):
            end = _matching(text, i + 1, "[", "]")
            if end > 0 and end + 1 < n and text[end + 1] == "(":
                i = max(_matching(text, end + 1, "(", ")"), end) + 1
                continue
        if c == "^" and text.startswith("^[", i):
            end = _matching(text, i + 1, "[", "]")
            if end > 0:
                i = end + 1
                continue
        if c == "\\" and i + 1 < n and not text[i + 1].isalnum() and not text[i + 1].isspace():
            emit(text[i + 1], i + 1)
            i += 2
            continue
        if c in "*`":
            i += 1
            continue
        if c == "_" and (i == 0 or not text[i - 1].isalnum() or i + 1 >= n
                         or not text[i + 1].isalnum()):
            i += 1
            continue
        if c == "&":
            entity = ENTITY.match(text, i)
            if entity:
                for ch in html.unescape(entity.group(0)):
                    emit(ch, i)
                i = entity.end()
                continue
        if text.startswith("---", i):
            emit("—", i)
            i += 3
            continue
        if text.startswith("--", i):
            emit("–", i)
            i += 2
            continue
        if text.startswith("...", i):
            emit("…", i)
            i += 3
            continue
        if c in "\"'":
            before = out[-1] if out else " "
            opening = before.isspace() or before in "([{“‘—–-/"
            if c == '"':
                emit("“" if opening else "”", i)
            else:
                emit("‘" if opening and i + 1 < n and text[i + 1].isalpha() else "’", i)
            i += 1
            continue
        emit(c, i)
        i += 1
    while out and out[-1] == " ":
        out.pop()
        index.pop()
    return "".join(out), index


def _matching(text: str, start: int, opener: str, closer: str) -> int:
    """The offset of the bracket closing the one at ``start`` (-1 if none)."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == opener:
            depth += 1
        elif ch == closer:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _block(file: str, line: int, field: str, text: str,
           spans: Sequence[tuple[int, int]]) -> Block | None:
    out: list[str] = []
    index: list[int] = []
    for start, end in spans:
        piece, where = plain(text[start:end], start)
        if not piece:
            continue
        if out:
            out.append(" ")
            index.append(where[0])
        out.extend(piece)
        index.extend(where)
    if not out:
        return None
    return Block(file, line, field, "".join(out), tuple(index), tuple(spans))


def body_blocks(file: str, text: str, body_line: int) -> list[Block]:
    """The body's paragraphs, headings, list items and table cells, each with its line."""
    lines = text.split("\n")
    offsets = [0]
    for row in lines:
        offsets.append(offsets[-1] + len(row) + 1)
    masked = COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    mrows = masked.split("\n")
    found: list[Block] = []
    current: list[tuple[int, int]] = []
    first = 0
    fence = False

    def close() -> None:
        nonlocal current
        if current:
            block = _block(file, first, "", text, current)
            if block is not None:
                found.append(block)
        current = []

    for number in range(body_line - 1, len(lines)):
        row, at = mrows[number], offsets[number]
        stripped = row.strip()
        if stripped.startswith(("```", "~~~")):
            fence = not fence
            close()
            continue
        if fence or not stripped or stripped.startswith(":::"):
            close()
            continue
        if stripped.startswith("|"):
            close()
            if re.fullmatch(r"[|:\-\s+]+", stripped):
                continue
            cell_start = at + row.index("|") + 1
            for cell in re.finditer(r"(?:\\.|[^|\\])+", row[row.index("|") + 1:]):
                s, e = cell_start + cell.start(), cell_start + cell.end()
                block = _block(file, number + 1, "", text, [(s, e)])
                if block is not None:
                    found.append(block)
            continue
        quote = re.match(r"^[ \t]*(?:>[ \t]?)+", row)
        skip = quote.end() if quote else 0
        heading = HEADING.match(row, skip)
        item = LIST_ITEM.match(row[skip:])
        if heading:
            close()
            content = ATTRIBUTES.sub("", row[heading.end():]).rstrip("# \t")
            first = number + 1
            current = [(at + heading.end(), at + heading.end() + len(content))]
            close()
            continue
        if item:
            close()
            skip += item.end()
        if not current:
            first = number + 1
        current.append((at + skip, at + len(row.rstrip())))
    close()
    return found


def field_blocks(section: Section, text: str) -> list[Block]:
    """The structured fields the templates render as text, each with its line."""
    lines = text.split("\n")
    offsets = [0]
    for row in lines:
        offsets.append(offsets[-1] + len(row) + 1)
    found: list[Block] = []
    for pointer, value in _strings(section.fields):
        line = section.lines.get(pointer)
        if not line or not value.strip():
            continue
        spans = _value_spans(lines, offsets, line, value)
        if not spans:
            continue
        # a Markdown field may hold several paragraphs: one block each
        paragraph: list[tuple[int, int]] = []
        first = 0
        for start, end in [*spans, (-1, -1)]:
            if start < 0 or start == end:
                if paragraph:
                    block = _block(section.path, first, pointer, text, paragraph)
                    if block is not None:
                        found.append(block)
                paragraph = []
                continue
            if not paragraph:
                first = text.count("\n", 0, start) + 1
            paragraph.append((start, end))
    return found


def _strings(data: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(data, Mapping):
        for key, value in data.items():
            if key in NOT_TEXT and not (key == "scenarios" and isinstance(value, list)
                                        and all(isinstance(v, Mapping) for v in value)):
                continue
            yield from _strings(value, f"{pointer}/{key}" if pointer else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _strings(value, f"{pointer}/{i}")
    elif isinstance(data, str) and pointer:
        yield pointer, data


def _value_spans(lines: list[str], offsets: list[int], line: int,
                 value: str) -> list[tuple[int, int]]:
    """Where a YAML scalar's text is in the file: one span a line (an empty span for a
    blank line inside a block scalar); [] when it cannot be told."""
    row = lines[line - 1]
    at = offsets[line - 1]
    head = re.match(r"^(\s*(?:-\s+)?(?:[\w-]+:\s*)?)", row)
    start = head.end() if head else 0
    rest = row[start:]
    if rest.startswith(("|", ">")):  # a block scalar: the indented lines below
        spans: list[tuple[int, int]] = []
        indent = None
        for number in range(line, len(lines)):
            content = lines[number]
            if not content.strip():
                spans.append((offsets[number], offsets[number]))
                continue
            width = len(content) - len(content.lstrip(" "))
            if indent is None:
                indent = width
            if width < indent:
                break
            spans.append((offsets[number] + indent, offsets[number] + len(content.rstrip())))
        while spans and spans[-1][0] == spans[-1][1]:
            spans.pop()
        return spans
    if rest.startswith(('"', "'")):  # quoted, perhaps over several lines
        quote = rest[0]
        spans = []
        number, begin = line - 1, at + start + 1
        while number < len(lines):
            end_row = offsets[number] + len(lines[number])
            piece = lines[number][(begin - offsets[number]):]
            close = _closing(piece, quote)
            if close >= 0:
                spans.append((begin, begin + close))
                return spans
            spans.append((begin, end_row))
            number += 1
            if number < len(lines):
                begin = offsets[number] + len(lines[number]) - len(lines[number].lstrip())
        return []
    if rest.strip() and " #" not in rest:  # a plain scalar on its line
        return [(at + start, at + len(row.rstrip()))]
    return []


def _closing(piece: str, quote: str) -> int:
    i = 0
    while i < len(piece):
        if quote == '"' and piece[i] == "\\":
            i += 2
            continue
        if piece[i] == quote:
            if quote == "'" and i + 1 < len(piece) and piece[i + 1] == "'":
                i += 2
                continue
            return i
        i += 1
    return -1


def section_blocks(section: Section, text: str) -> list[Block]:
    """Every block of one section file: its title, fields and body."""
    return field_blocks(section, text) + body_blocks(section.path, text, section.body_line)


# --- the DOCX's paragraphs --------------------------------------------------------------


CHANGES = {f"{W}ins": "insertion", f"{W}del": "deletion", f"{W}moveFrom": "move (from)",
           f"{W}moveTo": "move (to)"}


def pieces(p: Any) -> Iterator[tuple[str, Any]]:
    """The text of a paragraph in order, each piece with the tracked change it is in
    (a ``w:ins``, ``w:del``, ``w:moveFrom`` or ``w:moveTo`` element) or None. Deleted
    text comes as it was; note references, field codes, drawings and page or column
    breaks give nothing."""
    def walk(element: Any, change: Any) -> Iterator[tuple[str, Any]]:
        for child in element:
            tag = child.tag
            if not isinstance(tag, str) or tag in (f"{W}pPr", f"{W}rPr", f"{W}instrText",
                                                   f"{W}delInstrText", f"{W}p"):
                continue
            if tag in CHANGES:
                yield from walk(child, child)
            elif tag in (f"{W}t", f"{W}delText"):
                if child.text:
                    yield child.text, change
            elif tag == f"{W}tab":
                yield "\t", change
            elif tag == f"{W}br" and child.get(f"{W}type") in ("page", "column"):
                continue  # layout, not text: LibreOffice saves a page break before a
                # paragraph (w:pageBreakBefore, the cover's and contents' pages) as one
            elif tag in (f"{W}br", f"{W}cr"):
                yield " ", change
            elif tag == f"{W}noBreakHyphen":
                yield "\u2011", change
            elif tag == f"{W}softHyphen":  # Word's way of saving U+00AD
                yield "\u00ad", change
            elif tag == f"{W}sym":
                yield "?", change
            else:
                yield from walk(child, change)

    yield from walk(p, None)


def paragraph_text(p: Any) -> str:
    """A paragraph's text with every tracked change accepted."""
    return "".join(text for text, change in pieces(p)
                   if change is None or change.tag in (f"{W}ins", f"{W}moveTo"))


def key(text: str) -> str:
    return text.translate(KEY)


# --- where each paragraph came from -----------------------------------------------------


@dataclass
class Part:
    file: str
    line: int
    field: str
    start: int
    end: int
    fuzzy: bool = False


@dataclass
class Anchor:
    number: int
    story: str  # "body" or "notes"
    region: str  # section, cover, contents, explainer, figure, appendix, bibliography, note
    text: str
    holder: str = ""  # for generated text: the file (and line) that holds its source
    parts: list[Part] = field(default_factory=list)


@dataclass
class Map:
    """What the custom XML part holds."""

    title: str
    files: dict[str, str]  # section file → SHA-256 of its text at build time
    anchors: dict[int, Anchor]


class _Matcher:
    def __init__(self, brief: Brief) -> None:
        self.brief = brief
        # pandoc's name for a heading's bookmark: the id, or "X" and a hash past 40 chars
        self.by_slug: dict[str, Section] = {bookmark_name(s.slug): s for s in brief.sections}
        # each section's blocks with their keys, longest first (a stable sort: blocks of
        # one length keep the file's order)
        self.blocks: dict[str, list[tuple[Block, str]]] = {}
        self.texts: dict[str, str] = {}
        for section in brief.sections:
            path = brief.project.root / section.path
            text = path.read_text("utf-8")
            self.texts[section.path] = text
            blocks = section_blocks(section, text)
            self.blocks[bookmark_name(section.slug)] = sorted(
                ((b, key(b.plain)) for b in blocks), key=lambda bk: -len(bk[1]))

    def parts(self, slug: str, text: str) -> list[Part]:
        """The pieces of ``text`` (a paragraph) that come from the section's blocks."""
        wanted = key(text)
        found: list[Part] = []
        taken: list[tuple[int, int]] = []
        candidates = self.blocks.get(slug, [])
        for block, plain_key in candidates:
            if not plain_key:
                continue
            at = wanted.find(plain_key)
            while at >= 0:
                end = at + len(plain_key)
                bounded = (at == 0 or not wanted[at - 1].isalnum()) and \
                    (end == len(wanted) or not wanted[end].isalnum())
                if bounded and not any(a < end and at < b for a, b in taken):
                    taken.append((at, end))
                    found.append(Part(block.file, block.line, block.field, at, end))
                    break
                at = wanted.find(plain_key, at + 1)
        if not found and len(wanted) >= 20:
            best, score = None, 0.0
            for block, plain_key in candidates:
                matcher = SequenceMatcher(None, wanted, plain_key, autojunk=False)
                # the quick ratios are upper bounds of ratio(): a block whose bound is
                # under FUZZY, or no better than the best so far, cannot be the one
                if matcher.real_quick_ratio() < FUZZY or matcher.quick_ratio() < FUZZY \
                        or matcher.quick_ratio() <= score:
                    continue
                ratio = matcher.ratio()
                if ratio > score:
                    best, score = block, ratio
            if best is not None and score >= FUZZY:
                found.append(Part(best.file, best.line, best.field, 0, len(text), True))
        return sorted(found, key=lambda part: part.start)


def _holder_for_cover(brief: Brief, text: str) -> str:
    meta = brief.meta
    for name in ("title", "subtitle", "date", "authors", "abstract"):
        if name in meta.fields and name in meta.lines:
            value = meta.fields[name]
            values = [a.get("name", "") for a in value if isinstance(a, Mapping)] \
                if isinstance(value, list) else [str(value)]
            if any(v and key(v) in key(text) for v in values):
                return f"{meta.path}:{meta.lines[name]}"
    return f"{meta.path}:1"


def bookmark_name(ident: str) -> str:
    """The bookmark pandoc writes for an element's id (Word allows 40 characters)."""
    if len(ident) <= 40:
        return ident
    return "X" + hashlib.sha1(ident.encode("utf-8")).hexdigest()[1:40]


class _Appendix:
    """Where the evidence appendix's paragraphs come from: the citation whose quote
    the paragraph holds, else the one whose claim it begins (or that begins it). The
    citations' keys are made once, not once per paragraph."""

    def __init__(self, brief: Brief) -> None:
        cited = brief.citations
        self.quotes = [(key(c.quote), f"{c.path}:{c.line}") for c in cited if c.quote]
        self.claims = [(claim, f"{c.path}:{c.line}") for c in cited
                       if (claim := key(c.claim.removesuffix(" …")))]

    def holder(self, text: str) -> str:
        wanted = key(text)
        for quote, where in self.quotes:
            if quote in wanted:
                return where
        if len(wanted) > 12:
            for claim, where in self.claims:
                if claim.startswith(wanted) or wanted.startswith(claim):
                    return where
        return "the citations in report/sections/"


def _holder_for_bibliography(brief: Brief, text: str) -> str:
    wanted = key(text).casefold()
    bib = brief.project.rel(brief.project.bibliography)
    for entry in brief.entries.values():
        title = key(entry.title.replace("{", "").replace("}", "")).casefold()
        if title and title in wanted:
            return f"{entry.path}:{entry.line}"
    return bib


def _template(brief: Brief, name: str) -> str:
    own = brief.project.templates / name
    return brief.project.rel(own) if own.is_file() else f"templates/{name} (packaged)"


def build_map(document: Any, notes: Any, brief: Brief) -> tuple[Map, list[tuple[Any, int]]]:
    """Find where every paragraph of ``document`` (and ``notes``, word/footnotes.xml)
    came from; return the map and the paragraphs to mark, with their numbers."""
    matcher = _Matcher(brief)
    appendix = _Appendix(brief)
    anchors: dict[int, Anchor] = {}
    marks: list[tuple[Any, int]] = []
    region, section = "cover", ""
    special: dict[str, tuple[str, str]] = {}  # bookmark id → (region, holder) while open
    seen_in_paragraph: set[Any] = set()
    note_holder: dict[str, str] = {}

    def enter(bookmark: Any) -> None:
        nonlocal region, section
        name = bookmark.get(f"{W}name", "")
        ident = bookmark.get(f"{W}id", "")
        if name in matcher.by_slug:
            region, section = "section", name
        elif name == "evidence-appendix":
            region, section = "appendix", ""
        elif name in ("bibliography", "refs"):
            region, section = "bibliography", ""
        elif name == "estimative-language":
            special[ident] = ("explainer", _template(brief, "explainer.md.j2"))
        elif name.startswith("fig-"):
            special[ident] = ("figure", f"report/{name[4:]}.yaml")

    body = document.find(f"{W}body")
    number = 0
    for element in body.iter(f"{W}p", f"{W}bookmarkStart", f"{W}bookmarkEnd"):
        if element.tag == f"{W}bookmarkStart":
            if element not in seen_in_paragraph:
                enter(element)
            continue
        if element.tag == f"{W}bookmarkEnd":
            special.pop(element.get(f"{W}id", ""), None)
            continue
        for inner in element.iter(f"{W}bookmarkStart"):
            seen_in_paragraph.add(inner)
            enter(inner)
        text = paragraph_text(element)
        if not text.strip():
            continue
        number += 1
        anchor = Anchor(number, "body", region, text)
        if any(a.tag == f"{W}sdtContent" for a in element.iterancestors()):
            anchor.region, anchor.holder = "contents", "the section headings (made by Word)"
        elif special:
            anchor.region, anchor.holder = list(special.values())[-1]
        elif region == "cover":
            anchor.holder = _holder_for_cover(brief, text)
        elif region == "appendix":
            anchor.holder = appendix.holder(text)
        elif region == "bibliography":
            anchor.holder = _holder_for_bibliography(brief, text)
        else:
            anchor.parts = matcher.parts(section, text)
            kind = matcher.by_slug[section].kind
            first = matcher.by_slug[section]
            anchor.holder = f"{first.path}:{anchor.parts[0].line}" if anchor.parts else \
                f"{first.path}, the fields it is made from, or " + \
                _template(brief, f"sections/{kind}.md.j2")
        anchors[number] = anchor
        marks.append((element, number))
        for ref in element.iter(f"{W}footnoteReference"):
            note_holder[ref.get(f"{W}id", "")] = anchor.holder if not anchor.parts else \
                f"{anchor.parts[0].file}:{anchor.parts[0].line}"
    if notes is not None:
        for note in notes_in_order(document, notes):
            referrer = note_holder.get(note.get(f"{W}id", ""), "")
            for p in note.iter(f"{W}p"):
                text = paragraph_text(p)
                if not text.strip():
                    continue
                number += 1
                bib = brief.project.rel(brief.project.bibliography)
                holder = f"{referrer} (the citation) or {bib}" if referrer else bib
                anchors[number] = Anchor(number, "notes", "note", text, holder)
                marks.append((p, number))
    files = {s.path: hashlib.sha256(matcher.texts[s.path].encode("utf-8")).hexdigest()
             for s in brief.sections}
    return Map(str(brief.meta.get("title", "")), files, anchors), marks


def notes_in_order(document: Any, notes: Any) -> list[Any]:
    """The notes (``w:footnote``) in the order the text refers to them. Import finds a
    note by this order: LibreOffice moves the bookmarks inside notes."""
    by_id = {n.get(f"{W}id", ""): n for n in notes.iter(f"{W}footnote")
             if n.get(f"{W}type") not in ("separator", "continuationSeparator",
                                          "continuationNotice")}
    ordered = []
    for ref in document.iter(f"{W}footnoteReference"):
        note = by_id.pop(ref.get(f"{W}id", ""), None)
        if note is not None:
            ordered.append(note)
    return ordered


# --- the part, read and written ---------------------------------------------------------


def map_xml(data: Map) -> bytes:
    from lxml import etree

    root = etree.Element(f"{{{NS}}}review", nsmap={"pb": NS}, version="1", title=data.title)
    for path, digest in sorted(data.files.items()):
        etree.SubElement(root, f"{{{NS}}}file", path=path, sha256=digest)
    for anchor in data.anchors.values():
        element = etree.SubElement(root, f"{{{NS}}}a", n=str(anchor.number), story=anchor.story,
                                   region=anchor.region, holder=anchor.holder)
        etree.SubElement(element, f"{{{NS}}}text").text = _xml_safe(anchor.text)
        for part in anchor.parts:
            attributes = {"file": part.file, "line": str(part.line), "field": part.field,
                          "start": str(part.start), "end": str(part.end)}
            if part.fuzzy:
                attributes["fuzzy"] = "1"
            etree.SubElement(element, f"{{{NS}}}part", attributes)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                standalone=True))


def _xml_safe(text: str) -> str:
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)


def read_map(content: bytes) -> Map | None:
    """The map in a custom XML part, or None when the part is not ours."""
    from lxml import etree

    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError:
        return None
    if root.tag != f"{{{NS}}}review":
        return None
    files = {f.get("path", ""): f.get("sha256", "") for f in root.iter(f"{{{NS}}}file")}
    anchors: dict[int, Anchor] = {}
    for element in root.iter(f"{{{NS}}}a"):
        number = int(element.get("n", "0"))
        text = element.findtext(f"{{{NS}}}text") or ""
        parts = [Part(p.get("file", ""), int(p.get("line", "1")), p.get("field", ""),
                      int(p.get("start", "0")), int(p.get("end", "0")), p.get("fuzzy") == "1")
                 for p in element.iter(f"{{{NS}}}part")]
        anchors[number] = Anchor(number, element.get("story", "body"),
                                 element.get("region", ""), text, element.get("holder", ""),
                                 parts)
    return Map(root.get("title", ""), files, anchors)


def _mark(marks: Sequence[tuple[Any, int]], first_id: int) -> None:
    """A collapsed bookmark ``pb_N`` at the start of each paragraph."""
    from lxml import etree

    for element, number in marks:
        ident = str(first_id + number)
        start = etree.Element(f"{W}bookmarkStart", {f"{W}id": ident, f"{W}name":
                                                    f"{PREFIX}{number}"})
        end = etree.Element(f"{W}bookmarkEnd", {f"{W}id": ident})
        ppr = element.find(f"{W}pPr")
        at = 0 if ppr is None else list(element).index(ppr) + 1
        element.insert(at, end)
        element.insert(at, start)


def _serialise(root: Any) -> bytes:
    from lxml import etree

    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def add(data: bytes, brief: Brief) -> bytes:
    """The DOCX ``data`` with review anchors and their map; nothing visible changes.
    Entries keep their order and time stamp; the map's part is added at the end."""
    from .docx import unzipped, zipped

    return zipped(add_entries(unzipped(data), brief))


def add_entries(entries: Entries, brief: Brief) -> Entries:
    """:func:`add` on a package's parts (docx.Entries), before they are zipped."""
    from lxml import etree

    document = etree.fromstring(entries["word/document.xml"][1])
    notes = etree.fromstring(entries["word/footnotes.xml"][1]) \
        if "word/footnotes.xml" in entries else None
    mapped, marks = build_map(document, notes, brief)
    ids = [int(b.get(f"{W}id", "0")) for root in (document, notes) if root is not None
           for b in root.iter(f"{W}bookmarkStart") if b.get(f"{W}id", "").isdigit()]
    _mark(marks, max(ids, default=0) + 1)
    item = 1
    while f"customXml/item{item}.xml" in entries:
        item += 1
    stamp = next(iter(entries.values()))[0].date_time
    out: Entries = {}
    for name, (info, content) in entries.items():
        if name == "word/document.xml":
            content = _serialise(document)
        elif name == "word/footnotes.xml" and notes is not None:
            content = _serialise(notes)
        elif name == "word/_rels/document.xml.rels":
            content = _relate(content, f"../customXml/item{item}.xml")
        elif name == "[Content_Types].xml":
            content = _content_type(content, f"/customXml/itemProps{item}.xml")
        out[name] = (info, content)
    parts = {
        f"customXml/item{item}.xml": map_xml(mapped),
        f"customXml/itemProps{item}.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            f'<ds:datastoreItem ds:itemID="{ITEM_ID}" xmlns:ds="{DS}"><ds:schemaRefs>'
            f'<ds:schemaRef ds:uri="{NS}"/></ds:schemaRefs></ds:datastoreItem>'
        ).encode(),
        f"customXml/_rels/item{item}.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'relationships"><Relationship Id="rId1" Type="{R_PROPS}" '
            f'Target="itemProps{item}.xml"/></Relationships>').encode(),
    }
    for name, content in parts.items():
        info = zipfile.ZipInfo(name, stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        out[name] = (info, content)
    return out


def _relate(content: bytes, target: str) -> bytes:
    from lxml import etree

    root = etree.fromstring(content)
    taken = {r.get("Id") for r in root}
    number = 1
    while f"rIdPb{number}" in taken:
        number += 1
    etree.SubElement(root, f"{{{root.nsmap[None]}}}Relationship", Id=f"rIdPb{number}",
                     Type=R_CUSTOM, Target=target)
    return _serialise(root)


def _content_type(content: bytes, part: str) -> bytes:
    from lxml import etree

    root = etree.fromstring(content)
    etree.SubElement(root, f"{{{root.nsmap[None]}}}Override", PartName=part,
                     ContentType="application/vnd.openxmlformats-officedocument."
                     "customXmlProperties+xml")
    return _serialise(root)


def find_map(package: zipfile.ZipFile) -> Map | None:
    """Our map among a DOCX's custom XML parts (None if there is none)."""
    for name in package.namelist():
        if re.fullmatch(r"customXml/item\d+\.xml", name):
            try:
                found = read_map(package.read(name))
            except ValueError:  # damaged: numbers that are not numbers
                found = None
            if found is not None:
                return found
    return None

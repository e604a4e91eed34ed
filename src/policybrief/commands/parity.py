"""Parity of the three outputs: the PDF, the web page and the DOCX say the same thing.

Each output is read back on its own terms, not from the Markdown they share:

- headings, in order, with their levels: the PDF's outline (bookmarks), the web page's
  ``h2``/``h3`` in ``main`` (without the "Notes" heading the page adds), the DOCX's
  "Heading N" paragraphs; levels count from each output's top level;
- notes: the PDF's ``fnN`` destinations (each note keeps its id when it moves to the
  foot of the page), the items of the web page's ``#footnotes`` list, the DOCX's
  ``w:footnote`` entries with an id above 0;
- bibliography entries: ``ref-KEY`` destinations in the PDF, ``.csl-entry`` ids in the
  web page, ``ref-KEY`` bookmarks in the DOCX;
- the scenario matrix (a table with class ``scenario-matrix`` or caption "Scenario
  matrix"), when there is one: its body rows in the web page and the DOCX; in the PDF,
  the rows of the web page's matrix whose whole text is found in the PDF's text.

and then what they say (paritytext.py):

- the body text, section by section, sentence by sentence: the paragraphs and list
  items of each ``h2`` section of the web page (not its tables, figures, note calls or
  the notes), the DOCX's paragraphs between its "Heading 2" paragraphs (not its tables,
  captions or figures); in the PDF, each sentence must be found in the text of its
  section (the text of the pages, read in the order it is drawn, without the running
  heads, the note calls and the notes at the foot of the page);
- the text of every note: the web page's notes without the passage/original links, the
  DOCX's footnotes, the PDF's notes at the foot of the pages (each after its "N." marker);
- the text of every bibliography entry, and every cell of the scenario matrix.

Texts are compared after normalising Unicode (NFKC), white space, hyphenation (soft
hyphens, hyphens at a line end), typographic quotes and letter case.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Any

from .paritytext import MATRIX, Row, compare_texts

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
NOTE_ID = re.compile(r"fn\d+$")
@dataclass(frozen=True)
class Parity:
    rows: tuple[Row, ...]

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    @property
    def differences(self) -> tuple[Row, ...]:
        return tuple(row for row in self.rows if not row.ok)

    def markdown(self) -> str:
        """The report as a Markdown table, then the first difference of each row."""
        lines = ["# Output parity", "",
                 "| Check | PDF | HTML | DOCX | Same |", "|:--|--:|--:|--:|:--|"]
        for row in self.rows:
            lines.append(f"| {row.name} | {len(row.pdf)} | {len(row.html)} | {len(row.docx)} "
                         f"| {'yes' if row.ok else '**no**'} |")
        lines.append("")
        if self.ok:
            lines.append("All outputs agree.")
        for row in self.differences:
            lines += [f"## {row.name}: the outputs differ", "", row.detail or
                      first_difference(row), ""]
        return "\n".join(lines).rstrip() + "\n"


def first_difference(row: Row) -> str:
    """Where the three sequences of ``row`` first disagree, as a line of Markdown."""
    outputs = {"PDF": row.pdf, "HTML": row.html, "DOCX": row.docx}
    longest = max(len(v) for v in outputs.values())
    for index in range(longest):
        seen = {name: values[index] if index < len(values) else "(nothing)"
                for name, values in outputs.items()}
        if len(set(seen.values())) > 1:
            shown = "; ".join(f"{name}: “{value}”" for name, value in seen.items())
            return f"At item {index + 1}: {shown}."
    return "The outputs hold the same items."


def text(value: str) -> str:
    """Whitespace collapsed, Unicode composed."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def squeezed(value: str) -> str:
    """For finding a table row in extracted PDF text: no whitespace, no hyphens (line
    breaks and hyphenation differ), no bidi controls."""
    return re.sub(r"[\s\-\u00ad\u2010\u2011\u200e\u200f\u202a-\u202e\u2066-\u2069]", "",
                  unicodedata.normalize("NFC", value))


def _levelled(items: list[tuple[int, str]]) -> tuple[str, ...]:
    top = min((level for level, _ in items), default=1)
    return tuple(f"{level - top + 1} {title}" for level, title in items)


# --- the PDF -------------------------------------------------------------------------


@dataclass(frozen=True)
class PdfFacts:
    headings: tuple[str, ...]
    destinations: tuple[str, ...]
    text: str


def read_pdf(data: bytes) -> PdfFacts:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    items: list[tuple[int, str]] = []

    def walk(outline: list[Any], level: int) -> None:
        for item in outline:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                items.append((level, text(str(item.title))))

    walk(reader.outline, 1)
    pages = "\n".join(page.extract_text() or "" for page in reader.pages)
    return PdfFacts(_levelled(items), tuple(reader.named_destinations), pages)


# --- the web page --------------------------------------------------------------------


@dataclass(frozen=True)
class HtmlFacts:
    headings: tuple[str, ...]
    notes: tuple[str, ...]
    references: tuple[str, ...]
    matrix: tuple[tuple[str, ...], ...] | None


def read_html(html: str) -> HtmlFacts:
    from lxml import html as lhtml

    root = lhtml.document_fromstring(html)
    mains = root.xpath("//main")
    main = mains[0] if mains else root
    items = [(int(h.tag[1]), text(h.text_content())) for h in main.iter("h2", "h3")
             if not h.xpath('ancestor::section[@id="footnotes"]') and h.get("id") != "notes"]
    notes = tuple(li.get("id", "") for li in main.xpath('.//*[@id="footnotes"]/ol/li'))
    references = tuple(e.get("id", "")[len("ref-"):] for e in
                       main.xpath('.//*[contains(concat(" ", @class, " "), " csl-entry ")]'))
    return HtmlFacts(_levelled(items), notes, references,
                     _html_matrix(main))


def _html_matrix(main: Any) -> tuple[tuple[str, ...], ...] | None:
    for table in main.iter("table"):
        caption = table.find("caption")
        named = caption is not None and text(caption.text_content()).lower().startswith(MATRIX)
        if named or "scenario-matrix" in (table.get("class") or "").split():
            rows = []
            for tr in table.xpath("./tbody/tr | ./tr"):
                for pop in tr.xpath('.//*[contains(@class, "note-pop")] | .//sup'):
                    pop.drop_tree()
                rows.append(tuple(text(cell.text_content()) for cell in tr.xpath("./td|./th")))
            return tuple(rows)
    return None


# --- the DOCX ------------------------------------------------------------------------


@dataclass(frozen=True)
class DocxFacts:
    headings: tuple[str, ...]
    notes: tuple[str, ...]
    references: tuple[str, ...]
    matrix_rows: int | None


def read_docx(data: bytes) -> DocxFacts:
    from lxml import etree

    package = zipfile.ZipFile(io.BytesIO(data))
    document = etree.fromstring(package.read("word/document.xml"))
    styles = etree.fromstring(package.read("word/styles.xml"))
    names = {s.get(f"{W}styleId"): (s.find(f"{W}name").get(f"{W}val") or "").lower()
             for s in styles.iter(f"{W}style") if s.find(f"{W}name") is not None}
    items = []
    for paragraph in document.iter(f"{W}p"):
        style = paragraph.find(f"{W}pPr/{W}pStyle")
        name = names.get(style.get(f"{W}val"), "") if style is not None else ""
        match = re.fullmatch(r"heading (\d)", name)
        if match:
            items.append((int(match.group(1)), text(_paragraph_text(paragraph))))
    notes: tuple[str, ...] = ()
    if "word/footnotes.xml" in package.namelist():
        footnotes = etree.fromstring(package.read("word/footnotes.xml"))
        notes = tuple(f.get(f"{W}id", "") for f in footnotes.iter(f"{W}footnote")
                      if int(f.get(f"{W}id", "0")) > 0)
    references = tuple(b.get(f"{W}name", "")[len("ref-"):]
                       for b in document.iter(f"{W}bookmarkStart")
                       if b.get(f"{W}name", "").startswith("ref-"))
    return DocxFacts(_levelled(items), notes, references, _docx_matrix(document, names))


def _paragraph_text(element: Any) -> str:
    return "".join(t.text or "" for t in element.iter(f"{W}t"))


def _docx_matrix(document: Any, names: dict[str, str]) -> int | None:
    """Body rows of the table captioned "Scenario matrix" (the caption paragraph comes
    just before or just after the table)."""
    body = document.find(f"{W}body")
    children = list(body) if body is not None else []
    for index, child in enumerate(children):
        if child.tag != f"{W}tbl":
            continue
        near = [c for c in children[max(index - 1, 0):index + 2] if c.tag == f"{W}p"]
        captions = [text(_paragraph_text(p)).lower() for p in near]
        if any(c.startswith(MATRIX) for c in captions):
            rows = child.findall(f"{W}tr")
            headers = [r for r in rows if r.find(f"{W}trPr/{W}tblHeader") is not None]
            return len(rows) - len(headers)
    return None


# --- the comparison ------------------------------------------------------------------


def compare(pdf_bytes: bytes, html_text: str, docx_bytes: bytes) -> Parity:
    """Read each output back and compare headings, notes, bibliography entries and the
    scenario matrix's rows, then the words of the body text, notes, bibliography and
    matrix cells."""
    counted = _compare_counts(pdf_bytes, html_text, docx_bytes)
    return Parity(counted.rows + compare_texts(pdf_bytes, html_text, docx_bytes))


def _compare_counts(pdf_bytes: bytes, html_text: str, docx_bytes: bytes) -> Parity:
    pdf, html, docx = read_pdf(pdf_bytes), read_html(html_text), read_docx(docx_bytes)
    pdf_notes = tuple(sorted((d for d in pdf.destinations if NOTE_ID.match(d)),
                             key=lambda d: int(d[2:])))
    rows = [
        Row("Headings", pdf.headings, html.headings, docx.headings),
        Row("Notes", _numbered(len(pdf_notes)), _numbered(len(html.notes)),
            _numbered(len(docx.notes)),
            f"The PDF has {len(pdf_notes)} notes, the web page {len(html.notes)}, "
            f"the DOCX {len(docx.notes)}."),
        Row("Bibliography entries",
            tuple(sorted(d[len("ref-"):] for d in pdf.destinations if d.startswith("ref-"))),
            tuple(sorted(html.references)), tuple(sorted(docx.references))),
    ]
    if html.matrix is not None or docx.matrix_rows is not None:
        matrix = html.matrix or ()
        found = squeezed(pdf.text)
        in_pdf = tuple(row[0] for row in matrix if squeezed("".join(row)) in found)
        missing = [row[0] for row in matrix if row[0] not in in_pdf]
        docx_rows = _numbered(docx.matrix_rows or 0)
        rows.append(Row(
            "Scenario matrix rows", _numbered(len(in_pdf)), _numbered(len(matrix)), docx_rows,
            f"The web page's matrix has {len(matrix)} rows, the DOCX's "
            f"{docx.matrix_rows or 0}; the PDF shows {len(in_pdf)} of the web page's rows"
            + (f" (missing: {', '.join(missing)})." if missing else ".")))
    return Parity(tuple(rows))


def _numbered(count: int) -> tuple[str, ...]:
    """A count as a sequence, so every row compares sequences."""
    return tuple(str(n) for n in range(1, count + 1))

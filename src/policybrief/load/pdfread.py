"""A PDF's text as a reader reads it: pdfplumber's words and their positions, put in order.

pdfplumber (on pdfminer.six) gives every word with its box and type size; this module
only decides what a reader skips and in which order the rest is read:

- **running heads and feet**: a line in the top or bottom band of a page that recurs at
  the same height on other pages (digits ignored, so "Page 3" matches "Page 4"), and a
  bare page number there ("7", "Page 7", "7 of 12", "- 7 -"), are dropped;
- **columns**: a page whose words leave a vertical gutter in its middle is read column
  by column; lines that cross the gutter (a title, a wide table) are read in place;
- **footnotes**: the lines at the foot of a page from the first one that starts with a
  note number (below a gap, in type smaller than the body's, as are all below it) are
  notes: each note is
  its own paragraph, after all the body text under a "Notes" heading; the raised note
  numbers in the body are dropped, so that a quote across one is still found;
- **paragraphs**: a new one starts after a vertical gap larger than the line pitch, or
  at an indented first line; a paragraph cut by a column or page break continues when
  its last line does not end a sentence or the next begins in lower case (a paragraph
  that breaks exactly between two sentences is read as two);
- **headings**: a short line in type clearly larger than the body's becomes a Markdown
  heading (the largest size ``#``, the next ``##``, …);
- **hyphens**: a line that ends in the hyphenation character (U+2010, a soft hyphen, or
  "-" when the document uses it for hyphenation) before a lower-case letter is joined
  without it ("escala‐" + "tion" → "escalation"); a hyphen before a capital, or a
  real "-" in a document that hyphenates with U+2010, stays ("pro-" + "Iran" →
  "pro-Iran", "al-" + "Sadr" → "al-Sadr").

The result is Markdown-ish text: headings as ``#`` lines, one paragraph per line,
paragraphs separated by blank lines. The same PDF always gives the same text, so the
¶ numbers of its passages are stable.
"""

from __future__ import annotations

import io
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

BAND = 0.1  # the top and bottom tenth of a page hold running heads and feet
_PAGE_NUMBER = re.compile(r"(?i)^[-–—(\[]*\s*(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?"
                          r"\s*[-–—)\]]*$")
_NOTE_MARK = re.compile(r"^(?:\d{1,3}[.)]?|[*†‡§])$")
_FINAL = re.compile(r"[.!?…:][\"'”’)\]]*$")
HYPHENS = "\u2010\u00ad-"


@dataclass
class Line:
    page: int
    top: float
    bottom: float
    x0: float
    x1: float
    size: float
    words: list[dict[str, Any]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(w["text"] for w in self.words)


def _rows(words: list[dict[str, Any]], page: int) -> list[Line]:
    """Words grouped into rows by their baseline, left to right."""
    rows: list[Line] = []
    for w in sorted(words, key=lambda w: (round(w["bottom"]), w["x0"])):
        row = rows[-1] if rows else None
        if row is not None and abs(row.bottom - w["bottom"]) <= max(2.0, 0.3 * w["size"]):
            row.words.append(w)
            row.x0, row.x1 = min(row.x0, w["x0"]), max(row.x1, w["x1"])
            row.top = min(row.top, w["top"])
        else:
            rows.append(Line(page, w["top"], w["bottom"], w["x0"], w["x1"], w["size"], [w]))
    for row in rows:
        row.words.sort(key=lambda w: w["x0"])
        row.size = _size(row.words)
    rows.sort(key=lambda r: r.top)
    return rows


def _size(words: list[dict[str, Any]]) -> float:
    """The type size of most of the characters."""
    return float(Counter(round(w["size"], 1) for w in words for _ in w["text"])
                 .most_common(1)[0][0])


def _split(row: Line, at: float) -> list[Line]:
    parts = []
    for side in ([w for w in row.words if w["x1"] <= at], [w for w in row.words
                                                          if w["x0"] >= at]):
        if side:
            part = Line(row.page, min(w["top"] for w in side), row.bottom,
                        min(w["x0"] for w in side), max(w["x1"] for w in side), _size(side),
                        side)
            parts.append(part)
    return parts


def _gutter(rows: list[Line], width: float) -> float | None:
    """The x of a vertical gap that splits most rows into a left and a right part."""
    words = [w for r in rows for w in r.words]
    if len(words) < 20:
        return None
    best: tuple[int, float] | None = None
    for step in range(30, 71):
        x = width * step / 100
        crossing = sum(1 for w in words if w["x0"] < x < w["x1"])
        left = sum(1 for w in words if w["x1"] <= x)
        right = len(words) - crossing - left
        if left < 0.25 * len(words) or right < 0.25 * len(words):
            continue
        if crossing <= 0.03 * len(words) and (best is None or crossing < best[0]):
            best = (crossing, x)
    return best[1] if best is not None else None


def _key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.split())).casefold()


def _furniture(pages: list[list[Line]], heights: list[float]) -> set[int]:
    """ids of rows that are running heads or feet, or page numbers, in the bands."""
    drop: set[int] = set()
    seen: Counter[tuple[str, int]] = Counter()
    banded: list[tuple[Line, tuple[str, int]]] = []
    for rows, height in zip(pages, heights, strict=True):
        for i, row in enumerate(rows):
            top, bottom = row.top < BAND * height, row.bottom > (1 - BAND) * height
            if not (top or bottom):
                continue
            # furniture stands apart from the text block: a line's height of space
            # between it and the next line towards the middle of the page
            inner = rows[i + 1] if top and i + 1 < len(rows) else \
                rows[i - 1] if bottom and i > 0 else None
            if inner is not None and (inner.top - row.bottom if top
                                      else row.top - inner.bottom) < 0.9 * row.size:
                continue
            if _PAGE_NUMBER.match(row.text.strip()):
                drop.add(id(row))
                continue
            where = (_key(row.text), round(row.top / 6))
            banded.append((row, where))
            seen[where] += 1
    if len(pages) > 1:
        drop.update(id(row) for row, where in banded if seen[where] >= 2)
    return drop


def _without_calls(words: list[dict[str, Any]], body: float) -> list[dict[str, Any]]:
    """The words without raised note numbers (a smaller number set right after a word of
    body text, its foot above that word's baseline)."""
    def after(w: dict[str, Any], o: dict[str, Any]) -> bool:
        return bool(-1 < w["x0"] - o["x1"] < 0.5 * body
                    and o["top"] < w["bottom"] <= o["bottom"])

    out = list(words)
    for w in words:
        if w["size"] >= body * 0.95 or not re.fullmatch(r"\d{1,3}|[*†‡§]", w["text"]):
            continue
        before = next((o for o in out if o is not w and o["size"] >= body * 0.95
                       and after(w, o) and w["bottom"] < o["bottom"] - 0.5), None)
        if before is None:
            continue
        out.remove(w)
        # punctuation set right after the call belongs to the word before it
        rest = next((o for o in out if abs(o["x0"] - w["x1"]) < 1
                     and o["top"] < before["bottom"] and o["bottom"] > before["top"]), None)
        if rest is not None and not rest["text"][:1].isalnum():
            out[out.index(before)] = {**before, "text": before["text"] + rest["text"],
                                      "x1": rest["x1"]}
            out.remove(rest)
    return out


@dataclass
class _Para:
    lines: list[Line]
    kind: str = "body"  # "body", "heading", "note"


def read(data: bytes) -> str:
    """The text of a PDF read as a reader reads it (see the module docstring)."""
    import pdfplumber

    pages: list[list[Line]] = []
    widths: list[float] = []
    heights: list[float] = []
    pages_words: list[list[dict[str, Any]]] = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            pages_words.append(page.extract_words(extra_attrs=["size"],
                                                  keep_blank_chars=False))
            widths.append(float(page.width))
            heights.append(float(page.height))
    sizes: Counter[float] = Counter()
    for words in pages_words:
        for w in words:
            sizes[round(w["size"], 1)] += len(w["text"])
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    pages = [_rows(_without_calls(words, body), n) for n, words in enumerate(pages_words)]
    drop = _furniture(pages, heights)
    pages = [[r for r in rows if id(r) not in drop] for rows in pages]
    flows: list[list[Line]] = []  # per page: body lines in reading order
    notes: list[list[Line]] = []
    for rows, width in zip(pages, widths, strict=True):
        rows = [r for r in rows if r.text.strip()]
        feet = _notes_start(rows, body)
        text_rows, note_rows = rows[:feet], rows[feet:]
        notes.append(note_rows)
        flows.append(_reading_order(text_rows, width))
    paras = _paragraphs(flows, body)
    note_paras = _note_paragraphs(notes)
    uses_u2010 = any(w["text"].endswith("\u2010") for rows in pages for r in rows
                     for w in r.words[-1:])
    levels = sorted({round(p.lines[0].size) for p in paras if p.kind == "heading"},
                   reverse=True)
    out: list[str] = []
    for para in paras:
        text = _join(para.lines, uses_u2010)
        if para.kind == "heading":
            level = min(levels.index(round(para.lines[0].size)) + 1, 6)
            out.append("#" * level + " " + text)
        else:
            out.append(_escape(text))
    if note_paras:
        out.append("## Notes")
        out += [_join(p, uses_u2010) for p in note_paras]  # "1. …": each its own passage
    return "\n\n".join(t for t in out if t.strip()) + "\n" if out else ""


def _escape(text: str) -> str:
    """A paragraph that would read as a heading or list item keeps its text (the
    sources reader removes the backslash)."""
    m = re.match(r"\d{1,3}(?=[.)] )", text)
    if m:
        return text[: m.end()] + "\\" + text[m.end():]
    return "\\" + text if re.match(r"(?:#|[-*+] |=)", text) else text


def _notes_start(rows: list[Line], body: float) -> int:
    """Index of the first footnote row of a page (len(rows) when there is none)."""
    if len(rows) < 2:
        return len(rows)
    pitches = [b.top - a.top for a, b in zip(rows, rows[1:], strict=False) if b.top > a.top]
    pitch = statistics.median(pitches) if pitches else body * 1.2
    page_bottom = rows[-1].bottom
    page_top = rows[0].top
    for i in range(1, len(rows)):
        row = rows[i]
        if row.top < page_top + 0.5 * (page_bottom - page_top):
            continue
        first = row.words[0]["text"]
        gap = row.top - rows[i - 1].bottom
        # notes are set smaller than the body: a paragraph that happens to begin with
        # a number ("15 deputies resigned") is not a note
        if _NOTE_MARK.match(first) and row.size < body * 0.95 and gap > 0.5 * pitch \
                and all(r.size < body * 0.95 for r in rows[i:]):
            return i
    return len(rows)


def _reading_order(rows: list[Line], width: float) -> list[Line]:
    """Rows in reading order: column by column between rows that cross the gutter."""
    at = _gutter(rows, width)
    if at is None:
        return rows
    out: list[Line] = []
    left: list[Line] = []
    right: list[Line] = []
    for row in rows:
        if any(w["x0"] < at < w["x1"] for w in row.words):
            out += left + right + [row]
            left, right = [], []
            continue
        for part in _split(row, at):
            (left if part.x1 <= at else right).append(part)
    return out + left + right


def _paragraphs(flows: list[list[Line]], body: float) -> list[_Para]:
    lines = [r for flow in flows for r in flow]
    pitches = [b.top - a.top for a, b in zip(lines, lines[1:], strict=False)
               if 0 < b.top - a.top < 3 * body and abs(a.size - body) < 0.2
               and abs(b.size - body) < 0.2]
    pitch = statistics.median(pitches) if pitches else body * 1.25
    left_edges: Counter[int] = Counter(round(r.x0) for r in lines)
    right = max((r.x1 for r in lines), default=0.0)
    paras: list[_Para] = []
    prev: Line | None = None
    for line in lines:
        heading = line.size >= body * 1.15 and len(line.text) <= 120
        if prev is None:
            paras.append(_Para([line], "heading" if heading else "body"))
            prev = line
            continue
        same_flow = line.page == prev.page and line.top > prev.top and \
            abs(line.x0 - prev.x0) < 0.3 * (right or 1) and line.x0 < prev.x1
        gap = line.top - prev.top if same_flow else None
        indented = same_flow and line.x0 > prev.x0 + 0.8 * body and \
            left_edges[round(line.x0)] < left_edges[round(prev.x0)]
        current = paras[-1]
        if heading or current.kind == "heading":
            if current.kind == "heading" and heading and gap is not None and \
                    gap < 1.6 * line.size and abs(line.size - prev.size) < 0.2:
                current.lines.append(line)  # a heading on two lines
            else:
                paras.append(_Para([line], "heading" if heading else "body"))
        elif gap is not None:
            if gap > pitch * 1.3 or indented:
                paras.append(_Para([line]))
            else:
                current.lines.append(line)
        else:  # a new column or page: does the paragraph go on?
            last = current.lines[-1]
            if not _FINAL.search(last.text) or line.words[0]["text"][:1].islower():
                current.lines.append(line)
            else:
                paras.append(_Para([line]))
        prev = line
    return paras


def _note_paragraphs(pages: list[list[Line]]) -> list[list[Line]]:
    notes: list[list[Line]] = []
    for rows in pages:
        for row in rows:
            if _NOTE_MARK.match(row.words[0]["text"]) or not notes:
                notes.append([row])
            else:
                notes[-1].append(row)
    return notes


def _join(lines: list[Line], uses_u2010: bool) -> str:
    """The lines of a paragraph as one line, hyphenation undone."""
    text = ""
    for line in lines:
        part = " ".join(line.text.split())
        if not text:
            text = part
            continue
        end = text[-1]
        broken = end in HYPHENS and len(text) > 1 and text[-2].isalpha()
        if broken and part[:1].islower() and (end != "-" or not uses_u2010):
            text = text[:-1] + part
        elif broken and end != "\u00ad":
            text = text[:-1] + "-" + part if end == "\u2010" else text + part
        else:
            text = f"{text} {part}"
    return text

"""Guessing a new source's metadata from the file itself, saying where each guess came from.

``brief sources add`` fills the entry from the command's flags first, then from what the
document says about itself (an HTML page's ``<meta>`` tags, a PDF's document info and
XMP), then from what it prints near the top, then from the file's name:

- **title**: the first Markdown heading, else the first line (when it reads as a title);
- **date**: a dateline or date line in the first lines (``Shafaq News, 2022-06-26``,
  ``26 June 2022``, ``June 26, 2022``, ``Published: 2022-06-26``), else a date in the
  file name (``shafaq-2022-06-26.txt``, ``20220626-report.pdf``);
- **organization** (publisher or site): the dateline's other part, else a byline's
  (``By Jane Smith, Shafaq News``), else the host of a printed URL;
- **author**: a byline (``By Jane Smith``);
- **url**: a URL printed as the source (``Source: https://…``) or in the first lines.

Each guess is a :class:`Guess` field with its origin (``line 3``, ``file name``,
``document info``), which ``sources add`` prints so that the analyst can correct it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

MONTHS = {name: n for n, names in enumerate((
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
    ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
    ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
    ("december", "dec")), 1) for name in names}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_ISO = r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
_DMY = rf"(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m2>{_MONTH})\.?,?\s+(?P<y2>\d{{4}})"
_MDY = rf"(?P<m3>{_MONTH})\.?\s+(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y3>\d{{4}})"
_MY = rf"(?P<m4>{_MONTH})\.?\s+(?P<y4>\d{{4}})"
DATE = re.compile(rf"(?<![\w-])(?:{_ISO}|{_DMY}|{_MDY}|{_MY})(?![\w-])", re.I)
_NAME_DATE = re.compile(r"(?<!\d)(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})(?!\d)"
                        r"|(?<!\d)((?:19|20)\d{2})(?!\d)")
_URL = re.compile(r"https?://[^\s<>\"'()\[\]]+[^\s<>\"'()\[\].,;:!?]")
_SOURCE_URL = re.compile(r"^\s*(?:source|url|link|originally published(?: at)?|retrieved "
                         r"from|available at|read online)\s*:?\s*(https?://\S+)", re.I)
_BYLINE = re.compile(r"^\s*(?:by|written by|author:?)\s+(.+)$", re.I)
_LABEL = re.compile(r"^\s*(?:published|posted|updated|date|dated|first published)"
                    r"(?:\s+on)?\s*:?\s*", re.I)
_SEPARATORS = " \t,;:|–—-·•/()[]"
TOP = 12  # how many non-empty lines count as "near the top"
_NAVIGATION = re.compile(r"(?:\s[|›»>]\s.*){2,}|^(?:tags?|share|home)\b", re.I)
_NOBODY = re.compile(r"(?i)\b(?:staff|reporter|reporters|editor|editors|correspondent|"
                     r"desk|agencies|newsroom|bureau|admin|anonymous)\b")


@dataclass
class Guess:
    """Fields guessed from a document, and where each one came from."""

    fields: dict[str, str] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)

    def put(self, name: str, value: str, origin: str) -> None:
        value = " ".join(value.split())
        if value and name not in self.fields:
            self.fields[name] = value
            self.origins[name] = origin

    def get(self, name: str) -> str:
        return self.fields.get(name, "")


def iso(y: str | int, m: str | int = 0, d: str | int = 0) -> str:
    """``YYYY[-MM[-DD]]`` when it is a real calendar date, else ""."""
    try:
        y, m, d = int(y), int(m or 0), int(d or 0)
        if not 1000 <= y <= 2999:
            return ""
        if d:
            return dt.date(y, m, d).isoformat()
        if m:
            return f"{y:04d}-{m:02d}" if 1 <= m <= 12 else ""
        return f"{y:04d}"
    except ValueError:
        return ""


def find_date(text: str) -> tuple[str, re.Match[str]] | None:
    """The first date written out in ``text`` (ISO, "26 June 2022", "June 26, 2022",
    "June 2022") as ISO 8601, with its match."""
    for m in DATE.finditer(text):
        g = m.groupdict()
        if g["y"]:
            day = iso(g["y"], g["m"], g["d"])
        elif g["y2"]:
            day = iso(g["y2"], MONTHS[g["m2"].lower()], g["d2"])
        elif g["y3"]:
            day = iso(g["y3"], MONTHS[g["m3"].lower()], g["d3"])
        else:
            day = iso(g["y4"], MONTHS[g["m4"].lower()])
        if day:
            return day, m
    return None


def dateline(line: str) -> tuple[str, str] | None:
    """(ISO date, the rest) when ``line`` is a dateline: a date and at most a few words
    (a publisher, a place, "Published:"), not a sentence that mentions a date."""
    found = find_date(line)
    if not found or re.match(r"\s*[-*+•]\s", line):  # a list item: an infobox field
        return None
    day, m = found
    rest = (line[: m.start()] + " " + line[m.end():]).strip(_SEPARATORS + ".")
    if find_date(rest):  # two dates: a span of time, not a dateline
        return None
    words = _LABEL.sub("", rest).split()
    if len(words) > 6 or not all(w[:1].isupper() or w[:1].isdigit() or w.lower() in (
            "of", "the", "and", "for", "al", "by", "on", "at", "in", "&", "—", "–", "-", "|")
            for w in words):
        return None
    return day, rest


def from_name(stem: str) -> Guess:
    """A date and a slug from a file name: ``shafaq-2022-06-26`` → 2022-06-26, shafaq."""
    guess = Guess()
    m = _NAME_DATE.search(stem)
    rest = stem
    if m:
        day = iso(*m.group(1, 2, 3)) if m.group(1) else iso(m.group(4))
        if day:
            guess.put("date", day, f"the file name ({stem})")
            rest = stem[: m.start()] + " " + stem[m.end():]
    slug = re.sub(r"[\W_]+", " ", rest).strip()
    guess.put("slug", slug, f"the file name ({stem})")
    return guess


def _publisher(text: str) -> str:
    """A short, capitalised name left over once the date and labels are gone."""
    text = _LABEL.sub("", text).strip(_SEPARATORS)
    text = re.sub(r"^(?:the\s+)?(?:published|posted|updated)\s+(?:by|in|on)\s+", "", text,
                  flags=re.I).strip(_SEPARATORS)
    words = text.split()
    if not words or len(words) > 6 or len(text) > 60 or text.endswith((".", "?", "!")):
        return ""
    if not all(w[0].isupper() or w[0].isdigit() or w.lower() in ("of", "and", "for", "the",
                                                                 "al", "&")
               for w in words):
        return ""
    return text


def _person(text: str) -> tuple[str, str]:
    """A byline's author and, after a comma or "for", its publisher."""
    text = text.strip(_SEPARATORS)
    parts = re.split(r"\s*(?:,|\s[|–—-]\s|\sfor\s)\s*", text, maxsplit=1)
    who = parts[0].strip()
    org = _publisher(parts[1]) if len(parts) > 1 else ""
    if _NOBODY.search(who):  # "By Staff Writer", "By our Baghdad correspondent"
        return "", org
    if not who or len(who.split()) > 5 or not all(w[0].isupper() for w in who.split()
                                                   if w.lower() not in ("and", "al", "de",
                                                                        "van", "von")):
        return "", ""
    return who, org


def from_text(text: str) -> Guess:
    """Title, date, publisher, author and URL from a plain-text or Markdown document."""
    guess = Guess()
    numbered = [(no, line.strip()) for no, line in enumerate(text.splitlines(), 1)
                if line.strip()]
    top = numbered[:TOP]
    for no, line in top:
        heading = re.match(r"^#{1,6}\s+(.+?)\s*#*$", line)
        if heading:
            guess.put("title", heading.group(1).strip("*_ "), f"the first heading (line {no})")
            break
    if "title" not in guess.fields:
        # the first line that reads as a title: not navigation, a dateline, a byline or
        # a URL
        for no, line in top[:4]:
            if _NAVIGATION.search(line) or _URL.search(line) or _BYLINE.match(line) \
                    or dateline(line) or len(line) > 150:
                continue
            guess.put("title", line.strip("*_ "), f"the first line (line {no})")
            break
    for no, line in top:
        if len(line) > 120 or line.startswith("#"):
            continue
        byline = _BYLINE.match(line)
        found = dateline(line)
        if byline:
            who, org = _person(DATE.sub("", byline.group(1)))
            guess.put("author", who, f"the byline (line {no})")
            guess.put("organization", org, f"the byline (line {no})")
        if found:
            day, rest = found
            guess.put("date", day, f"the dateline (line {no}: “{line}”)")
            if not byline:
                guess.put("organization", _publisher(rest),
                          f"the dateline (line {no}: “{line}”)")
    for no, line in numbered:
        said = _SOURCE_URL.match(line)
        url = _URL.match(said.group(1)) if said else None
        if url:
            guess.put("url", url.group(), f"line {no}")
    for no, line in top:
        url = _URL.search(line)
        if url:
            guess.put("url", url.group(), f"line {no}")
    if guess.get("url") and "organization" not in guess.fields:
        host = re.sub(r"^https?://(?:www\.)?", "", guess.get("url")).split("/")[0]
        guess.put("organization", host, f"the URL's host ({guess.origins['url']})")
    return guess


def from_pdf(data: bytes) -> Guess:
    """Title, author and date from a PDF's document info and XMP, then its first page
    (the largest type on it is the title; a date printed on it is the date)."""
    import io
    import logging

    from pypdf import PdfReader

    guess = Guess()
    info: Any = {}
    xmp: dict[str, str] = {}
    quiet = logging.getLogger("pypdf")
    level, quiet.level = quiet.level, logging.CRITICAL
    try:
        reader = PdfReader(io.BytesIO(data))
        info = reader.metadata or {}
        xmp = _xmp(reader)
    except Exception:  # noqa: BLE001 — metadata is a guess; the text is read elsewhere
        info, xmp = {}, {}
    finally:
        quiet.setLevel(level)
    for name, key in (("title", "/Title"), ("author", "/Author")):
        value = str(info.get(key) or "").strip()
        if value and value.lower() not in ("untitled", "unknown", "anonymous"):
            guess.put(name, value, f"the document info ({key[1:]})")
        guess.put(name, xmp.get(name, ""), "the XMP metadata")
    guess.put("date", xmp.get("date", ""), "the XMP metadata")
    created = re.match(r"D:(\d{4})(\d{2})?(\d{2})?", str(info.get("/CreationDate") or ""))
    if created:
        guess.put("date", iso(*(g or 0 for g in created.groups())),
                  "the document info (CreationDate)")
    first = _first_page(data)
    if first:
        title, text = first
        guess.put("title", title, "the largest type on the first page")
        for no, line in enumerate(text.splitlines()[:TOP], 1):  # a dateline, not the body
            found = dateline(line)
            if found:
                guess.put("date", found[0], f"the first page (line {no}: “{line.strip()}”)")
                break
    return guess


def _xmp(reader: object) -> dict[str, str]:
    meta = getattr(reader, "xmp_metadata", None)
    if meta is None:
        return {}
    out: dict[str, str] = {}
    title = getattr(meta, "dc_title", None) or {}
    if isinstance(title, dict) and title:
        out["title"] = str(title.get("x-default") or next(iter(title.values())))
    creators = getattr(meta, "dc_creator", None) or []
    if creators:
        out["author"] = " and ".join(str(c) for c in creators)
    for name in ("xmp_create_date", "dc_date"):
        value = getattr(meta, name, None)
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, dt.datetime | dt.date):
            out.setdefault("date", value.strftime("%Y-%m-%d"))
    return out


def _first_page(data: bytes) -> tuple[str, str] | None:
    """The first page's largest-type line (its title) and its text."""
    import io

    import pdfplumber

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            if not pdf.pages:
                return None
            page = pdf.pages[0]
            lines = page.extract_text_lines(return_chars=True)
            text = page.extract_text() or ""
    except Exception:  # noqa: BLE001 — a guess only
        return None
    if not lines:
        return None
    size = max(max(c["size"] for c in ln["chars"]) for ln in lines)
    title = " ".join(ln["text"].strip() for ln in lines
                     if max(c["size"] for c in ln["chars"]) >= size - 0.5)
    return (title if len(title) <= 200 else "", text)

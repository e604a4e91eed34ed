"""``brief sources add``: store a new source under ``seeds/`` and give it an entry.

A ``.txt`` or ``.md`` file is stored as it is. An ``.html`` page is read with lxml:
only its main text (``<main>``, else the longest ``<article>``, else ``<body>``, with
navigation, headers, footers, asides, scripts, styles and forms dropped), headings kept
as Markdown ``#`` lines and paragraphs separated by blank lines. A ``.pdf`` is read with
pypdf. For both the original is stored and its text beside it as ``seeds/<stem>.txt``,
which the entry's ``file`` field names (the original goes in ``original``).

The entry is built as a bibtexparser ``Entry`` and written with bibtexparser's writer,
appended to the end of ``bibliography.bib``: every existing byte stays as it was.
Metadata comes from the flags, else from the document itself.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import confine, links
from ..errors import BriefError, UsageError
from ..model import Project, Source


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
MAX_ORIGINAL = 50 * 1024 * 1024
DROP = ("//script|//style|//noscript|//template|//nav|//aside|//form|//iframe|//svg"
        "|//button|//select|//textarea|//*[@hidden]|//*[@aria-hidden='true']"
        "|//*[@role='navigation' or @role='banner' or @role='contentinfo' "
        "or @role='complementary' or @role='search']|//footer")
BLOCKS = _words("""p div section li ul ol blockquote pre table thead tbody tfoot tr td
    th dl dt dd figure figcaption address main article header details summary hr""")
HEADINGS = {f"h{n}": n for n in range(1, 7)}
ORG_WORDS = _words("""institute institution university ministry council center centre
    agency office foundation group committee association organisation organization
    contributors news press bank fund commission department government service
    programme program forum network society project""")
TITLE_STOP = _words("a an the of on in to for and at by with from is are why how what")
_LATEX = str.maketrans({"%": r"\%", "&": r"\&", "$": r"\$", "#": r"\#", "_": r"\_",
                        "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                        "\\": r"\textbackslash{}", "{": None, "}": None})


@dataclass(frozen=True)
class Metadata:
    title: str = ""
    author: str = ""
    date: str = ""
    url: str = ""
    organization: str = ""
    url_line: int = 1  # where the page gives its address (its canonical link)


@dataclass(frozen=True)
class Added:
    """What ``add_source`` did: the key, the entry's fields, and the files it wrote."""

    key: str
    entry_type: str
    fields: dict[str, str]
    written: tuple[str, ...]
    source: Source
    guessed: dict[str, str] = field(default_factory=dict)  # field → where it came from


# --- reading documents ---------------------------------------------------------------


def _date(text: str) -> str:
    """An ISO date (or year-month, or year) from the start of ``text``; "" if none."""
    text = text.strip().removeprefix("D:")
    m = re.match(r"(\d{4})(?:[-/.]?(\d{2})(?:[-/.]?(\d{2}))?)?", text)
    if not m:
        return ""
    return "-".join(part for part in m.groups() if part)


def html_text(data: bytes) -> tuple[str, Metadata]:
    """The main text of an HTML page as Markdown-ish text, and its metadata."""
    from lxml import html as lhtml

    try:
        try:
            doc = lhtml.document_fromstring(data.decode("utf-8").removeprefix("\ufeff"))
        except UnicodeDecodeError:
            doc = lhtml.document_fromstring(data)
    except Exception as exc:  # noqa: BLE001 — lxml raises ParserError, ValueError, ...
        raise BriefError(f"cannot parse the HTML: {exc}", rule="sources.add") from None
    except RecursionError:
        raise BriefError("cannot parse the HTML: it is nested too deeply",
                         rule="sources.add") from None
    meta = _html_meta(doc)
    for el in doc.xpath(DROP):
        if el.getparent() is not None:
            el.drop_tree()
    for el in doc.xpath("//header"):
        if not el.xpath("ancestor::main|ancestor::article") and el.getparent() is not None:
            el.drop_tree()
    roots = doc.xpath("//main|//*[@role='main']") or doc.xpath("//article")
    root = max(roots, key=lambda e: len(e.text_content())) if roots else doc.find("body")
    blocks: list[str] = []
    if root is not None:
        _Walker(blocks).walk(root)
    if not meta.title:
        first = next((b.lstrip("# ") for b in blocks if b.startswith("#")), "")
        meta = replace(meta, title=first)
    return "\n\n".join(blocks) + "\n" if blocks else "", meta


def _html_meta(doc: Any) -> Metadata:
    named: dict[str, list[str]] = {}
    for el in doc.xpath("//meta[@content]"):
        name = (el.get("name") or el.get("property") or "").strip().lower()
        value = " ".join(el.get("content").split())
        if name and value:
            named.setdefault(name, []).append(value)

    def first(*names: str) -> str:
        return next((named[n][0] for n in names if n in named), "")

    title = first("citation_title", "og:title", "dc.title")
    if not title:
        title = " ".join(" ".join(doc.xpath("//title//text()")).split())
        # "Headline | Site name": keep the headline (the page's h1 when it agrees)
        heading = " ".join(" ".join(doc.xpath("(//h1)[1]//text()")).split())
        if heading and title.startswith(heading) and len(heading) < len(title):
            title = heading
        else:
            title = re.split(r"\s+[|–—]\s+|\s+-\s+(?=[^-]*$)", title)[0] or title
    authors = named.get("citation_author") or named.get("dc.creator") or []
    author = " and ".join(authors) or first("author")
    if not author and "article:author" in named and "://" not in named["article:author"][0]:
        author = named["article:author"][0]
    canonical = doc.xpath("//link[@rel='canonical']/@href")
    element = next(iter(doc.xpath("//link[@rel='canonical']")), None)
    return Metadata(
        title=title, author=author,
        date=_date(first("citation_publication_date", "citation_date",
                         "article:published_time", "dc.date", "date")),
        url=str(canonical[0]).strip() if canonical else first("og:url"),
        organization=first("og:site_name", "citation_publisher"),
        url_line=getattr(element, "sourceline", None) or 1)


class _Walker:
    """Blocks of text from an element tree: headings as ``#`` lines, items as ``- ``."""

    def __init__(self, blocks: list[str]) -> None:
        self.blocks = blocks
        self.parts: list[str] = []
        self.prefix = ""

    def flush(self) -> None:
        text = " ".join("".join(self.parts).split())
        if text:
            if text.startswith(("#", "- ", "* ", "+ ")) and not self.prefix:
                text = "\\" + text
            self.blocks.append(self.prefix + text)
        self.parts, self.prefix = [], ""

    def walk(self, el: Any) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        tag = tag.lower()
        if tag in HEADINGS:
            self.flush()
            text = " ".join(el.text_content().split())
            if text:
                self.blocks.append("#" * HEADINGS[tag] + " " + text)
            return
        if tag == "br":
            self.parts.append(" ")
            return
        block = tag in BLOCKS
        if block:
            self.flush()
            if tag == "li":
                self.prefix = "- "
        if tag and el.text:
            self.parts.append(el.text)
        for child in el:
            self.walk(child)
            if child.tail:
                self.parts.append(child.tail)
        if block:
            self.flush()


def pdf_text(data: bytes) -> tuple[str, Metadata]:
    """The text of a PDF, page by page, split into paragraphs; and its metadata."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    quiet = logging.getLogger("pypdf")  # its warnings repeat the error raised below
    level, quiet.level = quiet.level, logging.CRITICAL
    try:
        reader = PdfReader(io.BytesIO(data))
        info: Any = reader.metadata or {}
        len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            AssertionError, ZeroDivisionError, OverflowError) as exc:
        raise BriefError(f"cannot read the PDF: {exc}", rule="sources.add") from None
    except RecursionError:
        raise BriefError("cannot read the PDF: its objects are nested too deeply",
                         rule="sources.add") from None
    except MemoryError:
        raise BriefError("cannot read the PDF: it needs too much memory",
                         rule="sources.add") from None
    finally:
        quiet.setLevel(level)
    meta = Metadata(title=" ".join(str(info.get("/Title") or "").split()),
                    author=" ".join(str(info.get("/Author") or "").split()),
                    date=_date(str(info.get("/CreationDate") or "")))
    return _pdf_layout_text(data), meta


def _pdf_layout_text(data: bytes) -> str:
    """The text as a reader reads it: see :mod:`policybrief.pdfread` (pdfplumber)."""
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfplumber.utils.exceptions import PdfminerException

    from ..load import pdfread

    try:
        return pdfread.read(data)
    except (PdfminerException, PDFSyntaxError, ValueError, KeyError, TypeError) as exc:
        raise BriefError(f"cannot read the PDF: {exc}") from None


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _corporate(name: str) -> bool:
    words = name.split()
    return ("," not in name and (len(words) > 3 or any(c in name for c in "–&0123456789")
                                 or any(w.lower().strip(".") in ORG_WORDS for w in words)))


def make_key(author: str, date: str, title: str, url: str = "", organization: str = "",
             slug: str = "") -> str:
    """``rasanah2024rifts``: author-ish, year, first title word; lower-case ASCII.

    Without an author the publisher names it (``shafaq2022coordination``), then the
    URL's host, then the file name's first word: never ``anon``."""
    if not author.strip("{} ") and organization:  # a publisher: a name, whatever its length
        author = next((w for w in organization.split() if w.lower() not in TITLE_STOP), "")
    first = re.split(r"\s+and\s+", author.strip("{} "))[0].strip()
    if "," in first:
        name = first.split(",")[0]
    elif _corporate(first):  # "The Washington Post" → washington
        name = next((w for w in first.split() if w.lower() not in TITLE_STOP), "")
    else:
        name = first.split()[-1] if first.split() else ""
    who = _ascii(name)
    if not who and url:
        host = re.sub(r"^(?:https?://)?(?:www\.)?", "", url).split("/")[0]
        who = _ascii(host.split(".")[0])
    if not who and slug:
        who = next((w for w in (_ascii(p) for p in slug.split()) if w and not w.isdigit()), "")
    year = date[:4] if date[:4].isdigit() else "nd"
    words = [_ascii(w) for w in re.split(r"[\s\-‐‑–—/:;,.]+", title)]
    word = next((w for w in words if len(w) > 2 and w not in TITLE_STOP), "") or \
        next((w for w in words if w), "source")
    return f"{who or 'anon'}{year}{word}"


def _bib_value(text: str) -> str:
    return " ".join(text.translate(_LATEX).split())


def _bib_author(author: str) -> str:
    names = [n.strip() for n in re.split(r"\s+and\s+", author.strip("{} ")) if n.strip()]
    return " and ".join("{" + _bib_value(n) + "}" if _corporate(n) else _bib_value(n)
                        for n in names)


def entry_text(key: str, entry_type: str, fields: dict[str, str]) -> str:
    """The entry as bibtexparser writes it (values enclosed in braces)."""
    import bibtexparser
    from bibtexparser.library import Library
    from bibtexparser.middlewares import AddEnclosingMiddleware
    from bibtexparser.model import Entry, Field
    from bibtexparser.writer import BibtexFormat

    library = Library([Entry(entry_type, key, [Field(k, v) for k, v in fields.items()])])
    form = BibtexFormat()
    form.indent = "  "
    form.value_column = "auto"
    enclose = AddEnclosingMiddleware(reuse_previous_enclosing=False, enclose_integers=True,
                                     default_enclosing="{")
    return str(bibtexparser.write_string(library, unparse_stack=[enclose], bibtex_format=form))


def _appended(existing: str, entry: str) -> str:
    if not existing:
        return entry
    gap = "" if existing.endswith("\n\n") else "\n" if existing.endswith("\n") else "\n\n"
    return existing + gap + entry


# --- adding --------------------------------------------------------------------------


def read_document(path: Path) -> tuple[bytes, str | None, Metadata]:
    """The document's bytes, its extracted text (None for .txt/.md) and its metadata."""
    suffix, shown = path.suffix.lower(), str(path)
    if suffix not in SUFFIXES:
        raise BriefError(f"cannot add a '{suffix or path.name}' file as a source", shown, 1,
                         hint="sources are .txt, .md, .html or .pdf files", rule="sources.add")
    try:
        # the limit before the bytes: a size from stat, then a read that stops past it
        # (a device or a pipe has no size to stat)
        if path.stat().st_size > MAX_ORIGINAL:
            raise BriefError("the document is larger than 50 MB", shown, 1,
                             rule="sources.add")
        with open(path, "rb") as handle:
            data = handle.read(MAX_ORIGINAL + 1)
    except OSError as exc:
        raise BriefError(f"cannot read the document: {exc.strerror or exc}", shown, 1,
                         rule="sources.add") from None
    if len(data) > MAX_ORIGINAL:
        raise BriefError("the document is larger than 50 MB", shown, 1, rule="sources.add")
    if not data.strip():
        raise BriefError("the document is empty", shown, 1, rule="sources.add")
    if suffix in (".txt", ".md"):
        from ..load.textfile import decode

        decode(data, shown, "the document")  # UTF-16, Latin-1, a PDF renamed: say which
        return data, None, Metadata()
    try:
        text, found = pdf_text(data) if suffix == ".pdf" else html_text(data)
    except BriefError as exc:
        raise BriefError(exc.message, shown, 1, rule="sources.add") from None
    if not text.strip():
        raise BriefError("no text found in the document", shown, 1, hint="a scanned PDF "
                         "needs OCR first; an HTML page may need its text saved as .txt",
                         rule="sources.add")
    return data, text, found


def guess_metadata(given: Metadata, found: Metadata, path: Path, data: bytes,
                   text: str) -> tuple[Metadata, dict[str, str]]:
    """The entry's metadata and where each field came from: the flags first, then what
    the document says of itself (HTML ``<meta>``, PDF info and XMP), then what its text
    prints near the top, then its file name (see :mod:`policybrief.metadata`)."""
    from ..load import metadata
    from ..load.bibliography import date_problem

    names = ("title", "author", "date", "url", "organization")
    guess = metadata.Guess()
    for name in names:
        guess.put(name, getattr(given, name), f"--{name}" if name != "organization"
                  else "the command line")
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        pdf = metadata.from_pdf(data)
        for name in names:
            guess.put(name, pdf.get(name), pdf.origins.get(name, ""))
    for name in names:
        guess.put(name, getattr(found, name), "the page's head (<meta>, <title>, <link>)"
                  if suffix in (".html", ".htm") else "the document info")
    printed = metadata.from_text(text)
    named = metadata.from_name(path.stem)
    for extra in (printed, named):
        for name, value in extra.fields.items():
            if name == "date" and (date_problem(value) or name in guess.fields):
                continue
            guess.put(name, value, extra.origins[name])
    if "title" not in guess.fields:
        guess.put("title", path.stem.replace("-", " ").replace("_", " "), "the file name")
    date = guess.get("date")
    if date and not given.date and date_problem(date):
        normal = _date(date)
        guess.fields["date"] = normal if normal and not date_problem(normal) else ""
    meta = Metadata(title=guess.get("title"), author=guess.get("author"),
                    date=guess.get("date"), url=guess.get("url"),
                    organization=guess.get("organization"))
    return meta, {k: v for k, v in guess.origins.items() if guess.get(k)}


def _slug(path: Path) -> str:
    """The file name without its date: ``shafaq-2022-06-26.txt`` → ``shafaq``."""
    from ..load import metadata

    return metadata.from_name(path.stem).get("slug")


def _check_date(date: str) -> None:
    """``--date`` as the bibliography check will read it: a real calendar date."""
    from ..load.bibliography import date_problem

    problem = date_problem(date) if date else ""
    if problem:
        raise UsageError(f"--date: {problem}",
                         hint="write YYYY-MM-DD, YYYY-MM or YYYY (a range as start/end)")


def _as_source(content: bytes, name: str, rel: str, shown: str, build: Path) -> Source:
    """The stored text read as a source would be, before anything is written to seeds/
    (read from a copy in build/.tmp)."""
    import tempfile

    from .. import scratch
    from ..load.sources import read_source

    with tempfile.TemporaryDirectory(prefix="add-", dir=scratch.claim(build)) as tmp:
        probe = Path(tmp) / name
        probe.write_bytes(content)
        try:
            source = read_source(probe, rel)
        except BriefError as exc:
            raise BriefError(exc.message, shown, exc.line, exc.hint, rule=exc.rule,
                             col=exc.col, shown=exc.shown) from None
    if not source.passages:
        raise BriefError("the document has no paragraphs of text", shown, 1, rule="sources.add")
    return source


def add_source(project: Project, path: Path, key: str | None = None, given: Metadata =
               Metadata(), added: str | None = None) -> Added:
    """Store ``path`` in ``seeds/``, append its entry and record it in the lock."""
    from ..load import bibliography, lockfile
    from . import lock

    shown = str(path)
    _check_date(given.date)
    if key is not None and not confine.safe_key(key):
        raise UsageError(f"--key '{key}' has characters a key may not have",
                         hint=confine.KEY_HINT)
    if given.url and not links.allowed(given.url):
        raise UsageError(f"--url '{links.shown(given.url)}': {links.verdict(given.url)}",
                         hint=links.HINT)
    # nothing is written through a link that leads out of seeds/ (or to nothing)
    confine.check_tree(project, ("seeds",), ("bibliography.bib",))
    data, text, found = read_document(path)
    if not given.url and found.url and links.relative(found.url):
        found = replace(found, url="")  # "/en/report": no address without the page's own
    if not given.url and found.url and not links.allowed(found.url):
        raise BriefError(f"the page's canonical link '{links.shown(found.url)}': "
                         f"{links.verdict(found.url)}", shown, found.url_line,
                         hint="give the page's address with --url", rule="link.not-allowed")
    original = project.seeds / path.name
    stored = original if text is None else project.seeds / f"{path.stem}.txt"
    content = data if text is None else text.encode("utf-8")
    for target, body in ((original, data), (stored, content)):
        if target.is_symlink():
            raise BriefError(f"'{project.rel(target)}' is a symbolic link", shown, 1,
                             hint="remove the link from seeds/, or rename the document",
                             rule="confine.symlink")
        if target.exists() and target.read_bytes() != body:
            raise BriefError(f"'{project.rel(target)}' already exists with other content",
                             shown, 1, hint="rename the document, or remove the old copy",
                             rule="sources.add")
    source = _as_source(content, stored.name, project.rel(stored), shown, project.build)
    meta, origins = guess_metadata(given, found, path, data, content.decode("utf-8"))
    if meta.url and not links.allowed(meta.url):  # an address printed in the text, XMP, …
        raise BriefError(f"the address found in {origins.get('url', 'the document')} "
                         f"'{links.shown(meta.url)}': {links.verdict(meta.url)}", shown, 1,
                         hint="give the document's address with --url", rule="sources.add")
    bib_rel = project.rel(project.bibliography)
    entries = bibliography.load_bibliography(project.bibliography, bib_rel) \
        if project.bibliography.exists() else {}
    for other in entries.values():
        if other.file and (project.root / other.file).resolve() == stored.resolve():
            raise BriefError(f"'{project.rel(stored)}' is already the source of "
                             f"'{other.key}'", bib_rel, other.line, rule="sources.add")
    key = key or make_key(meta.author, meta.date, meta.title, meta.url, meta.organization,
                          _slug(path))
    clash = {k.lower(): k for k in entries}.get(key.lower())
    if clash:
        raise BriefError(f"the key '{key}' is already in the bibliography" +
                         (f" (as '{clash}')" if clash != key else ""), bib_rel,
                         entries[clash].line, hint="give another key with --key",
                         rule="sources.add")
    if not confine.safe_key(key):
        raise BriefError(f"key '{key}' has characters a key may not have", shown, 1,
                         hint=confine.KEY_HINT, rule="sources.add")
    suffix = path.suffix.lower()
    entry_type = "report" if suffix == ".pdf" else "online" if (
        suffix in (".html", ".htm") or meta.url) else "misc"
    fields = {"author": _bib_author(meta.author), "title": _bib_value(meta.title),
              "organization": _bib_value(meta.organization), "date": meta.date,
              "url": meta.url.replace("{", "%7B").replace("}", "%7D").replace(" ", "%20"),
              "file": project.rel(stored),
              "original": project.rel(original) if stored != original else ""}
    fields = {k: v for k, v in fields.items() if v}
    existing = project.bibliography.read_text("utf-8") if project.bibliography.exists() else ""
    temp = project.bibliography.with_name(f".{project.bibliography.name}.{os.getpid()}.tmp")
    written: list[str] = []
    try:
        temp.write_text(_appended(existing, entry_text(key, entry_type, fields)), "utf-8")
        if key not in bibliography.load_bibliography(temp, bib_rel):
            raise BriefError(f"the new entry '{key}' did not read back", bib_rel, 1,
                             rule="sources.add")
        project.seeds.mkdir(parents=True, exist_ok=True)
        for target, body in ((original, data), (stored, content)):
            if not os.path.lexists(target):
                confine.write_new(target, body)  # never through a link
                written.append(project.rel(target))
        os.replace(temp, project.bibliography)
        written.append(bib_rel)
    except BaseException:
        temp.unlink(missing_ok=True)
        for rel in written:
            (project.root / rel).unlink(missing_ok=True)
        raise
    locked = lockfile.read(project)
    if locked is None:  # the first lock accepts the sources that were already there
        locked = lock.accept(project, added)[0]
    locked[key] = lockfile.record(key, source, lockfile.today(added))
    lockfile.write(project, locked)
    written.append(project.rel(lockfile.lock_path(project)))
    return Added(key, entry_type, fields, tuple(written), source,
                 {k: v for k, v in origins.items() if k in fields})

"""Stage 1, load sources: read a stored source document into normalised passages.

Markdown (``.md``, ``.markdown``) and plain or MediaWiki-style text (``.txt``, ``.text``)
are read here. The splitter repairs PDF extraction damage (words hyphenated across a page
break, paragraphs continued after one), then makes one passage per paragraph or list
item. Headings set the heading path and are not passages; so are not: contents-list
lines (dot leaders and a page number), horizontal rules, and paragraphs made only of
links to URLs, e-mail addresses or handles plus symbols (page footers). A leading
level-1 heading is the document title and is left out of the heading path; a
"Contents" heading is left out too. A wiki ``Infobox`` block is kept as ONE passage, its
``- Field: value`` lines joined with "; ".
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BriefError
from ..model import Passage, Source

MB = 1024 * 1024
MAX_BYTES = 10 * MB
SUFFIXES = frozenset({".md", ".markdown", ".txt", ".text"})

# --- normalise -----------------------------------------------------------------------

_FOLD = {
    **dict.fromkeys("’‘‚‛′`´", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
    **dict.fromkeys("\u00ad\u200b\u200c\u200d\u2060\ufeff", ""),
    **dict.fromkeys("■□▪▫•●◦‣⁃∙◆◇►▶➢", " "),
}
_FOLD_RX = re.compile("[" + "".join(_FOLD) + "]")


def _fold_marks(text: str) -> str:
    return _FOLD_RX.sub(lambda m: _FOLD[m.group()], text)


def fold(text: str) -> str:
    """:func:`normalise` without collapsing whitespace (lengths may still change)."""
    if text.isascii():
        return text.replace("`", "'").lower()
    text = _fold_marks(unicodedata.normalize("NFKC", text))
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text.casefold()).casefold())
    return _fold_marks(text)


def normalise(text: str) -> str:
    """The matching form: NFKC, quotes and dashes folded, bullets and invisibles gone,
    whitespace collapsed, casefolded. Idempotent."""
    return " ".join(fold(text).split())


# --- markup --------------------------------------------------------------------------

_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|])")
_PUA = 0xF0000  # escaped characters hide here while emphasis is stripped
_UNESCAPE = re.compile("[\U000f0000-\U000f007f]")
_IMAGE = re.compile(r"!\[([^\[\]]*)\]\([^()\s]*(?:\s+\"[^\"]*\")?\)")
_LINK = re.compile(r"\[([^\[\]]*)\]\([^()\s]*(?:\s+\"[^\"]*\")?\)")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^<>\s]+)>")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_STAR = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
_UNDER = re.compile(r"(?<![\w_])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])")
_STRAY = re.compile(r"\*{2,}")
_BULLET = re.compile(r"^[ \t]*(?:[-*+■□▪•●◦‣⁃►▶➢]|\d{1,3}[.)])[ \t]+")
_STRIP_BULLET = re.compile(r"^[ \t]*[-*+■□▪•●◦‣⁃►▶➢][ \t]+")
_HEADING_MD = re.compile(r"^[ ]{0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_HEADING_WIKI = re.compile(r"^[ \t]*(={1,6})[ \t]*([^=\s].*?)[ \t]*\1[ \t]*$")
_RULE = re.compile(r"^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_TOC = re.compile(r"(?:\.[ \t]?){3,}[ \t]*\d{1,4}[ \t]*$")
_INFOBOX = re.compile(r"^[ \t]*\{*[ \t]*infobox\b[^.]{0,60}$", re.I)
_FOOTER_BITS = re.compile(
    r"\[(?:[^\[\]]*(?:@|://|www\.|\w\.\w{2,})[^\[\]]*)?\]\([^()]*\)"  # link to a URL-ish text
    r"|\S+@\S+\.\w+|(?:https?://|www\.)\S+|@\w+"
)
_ALNUM = re.compile(r"[^\W_]")
_FINAL = re.compile(r"[.!?…][\"'”’)\]»]*$")
_CONTENTS = frozenset({"contents", "table of contents"})


def clean(text: str) -> str:
    """Display text: Markdown emphasis and link markup stripped, whitespace collapsed."""
    escaped = "\\" in text
    if escaped:
        text = _ESCAPED.sub(lambda m: chr(_PUA + ord(m.group(1))), text)
    text = _AUTOLINK.sub(r"\1", _LINK.sub(r"\1", _IMAGE.sub(r"\1", text)))
    if "*" in text or "_" in text:
        text = _BOLD.sub(r"\2", text)
        text = _UNDER.sub(r"\1", _STAR.sub(r"\1", text))
        text = _STRAY.sub("", text)
    text = " ".join(text.split())
    if escaped:
        text = _UNESCAPE.sub(lambda m: chr(ord(m.group()) - _PUA), text)
    return text


SLUG_PART = 40  # characters of a heading kept in a passage slug


def slugify(text: str) -> str:
    """ASCII, lower case, hyphens: ``"Motives & Drivers"`` -> ``"motives-drivers"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "section"


# --- splitting -----------------------------------------------------------------------


@dataclass
class _Block:
    kind: str  # "para", "item", "infobox"
    line: int
    lines: list[str] = field(default_factory=list)
    heading: tuple[str, ...] = ()
    slug: str = ""
    barrier: bool = False  # a heading, contents list or infobox came before it
    text: str = ""
    first: str = ""  # the raw first character of the block


def _blocks(lines: list[str]) -> tuple[str | None, list[_Block]]:
    """Group lines into paragraph, list-item and infobox blocks; track headings."""
    title: str | None = None
    stack: list[tuple[int, str, str]] = []  # level, title, slug path
    path_slug, used = "preamble", {"preamble"}
    blocks: list[_Block] = []
    cur: _Block | None = None
    barrier = False
    for no, line in enumerate(lines, 1):
        if not line.strip():
            cur = None
            continue
        m = _HEADING_MD.match(line) or _HEADING_WIKI.match(line)
        if m:
            cur, barrier = None, True
            level, name = len(m.group(1)), clean(m.group(2) or "")
            if not name:
                continue
            if title is None:
                title = name
                if level == 1:
                    continue
            while stack and stack[-1][0] >= level:
                stack.pop()
            path_slug = stack[-1][2] if stack else "preamble"
            if name.casefold() in _CONTENTS:
                continue
            part = slugify(name)[:SLUG_PART].rstrip("-")
            path_slug = base = f"{path_slug}/{part}" if stack else part
            n = 1
            while path_slug in used:
                n += 1
                path_slug = f"{base}-{n}"
            used.add(path_slug)
            stack.append((level, name, path_slug))
            continue
        if _RULE.match(line):
            cur = None
            continue
        if (".." in line or ". ." in line) and _TOC.search(line):
            cur, barrier = None, True
            continue
        heading = tuple(entry[1] for entry in stack)
        if cur is not None and cur.kind == "infobox" and line.lstrip().startswith("- "):
            cur.lines.append("; " + _STRIP_BULLET.sub("", line))
            continue
        if _INFOBOX.match(line) or _BULLET.match(line):
            kind = "infobox" if _BULLET.match(line) is None else "item"
            text = "" if kind == "infobox" else _STRIP_BULLET.sub("", line)
            cur = _Block(kind, no, [text], heading, path_slug, barrier, first=line.lstrip()[0])
            blocks.append(cur)
            barrier = kind == "infobox"
        elif cur is None:
            cur = _Block("para", no, [line], heading, path_slug, barrier, first=line.lstrip()[0])
            blocks.append(cur)
            barrier = False
        else:
            cur.lines.append(line)
    return title, blocks


def _hyphenated(text: str) -> bool:
    """Ends in a word fragment cut by a hyphen (ASCII or U+2010): ``"pow-"``."""
    return len(text) > 1 and text[-1] in "-\u2010" and text[-2].isalpha()


def _rejoin(text: str, part: str) -> str | None:
    """``text`` (ending in a hyphen) and the ``part`` that continues it after a line or
    page break: a word cut in two is joined ("pow-" + "er"); a compound keeps its
    hyphen ("pro-" + "Iran" → "pro-Iran"). None when ``part`` does not continue it."""
    if not _hyphenated(text) or not part[:1].isalpha():
        return None
    if part[:1].islower():
        return text[:-1] + part
    return text + part


def _join_lines(lines: list[str]) -> str:
    text = ""
    for part in lines:
        part = part.strip()
        if part.startswith("; "):
            text = (text + part) if text else part[2:]
        else:
            joined = _rejoin(text, part)
            text = joined if joined is not None else f"{text} {part}" if text else part
    return clean(text)


def _is_footer(raw: str) -> bool:
    """Only links to URLs / e-mails / handles, and symbols or emoji."""
    if not any(mark in raw for mark in ("[", "@", "://", "www.")):
        return _ALNUM.search(raw) is None
    return _ALNUM.search(_FOOTER_BITS.sub("", raw)) is None


def _merge(blocks: list[_Block]) -> list[_Block]:
    """Drop footers and empty blocks; join paragraphs broken by a page break."""
    out: list[_Block] = []
    for block in blocks:
        raw = " ".join(block.lines)
        if block.kind != "infobox" and _is_footer(raw):
            continue
        block.text = _join_lines(block.lines)
        if not block.text:
            continue
        prev = out[-1] if out else None
        joinable = (
            prev is not None and prev.kind != "infobox" and block.kind == "para"
            and not block.barrier and block.first.isalpha()
        )
        if prev is not None and joinable:
            # a word or a compound cut at a page break, a blank line between its parts
            joined = _rejoin(prev.text, block.text)
            if joined is not None:
                prev.text = joined
                continue
            if not block.first.islower():
                out.append(block)
                continue
            if not _FINAL.search(prev.text[-8:]):
                prev.text = f"{prev.text} {block.text}"
                continue
        out.append(block)
    return out


def _parse(text: str, rel: str) -> tuple[str | None, tuple[Passage, ...]]:
    title, blocks = _blocks(re.split(r"\r\n|\r|\n", text))
    passages: list[Passage] = []
    under: dict[str, int] = {}
    for number, block in enumerate(_merge(blocks), 1):
        under[block.slug] = place = under.get(block.slug, 0) + 1
        passages.append(
            Passage(
                number=number,
                slug=f"{block.slug}/{place}",
                anchor=f"p{number}",
                heading=block.heading,
                text=block.text,
                path=rel,
                line=block.line,
            )
        )
    return title, tuple(passages)


def split_passages(text: str, rel: str = "") -> tuple[Passage, ...]:
    """The passages of a document's text (see the module docstring for the rules)."""
    return _parse(text, rel)[1]


# --- reading -------------------------------------------------------------------------


def read_source(path: Path, rel: str) -> Source:
    """Read a ``.md``/``.txt`` source into a Source; BriefError if it cannot be used."""
    from . import textfile

    if path.suffix.lower() not in SUFFIXES:
        data = path.read_bytes()[:4096] if path.is_file() else b""
        kind = textfile.binary_kind(data)
        raise BriefError(
            f"cannot read sources of type '{path.suffix or path.name}' here"
            + (f" ({kind})" if kind else ""), rel, 1,
            hint="stored sources are .md, .markdown, .txt or .text files; add a PDF or HTML "
                 "document with `brief sources add FILE`, which stores its text",
            rule="source.unreadable",
        )
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise BriefError(
                f"source is {size / MB:.1f} MB; the limit is {MAX_BYTES / MB:g} MB", rel, 1,
                hint="store only the text of the source", rule="source.unreadable",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise BriefError(f"cannot read source: {exc.strerror or exc}", rel, 1,
                         rule="source.unreadable") from exc
    text = textfile.decode(data, rel, "the source", source=True)
    if not text.strip():
        raise BriefError("the source is empty", rel, 1, rule="source.unreadable",
                         hint="store the source's text in the file, or remove its entry's "
                              "file field")
    title, passages = _parse(text, rel)
    return Source(
        path=rel,
        title=title or path.stem,
        sha256=hashlib.sha256(data).hexdigest(),
        passages=passages,
    )

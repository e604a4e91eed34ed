"""An editor's returned DOCX, read back into the section files (``brief review import``).

The DOCX ``brief build`` writes carries review anchors (policybrief.anchors): a bookmark
``pb_N`` at the start of every paragraph and a part that says what was rendered there
and where it came from. Here the returned file is read: its tracked changes (``w:ins``,
``w:del``, ``w:moveFrom``/``w:moveTo``), the text of every anchored paragraph (which
also shows the edits made with tracking off, by comparison with the text rendered),
paragraphs added or removed, and comments with their replies. Each change is mapped to
the section file, line and field it belongs to, and told apart: one that maps onto the
Markdown or YAML source unambiguously can be applied; the rest are left to do, and a
change to a part the pipeline makes (the cover, contents, explainer, figures, evidence
appendix, bibliography, notes' citation text) says which file to edit instead.

``apply`` writes the applicable changes (a backup of every file it changes first), and
never changes a citation's key or quote without saying so.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from .. import citations as cit
from ..errors import BriefError
from ..model import Project
from ..render import anchors
from ..render.anchors import Anchor, Block, Part, W

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an encrypted DOCX (or a .doc) is an OLE file
W14 = "{http://schemas.microsoft.com/office/word/2010/wordml}"
W15 = "{http://schemas.microsoft.com/office/word/2012/wordml}"
TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.U)
MAX_DOCX_BYTES = 200 * 1024 * 1024
STRAIGHT = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


@dataclass
class Change:
    """One change the editor made, where it belongs, and whether it can be applied."""

    anchor: int
    kind: str
    old: str
    new: str
    context: str = ""
    authors: tuple[str, ...] = ()
    date: str = ""
    file: str = ""
    line: int = 0
    field: str = ""
    holder: str = ""  # generated text: the file to edit instead
    applicable: bool = False
    reason: str = ""
    notice: str = ""  # what applying it also does (a citation removed)
    edit: tuple[int, int, str] | None = None  # (start, end, text) in the file
    applied: bool = False
    span: tuple[int, int] = (0, 0)  # where it is in the text rendered

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.file else self.holder

    @property
    def who(self) -> str:
        return ", ".join(self.authors) if self.authors else "unknown (tracking was off)"


@dataclass
class Comment:
    ident: str
    author: str
    date: str
    text: str
    anchor: int = 0
    quoted: str = ""
    file: str = ""
    line: int = 0
    holder: str = ""
    para_id: str = ""
    stamp: str = ""  # the full w:date, to order comments that have no threads
    replies: list[Comment] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.file else (self.holder or "the document")


@dataclass
class Review:
    name: str
    map: anchors.Map
    changes: list[Change]
    comments: list[Comment]
    stale: list[str]  # section files changed since the DOCX was built

    @property
    def applicable(self) -> list[Change]:
        return [c for c in self.changes if c.applicable]


# --- reading the package ----------------------------------------------------------------


AGAIN = "ask for the file again, saved as Word (.docx)"


def _unreadable(message: str, shown: str, hint: str = "") -> BriefError:
    """An error about the returned file itself (docs/checks.md#review.docx)."""
    return BriefError(message, shown, 1, hint=hint, rule="review.docx")


def open_package(path: Path, shown: str) -> zipfile.ZipFile:
    """The DOCX as a ZIP package; a clear BriefError for anything else."""
    try:
        if path.stat().st_size > MAX_DOCX_BYTES:
            raise _unreadable(f"{shown} is larger than {MAX_DOCX_BYTES // 2**20} MB", shown)
        data = path.read_bytes()
    except FileNotFoundError:
        raise _unreadable(f"no such file: {shown}", shown) from None
    except IsADirectoryError:
        raise _unreadable(f"{shown} is a folder, not a DOCX", shown) from None
    except OSError as exc:
        raise _unreadable(f"cannot read {shown}: {exc.strerror}", shown) from None
    if data.startswith(OLE):
        raise _unreadable("the file is password-protected (encrypted) or an old Word .doc, "
                          "so its text cannot be read", shown,
                          hint="ask for it without a password (Word: File › Info › Protect "
                          "Document › Encrypt with Password, cleared), saved as .docx")
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        if package.testzip() is not None:
            raise zipfile.BadZipFile
    except (zipfile.BadZipFile, EOFError, ValueError):
        raise _unreadable("not a readable DOCX: the file is damaged or not a Word document",
                          shown, AGAIN) from None
    if sum(info.file_size for info in package.infolist()) > 4 * MAX_DOCX_BYTES:
        raise _unreadable(f"{shown} unpacks to more than {4 * MAX_DOCX_BYTES // 2**20} MB",
                          shown, AGAIN)
    if "word/document.xml" not in package.namelist():
        raise _unreadable("not a Word document: it has no word/document.xml", shown, AGAIN)
    return package


def _xml(package: zipfile.ZipFile, name: str, shown: str) -> Any:
    from lxml import etree

    if name not in package.namelist():
        return None
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        return etree.fromstring(package.read(name), parser)
    except etree.XMLSyntaxError as exc:
        raise _unreadable(f"not a readable DOCX: {name} is damaged ({exc.msg})", shown,
                          AGAIN) from None


@dataclass
class _Paragraph:
    element: Any
    story: str
    numbers: list[int]
    text: str  # every change accepted
    tags: list[Any]  # per character of text: the tracked change it is in, or None
    rejected: str  # every change rejected (the text as it was sent, tracked changes apart)
    rejected_tags: list[Any]  # per character of rejected: the deletion it is in, or None
    mark: str  # "inserted", "deleted" or "" (the paragraph mark's tracked state)


def _paragraphs(root: Any, story: str) -> list[_Paragraph]:
    found: list[_Paragraph] = []
    pending: list[int] = []
    for element in root.iter(f"{W}p", f"{W}bookmarkStart"):
        if element.tag == f"{W}bookmarkStart":
            number = _anchor_number(element)
            if number and not any(a.tag == f"{W}p" for a in element.iterancestors()):
                pending.append(number)
            continue
        carried = _carried(element)
        numbers = pending + [n for b in element.iter(f"{W}bookmarkStart")
                             if (n := _anchor_number(b)) and n not in carried]
        pending = carried
        if not numbers and _in_contents(element):
            continue  # the contents as Word fills them in: made from the headings
        text: list[str] = []
        tags: list[Any] = []
        rejected: list[str] = []
        rejected_tags: list[Any] = []
        for piece, change in anchors.pieces(element):
            deleted = change is not None and change.tag in (f"{W}del", f"{W}moveFrom")
            inserted = change is not None and not deleted
            if not deleted:
                text.extend(piece)
                tags.extend([change] * len(piece))
            if not inserted:
                rejected.extend(piece)
                rejected_tags.extend([change] * len(piece))
        rpr = element.find(f"{W}pPr/{W}rPr")
        mark = ""
        if rpr is not None and rpr.find(f"{W}ins") is not None:
            mark = "inserted"
        if rpr is not None and rpr.find(f"{W}del") is not None:
            mark = "deleted"
        found.append(_Paragraph(element, story, numbers, "".join(text), tags,
                                "".join(rejected), rejected_tags, mark))
    return found


TEXT_TAGS = (f"{W}t", f"{W}delText", f"{W}tab", f"{W}cr", f"{W}sym", f"{W}noBreakHyphen",
             f"{W}softHyphen")


def _carried(p: Any) -> list[int]:
    """The anchors that belong to the next paragraph: LibreOffice moves the start of a
    paragraph's bookmark to the end of the paragraph before it (when a section break
    ends that next paragraph), leaving its end where it was. An anchor whose start is
    after the last text of ``p`` and whose end is not in ``p`` is the next one's."""
    ends = {e.get(f"{W}id") for e in p.iter(f"{W}bookmarkEnd")}
    carried: list[int] = []
    for element in reversed(list(p.iter())):
        if element.tag in TEXT_TAGS or (element.tag == f"{W}br" and \
                element.get(f"{W}type") not in ("page", "column")):
            break
        if element.tag == f"{W}bookmarkStart" and element.get(f"{W}id") not in ends:
            number = _anchor_number(element)
            if number:
                carried.insert(0, number)
    return carried


def _note_paragraphs(document: Any, notes: Any, mapped: anchors.Map) -> list[_Paragraph]:
    """The notes' paragraphs, each with the anchor of the note paragraph it was sent as:
    found by the notes' order, aligned on their texts (so that a note added or removed
    shifts nothing else)."""
    import copy

    from lxml import etree

    container = etree.Element(f"{W}body")
    for note in anchors.notes_in_order(document, notes):
        for p in note.iter(f"{W}p"):
            container.append(copy.deepcopy(p))
    found = [p for p in _paragraphs(container, "notes") if p.text.strip() or p.rejected.strip()]
    sent = [a for a in mapped.anchors.values() if a.story == "notes"]
    for p in found:
        p.numbers = []
    matcher = SequenceMatcher(None, [a.text for a in sent], [p.text for p in found],
                              autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("equal", "replace"):
            for k in range(min(i2 - i1, j2 - j1)):
                found[j1 + k].numbers = [sent[i1 + k].number]
    return found


def _in_contents(p: Any) -> bool:
    style = p.find(f"{W}pPr/{W}pStyle")
    if style is not None and re.fullmatch(r"(?i)(toc|contents) ?\d|tocheading|"
                                          r"contentsheading", style.get(f"{W}val", "")):
        return True
    for ancestor in p.iterancestors(f"{W}sdt"):
        gallery = ancestor.find(f"{W}sdtPr/{W}docPartObj/{W}docPartGallery")
        if gallery is not None and gallery.get(f"{W}val") == "Table of Contents":
            return True
    return False


def _anchor_number(bookmark: Any) -> int:
    name = bookmark.get(f"{W}name", "")
    if name.startswith(anchors.PREFIX) and name[len(anchors.PREFIX):].isdigit():
        return int(name[len(anchors.PREFIX):])
    return 0


def _who(change: Any) -> tuple[str, str]:
    return change.get(f"{W}author", "") or "unknown", _date(change.get(f"{W}date", ""))


def _date(value: str | None) -> str:
    """The day of a w:date (LibreOffice writes 0-00-00 when it has none)."""
    day = (value or "")[:10]
    return day if re.fullmatch(r"[1-9]\d{3}-\d\d-\d\d", day) else ""


# --- the changes ------------------------------------------------------------------------


def _hunks(old: str, new: str) -> list[tuple[int, int, int, int]]:
    """Word-level differences (i1, i2, j1, j2); neighbours a space apart are one."""
    a, b = TOKEN.findall(old), TOKEN.findall(new)
    a_at = [0]
    for token in a:
        a_at.append(a_at[-1] + len(token))
    b_at = [0]
    for token in b:
        b_at.append(b_at[-1] + len(token))
    merged: list[list[int]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if merged and i1 - merged[-1][1] <= 1 and j1 - merged[-1][3] <= 1 and \
                all(t.isspace() for t in a[merged[-1][1]:i1]):
            merged[-1][1], merged[-1][3] = i2, j2
        else:
            merged.append([i1, i2, j1, j2])
    return [(a_at[i1], a_at[i2], b_at[j1], b_at[j2]) for i1, i2, j1, j2 in merged]


def _slide(old: str, new: str, i1: int, i2: int, j1: int, j2: int) -> \
        tuple[int, int, int, int]:
    """An insertion or deletion the diff may place either side of a stop: where it starts
    with a space. "targets⟨. New⟩." is "targets.⟨ New.⟩": a sentence added after a
    cited one is after its stop (and so after its citation in the source), and a
    sentence deleted takes the space before it, not the stop of the one before."""
    if i1 == i2 and j1 < j2:  # an insertion: new[j1:j2], which old[i1:] may continue
        text, start, end = new, j1, j2
    elif j1 == j2 and i1 < i2:  # a deletion: old[i1:i2]
        text, start, end = old, i1, i2
    else:
        return i1, i2, j1, j2
    if text[start].isspace():
        return i1, i2, j1, j2
    k = 0
    while end + k < len(text) and text[start + k] == text[end + k] and \
            not text[start + k].isspace():
        k += 1
    if k == 0 or end + k > len(text) or not text[start + k].isspace():
        return i1, i2, j1, j2
    return i1 + k, i2 + k, j1 + k, j2 + k


def _context(text: str, start: int, end: int) -> str:
    before = text[max(0, start - 40):start]
    after = text[end:end + 40]
    before = before.split(" ", 1)[-1] if start > 40 else before
    after = after.rsplit(" ", 1)[0] if end + 40 < len(text) else after
    return f"…{before}⟨{text[start:end]}⟩{after}…"


def _part_for(anchor: Anchor, start: int, end: int) -> Part | None:
    for part in anchor.parts:
        if part.start <= start and end <= part.end:
            return part
    return None


def _changes_in(anchor: Anchor, paragraph: _Paragraph) -> list[Change]:
    old, new = anchor.text, paragraph.text
    # the text as sent and as the tracked changes say it was: the same, unless some
    # edits were made with tracking off
    to_rejected: dict[int, int] = {}
    for tag, a1, a2, b1, _ in SequenceMatcher(None, old, paragraph.rejected,
                                              autojunk=False).get_opcodes():
        if tag == "equal":
            for k in range(a1, a2 + 1):
                to_rejected[k] = b1 + (k - a1)
    found = []
    for i1, i2, j1, j2 in _hunks(old, new):
        i1, i2, j1, j2 = _slide(old, new, i1, i2, j1, j2)
        marks = [t for t in paragraph.tags[j1:j2] if t is not None]
        r1, r2 = to_rejected.get(i1), to_rejected.get(i2)
        if r1 is not None and r2 is not None:
            marks += [t for t in paragraph.rejected_tags[r1:r2] if t is not None]
        authors: list[str] = []
        dates: list[str] = []
        kinds: set[str] = set()
        for element in marks:
            author, date = _who(element)
            if author not in authors:
                authors.append(author)
            dates.append(date)
            kinds.add(anchors.CHANGES[element.tag])
        shape = "insertion" if i1 == i2 else "deletion" if j1 == j2 else "replacement"
        if any(k.startswith("move") for k in kinds):
            kind = {"insertion": "moved here", "deletion": "moved away"}.get(shape, "move")
        elif not marks:
            kind = f"untracked {shape}"
        else:
            kind = shape
        change = Change(anchor.number, kind.strip(), old[i1:i2], new[j1:j2],
                        _context(new, j1, j2), tuple(authors), min(dates) if dates else "",
                        span=(i1, i2))
        _place(change, anchor, i1, i2)
        found.append(change)
    return found


def _place(change: Change, anchor: Anchor, i1: int, i2: int) -> None:
    """Say where a change belongs: its part's file and line, or the file to edit instead."""
    part = _part_for(anchor, i1, i2)
    if part is not None:
        change.file, change.line, change.field = part.file, part.line, part.field
        return
    near = anchor.parts[0] if anchor.parts else None
    change.holder = anchor.holder
    if anchor.region == "section" and near is not None:
        change.file, change.line, change.field = near.file, near.line, near.field
        change.reason = ("the change reaches beyond the text of one field or paragraph "
                         "(into text the template adds): make it by hand in "
                         f"{near.file} near line {near.line}, or in the template")
    else:
        change.reason = f"edit the source instead: {_generated(anchor)} ({anchor.holder})"


REGIONS = {"cover": "the cover comes from report/brief.yaml",
           "contents": "the contents list is made from the section headings",
           "explainer": "the explainer box is made by the template",
           "figure": "the figure is drawn from its data file",
           "appendix": "the evidence appendix is made from the citations",
           "bibliography": "the bibliography is made from the bibliography entries",
           "note": "the note's citation text is made from the citation and the bibliography",
           "section": "the text is made by the template"}


def _generated(anchor: Anchor) -> str:
    return REGIONS.get(anchor.region, "the text is made by the pipeline")


def read(project: Project, path: Path, shown: str, force: bool = False) -> Review:
    """Read the returned DOCX ``path``: every change and comment, mapped and judged."""
    package = open_package(path, shown)
    mapped = anchors.find_map(package)
    document = _xml(package, "word/document.xml", shown)
    if mapped is None:
        raise BriefError("this DOCX has no review anchors, so it was not written by "
                         "'brief build' (or was saved by a program that dropped them)",
                         shown, 1, rule="review.anchors", hint="send the editor "
                         "build/brief.docx from 'brief build' and import the file they return")
    notes = _xml(package, "word/footnotes.xml", shown)
    paragraphs = _paragraphs(document, "body") + \
        (_note_paragraphs(document, notes, mapped) if notes is not None else [])
    if not any(p.numbers for p in paragraphs) and mapped.anchors:
        raise BriefError("the DOCX's review anchors (bookmarks pb_N) are gone, so its "
                         "paragraphs cannot be told apart", shown, 1,
                         rule="review.anchors",
                         hint="ask the editor to work on build/brief.docx as sent")
    stale = _stale(project, mapped)
    if mapped.files and all(not (project.root / f).is_file() for f in mapped.files):
        raise BriefError(f"this DOCX was built from another brief ('{mapped.title}'): none "
                         "of its section files is in this project", shown, 1,
                         rule="review.stale",
                         hint="run the command in the brief's own folder (-C DIR)")
    if stale and not force:
        raise BriefError("this DOCX was built from another version of the brief: "
                         + ", ".join(stale) + (" has" if len(stale) == 1 else " have")
                         + " changed since", shown, 1, rule="review.stale",
                         hint="rebuild the DOCX and send it again, or pass --force to map "
                         "the changes onto the files as they are now")
    changes = _changes(mapped, paragraphs)
    comments = _comments(package, document, notes, mapped, shown)
    cache: dict[str, tuple[str, list[Block]]] = {}
    for change in changes:
        if change.file and not change.reason:
            _judge(project, change, mapped, cache)
    return Review(Path(shown).name, mapped, changes, comments, stale)


def _stale(project: Project, mapped: anchors.Map) -> list[str]:
    stale = []
    for rel, digest in sorted(mapped.files.items()):
        path = project.root / rel
        try:
            now = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            now = ""
        if now != digest:
            stale.append(rel)
    return stale


def _changes(mapped: anchors.Map, paragraphs: Sequence[_Paragraph]) -> list[Change]:
    found: list[Change] = []
    seen: dict[int, _Paragraph] = {}
    last: dict[str, int] = {}
    for paragraph in paragraphs:
        numbers = [n for n in paragraph.numbers if n in mapped.anchors]
        if len(numbers) > 1:
            first = mapped.anchors[numbers[0]]
            change = Change(numbers[0], "paragraphs joined",
                            " ¶ ".join(mapped.anchors[n].text for n in numbers),
                            paragraph.text, authors=_authors_of(paragraph))
            _place(change, first, 0, len(first.text))
            change.reason = change.reason or "paragraphs were joined: make the change by hand"
            found.append(change)
            for number in numbers:
                seen[number] = paragraph
            last[paragraph.story] = numbers[-1]
            continue
        if numbers:
            number = numbers[0]
            seen[number] = paragraph
            last[paragraph.story] = number
            anchor = mapped.anchors[number]
            if paragraph.text == "" and anchor.text:
                found.append(_removed(anchor, _authors_of(paragraph)))
            elif paragraph.text != anchor.text:
                found.extend(_changes_in(anchor, paragraph))
            continue
        if not paragraph.text.strip():
            continue
        after = last.get(paragraph.story, 0)
        previous = mapped.anchors.get(after)
        change = Change(after, "paragraph added", "", paragraph.text,
                        authors=_authors_of(paragraph),
                        date=min((_who(t)[1] for t in paragraph.tags if t is not None),
                                 default=""))
        if previous is None:
            change.reason = "a paragraph added before the brief's first paragraph: add it " \
                "by hand"
        else:
            _place(change, previous, len(previous.text), len(previous.text))
        found.append(change)
    for number, anchor in mapped.anchors.items():
        # the contents' entries are gone when Word or LibreOffice updated the contents
        # field (made again from the headings, without our bookmarks): no edit
        if number not in seen and anchor.text.strip() and anchor.region != "contents":
            found.append(_removed(anchor, ()))
    order = {n: i for i, n in enumerate(mapped.anchors)}
    found.sort(key=lambda c: order.get(c.anchor, -1))
    return found


def _authors_of(paragraph: _Paragraph) -> tuple[str, ...]:
    authors: list[str] = []
    for element in [t for t in paragraph.tags + paragraph.rejected_tags if t is not None]:
        author = _who(element)[0]
        if author not in authors:
            authors.append(author)
    return tuple(authors)


def _removed(anchor: Anchor, authors: tuple[str, ...]) -> Change:
    change = Change(anchor.number, "paragraph removed", anchor.text, "", authors=authors)
    _place(change, anchor, 0, len(anchor.text))
    return change


# --- comments ---------------------------------------------------------------------------


def _comments(package: zipfile.ZipFile, document: Any, notes: Any, mapped: anchors.Map,
              shown: str) -> list[Comment]:
    root = _xml(package, "word/comments.xml", shown)
    if root is None:
        return []
    comments: dict[str, Comment] = {}
    for element in root.iter(f"{W}comment"):
        ident = element.get(f"{W}id", "")
        paragraphs = element.findall(f"{W}p")
        text = "\n".join(anchors.paragraph_text(p) for p in paragraphs).strip()
        para_id = paragraphs[-1].get(f"{W14}paraId", "") if paragraphs else ""
        comments[ident] = Comment(ident, element.get(f"{W}author", "") or "unknown",
                                  _date(element.get(f"{W}date")), text, para_id=para_id,
                                  stamp=element.get(f"{W}date", "") if _date(
                                      element.get(f"{W}date")) else "")
    extended = _xml(package, "word/commentsExtended.xml", shown)
    parents: dict[str, str] = {}
    if extended is not None:
        for ex in extended.iter(f"{W15}commentEx"):
            if ex.get(f"{W15}paraIdParent"):
                parents[ex.get(f"{W15}paraId", "")] = ex.get(f"{W15}paraIdParent", "")
    by_para = {c.para_id: c for c in comments.values() if c.para_id}
    for root_part in (document, notes):
        if root_part is not None:
            _locate(root_part, comments)
    for comment in comments.values():
        anchor = mapped.anchors.get(comment.anchor)
        if anchor is None:
            continue
        at = anchor.text.find(comment.quoted) if comment.quoted else 0
        part = _part_for(anchor, max(at, 0), max(at, 0) + len(comment.quoted)) \
            if at >= 0 else None
        part = part or (anchor.parts[0] if anchor.parts else None)
        if part is not None:
            comment.file, comment.line = part.file, part.line
        else:
            comment.holder = anchor.holder
    top: list[Comment] = []
    threaded = extended is not None
    # without threads (LibreOffice writes no commentsExtended.xml), the earliest comment
    # on a stretch of text comes first and the later ones on the same text reply to it
    ordered = list(comments.values()) if threaded else sorted(
        comments.values(), key=lambda c: (c.stamp or "9999", int(c.ident)
                                          if c.ident.isdigit() else 0))
    for comment in ordered:
        parent = by_para.get(parents.get(comment.para_id, ""))
        if parent is None and not threaded:
            parent = _libreoffice_parent(comment, top)
        if parent is not None and parent is not comment:
            parent.replies.append(comment)
        else:
            top.append(comment)
    return top


def _libreoffice_parent(comment: Comment, earlier: Sequence[Comment]) -> Comment | None:
    """LibreOffice writes a reply as a comment of its own on the same text (older
    versions start it "Reply to NAME"): the comment it answers."""
    found = re.match(r"Reply to (.+?)(?: \(|:|\n|$)", comment.text)
    for candidate in reversed(earlier):
        if candidate.anchor != comment.anchor or candidate.quoted != comment.quoted:
            continue
        if found is None or candidate.author == found.group(1).strip():
            return candidate
    return None


def _locate(root: Any, comments: Mapping[str, Comment]) -> None:
    """Each comment's paragraph anchor and the text it marks."""
    current = 0
    open_ranges: dict[str, list[str]] = {}
    placed: set[str] = set()
    for element in root.iter():
        tag = element.tag
        if tag == f"{W}bookmarkStart":
            number = _anchor_number(element)
            if number:
                current = number
        elif tag == f"{W}commentRangeStart":
            ident = element.get(f"{W}id", "")
            open_ranges[ident] = []
            if ident in comments:
                comments[ident].anchor = _anchor_of(element) or current
                placed.add(ident)
        elif tag == f"{W}t":
            for captured in open_ranges.values():
                captured.append(element.text or "")
        elif tag == f"{W}commentRangeEnd":
            ident = element.get(f"{W}id", "")
            if ident in comments and ident in open_ranges:
                comments[ident].quoted = "".join(open_ranges.pop(ident)).strip()
        elif tag == f"{W}commentReference":
            ident = element.get(f"{W}id", "")
            if ident in comments and ident not in placed:
                comments[ident].anchor = _anchor_of(element) or current
                placed.add(ident)


def _anchor_of(element: Any) -> int:
    for ancestor in element.iterancestors(f"{W}p"):
        for bookmark in ancestor.iter(f"{W}bookmarkStart"):
            number = _anchor_number(bookmark)
            if number:
                return number
    return 0


# --- applying ---------------------------------------------------------------------------


def _blocks(project: Project, rel: str, cache: dict[str, tuple[str, list[Block]]]) -> \
        tuple[str, list[Block]]:
    if rel not in cache:
        from ..load.sections import read_section

        path = project.root / rel
        text = path.read_text("utf-8")
        section, _ = read_section(path, rel)
        cache[rel] = (text, anchors.section_blocks(section, text) if section else [])
    return cache[rel]


def _find_block(blocks: Sequence[Block], part: Part, rendered: str) -> Block | None:
    """The block a part was rendered from: at its line, or (the file has changed since,
    under --force) the most similar block of the same field; None if none is close."""
    wanted = anchors.key(rendered)

    def similarity(block: Block) -> float:
        return SequenceMatcher(None, wanted, anchors.key(block.plain), autojunk=False).ratio()

    same = [b for b in blocks if b.field == part.field]
    for block in same:
        if block.line == part.line and similarity(block) >= 0.8:
            return block
    best, score = None, 0.6
    for block in same:
        ratio = similarity(block)
        if ratio > score:
            best, score = block, ratio
    return best


def _judge(project: Project, change: Change, mapped: anchors.Map,
           cache: dict[str, tuple[str, list[Block]]] | None = None) -> None:
    """Decide whether ``change`` maps onto its source unambiguously; if so, set its edit."""
    cache = {} if cache is None else cache
    anchor = mapped.anchors[change.anchor]
    try:
        text, blocks = _blocks(project, change.file, cache)
    except (OSError, BriefError):
        change.reason = f"{change.file} cannot be read now"
        return
    if change.kind in ("paragraph added", "paragraph removed"):
        _judge_paragraph(change, anchor, text, blocks)
        return
    if change.kind == "paragraphs joined":
        return
    hunk = _locate_hunk(anchor, change)
    if hunk is None:
        change.reason = "the change could not be placed in the rendered text"
        return
    part, i1, i2 = hunk
    block = _find_block(blocks, part, anchor.text[part.start:part.end])
    if block is None:
        change.reason = f"its text is no longer at {change.file}:{change.line}"
        return
    span = _source_span(anchor.text[part.start:part.end], block, i1 - part.start,
                        i2 - part.start)
    if span is None:
        change.reason = "the text around it differs from the source (formatting or " \
            "markup in the way): edit by hand"
        return
    start, end = span
    if start == end and change.new[:1].isspace():
        start = end = _past_citations(text, start, block.end)
    source = text[start:end]
    if not change.new:
        start, end, source = _whole_spans(text, start, end)
    groups = list(cit.GROUP.finditer(source))
    if groups and change.new:
        change.reason = "the changed text holds a citation (" + ", ".join(
            g.group(0)[:60] for g in groups) + "): edit it by hand"
        return
    bare = cit.GROUP.sub("", source)
    if re.search(r"[*_`\[\]{}<>\\^~]", bare):
        change.reason = "the changed text carries formatting or markup in the source: " \
            "edit it by hand"
        return
    if groups:
        change.notice = "removes the citation " + "; ".join(
            g.group(0) for g in groups) + f" at {change.file}:" + \
            str(text.count("\n", 0, start + groups[0].start()) + 1)
    new = _escape(change.new, text, block)
    if new is None:
        change.reason = "the new text cannot be written into this YAML field as it is " \
            "quoted: edit it by hand"
        return
    if not change.new and start > 0 and end < len(text) and text[start - 1] == " " and \
            text[end:end + 1] == " ":
        end += 1
    elif not change.new and start > 0 and text[start - 1] == " " and \
            text[end:end + 1] in ("", "\n"):
        start -= 1  # the last words of a line go with the space before them
    elif not change.new and (start == 0 or text[start - 1] == "\n") and \
            text[end:end + 1] == " ":
        end += 1  # and the first words of a line with the space after them
    if start == end and text.startswith(new, start):
        change.reason = "already in the source"
        return
    change.edit = (start, end, new)
    change.applicable = True


def _locate_hunk(anchor: Anchor, change: Change) -> tuple[Part, int, int] | None:
    """The change's part and its (start, end) in the rendered text."""
    part = _part_for(anchor, *change.span)
    return None if part is None else (part, *change.span)


def _source_span(rendered: str, block: Block, r1: int, r2: int) -> tuple[int, int] | None:
    """The file offsets of rendered[r1:r2] (or of the point r1 when r1 == r2), when the
    rendered text and the block's source agree around it."""
    a, b = anchors.key(rendered), anchors.key(block.plain)
    to_plain: dict[int, int] = {}
    for tag, i1, i2, j1, _ in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            for k in range(i1, i2 + 1):
                to_plain[k] = j1 + (k - i1)
    if r1 not in to_plain or r2 not in to_plain:
        return None
    p1, p2 = to_plain[r1], to_plain[r2]
    index = block.index
    if p1 == p2:
        at = index[p1 - 1] + 1 if p1 > 0 else index[0]
        return at, at
    return index[p1], index[p2 - 1] + 1


SPAN_END = re.compile(r"\]\{[^{}\n]*\}")


def _whole_spans(text: str, start: int, end: int) -> tuple[int, int, str]:
    """A deletion of all the text of a bracketed span (``[our own words]{.own}``) takes
    its brackets and attributes too: no empty ``[]{.own}`` is left behind. The (start,
    end) to delete, and the text deleted without the span's markup."""
    inner = start
    while inner < end and text[inner] == " ":
        inner += 1
    if inner < end and text[inner] == "[":  # the span's opening bracket was deleted too
        opened = inner
    elif start > 0 and text[start - 1] == "[":  # the span's text alone was deleted
        opened = start - 1
    else:
        return start, end, text[start:end]
    closer = SPAN_END.match(text, end)
    if closer is None or anchors._matching(text, opened, "[", "]") != end:
        return start, end, text[start:end]
    return min(start, opened), closer.end(), text[start:opened] + text[opened + 1:end]


def _past_citations(text: str, at: int, end: int) -> int:
    """``at`` moved past the citations that follow it (up to ``end``): a sentence added
    after a cited one goes after its citation, which stays with the sentence it backs."""
    while True:
        spaces = len(text[at:end]) - len(text[at:end].lstrip(" "))
        group = cit.GROUP.match(text, at + spaces)
        if group is None or group.end() > end:
            return at
        at = group.end()


def _escape(text: str, source: str, block: Block) -> str | None:
    """``text`` written for where ``block`` is: Markdown, and the YAML quoting around it.
    Typographic quotes go in straight, as the sources have them (pandoc curls them)."""
    text = text.translate(STRAIGHT)
    text = re.sub(r"([\\*_`\[\]<>@^~])", r"\\\1", text)
    if not block.field:
        return text
    before = source[block.start - 1] if block.start > 0 else ""
    if before == '"':
        return text.replace("\\", "\\\\").replace('"', '\\"')
    if before == "'":
        return text.replace("'", "''")
    row_start = source.rfind("\n", 0, block.start) + 1
    if not source[row_start:block.start].strip():
        return text  # inside a block scalar
    if ": " in text or " #" in text or text.endswith(":") or text[:1] in "!&*[]{}|>'\"%@`#,?-":
        return None
    return text


def _judge_paragraph(change: Change, anchor: Anchor, text: str, blocks: Sequence[Block]) -> None:
    part = next((p for p in anchor.parts if p.file == change.file and p.line == change.line),
                None)
    if part is None or part.field:
        change.reason = "a paragraph " + ("added to" if change.new else "removed from") + \
            " a structured field: edit the field by hand"
        return
    block = _find_block(blocks, part, anchor.text[part.start:part.end])
    if block is None or part.start != 0 or part.end != len(anchor.text):
        change.reason = "the paragraph is not one paragraph of the body: edit by hand"
        return
    row_start = text.rfind("\n", 0, block.start) + 1
    if text[row_start:block.start].strip():  # a list item, heading or quote
        change.reason = "the paragraph is a list item or heading: edit by hand"
        return
    opening, closing = _fences_around(text, row_start, block.end)
    if change.kind == "paragraph added":
        new = _escape(change.new.strip(), text, block)
        assert new is not None
        # after the fence that closes a fenced div (::: own) the paragraph ends: the
        # editor's new paragraph does not become part of it
        after = closing[-1][1] if closing else block.end
        if text.startswith("\n\n" + new, after):
            change.reason = "already in the source"
            return
        change.edit = (after, after, "\n\n" + new)
        change.applicable = True
        return
    start, end = row_start, block.end
    if opening and closing:  # the only paragraph of a fenced div: the fences go too
        start, end = opening[0], closing[0][1]
    while end < len(text) and text[end] == "\n":
        end += 1
    if end >= len(text):
        start = max(0, start - 1)
        while start > 0 and text[start - 1] == "\n":
            start -= 1
        end = len(text) - (1 if text.endswith("\n") else 0)
    groups = list(cit.GROUP.finditer(text[block.start:block.end]))
    if groups:
        change.notice = "removes the citation " + "; ".join(g.group(0) for g in groups) + \
            f" at {change.file}:{change.line}"
    change.edit = (start, end, "")
    change.applicable = True


FENCE_OPEN = re.compile(r"[ \t]*:{3,}[ \t]*[^:\s].*")
FENCE_CLOSE = re.compile(r"[ \t]*:{3,}[ \t]*")


def _fences_around(text: str, start: int, end: int) -> tuple[list[int], list[tuple[int, int]]]:
    """The fenced-div lines right around the paragraph at ``start``..``end`` (only blank
    lines between): the starts of the opening fences before it, nearest first, and the
    (start, end) of the closing fences after it, nearest first."""
    opening: list[int] = []
    at = start
    while at > 0:
        row_start = text.rfind("\n", 0, at - 1) + 1
        row = text[row_start:at - 1]
        if FENCE_OPEN.fullmatch(row):
            opening.append(row_start)
        elif row.strip():
            break
        at = row_start
    closing: list[tuple[int, int]] = []
    at = end  # the end of the paragraph's last row
    while at < len(text) and text[at] in " \t":
        at += 1
    while at < len(text) and text[at] == "\n":
        row_end = text.find("\n", at + 1)
        row_end = len(text) if row_end < 0 else row_end
        row = text[at + 1:row_end]
        if FENCE_CLOSE.fullmatch(row):
            closing.append((at + 1, row_end))
        elif row.strip():
            break
        at = row_end
    return opening, closing


@dataclass
class Applied:
    files: list[str]
    backup: str
    skipped: list[Change]


def apply(project: Project, review: Review) -> Applied:
    """Write the applicable changes into the section files, a backup of each first."""
    by_file: dict[str, list[Change]] = {}
    for change in review.applicable:
        if change.edit is not None:
            by_file.setdefault(change.file, []).append(change)
    new_texts: dict[str, str] = {}
    skipped: list[Change] = []
    for rel, changes in by_file.items():
        text = (project.root / rel).read_text("utf-8")
        taken: list[tuple[int, int]] = []
        # from the end of the file back, so that offsets stay true; a deletion before
        # an insertion at the same place
        for change in sorted(changes, key=lambda c: c.edit[:2] if c.edit else (0, 0),
                             reverse=True):
            assert change.edit is not None
            start, end, new = change.edit
            if any((start < b and a < end) or (start == end and a < start < b)
                   for a, b in taken):
                change.applicable, change.reason = False, "overlaps another change here"
                skipped.append(change)
                continue
            text = text[:start] + new + text[end:]
            taken.append((start, end))
            change.applied = True
        problem = _still_valid(project, rel, text)
        if problem:
            for change in changes:
                if change.applied:
                    change.applied, change.applicable = False, False
                    change.reason = f"applying it would break {rel}: {problem}"
                    skipped.append(change)
            continue
        new_texts[rel] = text
    if not new_texts:
        return Applied([], "", skipped)
    backup = _backup(project, list(new_texts))
    for rel, text in new_texts.items():
        path = project.root / rel
        temporary = path.with_name(f".{path.name}.review-{os.getpid()}")
        temporary.write_text(text, "utf-8")
        os.replace(temporary, path)
    return Applied(sorted(new_texts), backup, skipped)


def _still_valid(project: Project, rel: str, text: str) -> str:
    """'' when ``text`` still reads as a section file, else what is wrong."""
    import tempfile

    from .. import scratch
    from ..load.sections import read_section

    with tempfile.TemporaryDirectory(prefix="review-", dir=scratch.claim(project.build)) as folder:
        probe = Path(folder) / Path(rel).name
        probe.write_text(text, "utf-8")
        try:
            section, problems = read_section(probe, rel)
        except BriefError as exc:
            return str(exc)
    if section is None:
        return "; ".join(p.message for p in problems) or "it no longer reads"
    return ""


def _backup(project: Project, files: Sequence[str]) -> str:
    """Copy ``files`` as they are now to build/review-backup/N/; return that folder."""
    import shutil

    base = project.build / "review-backup"
    base.mkdir(parents=True, exist_ok=True)
    number = 1 + max((int(p.name) for p in base.iterdir() if p.name.isdigit()), default=0)
    folder = base / str(number)
    for rel in files:
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project.root / rel, target)
    return project.rel(folder)


# --- the report -------------------------------------------------------------------------


def quote(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return "“" + (text if len(text) <= limit else text[:limit - 1] + "…") + "”"


def summary_line(change: Change) -> str:
    what = {"insertion": f"inserted {quote(change.new, 80)}",
            "deletion": f"deleted {quote(change.old, 80)}",
            "untracked insertion": f"inserted (untracked) {quote(change.new, 80)}",
            "untracked deletion": f"deleted (untracked) {quote(change.old, 80)}",
            "moved here": f"moved here {quote(change.new, 80)}",
            "moved away": f"moved away {quote(change.old, 80)}",
            "paragraph added": f"paragraph added {quote(change.new, 80)}",
            "paragraph removed": f"paragraph removed {quote(change.old, 80)}"}.get(
        change.kind, f"{change.kind}: {quote(change.old, 60)} → {quote(change.new, 60)}")
    if change.applied:
        state = "applied" + (f" ({change.notice})" if change.notice else "")
    elif change.applicable:
        state = "can be applied" + (f" ({change.notice})" if change.notice else "")
    else:
        state = f"to do: {change.reason}"
    return f"{change.where}: {what} — {change.who} — {state}"


def markdown(review: Review, applied: Applied | None = None) -> str:
    changes, comments = review.changes, review.comments
    can = [c for c in changes if c.applicable or c.applied]
    lines = [f"# Review of {review.name}", "",
             f"Built from “{review.map.title}”. {len(changes)} change"
             f"{'' if len(changes) == 1 else 's'}, {len(can)} of them "
             f"{'applied' if applied else 'can be applied'} mechanically; "
             f"{len(comments)} comment{'' if len(comments) == 1 else 's'}.", ""]
    if review.stale:
        lines += ["**The section files changed since this DOCX was built** ("
                  + ", ".join(review.stale) + "): lines may have moved.", ""]
    if applied is not None and applied.files:
        lines += [f"Applied to {', '.join(applied.files)}; the files as they were are in "
                  f"`{applied.backup}/` (copy them back to undo).", ""]
    lines += ["## Changes", ""]
    if not changes:
        lines += ["None.", ""]
    groups: dict[str, list[Change]] = {}
    for change in changes:
        groups.setdefault(change.file or "Edit the source instead", []).append(change)
    for title, members in groups.items():
        lines += [f"### {title}", ""]
        for change in members:
            state = "applied" if change.applied else "can be applied" if change.applicable \
                else f"to do — {change.reason}"
            field_note = f" (`{change.field}`)" if change.field else ""
            lines.append(f"- **{change.where}**{field_note} · {change.kind} · {change.who}"
                         + (f" · {change.date}" if change.date else "") + f" · {state}")
            if change.old:
                lines.append(f"  - old: {quote(change.old)}")
            if change.new:
                lines.append(f"  - new: {quote(change.new)}")
            if change.context and change.kind not in ("paragraph added", "paragraph removed"):
                lines.append(f"  - where: {change.context}")
            if change.notice:
                lines.append(f"  - note: {change.notice}")
        lines.append("")
    lines += ["## Comments", ""]
    if not comments:
        lines += ["None.", ""]
    for comment in comments:
        on = f" on {quote(comment.quoted, 120)}" if comment.quoted else ""
        lines.append(f"- **{comment.where}** · {comment.author}"
                     + (f" · {comment.date}" if comment.date else "") + f"{on}: "
                     + quote(comment.text, 1000))
        for reply in comment.replies:
            lines.append(f"  - reply · {reply.author}"
                         + (f" · {reply.date}" if reply.date else "") + ": "
                         + quote(reply.text, 1000))
    lines.append("")
    return "\n".join(lines)

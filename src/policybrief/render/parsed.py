"""The brief's Markdown as pandoc reads it (its document tree, as pandoc's JSON), read
section by section, and its citations as pandoc's citeproc processes them, kept under
``build/.cache/pandoc/``: a rebuild reads again only the sections that changed, and
processes the citations again only when they changed.

Reading the Markdown is about two fifths of pandoc's conversion of the brief to HTML;
citation processing, which needs the whole document, is most of the rest. The Markdown
is cut at its sections' headings (``## Title {#id …}`` after a blank line, outside any
fence) into pieces, and each piece's document is kept under a hash of its text (and of
pandoc's binary, and of the cache folder's identity: render/kept.py). Put end to end,
the pieces' documents are the document pandoc reads from the whole Markdown when
nothing in one piece depends on another:

- no note defined apart from where it is used (``[^label]``), no link reference
  definition, no bracketed text that could link to a heading or a reference elsewhere,
  no example list (numbered across the document), no LaTeX macro, no line of dashes (a
  multiline table's rows may hold blank lines), no fence pandoc may read otherwise
  (:func:`pieces`: lines end at line feeds and are blank as pandoc's are);
- no heading identifier in two pieces (pandoc numbers a repeated one: ``-1``), no
  metadata block after the first (pandoc merges them);
- the note number pandoc gives each citation (the notes and citations before it,
  counted: pandoc's own count, read from a citation put after the piece) shifted by the
  count in the pieces before (:func:`_shifted`).

Otherwise the whole Markdown is converted as one document. Tests hold the pieces, put
end to end, to pandoc's own document. A first build keeps nothing (it converts the
Markdown straight to HTML, the fastest way once); the build after it reads each piece
and keeps it; later builds read only the pieces that changed. The citations are kept
as the section "citations kept" below says. As with the layout cache, anything
unexpected in an entry is a miss, never an error, and a folder that cannot be written
only costs time.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import kept
from . import pandoc

FORMAT = 2
KEEP = 256  # entries kept: a few builds' worth of pieces (each a few kB to 100 kB)
LARGEST = 16 * 2**20  # an entry larger than this is not read

# the heading that starts a section (assemble/templates/brief.md.j2)
HEADING = re.compile(r"## [^\n]*\{ ?#([\w-]+)[ .}][^\n]*")
FRONT = re.compile(r"\A---\n.*?\n---\n", re.S)
FENCE = re.compile(r"( *)(`{3,}|~{3,})(.*)")
FENCE_LIKE = re.compile(r"[ \t]*(`{3,}|~{3,})")
DIV = re.compile(r":{3,}(.*)")
# a line of dashes: a multiline or simple table's (which may hold blank lines), a rule, a
# setext heading's underline (only a YAML block's delimiter is followed)
DASHES = re.compile(r"[ \t]*-[ \t]*-[ \t-]*")
BLANKS = " \t\r"  # pandoc's blank (a no-break space or a form feed is text)
# what pandoc resolves across the whole document (see above)
CROSSING = re.compile(r"\[\^|^ {0,3}\[[^\]\n]+\]:|\(@|\\(?:re)?newcommand|\\newenvironment"
                      r"|\\def\b|\\let\b|\\\\\[", re.M)
# bracketed text (across lines, an image's too) that is no citation could be a link
BRACKET = re.compile(r"(?<![\\^])\[([^\[\]]*)\](?![({])")
CITATION = re.compile(r"(?:^|[\s;])-?@[\w{]")  # (a key follows: "[Contact @ us]" cites none)

# this process's entries by key (a process that builds again and again, brief watch)
_MEMORY: dict[str, dict[str, Any]] = {}


def pieces(markdown: str) -> list[str] | None:
    """``markdown`` cut before each section heading (the first piece holds the front
    matter), or None when a piece could read differently apart (see above)."""
    if CROSSING.search(markdown) or any(not CITATION.search(found.group(1))
                                        for found in BRACKET.finditer(markdown)):
        return None
    front = FRONT.match(markdown)
    at = front.end() if front else 0
    cuts = [0]
    fence, divs, blank, metadata = "", 0, True, False
    # lines as pandoc sees them: ended by a line feed only (not by what str.splitlines
    # also takes for one: a form feed, U+2028, ...)
    lines = re.findall(r"[^\n]*\n|[^\n]+", markdown[at:])
    for index, line in enumerate(lines):
        text = line.rstrip("\n").rstrip("\r")
        bare = text.strip(BLANKS)
        if fence:  # in a code block: until a fence as long, of the same mark
            if bare and bare.strip(fence[0]) == "" and len(bare) >= len(fence):
                if text[:4].strip(" ") == "" or "\t" in text[:len(text) - len(bare)]:
                    return None  # (a fence indented as pandoc may not take it)
                fence = ""
        elif metadata:  # in a YAML block within the document: until its end
            metadata = text not in ("---", "...")
        elif FENCE_LIKE.match(text):
            opened = FENCE.fullmatch(text)
            if opened is None or len(opened.group(1)) > 3 or \
                    (opened.group(2)[0] == "`" and "`" in opened.group(3)):
                return None  # (a fence, or no fence, as pandoc may not take it)
            fence = opened.group(2)
        elif (div := DIV.fullmatch(text)) is not None:
            divs = divs + 1 if div.group(1).strip(BLANKS) else max(0, divs - 1)
        elif text == "---" and blank and index + 1 < len(lines) and \
                lines[index + 1].strip(BLANKS + "\n"):
            metadata = True
        elif DASHES.fullmatch(text):
            return None
        elif divs == 0 and blank and at > cuts[-1] and HEADING.fullmatch(text):
            cuts.append(at)
        blank = not bare
        at += len(line)
    if fence or metadata or divs:
        return None
    return [markdown[a:b] for a, b in zip(cuts, [*cuts[1:], len(markdown)], strict=True)]


# --- the pieces' documents ------------------------------------------------------------


def _walk(node: Any, seen: dict[str, list[Any]]) -> None:
    """Collect a document's citations' note numbers (``cites``) and its headings'
    identifiers (``ids``)."""
    if isinstance(node, list):
        for item in node:
            _walk(item, seen)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("t")
    if kind == "Cite":
        seen["cites"].extend(c["citationNoteNum"] for c in node["c"][0])
    elif kind == "Header":
        seen["ids"].append(node["c"][1][0])
    for value in node.values():
        if isinstance(value, (list, dict)):
            _walk(value, seen)


# a citation's note number in pandoc's JSON (compact, as pandoc and _text write it): only
# a key follows "{" or ","; within a string a quote is escaped
NOTE_NUMBER = re.compile(r'(?<=[{,])"citationNoteNum":(\d+)')


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# the words a list item's first paragraph starts with that make it a task, to pandoc's
# HTML writer (Writers/Shared.hs, toTaskListItem: a box, then a space)
BOXES = ("\u2610", "\u2612")


def words_joined(document: str) -> str:
    """``document`` (pandoc's JSON) with each run of words and spaces (``Str`` and
    ``Space`` elements side by side) as one ``Str``. pandoc's HTML writer without line
    wrapping (``--wrap=none``) writes the same HTML from it: a space is a space either
    way (tests/test_parsed.py holds the two to the same bytes), except where a list of
    inlines starts with a box and a space (a task list's item): those two are left as
    they are. The JSON is a third as long, and reading it is most of that conversion
    (the default brief: 0.15 s, then 0.06 s)."""
    tree = json.loads(document)
    stack: list[Any] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(v for v in node.values() if isinstance(v, (list, dict)))
            continue
        kept: list[Any] = []
        run: dict[str, Any] | None = None
        items = node
        if len(node) > 1 and isinstance(node[0], dict) and isinstance(node[1], dict) and \
                node[0].get("t") == "Str" and node[0].get("c") in BOXES and \
                node[1].get("t") == "Space":
            kept, items = node[:2], node[2:]  # (a task, as pandoc tells one)
        for item in items:
            kind = item.get("t") if isinstance(item, dict) else None
            if kind == "Str" or kind == "Space":
                words = item["c"] if kind == "Str" else " "
                if run is None:
                    run = {"t": "Str", "c": words}
                    kept.append(run)
                else:
                    run["c"] += words
                continue
            run = None
            kept.append(item)
            if isinstance(item, dict):
                stack.extend(v for v in item.values() if isinstance(v, (list, dict)))
            elif isinstance(item, list):
                stack.append(item)
        node[:] = kept
    return _text(tree)


def _shifted(text: str, by: int) -> str:
    """The JSON ``text`` with every citation's note number moved by ``by``."""
    if not by:
        return text
    return NOTE_NUMBER.sub(lambda m: f'"citationNoteNum":{int(m.group(1)) + by}', text)


def _entry(document: dict[str, Any], notes: int) -> dict[str, Any] | None:
    """A piece's entry: its blocks (as JSON text, between the list's brackets), the
    count of its notes (pandoc's note counter at its end), its headings' identifiers;
    None when a note number is beyond the count (then it is read with the whole)."""
    seen: dict[str, list[Any]] = {"cites": [], "ids": []}
    _walk(document["blocks"], seen)
    if any(not 0 < n <= notes for n in seen["cites"]):
        return None
    return {"api": document["pandoc-api-version"], "meta": _text(document.get("meta", {})),
            "blocks": _text(document["blocks"])[1:-1], "notes": notes, "ids": seen["ids"]}


def _join(entries: list[dict[str, Any]]) -> str | None:
    """The pieces' documents end to end (JSON); None if a heading identifier is in two,
    or a piece after the first holds metadata (a YAML block: pandoc merges them)."""
    blocks: list[str] = []
    ids: set[str] = set()
    start = 0
    for index, entry in enumerate(entries):
        own = set(entry["ids"])
        if own & ids or (index and entry["meta"] != "{}"):  # (metadata of a YAML block)
            return None
        ids |= own
        if entry["blocks"]:
            blocks.append(_shifted(entry["blocks"], start))
        start += entry["notes"]
    return (f'{{"pandoc-api-version":{_text(entries[0]["api"])},'
            f'"meta":{entries[0]["meta"]},"blocks":[{",".join(blocks)}]}}')


# --- the store ------------------------------------------------------------------------


@functools.cache
def _salt() -> str:
    """What besides its text decides a piece's document: pandoc's version and reader,
    and this module."""
    binary = os.stat(pandoc.binary())
    h = hashlib.sha256()
    h.update(f"{FORMAT}\0{pandoc.binary()}\0{binary.st_size}:{binary.st_mtime_ns}\0"
             f"{pandoc.READER}\0".encode())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()


@dataclass
class Store:
    """The entries under ``folder`` (None: this process's only); ``fresh`` when the
    folder was made now (a first build)."""

    folder: Path | None
    salt: str
    fresh: bool = False
    used: set[str] = field(default_factory=set)
    _broken: bool = False

    @classmethod
    def at(cls, folder: Path | None) -> Store:
        """The store in ``folder`` (made if need be); this process's only when it cannot
        be made (build/ read-only, full, or in the way)."""
        if folder is None:
            return cls(None, _salt())
        fresh = not (folder / kept.MADE).exists()
        try:
            here = kept.identity(folder)
        except OSError:
            return cls(None, _salt())
        return cls(folder, hashlib.sha256(f"{_salt()}\0{here}".encode()).hexdigest(), fresh)

    def key(self, kind: str, text: str) -> str:
        return hashlib.sha256(f"{self.salt}\0{kind}\0{text}".encode()).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        entry = _MEMORY.get(key)
        if entry is None and self.folder is not None:
            with contextlib.suppress(OSError, ValueError, TypeError, RecursionError):
                loaded = json.loads(kept.read(self.folder / f"{key}.json", LARGEST))
                if isinstance(loaded, dict) and loaded.get("format") == FORMAT and \
                        loaded.get("key") == key and isinstance(loaded.get("entry"), dict) \
                        and loaded.get("sum") == _sum(loaded["entry"]):
                    entry = loaded["entry"]  # (as written: damaged within, it is a miss)
        if entry is not None:
            self.used.add(key)
            _remember(key, entry)
        return entry

    def put(self, key: str, entry: dict[str, Any]) -> None:
        self.used.add(key)
        _remember(key, entry)
        if self.folder is None or self._broken:
            return
        try:
            kept.write(self.folder / f"{key}.json", json.dumps(
                {"format": FORMAT, "key": key, "sum": _sum(entry), "entry": entry}).encode())
        except OSError:
            self._broken = True

    def prune(self) -> None:
        """Keep this build's entries and the most recently used others, :data:`KEEP` in
        all; remove what a killed build left half-written."""
        if self.folder is not None:
            kept.prune(self.folder, self.used, KEEP)


def _sum(entry: Any) -> str:
    """A digest of an entry's content (a file changed within is no entry)."""
    return hashlib.sha256(_text(entry).encode()).hexdigest()


def _remember(key: str, entry: dict[str, Any]) -> None:
    if len(_MEMORY) >= KEEP:
        _MEMORY.clear()
    _MEMORY[key] = entry


# --- reading --------------------------------------------------------------------------


# a citation after a piece, as a paragraph of its own: pandoc's note counter at the end of
# the piece is its note number less one (it counts notes and citations out of notes)
END = "policybrief-piece-end"


def _read(piece: str, workdir: Path) -> dict[str, Any] | None:
    """The entry of ``piece``, read alone; None if it does not end as a piece should."""
    from ..errors import RenderError

    # the piece as it is (stripped, its end could read otherwise: "\\ " is a no-break
    # space, "\\" a line break), then a blank line where the next heading's was
    text = piece if piece.endswith("\n") else f"{piece}\n"
    try:  # (read alone, a piece may warn where the whole does not: an unclosed div)
        document: dict[str, Any] = json.loads(pandoc.convert(
            f"{text}\n[@{END}]\n", "json", [], workdir, "the HTML"))
    except RenderError:
        return None
    blocks = document["blocks"]
    last = blocks[-1] if blocks else {}
    inlines = last.get("c") if last.get("t") == "Para" else None
    if not inlines or len(inlines) != 1 or inlines[0].get("t") != "Cite" or \
            [c["citationId"] for c in inlines[0]["c"][0]] != [END]:
        return None
    notes = inlines[0]["c"][0][0]["citationNoteNum"] - 1
    return _entry({**document, "blocks": blocks[:-1]}, notes)


def document(markdown: str, workdir: Path, store: Store) -> str | None:
    """pandoc's document of ``markdown`` as JSON, its pieces kept in ``store`` taken
    from there and the others read (and kept); None when the Markdown is better
    converted straight: a first build (``store.fresh``), Markdown that cannot be read in
    pieces, pieces that would not read alone as they do together."""
    cut = pieces(markdown)
    if cut is None or store.fresh:
        return None
    keys = [store.key("piece", piece) for piece in cut]
    entries = [store.get(key) for key in keys]
    missing = [i for i, entry in enumerate(entries) if entry is None]
    if missing:
        with ThreadPoolExecutor(max_workers=min(len(missing), 2)) as pool:
            read = list(pool.map(lambda i: _read(cut[i], workdir), missing))
        for i, entry in zip(missing, read, strict=True):
            if entry is None:
                return None
            entries[i] = entry
            store.put(keys[i], entry)
    return _join([e for e in entries if e is not None])


# --- citations kept --------------------------------------------------------------------
#
# Processing the citations (pandoc's citeproc) is most of what is left of the conversion
# once the pieces are kept. What it does to a document is local (Text.Pandoc.Citeproc):
# each citation is replaced by its rendering (in a note style, a note), punctuation next
# to it moves into or out of the note and a space before it goes, the bibliography fills
# the ``{#refs}`` div, the metadata is rewritten. What each citation renders as depends on
# the citations alone (order, keys, locators, note numbers), the bibliography, the style
# and the metadata. So each list of inlines holding a citation is taken apart: the
# "regions" around its citations (two inlines on each side, and on after a run of
# punctuation) are kept as they are, the "runs" between them (words far from any
# citation) stand in for by a marker each. That skeleton keys the processed skeleton:
# an edit that leaves it as it was (an edit of prose away from any citation, a table, a
# heading) takes the processed lists from the store, puts the runs back in, and pandoc
# only writes the HTML. On a miss the citations are processed twice, side by side: the
# document itself (what the HTML is written from) and its skeleton; the skeleton's
# result is kept only when, with the runs put back, it is the document's result exactly.

INLINES = frozenset({"Str", "Space", "SoftBreak", "LineBreak", "Emph", "Strong", "Underline",
                     "Strikeout", "Superscript", "Subscript", "SmallCaps", "Quoted", "Cite",
                     "Code", "Math", "RawInline", "Link", "Image", "Note", "Span"})
# what citeproc changes wherever it is (a Span of these classes) or reads across the
# whole document (sections that reset the positions): such a document is processed
GUARDED = ("reset-citation-positions", "csl-quoted", "csl-note", "__refs")
MARK = "\ue000"  # a marker's text: a private-use character, then the run's number


def _has_cite(node: Any) -> bool:
    if isinstance(node, dict):
        return node.get("t") == "Cite" or any(
            _has_cite(v) for v in node.values() if isinstance(v, (list, dict)))
    if isinstance(node, list):
        return any(_has_cite(item) for item in node)
    return False


def _plain(node: Any) -> str | None:
    """The text of an inline, as pandoc's stringify gives it; None for one whose text
    this does not know (it counts as punctuation: see _punctuation)."""
    if isinstance(node, list):
        parts = [_plain(item) for item in node]
        return None if any(p is None for p in parts) else "".join(p or "" for p in parts)
    if not isinstance(node, dict):
        return None
    kind, content = node.get("t"), node.get("c", "")
    if kind == "Str":
        return str(content)
    if kind in ("Space", "SoftBreak", "LineBreak"):
        return " "
    if kind in ("Emph", "Strong", "Underline", "Strikeout", "Superscript", "Subscript",
                "SmallCaps"):
        return _plain(content)
    if kind == "Span":
        return _plain(content[1])
    return None


def _punctuation(node: Any) -> bool:
    """An inline whose text may be punctuation, or nothing, at its start: a run of
    punctuation after a citation (which citeproc moves) may go on past it."""
    import unicodedata

    text = _plain(node)
    return text is None or all(unicodedata.category(c).startswith("P") for c in text)


def _scan(node: Any, path: list[Any], holders: list[tuple[Any, ...]],
          places: list[tuple[Any, ...]]) -> bool:
    """Whether ``node`` holds a citation; gathers the paths of the outermost lists of
    inlines that hold one (``holders``) and of the bibliography's places, the
    ``{#refs}`` Divs (``places``). One walk of the document."""
    if isinstance(node, list):
        mark, found = len(holders), False
        for index, item in enumerate(node):
            if isinstance(item, (list, dict)):
                path.append(index)
                found = _scan(item, path, holders, places) or found
                path.pop()
        if found and isinstance(node[0], dict) and node[0].get("t") in INLINES:
            del holders[mark:]  # (within this one)
            holders.append(tuple(path))
        return found
    kind = node.get("t")
    if kind == "Cite":
        return True
    if kind == "Div" and node["c"][0][0] == "refs":
        places.append(tuple(path))
    found = False
    for name, value in node.items():
        if isinstance(value, (list, dict)):
            path.append(name)
            found = _scan(value, path, holders, places) or found
            path.pop()
    return found


def _at(tree: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        tree = tree[step]
    return tree


def _regions(holder: list[Any]) -> list[bool]:
    """Which inlines of ``holder`` are near a citation (see above)."""
    near = [False] * len(holder)
    for index, item in enumerate(holder):
        if not _has_cite(item):
            continue
        last = index
        while last + 1 < len(holder) and (last < index + 2 or _punctuation(holder[last])):
            last += 1
        for at in range(max(0, index - 2), last + 1):
            near[at] = True
    return near


@dataclass
class Citations:
    """A document's citations as the store knows them: ``key`` of its skeleton, the
    holders' ``paths``, the bibliography's ``places`` (paths of its Divs), the ``runs``
    taken out (by number), the skeleton as a document (``skeleton``: JSON), and the
    ``document`` itself (JSON)."""

    key: str
    paths: list[tuple[Any, ...]]
    places: list[tuple[Any, ...]]
    runs: list[list[Any]]
    skeleton: str
    document: str


def citations(document: str, files: list[Path], store: Store,
              options: list[str]) -> Citations | None:
    """``document``'s skeleton and its key (``files``: the bibliography and the style,
    whose bytes the key holds; ``options``: pandoc's, which it holds too); None when it
    is processed every time (see GUARDED, or a file cannot be read)."""
    if any(word in document for word in GUARDED):
        return None
    h = hashlib.sha256(_text(options).encode())
    try:
        for path in files:
            h.update(hashlib.sha256(path.read_bytes()).digest())
    except OSError:
        return None
    tree = json.loads(document)
    paths: list[tuple[Any, ...]] = []
    where_refs: list[tuple[Any, ...]] = []
    _scan(tree["blocks"], ["blocks"], paths, where_refs)
    runs: list[list[Any]] = []
    templates = []
    for where in paths:
        holder = _at(tree, where)
        template: list[Any] = []
        before = True  # (the inline before was near a citation)
        for item, near in zip(holder, _regions(holder), strict=True):
            if near:
                template.append(item)
            elif before:  # a run begins: its marker stands in for it
                runs.append([item])
                template.append({"t": "Str", "c": f"{MARK}{len(runs) - 1}"})
            else:
                runs[-1].append(item)
            before = near
        templates.append(template)
        holder[:] = template
    # (the bibliography's places whole: what they hold besides is kept there, as it was)
    h.update(_text([[list(where) for where in paths], templates,
                    [[list(where), _at(tree, where)["c"]] for where in where_refs],
                    tree.get("meta", {})]).encode())
    return Citations(store.key("citations", h.hexdigest()), paths, where_refs, runs,
                     _text(tree), document)


def _filled(cited: Citations, entry: dict[str, Any]) -> dict[str, Any] | None:
    """The document with the processed holders of ``entry``, the runs put back, the
    bibliography and the metadata; None when the entry does not fit it."""
    holders, refs = entry.get("holders"), entry.get("refs")
    if not isinstance(holders, list) or not isinstance(refs, list) or \
            len(holders) != len(cited.paths):
        return None
    tree = json.loads(cited.document)
    if len(cited.places) != len(refs):
        return None
    used = 0
    try:
        for path, template in zip(cited.paths, holders, strict=True):
            filled: list[Any] = []
            for item in template:
                text = item.get("c") if isinstance(item, dict) and item.get("t") == "Str" \
                    else None
                if isinstance(text, str) and text.startswith(MARK):
                    filled.extend(cited.runs[int(text[len(MARK):])])
                    used += 1
                else:
                    filled.append(item)
            _at(tree, path)[:] = filled
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    if used != len(cited.runs):
        return None
    for where, (attributes, blocks) in zip(cited.places, refs, strict=True):
        _at(tree, where)["c"] = [attributes, blocks]
    tree["meta"] = entry.get("meta", tree.get("meta", {}))
    filled_tree: dict[str, Any] = tree
    return filled_tree


def with_citations(cited: Citations, store: Store) -> str | None:
    """The document with its citations processed, from the store; None if not there."""
    entry = store.get(cited.key)
    filled = _filled(cited, entry) if entry is not None else None
    return None if filled is None else _text(filled)


def keep_citations(cited: Citations, processed: str, skeleton: str, store: Store) -> None:
    """Keep the processed ``skeleton`` when, the runs put back, it is ``processed`` (the
    document's own result) exactly."""
    try:
        after = json.loads(skeleton)
        entry = {"holders": [_at(after, path) for path in cited.paths],
                 "refs": [_at(after, where)["c"] for where in cited.places],
                 "meta": after.get("meta", {})}
    except (KeyError, IndexError, TypeError, ValueError):
        return
    filled = _filled(cited, entry)
    if filled is not None and filled == json.loads(processed):
        store.put(cited.key, entry)

"""The layout cache: each part of the PDF, once laid out, kept under ``build/.cache/``.

A part's pages depend on its HTML (which holds the stylesheets, the house style and the
footnote counter it starts from: parts.py), on the files WeasyPrint fetched to lay it out
(the house faces, images), and on the code that lays it out (WeasyPrint, pydyf, Pango,
and this package's own layout fixes). An entry is keyed by a hash of the HTML and of that
code; it records the files it was laid out with and their hashes, and is used only while
every one of them is unchanged. A rebuild after an edit lays out again only the parts
whose HTML changed; the others are bound from here.

An entry is two files, ``<key>.json`` (the part's records, as JSON: nothing in it is
executed) and ``<key>.pdf`` (whose hash the JSON holds). Anything unexpected in them (a
file cut short by a kill, edited, planted; a file it names that lies outside the
project's template and asset folders) is a miss, never an error: the part is laid out
again and the entry written anew. The cache is written to, never required: a full disk
or a read-only build/ leaves the build to run without it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ... import kept
from ...kept import read as _read
from ...kept import write as _write

FORMAT = 1
KEEP = 96  # entries kept: a few builds' worth of parts (each ~50-300 kB)
LARGEST = 64 * 2**20  # an entry's PDF larger than this is not read


# The Python distributions whose versions decide a part's bytes: the layout, the PDF
# writer, hyphenation, CSS, HTML parsing, font subsetting, images.
DISTRIBUTIONS = ("weasyprint", "pydyf", "pyphen", "tinycss2", "cssselect2", "tinyhtml5",
                 "fonttools", "pillow", "cffi")


@functools.cache
def _code() -> str:
    """What besides the HTML decides a part's pages: the versions of the layout code
    (the Python distributions, Pango) and the source of this package's layout module
    (its fixes to WeasyPrint)."""
    from importlib import metadata

    from ... import __version__

    h = hashlib.sha256()
    h.update(f"{FORMAT}\0{__version__}\0{_pango()}\0".encode())
    for name in DISTRIBUTIONS:
        try:
            h.update(f"{name}={metadata.version(name)}\0".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{name}=\0".encode())
    here = Path(__file__).parent
    for name in sorted(p.name for p in here.glob("*.py")):
        h.update(name.encode() + b"\0" + (here / name).read_bytes() + b"\0")
    return h.hexdigest()


# Pango's library, as WeasyPrint loads it on Linux, macOS and Windows
PANGO = ("libpango-1.0.so.0", "libpango-1.0.0.dylib", "libpango-1.0.dylib",
         "libpango-1.0-0.dll")


def _pango() -> int:
    """Pango's version, read from the library without importing WeasyPrint (whose
    import the build's own process does without while layout processes lay out)."""
    import ctypes

    for name in PANGO:
        try:
            return int(ctypes.CDLL(name).pango_version())
        except (OSError, AttributeError):
            continue
    return 0


@dataclass
class Cache:
    """The entries under ``folder``; ``allowed``: the folders a part may fetch files
    from (an entry naming a file elsewhere is not used, and the file not read)."""

    folder: Path
    allowed: tuple[Path, ...]
    salt: str = ""
    used: set[str] = field(default_factory=set)
    _hashes: dict[str, str] = field(default_factory=dict)
    _broken: bool = False

    @classmethod
    def at(cls, folder: Path, allowed: Iterable[Path], *salt: str) -> Cache:
        """The cache in ``folder`` (made if need be), for parts whose files lie in
        ``allowed``; ``salt``: what else the keys depend on.

        The keys depend on the folder itself too: on the device, inode and inode-change
        time of a file this cache makes in it (``made``), which no archive, copy or
        planted file can set, so that entries arriving from elsewhere (a project
        unpacked with its build/, a folder copied) are never found and no one can hand a
        build a part laid out in advance; a folder moved as a whole keeps them. OSError
        when the folder cannot be made."""
        here = kept.identity(folder)
        return cls(folder, tuple(p.resolve() for p in allowed),
                   hashlib.sha256("\0".join((_code(), here, *salt)).encode()).hexdigest())

    def key(self, html: str, kind: str) -> str:
        return hashlib.sha256(f"{self.salt}\0{kind}\0".encode() + html.encode()).hexdigest()

    # --- reading ----------------------------------------------------------------------

    def get(self, key: str) -> Any:
        """The Laid of ``key``, or None (not there, not readable, or a file it was laid
        out with has changed since)."""
        from . import Laid, Note

        try:
            record = json.loads(_read(self.folder / f"{key}.json", 2**20))
            pdf = _read(self.folder / f"{key}.pdf", LARGEST)
            if not isinstance(record, dict) or record.get("format") != FORMAT or \
                    record.get("pdf") != hashlib.sha256(pdf).hexdigest():
                return None
            files = [(str(p), str(h)) for p, h in record["files"]]
            if any(self._hash(path) != digest for path, digest in files):
                return None
            laid = Laid(
                pdf,
                tuple((str(name), tuple((str(s), str(v)) for s, v in strings),
                       tuple(str(s) for s in starting))
                      for name, strings, starting in record["pages"]),
                tuple((str(name), int(page)) for name, page in record["anchors"]),
                tuple(int(level) for level in record["levels"]),
                tuple(Note(str(s), str(m), str(p), int(n)) for s, m, p, n in record["notes"]),
                tuple(files))
        except (OSError, ValueError, TypeError, KeyError):
            return None
        self.used.add(key)  # (kept longest: see prune)
        return laid

    def _hash(self, path: str) -> str:
        """The sha256 of ``path``, once per build; "" when it is outside the allowed
        folders or cannot be read."""
        if path not in self._hashes:
            resolved = Path(path).resolve()
            digest = ""
            if any(resolved.is_relative_to(root) for root in self.allowed):
                with contextlib.suppress(OSError):
                    digest = hashlib.sha256(_read(resolved, LARGEST)).hexdigest()
            self._hashes[path] = digest
        return self._hashes[path]

    # --- writing ----------------------------------------------------------------------

    def put(self, key: str, laid: Any) -> None:
        """Keep ``laid`` under ``key``; on any failure to write, carry on without."""
        self.used.add(key)
        if self._broken:
            return
        # the bytes the layout was given, as the fetcher recorded them (not the files as
        # they are now: one changed meanwhile must not be trusted with this layout)
        files = [(path, digest) for path, digest in laid.files]
        if any(not self._hash(path) for path, _ in files):
            return  # laid out with a file that cannot be checked later
        record = {"format": FORMAT, "pdf": hashlib.sha256(laid.pdf).hexdigest(),
                  "pages": laid.pages, "anchors": laid.anchors, "levels": laid.levels,
                  "notes": [(n.severity, n.message, n.path, n.line) for n in laid.notes],
                  "files": files}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _write(self.folder / f"{key}.pdf", laid.pdf)
            _write(self.folder / f"{key}.json", json.dumps(record).encode())
        except OSError:
            self._broken = True  # build/ full or read-only: the outputs' writing says so

    def prune(self) -> None:
        """Keep this build's entries and the most recently used others, :data:`KEEP` in
        all; remove what a killed build left half-written."""
        kept.prune(self.folder, self.used, KEEP, (".pdf",))

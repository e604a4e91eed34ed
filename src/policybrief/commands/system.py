"""The system libraries the PDF needs, checked before anything heavy.

WeasyPrint loads Pango, GObject, HarfBuzz and fontconfig with cffi when it is imported;
on a machine without them the import ends in a long traceback (``cannot load library
'libgobject-2.0-0'``) from a process the build started. Here each library is opened the
way WeasyPrint opens it (the same names, in the same order), and what is missing is
reported in one message with the command that installs it.

Each name is first opened with ctypes, a plain dlopen that takes a millisecond for all
of them. Only a library that none of its names opens so is tried again with cffi, as
WeasyPrint does: for a bare name (``libpango-1.0-0``) cffi falls back on
``ctypes.util.find_library``, which runs ldconfig and a compiler (a tenth of a second),
and importing cffi takes some thirty milliseconds more: on every command, the
``brief build`` of a one-word edit included.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import BriefError

# The exact install commands, the same as the README's (a test keeps them equal).
DEBIAN = "sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0"
FEDORA = "sudo dnf install pango harfbuzz"
HOMEBREW = "brew install pango harfbuzz"


@dataclass(frozen=True)
class Library:
    what: str
    names: tuple[str, ...]  # as WeasyPrint tries them (weasyprint/text/ffi.py)
    debian: str             # the Debian/Ubuntu package that has it
    required: bool = True


LIBRARIES = (
    Library("GObject", ("libgobject-2.0-0", "gobject-2.0-0", "gobject-2.0",
                        "libgobject-2.0.so.0", "libgobject-2.0.0.dylib"), "libglib2.0-0"),
    Library("Pango", ("libpango-1.0-0", "pango-1.0-0", "pango-1.0", "libpango-1.0.so.0",
                      "libpango-1.0.dylib"), "libpango-1.0-0"),
    Library("HarfBuzz", ("libharfbuzz-0", "harfbuzz", "harfbuzz-0.0", "libharfbuzz.so.0",
                         "libharfbuzz.0.dylib"), "libharfbuzz0b"),
    Library("fontconfig", ("libfontconfig-1", "fontconfig-1", "fontconfig",
                           "libfontconfig.so.1", "libfontconfig.1.dylib"), "libfontconfig1"),
    Library("PangoFT2", ("libpangoft2-1.0-0", "pangoft2-1.0-0", "pangoft2-1.0",
                         "libpangoft2-1.0.so.0", "libpangoft2-1.0.dylib"),
            "libpangoft2-1.0-0"),
    # Without it WeasyPrint subsets fonts with fontTools: the same PDF to a reader, but
    # not the same bytes as elsewhere (a notice, not a failure).
    Library("HarfBuzz-Subset", ("libharfbuzz-subset-0", "harfbuzz-subset",
                                "harfbuzz-subset-0.0", "libharfbuzz-subset.so.0",
                                "libharfbuzz-subset.0.dylib"), "libharfbuzz-subset0",
            required=False),
)

_checked: bool = False


def loads(library: Library) -> bool:
    import ctypes

    for name in library.names:
        try:
            ctypes.CDLL(name, mode=os.RTLD_NOW)
        except OSError:
            continue
        return True
    return _loads_as_weasyprint(library)


def _loads_as_weasyprint(library: Library) -> bool:
    import cffi

    ffi = cffi.FFI()
    for name in library.names:
        try:
            ffi.dlopen(name, ffi.RTLD_NOW)
        except OSError:
            continue
        return True
    return False


def missing() -> list[Library]:
    """The required libraries that do not load."""
    return [lib for lib in LIBRARIES if lib.required and not loads(lib)]


def check() -> None:
    """Raise BriefError, naming what is missing and how to install it, when the
    libraries WeasyPrint needs do not load. Checked once per process."""
    global _checked
    if _checked:
        return
    absent = missing()
    if absent:
        names = ", ".join(f"{lib.what} ({lib.debian})" for lib in absent)
        raise BriefError(
            f"the PDF needs system libraries that are not installed: {names}",
            hint=f"install them — Debian/Ubuntu: {DEBIAN}; Fedora: {FEDORA}; "
                 f"macOS (Homebrew): {HOMEBREW}")
    _checked = True

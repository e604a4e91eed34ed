"""WeasyPrint imported without searching the system for its libraries.

WeasyPrint opens Pango, HarfBuzz, fontconfig and GObject by trying a list of names, the
bare ones first ("pango-1.0-0"); cffi hands a bare name to ``ctypes.util.find_library``,
which on Linux runs ``ldconfig``, ``gcc`` and ``ld`` to look for it (about fifty
processes, a quarter of a second, on every import: Kozea/WeasyPrint#1125), before the
name that works on Linux ("libpango-1.0.so.0") is tried. Here, on Linux, that search
finds nothing at once, and WeasyPrint goes on to the names the dynamic loader opens
itself: the same libraries, without the processes. The forkserver of the layout
processes imports this module (pdf.Workers), as does the build's own process before it
lays out anything.
"""

from __future__ import annotations

import sys
import threading

_LOCK = threading.Lock()


def load() -> None:
    """Import WeasyPrint (once; its import errors are raised as they are)."""
    if "weasyprint" in sys.modules:
        return
    with _LOCK:
        if "weasyprint" in sys.modules or not sys.platform.startswith("linux"):
            import weasyprint
            return
        import ctypes.util

        search = ctypes.util.find_library
        ctypes.util.find_library = lambda name: None
        try:
            import weasyprint  # noqa: F401
        finally:
            ctypes.util.find_library = search


load()

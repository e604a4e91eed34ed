"""WeasyPrint is imported without a search of the system for its libraries
(render/pdf/libraries.py): the same libraries, opened by the dynamic loader, no process
started."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import subprocess, sys
started = []
original = subprocess.Popen.__init__
def counted(self, *args, **kwargs):
    started.append(args[0] if args else kwargs.get("args"))
    original(self, *args, **kwargs)
subprocess.Popen.__init__ = counted
if sys.argv[1] == "ours":
    from policybrief.render.pdf import libraries
else:
    import weasyprint
from weasyprint.text.ffi import pango, harfbuzz, fontconfig
import ctypes.util
print(len(started), pango.pango_version(), ctypes.util.find_library("c") is not None)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the search is Linux's")
def test_weasyprint_is_imported_without_starting_a_process() -> None:
    ours = subprocess.run([sys.executable, "-c", PROBE, "ours"], capture_output=True,
                          text=True, check=True).stdout.split()
    plain = subprocess.run([sys.executable, "-c", PROBE, "plain"], capture_output=True,
                           text=True, check=True).stdout.split()
    assert ours[0] == "0" and int(plain[0]) > 0  # WeasyPrint's own import searches
    assert ours[1] == plain[1]  # the same Pango
    assert ours[2] == "True"  # ctypes.util.find_library is itself again afterwards

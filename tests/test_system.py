"""System prerequisites, checked first: without Pango, `make brief` and `brief build`
say what is missing and how to install it, in one message, and exit 1 (no traceback)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from policybrief.commands import system

from conftest import REPO, make_tiny

# Loaded before anything else in the process (sitecustomize): neither cffi (which
# WeasyPrint loads its libraries with) nor ctypes (the check's quick first try) can open
# Pango, as on a machine without it.
NO_PANGO = """\
import ctypes

import cffi.api

_dlopen = cffi.api.FFI.dlopen
_cdll = ctypes.CDLL.__init__


def dlopen(self, name, *args, **kwargs):
    if name and "pango" in str(name).lower():
        raise OSError(f"cannot load library {name!r}: (patched) no such file")
    return _dlopen(self, name, *args, **kwargs)


def cdll(self, name, *args, **kwargs):
    if name and "pango" in str(name).lower():
        raise OSError(f"{name}: cannot open shared object file: (patched) no such file")
    _cdll(self, name, *args, **kwargs)


cffi.api.FFI.dlopen = dlopen
ctypes.CDLL.__init__ = cdll
"""


@pytest.fixture
def no_pango(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "no-pango"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(NO_PANGO, "utf-8")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}  # (under make)
    env["PYTHONPATH"] = str(folder)
    return env


def assert_diagnosis(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and "-----" not in done.stderr
    assert "the PDF needs system libraries that are not installed: Pango " \
           "(libpango-1.0-0), PangoFT2 (libpangoft2-1.0-0)" in done.stderr
    for command in (system.DEBIAN, system.FEDORA, system.HOMEBREW):
        assert command in done.stderr


def test_the_patch_does_make_weasyprint_fail(no_pango: dict[str, str]) -> None:
    """The test's premise: with the patched loader, importing WeasyPrint fails."""
    done = subprocess.run([sys.executable, "-c", "import weasyprint"], env=no_pango,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "pango" in done.stderr.lower()


def test_brief_build_without_pango(tmp_path: Path, no_pango: dict[str, str]) -> None:
    root = make_tiny(tmp_path / "p")
    done = subprocess.run([sys.executable, "-m", "policybrief.commands.cli", "-C", str(root),
                           "build", "--format", "pdf"], env=no_pango, capture_output=True,
                          text=True, timeout=120)
    assert_diagnosis(done)
    assert not (root / "build" / "brief.pdf").exists()


def test_the_html_alone_does_not_need_pango(tmp_path: Path, no_pango: dict[str, str]) -> None:
    root = make_tiny(tmp_path / "p")
    done = subprocess.run([sys.executable, "-m", "policybrief.commands.cli", "-C", str(root), "-q",
                           "build", "--format", "html"], env=no_pango, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (root / "build" / "brief.html").is_file()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_brief_without_pango(tmp_path: Path, no_pango: dict[str, str]) -> None:
    """The README's first command, with this checkout's .venv (not made again)."""
    root = make_tiny(tmp_path / "p")
    shutil.copy(REPO / "Makefile", root / "Makefile")
    (root / ".venv").symlink_to(Path(sys.prefix))
    done = subprocess.run(["make", "-o", ".venv/.installed", "brief"], cwd=root,
                          env=no_pango, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert_diagnosis(subprocess.CompletedProcess(done.args, 1, done.stdout, done.stderr))
    assert re.search(r"make(\[\d+\])?: \*\*\* \[.*brief\] Error 1", done.stderr)


def test_the_readme_names_the_same_packages() -> None:
    """The README's apt-get line (the one tools/fresh-machine.sh installs) has every
    package the message names, and the Fedora and Homebrew commands are the same."""
    readme = (REPO / "README.md").read_text("utf-8")
    line = re.search(r"apt-get install ([^`#\n]*)", readme)
    assert line is not None
    named = set(line.group(1).split())
    assert set(system.DEBIAN.split()[3:]) <= named
    for command in (system.FEDORA, system.HOMEBREW):
        assert f"`{command}`" in readme, command


def test_every_library_loads_here() -> None:
    """On the machine running the tests (which builds PDFs), nothing required is missing."""
    assert system.missing() == []

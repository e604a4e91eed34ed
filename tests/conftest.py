"""The one project factory for the tests, and the fixtures made with it.

``make_project(root, base, files)`` writes a project: ``base`` is "tiny" (two sections
on the real seeds, the text below), "real" (a copy of this repository's brief) or
"empty" (nothing); ``files`` (path under the root → text) are written over it, so a
test states only what it changes. ``tiny`` and ``real`` are that, in a temporary
folder; ``built_real`` is the real brief built once per test run (all three formats),
for the tests that read its outputs and do not change them.
"""

from __future__ import annotations

import contextlib
import http.server
import shutil
import textwrap
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
RASANAH = "rasanah-2024-maliki-sadr-overtures.md"
WIKIPEDIA = "sadrist-khomeinist-conflict.wikipedia.txt"

BIB = """\
@report{rasanah2024rifts,
  author = {{Rasanah – International Institute for Iranian Studies}},
  title = {Rifts Within Iraqi Shiite Parties: Will Maliki's Attempts to Seek Overtures With Sadr Be Fruitful?},
  type = {Position Paper},
  institution = {Rasanah – International Institute for Iranian Studies},
  date = {2024-05-05},
  url = {https://rasanah-iiis.org/english/position-estimate/rifts},
  file = {seeds/rasanah-2024-maliki-sadr-overtures.md},
}

@online{wikipedia-sadrist-khomeinist,
  author = {{Wikipedia contributors}},
  title = {Sadrist–Khomeinist conflict},
  organization = {Wikipedia, The Free Encyclopedia},
  url = {https://en.wikipedia.org/wiki/Sadrist%E2%80%93Khomeinist_conflict},
  file = {seeds/sadrist-khomeinist-conflict.wikipedia.txt},
}
"""

BRIEF_YAML = """\
title: "Rifts in Iraq's Shia camp"
subtitle: "A tiny test brief"
date: "2024-05-20"
institution: "Test Analysis Desk"
series:
  name: "Test Briefs"
  number: "7"
authors:
  - name: "Ada Analyst"
language: "en-GB"
csl: "chicago-notes-bibliography"
sections:
  - "01-background.md"
  - "02-motives.md"
"""

BACKGROUND = """\
---
kind: background
title: "Background"
---
The rivalry took shape during the civil war.[@wikipedia-sadrist-khomeinist, quote "Iraqi Shia militias disagreed over Iran"] The Sadrist Movement ([التيار الصدري]{lang="ar" dir="rtl"}) grew from it.

Rasanah later weighed in.[@rasanah2024rifts, ¶ 3]
"""

MOTIVES = """\
---
kind: motives
title: "Motives and drivers"
items:
  - title: "A framework divided over Gaza"
    text: |
      The Coordination Framework split over how far to escalate against US targets.
    citations:
      - key: "rasanah2024rifts"
        quote: "revealed a stark division among Shiite groups"
---
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text) if text.startswith("\n") else text, "utf-8")
    return path


TINY = {
    "bibliography.bib": BIB,
    "report/brief.yaml": BRIEF_YAML,
    "report/sections/01-background.md": BACKGROUND,
    "report/sections/02-motives.md": MOTIVES,
}


def make_project(root: Path, base: str = "tiny", files: Mapping[str, str] | None = None
                 ) -> Path:
    """A project at ``root``: ``base`` ("tiny", "real" or "empty"), then ``files``."""
    root.mkdir(parents=True, exist_ok=True)
    if base == "tiny":
        (root / "seeds").mkdir(exist_ok=True)
        for name in (RASANAH, WIKIPEDIA):
            shutil.copy(SEEDS / name, root / "seeds" / name)
        for rel, text in TINY.items():
            write(root / rel, text)
    elif base == "real":
        for name in ("report", "seeds", "templates"):
            shutil.copytree(REPO / name, root / name, symlinks=True)
        shutil.copy(REPO / "bibliography.bib", root / "bibliography.bib")
    elif base != "empty":
        raise ValueError(f"no project base {base!r}")
    for rel, text in (files or {}).items():
        write(root / rel, text)
    return root


@contextlib.contextmanager
def loopback(body: bytes, content_type: str | None = None
             ) -> Iterator[tuple[int, list[str]]]:
    """A loopback HTTP server that answers every GET with ``body`` and records the
    path of every request it gets: its port, and that record."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            if content_type is not None:
                self.send_header("Content-Type", content_type)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1]), seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def make_tiny(root: Path) -> Path:
    """The tiny project: two sections on the real seeds."""
    return make_project(root, "tiny")


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A two-section project on the real seeds, in a temporary folder."""
    return make_project(tmp_path / "tiny")


@pytest.fixture
def real(tmp_path: Path) -> Path:
    """A copy of this repository's brief (report/, bibliography, seeds, templates)."""
    return make_project(tmp_path / "real", "real")


@pytest.fixture(scope="session")
def built_real(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This repository's brief, built once per test run (PDF, HTML, DOCX): read it,
    or copy it before changing anything."""
    from policybrief.commands.cli import main

    root = make_project(tmp_path_factory.mktemp("built-real") / "brief", "real")
    assert main(["-q", "-C", str(root), "build"]) == 0
    return root


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite the expected files under tests/golden/")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


# --- the test pyramid: stage tests, and the slow ones that render ---------------------

# A test is slow when it renders outputs, runs another program, or reads a built brief:
# its source names one of these, or it takes one of the built fixtures (or its name says
# it works on a huge input). `make test-fast`
# runs the rest (-m "not slow"); `make test` runs everything.
RENDERS = ('"build"', "'build'", "pipeline.build(", "rendering.render(", "pandoc.convert(",
           "write_pdf(", "write_docx(", "to_png(", "figure_png(", "logo_png(", "subprocess",
           "libreoffice", "chromium", "playwright", "pdftoppm", "parity.compare(",
           "Workers(", '"-m", "policybrief')
# stage tests that still take a second or more: huge inputs, labelled sets scored whole
HEAVY = ("ten_thousand", "three_thousand_deep", "precision_at_3", "labelled_set",
         "watch_rebuilds", "huge_file")
BUILT = ("built_real", "built", "built_default", "built_tiny", "brief", "tiny_built", "both",
         "page", "outputs", "server_brief")


def _renders(item: pytest.Item) -> bool:
    import inspect

    function = getattr(item, "function", None)
    if function is None:
        return False
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return False
    if any(word in source for word in RENDERS) or any(w in item.name for w in HEAVY):
        return True
    return any(name in BUILT for name in getattr(item, "fixturenames", ()))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("slow") is None and _renders(item):
            item.add_marker(pytest.mark.slow)

"""Shared fixtures: a tiny project made in a temporary folder, and the real one copied."""

from __future__ import annotations

import shutil
import textwrap
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


def make_tiny(root: Path) -> Path:
    (root / "seeds").mkdir(parents=True, exist_ok=True)
    for name in (RASANAH, WIKIPEDIA):
        shutil.copy(SEEDS / name, root / "seeds" / name)
    write(root / "bibliography.bib", BIB)
    write(root / "report" / "brief.yaml", BRIEF_YAML)
    write(root / "report" / "sections" / "01-background.md", BACKGROUND)
    write(root / "report" / "sections" / "02-motives.md", MOTIVES)
    return root


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A two-section project on the real seeds, in a temporary folder."""
    return make_tiny(tmp_path / "tiny")


@pytest.fixture
def real(tmp_path: Path) -> Path:
    """A copy of this repository's brief (report/, bibliography, seeds, templates)."""
    root = tmp_path / "real"
    for name in ("report", "seeds", "templates"):
        shutil.copytree(REPO / name, root / name, symlinks=True)
    shutil.copy(REPO / "bibliography.bib", root / "bibliography.bib")
    return root


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite the expected files under tests/golden/")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))

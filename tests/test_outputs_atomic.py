"""Nothing lost: builds killed at random points leave one complete, readable set."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from lxml import html as lhtml
from pypdf import PdfReader

from policybrief.publish import outputs

from conftest import make_tiny
from test_pipeline import pdf_text


def mark(root: Path, n: int) -> None:
    path = root / "report/sections/01-background.md"
    text = path.read_text("utf-8").split("\nEdition marker")[0].rstrip("\n")
    path.write_text(text + f"\n\nEdition marker {n} of this build.[@rasanah2024rifts, ¶ 3]\n",
                    "utf-8")


def markers(build: Path) -> set[str]:
    """The edition marker in each output; all outputs must be readable."""
    found = set()
    pdf = " ".join(pdf_text(build / "brief.pdf").split())
    assert len(PdfReader(build / "brief.pdf").pages) >= 2
    found.add(pdf.split("Edition marker ")[1].split()[0])
    with zipfile.ZipFile(build / "brief.docx") as archive:
        assert archive.testzip() is None
        document = archive.read("word/document.xml").decode()
    found.add(document.split("Edition marker ")[1].split()[0].split("<")[0])
    page = lhtml.fromstring((build / "brief.html").read_bytes())
    found.add(page.text_content().split("Edition marker ")[1].split()[0])
    return found


@pytest.mark.slow
def test_killed_builds_leave_one_complete_set(tmp_path: Path) -> None:
    """... and nothing in the system's temporary folder, whenever the kill comes; what
    they left in build/.tmp goes with the next build (scratch.py)."""
    root = make_tiny(tmp_path / "p")
    temp = tmp_path / "system-tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    command = [sys.executable, "-m", "policybrief.commands.cli", "-C", str(root), "-q", "build"]
    mark(root, 0)
    subprocess.run(command, check=True, timeout=120, env=env)
    started = time.perf_counter()
    mark(root, 1)
    subprocess.run(command, check=True, timeout=120, env=env)
    full = time.perf_counter() - started
    rng = random.Random(20240505)
    seen = {"0", "1"}
    for n in range(2, 10):
        mark(root, n)
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env=env)
        time.sleep(rng.uniform(0.05, full * 1.5))  # some kills come after the end
        process.kill()
        process.wait()
        found = markers(root / "build")
        assert len(found) == 1, f"outputs from different builds: {found}"
        seen |= found
    assert len(seen) >= 3, "no killed build ever completed; the test proves nothing"
    builds = root / "build" / outputs.BUILDS
    mark(root, 9)
    subprocess.run(command, check=True, timeout=120, env=env)
    assert markers(root / "build") == {"9"}
    assert not [p for p in builds.iterdir() if p.name.startswith(".stage-")]
    assert len(list(builds.iterdir())) <= outputs.KEEP
    assert list((root / "build" / ".tmp").iterdir()) == []
    deadline = time.monotonic() + 20  # (a killed build's forkserver ends within moments)
    while list(temp.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(temp.iterdir()) == []


def test_a_second_build_at_once_is_refused(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from policybrief.commands.cli import main

    with outputs.locked(tiny / "build"):
        assert main(["-C", str(tiny), "-q", "build", "--format", "html"]) == 1
    assert "build/.lock:1:1: error[build.busy]: another build is writing to build/ right now" in \
        capsys.readouterr().err
    assert not (tiny / "build" / "brief.html").exists()
    assert main(["-C", str(tiny), "-q", "build", "--format", "html"]) == 0

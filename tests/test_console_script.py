"""The ``brief`` command as installed (commands.cli.run): main(), then the process ends
at once. Everything it had to say is said, with its exit status, and nothing it started
is left behind or complains after it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import make_tiny, write

BRIEF = Path(sys.executable).parent / "brief"

pytestmark = pytest.mark.skipif(not BRIEF.exists(), reason="the brief command is not installed")


def brief(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BRIEF), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={"PATH": "/usr/bin:/bin", "CI": "1",
                                            "SOURCE_DATE_EPOCH": "1716163200"})


def test_a_build_says_everything_and_leaves_nothing_behind(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "p")
    done = brief("build", cwd=root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("wrote ")  # the last line, flushed
    assert "wrote build/brief.pdf" in done.stdout and "wrote build/brief.docx" in done.stdout
    assert "leaked" not in done.stderr and "Traceback" not in done.stderr
    assert (root / "build" / "brief.pdf").read_bytes().startswith(b"%PDF")
    again = brief("build", cwd=root)
    assert again.returncode == 0 and "nothing changed" in again.stdout


def test_a_failure_is_said_whole_with_its_status(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "p")
    section = root / "report" / "sections" / "01-background.md"
    write(section, section.read_text("utf-8").replace("rasanah2024rifts, ¶ 3",
                                                       "nobody2020, ¶ 3"))
    failed = brief("build", cwd=root)  # with the PDF's layout processes starting
    assert failed.returncode == 1 and "nobody2020" in failed.stderr
    assert "leaked" not in failed.stderr and "Traceback" not in failed.stderr
    done = brief("check", cwd=root)
    assert done.returncode == 1
    assert "report/sections/01-background.md:" in done.stderr and "nobody2020" in done.stderr
    assert done.stderr.rstrip().splitlines()[-1].strip()  # the message's last line is there
    usage = brief("build", "--no-such-option", cwd=root)
    assert usage.returncode == 2 and "no-such-option" in usage.stderr


def test_ctrl_c_is_an_interruption(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    from policybrief import pipeline
    from policybrief.commands.cli import main

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "build", interrupted)
    assert main(["-C", str(make_tiny(tmp_path / "p")), "build"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"

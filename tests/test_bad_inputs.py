"""Every case of tests/bad_inputs/: the exact messages, exit 1, the last good build kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from policybrief.commands.cli import main

from conftest import make_tiny

CASES = Path(__file__).parent / "bad_inputs"
NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny project, built once: the 'last good build' every case must leave alone."""
    root = make_tiny(tmp_path_factory.mktemp("good"))
    assert main(["-C", str(root), "-q", "build"]) == 0
    return root


def snapshot(build: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(build).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(build.rglob("*")) if p.is_file() and p.name != ".lock"}


@pytest.mark.parametrize("name", NAMES)
def test_bad_input(name: str, good: Path, tmp_path: Path,
                   capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "project"
    shutil.copytree(good, root)
    before = snapshot(root / "build")
    shutil.copytree(CASES / name, root, dirs_exist_ok=True)
    (root / "expected.txt").unlink()
    capsys.readouterr()
    assert main(["-C", str(root), "-q", "build"]) == 1
    err = capsys.readouterr().err
    expected = (CASES / name / "expected.txt").read_text("utf-8")
    assert err == expected, err
    assert "Traceback" not in err
    assert snapshot(root / "build") == before


def test_corpus_is_not_empty() -> None:
    assert len(NAMES) >= 10

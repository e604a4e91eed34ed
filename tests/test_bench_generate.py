"""bench/generate.py makes valid projects: ``brief check`` passes on what it writes.

Fast on purpose (nothing is rendered): the benchmark itself is ``make bench``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from policybrief.commands.cli import main

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def generate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate",
                                                  REPO / "bench" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and "templates" not in p.parts}


def test_a_1x_brief_passes_check_without_findings(generate: ModuleType, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    root = generate.generate(tmp_path / "brief", scale=1)
    capsys.readouterr()
    assert main(["-C", str(root), "check", "--strict"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "ok: 8 sections" in out and "0 warnings" in out, out
    # the default brief's shape: one section of each kind, two sources, ~90 quotes
    kinds = [p.name.split("-", 1)[1] for p in sorted((root / "report" / "sections").iterdir())]
    assert kinds == [f"{k}.md" for k in generate.SECTION_KINDS]
    assert len(list((root / "seeds").iterdir())) == 2
    quotes = sum(p.read_text("utf-8").count("quote") for p in
                 (root / "report" / "sections").iterdir())
    assert 70 <= quotes <= 130


def test_text_varies_and_output_is_deterministic(generate: ModuleType, tmp_path: Path) -> None:
    one = files(generate.generate(tmp_path / "a", scale=1, templates=False))
    two = files(generate.generate(tmp_path / "b", scale=1, templates=False))
    assert one == two
    other = files(generate.generate(tmp_path / "c", scale=1, seed=1, templates=False))
    assert other != one
    paragraphs = [p for name, data in one.items() if name.startswith("seeds/")
                  for p in data.decode("utf-8").split("\n\n") if len(p) > 200]
    assert len(paragraphs) > 20 and len(set(paragraphs)) == len(paragraphs)


def test_scale_multiplies_sections_and_sources(generate: ModuleType, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    root = generate.generate(tmp_path / "brief", scale=2, templates=False)
    assert len(list((root / "report" / "sections").iterdir())) == 16
    assert len(list((root / "seeds").iterdir())) == 4
    assert main(["-C", str(root), "-q", "check", "--strict"]) == 0, capsys.readouterr().err


def test_quote_workload_is_mostly_verbatim(generate: ModuleType) -> None:
    from policybrief.check import checks

    sections, entries, sources = generate.quote_workload(quotes=300, sources=6)
    assert sum(len(s.citations) for s in sections) == 300 and len(sources) == 6
    evidence = checks.check_citations(sections, entries, sources)
    missing = [f for f in evidence.findings if f.rule == "quote.not-found"]
    assert len(evidence.matches) + len(missing) == 300
    assert len(missing) <= 15
    assert any(m.mode == "normalised" for m in evidence.matches.values())

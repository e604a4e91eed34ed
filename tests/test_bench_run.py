"""bench/run.py: its targets, its table, its edits and its CPU accounting.

Nothing here times anything (the benchmark itself is ``make bench``): the targets and the
table are computed from made-up figures, and the CPU accounting is checked on a process
that burns a known amount of CPU after being orphaned.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from policybrief.commands.cli import main

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", REPO / "bench" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def fig(median: float) -> dict[str, Any]:
    return {"median": median, "min": median, "max": median, "n": 1, "note": "made up"}


FIGURES = {
    "full": 2.0, "pdf": 1.6, "noop": 0.05, "edit_prose": 0.5, "edit": 1.5, "check": 0.15,
    "startup": 0.07, "peer": 3.2, "core": 3.0, "core_pdf": 2.5, "quotes": 0.2,
    "full_1core": 4.4, "core_1core": 4.1, "cpu_full": 3.4, "cpu_core": 3.0,
}


def result_of(bench: ModuleType, figures: dict[str, float]) -> dict[str, Any]:
    made = {k: fig(v) for k, v in figures.items()}
    info: dict[str, Any] = {"scale": [], "cpu_accounting": {
        "default": {"wall": 3.0, "wall_all": 3.1, "cpu": 4.0, "direct": 1.5,
                    "sampled": 3.9, "machine_cpu": 5.5, "orphans_reaped": 2,
                    "left_running": 0},
        "workers=1": {"wall": 3.6, "wall_all": 3.6, "cpu": 3.7, "direct": 3.7,
                      "sampled": 3.6, "machine_cpu": 4.0, "orphans_reaped": 0,
                      "left_running": 0}}}
    ratios, targets = bench.assess(made, info)
    return {"machine": {"cores": 2, "cpu": "test", "python": "3", "pandoc": "3",
                        "weasyprint": "70"},
            "figures": made, "ratios": ratios, "targets": targets, "info": info,
            "notes": []}


def test_the_issue_rows_are_targets_with_their_limits(bench: ModuleType) -> None:
    targets = {t["name"]: t for t in result_of(bench, FIGURES)["targets"]}
    expected = {  # name: (value, limit, holds)
        "prose edit → pdf / clean pdf": (0.5 / 1.6, 0.35, True),
        "note edit → pdf / clean pdf": (1.5 / 1.6, 0.85, False),
        "full / peer chain": (2.0 / 3.2, 0.65, True),
        "full, 1 core / core, 1 core": (4.4 / 4.1, 1.10, True),
        "CPU full / CPU core": (3.4 / 3.0, 1.10, False),
    }
    for name, (value, limit, holds) in expected.items():
        assert targets[name]["value"] == pytest.approx(value), name
        assert targets[name]["target"] == limit and targets[name]["pass"] is holds, name
    # the rows that were there before stay, with their limits
    for name, limit in {"full / core": 1.25, "edit (pdf) / core pdf": 1.15,
                        "no-op (s)": 0.3, "no-op / full": 0.10, "check (s)": 0.5,
                        "startup (s)": 0.3, "quote check 5000x100 (s)": 2.0}.items():
        assert targets[name]["target"] == limit, name


def test_a_target_whose_figures_are_missing_is_left_out(bench: ModuleType) -> None:
    figures = {k: v for k, v in FIGURES.items() if k not in ("full_1core", "cpu_core")}
    names = {t["name"] for t in result_of(bench, figures)["targets"]}
    assert "full, 1 core / core, 1 core" not in names and "CPU full / CPU core" not in names
    assert "prose edit → pdf / clean pdf" in names


def test_the_table_shows_each_figure_and_target(bench: ModuleType) -> None:
    text = bench.table(result_of(bench, FIGURES))
    lines = text.splitlines()
    for label in ("prose edit → pdf", "note-adding edit → pdf", "full, 1 core",
                  "core, 1 core", "CPU of full", "CPU of core"):
        assert any(line.startswith(label + " ") for line in lines), label
    row = next(line for line in lines if line.startswith("prose edit → pdf / clean pdf"))
    assert row.split()[-3:] == ["0.312", "0.35", "pass"], row
    row = next(line for line in lines if line.startswith("CPU full / CPU core"))
    assert row.split()[-3:] == ["1.133", "1.10", "FAIL"], row
    assert "CPU accounting" in text and "workers=1" in text


def test_accounting_notes_flag_lost_cpu(bench: ModuleType) -> None:
    good = result_of(bench, FIGURES)["info"]["cpu_accounting"]
    assert bench.accounting_notes(good, 2) == []
    lost = {"default": {**good["default"], "cpu": 2.0},  # less than sampled, and than whole
            "workers=1": good["workers=1"]}
    notes = bench.accounting_notes(lost, 2)
    assert any("not counted" in n for n in notes)
    assert any("are the layout processes counted" in n for n in notes)
    too_much = {"default": {**good["default"], "cpu": 7.0}}  # 7 s in 3.1 s on 2 cores
    assert any("more than the machine has" in n for n in bench.accounting_notes(too_much, 2))
    busier = {"default": {**good["default"], "cpu": 6.0}}  # the machine was busy 5.5 s
    assert any("whole machine was busy" in n for n in bench.accounting_notes(busier, 2))


def test_the_prose_edit_goes_in_a_middle_section_and_adds_no_note(
        bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = bench.copy_default(tmp_path / "brief")
    listed = yaml.safe_load((project / "report" / "brief.yaml").read_text("utf-8"))["sections"]
    path, text, at = bench.prose_target(project)
    assert path.name in listed[1:-1], path.name
    edits = [bench.prose_edit(text, at, i) for i in range(3)]
    assert len(set(edits)) == 3
    for edited in edits:
        # the sentence ends a paragraph of the body, after the front matter
        sentence = edited[at:].split("\n", 1)[0]
        assert sentence.startswith(" This ") and sentence.endswith("adds no note.")
        assert bench.FRONT_MATTER.match(edited).end() < at
        assert edited.count("[@") == text.count("[@")
        path.write_text(edited, "utf-8")
        capsys.readouterr()
        assert main(["-C", str(project), "-q", "check", "--strict"]) == 0, \
            capsys.readouterr().err


def test_a_paragraph_of_the_body_not_a_list_or_a_div(bench: ModuleType,
                                                     tmp_path: Path) -> None:
    root = tmp_path / "p"
    sections = root / "report" / "sections"
    sections.mkdir(parents=True)
    names = ["01-a.md", "02-b.md", "03-c.md"]
    (root / "report" / "brief.yaml").write_text(yaml.safe_dump({"sections": names}))
    for name in names:
        (sections / name).write_text("---\nkind: x\n---\nFirst.\n", "utf-8")
    body = ("---\nkind: background\ntitle: B\n---\n- a list item\n\n::: own\nA div.\n:::\n\n"
            "First paragraph.\n\nSecond paragraph\non two lines.\n\n## A heading\n\n"
            "Third paragraph.\n")
    (sections / "02-b.md").write_text(body, "utf-8")
    path, text, at = bench.prose_target(root)
    assert path.name == "02-b.md" and text[:at].endswith("Second paragraph\non two lines.")


def test_measure_counts_the_cpu_of_orphaned_descendants(bench: ModuleType,
                                                        tmp_path: Path) -> None:
    # The command starts a grandchild, which outlives it (orphaned) and burns 0.3 s of
    # CPU: only a subreaper that reaps it counts that CPU.
    burn = ("import os, sys, time\n"
            "if os.fork() == 0:\n"
            "    if os.fork() == 0:\n"
            "        while time.process_time() < 0.3:\n"
            "            pass\n"
            "    os._exit(0)\n"
            "os.wait()\n"
            "print('done')\n")
    data = bench.measure([sys.executable, "-c", burn], tmp_path)
    assert data["code"] == 0 and data["stdout"].strip() == "done"
    assert data["orphans_reaped"] >= 1 and data["left_running"] == 0
    assert data["cpu"] >= 0.3 > data["direct"]
    assert data["cpu"] - data["direct"] >= 0.3
    assert data["wall_all"] >= data["wall"]
    assert data["machine_cpu"] >= 0.9 * data["cpu"]  # /proc/stat, every process


def test_measure_binds_the_command_to_the_cpus_given(bench: ModuleType,
                                                     tmp_path: Path) -> None:
    import os

    cpu = min(os.sched_getaffinity(0))
    show = "import os; print(sorted(os.sched_getaffinity(0)))"
    data = bench.measure([sys.executable, "-c", show], tmp_path, cpus=[cpu])
    assert data["stdout"].strip() == f"[{cpu}]"


def test_measure_reports_a_failing_command(bench: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="failed \\(3\\)"):
        bench.measure([sys.executable, "-c", "import sys; sys.exit(3)"], tmp_path)


def test_a_note_when_processes_outlive_the_command(bench: ModuleType) -> None:
    runs = [{"wall": 2.0, "wall_all": 2.05}, {"wall": 2.1, "wall_all": 2.9}]
    assert bench.outlived("full", runs) == ["full: processes outlived the command by up to "
                                            "0.80 s"]
    assert bench.outlived("full", runs[:1]) == []


def test_the_core_pdf_as_a_command_lays_out_the_captured_page(
        bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cold core (_COLD) is the in-process core's WeasyPrint step, in a fresh
    process: the same page, stylesheets and options, so the same pages."""
    import subprocess

    from pypdf import PdfReader

    from conftest import make_project

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1796137044")
    root = make_project(tmp_path / "brief", "tiny")
    keep = tmp_path / "core"
    keep.mkdir()
    capture = bench.Capture(root, keep)
    capture.run()
    # a drawing with a label, which one of the fixes draws differently (as one run)
    page = capture.weasy["html"]["string"]
    capture.weasy["html"]["string"] = page.replace(
        "</main>", '<svg width="200" height="40"><text x="5" y="20">Sadr and Maliki'
                   '</text></svg></main>', 1)
    assert capture.weasy["html"]["string"] != page
    spec = capture.cold_spec()
    out = tmp_path / "cold.pdf"
    done = subprocess.run([sys.executable, "-c", bench._COLD, str(spec), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    warm = tmp_path / "warm.pdf"
    job = capture.weasy_job()
    import weasyprint

    written: list[bytes] = []
    original = weasyprint.HTML.write_pdf

    def keep_bytes(self: Any, *a: Any, **k: Any) -> Any:
        data = original(self, *a, **k)
        written.append(data)
        return data

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", keep_bytes)
    job()
    warm.write_bytes(written[-1])
    cold_text = [p.extract_text() for p in PdfReader(str(out)).pages]
    warm_text = [p.extract_text() for p in PdfReader(str(warm)).pages]
    assert len(cold_text) >= 2 and cold_text == warm_text
    # the same WeasyPrint as the in-process core, fixes and all: the same bytes
    assert out.read_bytes() == warm.read_bytes()


def test_the_bench_keeps_its_temporary_files_in_its_own_folder(
        bench: ModuleType, tmp_path: Path) -> None:
    """The core's WeasyPrint runs leave a font folder each behind them (removed only when
    collected, and a process may end first): in the bench's folder, removed with it,
    never in the system's; the commands it runs are told the same folder."""
    import os
    import subprocess
    import tempfile

    before = tempfile.gettempdir(), os.environ.get("TMPDIR")
    with bench._temporary_files_in(str(tmp_path)):
        made = Path(tempfile.mkdtemp(prefix="weasyprint-"))
        told = subprocess.run([sys.executable, "-c", "import tempfile; print(tempfile.gettempdir())"],
                              env=bench.env(), capture_output=True, text=True, check=True)
    assert made.parent == tmp_path
    assert told.stdout.strip() == str(tmp_path)
    assert (tempfile.gettempdir(), os.environ.get("TMPDIR")) == before


def test_the_ratios_against_other_tools_are_read_pair_by_pair(bench: ModuleType) -> None:
    """The machine slows down between rounds (a shared machine drifts): each round meets
    both sides at the same speed, so the ratio read is the build's, not the drift's."""
    speed = iter([1.0, 1.0, 1.0, 1.0, 1.0, 1.6, 1.6, 1.6, 1.6, 1.6, 0.8, 0.8, 0.8, 0.8, 0.8])

    def run(wall: float, cpu: float | None = None) -> Any:
        def go() -> Any:
            slow = next(speed)
            return wall * slow if cpu is None else {"wall": wall * slow, "cpu": cpu * slow}
        return go

    paired = bench.paired_rounds(3, {
        "full": run(3.0, 5.0), "peer": run(5.0), "core": run(4.0, 4.0),
        "full_1core": run(6.0, 5.5), "core_1core": run(5.0, 5.0)})
    assert paired["full / peer chain"]["median"] == pytest.approx(0.6)
    assert paired["full / peer chain"]["ratios"] == pytest.approx([0.6, 0.6, 0.6])
    assert paired["CPU full / CPU core"]["median"] == pytest.approx(1.25)
    assert paired["full, 1 core / core, 1 core"]["median"] == pytest.approx(1.2)

    # a target read both ways holds only when both hold: the larger is its value
    result = result_of(bench, FIGURES)
    info = {**result["info"], "paired": paired}
    made = {k: fig(v) for k, v in FIGURES.items()}
    ratios, targets = bench.assess(made, info)
    values = {t["name"]: t["value"] for t in targets}
    assert values["full / peer chain"] == pytest.approx(2.0 / 3.2)  # medians 0.625 > 0.6
    assert values["CPU full / CPU core"] == pytest.approx(1.25)  # paired 1.25 > 3.4 / 3.0
    assert values["prose edit → pdf / clean pdf"] == pytest.approx(0.5 / 1.6)
    shown = bench.table({**result, "info": info, "targets": targets, "ratios": ratios})
    assert "the median of 3 rounds' ratios" in shown
    assert "pair by pair 0.600, medians 0.625" in shown


def test_every_other_round_runs_in_the_reverse_order(bench: ModuleType) -> None:
    """A run that leaves the machine slower for the next, or a drift within a round,
    must not always fall on the same side of a ratio."""
    ran: list[str] = []

    def run(name: str) -> Any:
        def go() -> float:
            ran.append(name)
            return 1.0
        return go

    names = ["full", "peer", "core", "full_1core", "core_1core"]
    bench.paired_rounds(3, {name: run(name) for name in names})
    assert ran == names + names[::-1] + names
    result = result_of(bench, FIGURES)
    one = bench.paired_rounds(1, {name: run(name) for name in names})
    shown = bench.table({**result, "info": {**result["info"], "paired": one}})
    assert "the median of 1 round's ratios" in shown

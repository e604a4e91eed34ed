"""``make bench``: how fast the brief builds, measured side by side on the same inputs.

Everything runs on a copy of the default brief in a temporary folder (and on generated
briefs for the scale figures), so the repository's own build/ is never touched except
for build/bench.json, which this writes. CLI figures are wall-clock times of the
``brief`` command as a subprocess; "core" figures are the unavoidable work timed
in-process (pandoc's two conversions exactly as the pipeline invokes them, and
WeasyPrint laying out and writing the pipeline's own final page). Each figure is the
median of several runs, with min–max and the interquartile range.

    .venv/bin/python bench/run.py [--quick] [--scales 1,10,50] [--out build/bench.json]
    .venv/bin/python bench/run.py --only ranking    # the ranking's precision@3 alone

The benchmark also reports the precision@3 of the ranking that ``brief sources add``
prints (where a new source bears on the brief), on the labelled set in
tests/data/ranking (see bench/ranking.py); its target is a minimum, not a maximum.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
BIN = Path(sys.executable).parent if (Path(sys.executable).parent / "brief").exists() \
    else REPO / ".venv" / "bin"
BRIEF = str(BIN / "brief")
WEASYPRINT = str(BIN / "weasyprint")
PYTHON = str(BIN / "python") if (BIN / "python").exists() else sys.executable

# (repetitions, quick repetitions) per figure
REPS = {
    "startup": (10, 3), "check": (7, 3), "noop": (7, 3), "full": (3, 1), "pdf": (3, 1),
    "edit": (3, 1), "peer": (3, 1), "core_pandoc": (5, 2), "core_overlap": (3, 1),
    "core_pdf": (3, 1), "quotes": (5, 2),
}
TARGETS = {
    "full / peer chain": 0.8, "full / core": 1.25, "edit (pdf) / core pdf": 1.15,
    "no-op (s)": 0.3, "no-op / full": 0.10, "check (s)": 0.5, "startup (s)": 0.3,
    "time per page, 50x / 1x": 1.3, "quote check 5000x100 (s)": 2.0,
    "peak memory at 50x (MB)": 1536.0,
}
MINIMUMS = {"ranking precision@3": 0.7}


# --- measuring ---------------------------------------------------------------------------


def summary(times: Sequence[float], note: str = "") -> dict[str, Any]:
    ordered = sorted(times)
    if len(ordered) >= 4:
        q1, _, q3 = statistics.quantiles(ordered, n=4)
    else:
        q1, q3 = ordered[0], ordered[-1]
    return {"median": statistics.median(ordered), "min": ordered[0], "max": ordered[-1],
            "q1": q1, "q3": q3, "n": len(ordered), "runs": [round(t, 4) for t in times],
            "note": note}


def env() -> dict[str, str]:
    out = dict(os.environ)
    out.pop("SOURCE_DATE_EPOCH", None)
    out["CI"] = "1"  # plain progress lines, never the live display
    return out


LAST_OUTPUT: list[str] = [""]


def run_cli(args: Sequence[str], cwd: Path, extra_env: dict[str, str] | None = None) -> float:
    """Wall time of one command; raise with its stderr if it fails."""
    start = time.perf_counter()
    done = subprocess.run(list(args), cwd=cwd, env={**env(), **(extra_env or {})},
                          capture_output=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({done.returncode}):\n"
                           + done.stderr.decode("utf-8", "replace")[-2000:])
    LAST_OUTPUT[0] = done.stdout.decode("utf-8", "replace")
    return took


def repeat(n: int, job: Callable[[int], float], before: Callable[[int], None] | None = None,
           ) -> list[float]:
    times = []
    for i in range(n):
        if before is not None:
            before(i)
        times.append(job(i))
    return times


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- the project copy --------------------------------------------------------------------


def copy_default(dest: Path) -> Path:
    """The default brief (report/, seeds/, templates/, assets/, bibliography.bib)."""
    dest.mkdir(parents=True)
    for name in ("report", "seeds", "templates", "assets"):
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, dest / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "bibliography.bib", dest / "bibliography.bib")
    return dest


def clean(project: Path) -> None:
    shutil.rmtree(project / "build", ignore_errors=True)


def pages(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(str(pdf)).pages)


def edit_target(project: Path) -> tuple[Path, str, str]:
    """A section with an inline citation in its body, its text, and that citation."""
    import yaml

    listed = yaml.safe_load((project / "report" / "brief.yaml").read_text("utf-8"))["sections"]
    group = re.compile(r"\[@[^\[\]]*quote[^\[\]]*\]")
    for name in listed:
        path = project / "report" / "sections" / name
        text = path.read_text("utf-8")
        body = text.split("\n---", 2)[-1] if text.startswith("---") else text
        found = group.search(body)
        if found:
            return path, text, found.group()
    raise RuntimeError("no section body with a quoted citation to copy")


# --- core: what the pipeline cannot avoid --------------------------------------------------


class Capture:
    """Run the pipeline in-process once and record what it hands pandoc and WeasyPrint."""

    def __init__(self, project: Path, keep: Path) -> None:
        self.project = project
        self.keep = keep
        self.pandoc: dict[str, dict[str, Any]] = {}
        self.weasy: dict[str, Any] = {}
        self.markdown = ""

    def run(self) -> None:
        import weasyprint

        from policybrief import pipeline
        from policybrief.model import Project
        from policybrief.render import pandoc, pdf

        original_convert, original_pdf = pandoc.convert, pdf.write_pdf
        html_init, html_write = weasyprint.HTML.__init__, weasyprint.HTML.render
        css_init = weasyprint.CSS.__init__
        capture = self

        def convert(markdown: str, to: str, args: list[str], cwd: Path, what: str,
                    output: Path | None = None, epoch: int | None = None,
                    **more: Any) -> str:
            kept = []
            for arg in args:
                if arg.startswith("--reference-doc="):
                    ref = Path(arg.split("=", 1)[1])
                    copy = capture.keep / ref.name
                    shutil.copy(ref, copy)
                    arg = f"--reference-doc={copy}"
                kept.append(arg)
            capture.pandoc[to] = {"markdown": markdown, "args": kept, "what": what,
                                  "output": output is not None, "epoch": epoch, "more": more}
            return original_convert(markdown, to, args, cwd, what, output, epoch, **more)

        def init(self: Any, *a: Any, **k: Any) -> None:
            capture.weasy["html"] = {x: y for x, y in k.items() if x != "url_fetcher"}
            html_init(self, *a, **k)

        class Unlaid:
            def write_pdf(self, *a: Any, **k: Any) -> bytes:
                """Not laid out (the bench only captures the page): an empty but valid
                PDF, which the build's last checks of its outputs can open."""
                import io

                import pikepdf

                blank, out = pikepdf.new(), io.BytesIO()
                blank.add_blank_page()
                blank.save(out)
                return out.getvalue()

        def write(self: Any, *a: Any, **k: Any) -> Any:
            capture.weasy["write"] = k
            capture.weasy["gc"] = gc.get_threshold()  # as the pipeline sets it for layout
            return Unlaid()

        def css(self: Any, *a: Any, **k: Any) -> None:
            capture.weasy.setdefault("css", []).append(
                {x: y for x, y in k.items() if x not in ("url_fetcher", "font_config")})
            css_init(self, *a, **k)

        def write_pdf(*a: Any, **k: Any) -> bytes:
            """The pipeline's PDF stage: record what it hands WeasyPrint, skip the layout
            (figures drawn with WeasyPrint elsewhere are left alone)."""
            weasyprint.HTML.__init__, weasyprint.HTML.render = init, write
            weasyprint.CSS.__init__ = css
            try:  # the page as one document (not in parts), to see what WeasyPrint gets
                data: bytes = pdf.whole(*a[:4])
                return data
            finally:
                weasyprint.HTML.__init__, weasyprint.HTML.render = html_init, html_write
                weasyprint.CSS.__init__ = css_init

        pandoc.convert, pdf.write_pdf = convert, write_pdf
        try:
            pipeline.build(Project(self.project))
        finally:
            pandoc.convert, pdf.write_pdf = original_convert, original_pdf
        self.markdown = self.pandoc.get("html5", {}).get("markdown", "")

    def pandoc_job(self, to: str) -> Callable[[], float]:
        from policybrief.render import pandoc

        call = self.pandoc[to]
        out = self.keep / f"core.{to}"

        def job() -> float:
            start = time.perf_counter()
            pandoc.convert(call["markdown"], to, call["args"], self.keep, call["what"],
                           out if call["output"] else None, call["epoch"], **call["more"])
            return time.perf_counter() - start

        return job

    def weasy_job(self, bare: bool = False) -> Callable[[], float]:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        html = dict(self.weasy["html"])
        write = dict(self.weasy["write"])
        sheets = self.weasy.get("css", [])

        def job() -> float:
            thresholds = gc.get_threshold()
            gc.set_threshold(*self.weasy.get("gc", thresholds))
            try:
                start = time.perf_counter()
                if bare:  # literally weasyprint.HTML(string=…).write_pdf()
                    weasyprint.HTML(**html).write_pdf()
                    return time.perf_counter() - start
                fonts = FontConfiguration()
                options = dict(write)
                if "stylesheets" in options:
                    options["stylesheets"] = [weasyprint.CSS(font_config=fonts, **k)
                                              for k in sheets]
                if "font_config" in options:
                    options["font_config"] = fonts
                weasyprint.HTML(**html).write_pdf(**options)
                return time.perf_counter() - start
            finally:
                gc.set_threshold(*thresholds)

        return job


def overlapped(jobs: Sequence[Callable[[], float]]) -> float:
    start = time.perf_counter()
    threads = [threading.Thread(target=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


# --- where the time of a short command goes ----------------------------------------------

_PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import policybrief.commands.cli as cli
marks = [("import policybrief.commands.cli", time.perf_counter() - t0)]
stage = cli.Ui.stage
def mark(self, name):
    marks.append((name, time.perf_counter() - t0))
    stage(self, name)
cli.Ui.stage = mark
code = cli.main(sys.argv[1:])
marks.append(("exit", time.perf_counter() - t0))
heavy = sorted(m for m in sys.modules if m.split(".")[0] in (
    "weasyprint", "pypandoc", "lxml", "bibtexparser", "jsonschema", "rich", "jinja2",
    "rapidfuzz", "nh3", "docx", "pypdf", "yaml", "referencing", "fontTools", "tinycss2"))
print(json.dumps({"code": code, "marks": marks,
                  "heavy": sorted({m.split(".")[0] for m in heavy})}), file=sys.stderr)
"""


def probe(args: Sequence[str], cwd: Path) -> dict[str, Any]:
    """One run of ``brief args`` with the time at which each stage started."""
    start = time.perf_counter()
    done = subprocess.run([PYTHON, "-c", _PROBE, *args], cwd=cwd, env=env(),
                          capture_output=True)
    wall = time.perf_counter() - start
    line = done.stderr.decode().strip().splitlines()[-1]
    data = json.loads(line)
    data["wall"] = wall
    data["interpreter"] = wall - data["marks"][-1][1]
    return data


def breakdown(data: dict[str, Any]) -> list[tuple[str, float]]:
    """(stage, seconds spent in it), interpreter start-up first."""
    out = [("interpreter start-up and exit", data["interpreter"])]
    marks = data["marks"]
    out.append((marks[0][0], marks[0][1]))
    if len(marks) > 1:
        out.append(("import the command's modules", marks[1][1] - marks[0][1]))
    for (name, at), (_, nxt) in zip(marks[1:], marks[2:], strict=False):
        out.append((name, nxt - at))
    return out


def import_time(args: Sequence[str], cwd: Path) -> tuple[float, list[str]]:
    """``python -X importtime`` of a command: total import time and the heavy modules."""
    done = subprocess.run([PYTHON, "-X", "importtime", BRIEF, *args], cwd=cwd, env=env(),
                          capture_output=True)
    total, heavy = 0, set()
    for line in done.stderr.decode().splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if match:
            if match.group(3) == " ":  # top level
                total += int(match.group(2))
            root = match.group(4).split(".")[0]
            if root in ("weasyprint", "pypandoc", "lxml", "bibtexparser", "jsonschema",
                        "rich", "jinja2", "rapidfuzz", "nh3", "docx", "pypdf", "yaml"):
                heavy.add(root)
    return total / 1e6, sorted(heavy)


# --- scale -----------------------------------------------------------------------------

_CHILD = r"""
import json, os, resource, subprocess, sys, threading, time
PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(root):
    # resident memory of the process and all its descendants (the pandoc processes and
    # the PDF layout processes run beside each other), in kB
    children = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(pid))
            except OSError:
                pass
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE // 1024
        except OSError:
            pass
        stack.extend(children.get(pid, []))
    return total


start = time.perf_counter()
child = subprocess.Popen(sys.argv[2:], cwd=sys.argv[1], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
peak = [0]


def sample():
    while child.poll() is None:
        peak[0] = max(peak[0], tree_rss(child.pid))
        time.sleep(0.05)


watcher = threading.Thread(target=sample, daemon=True)
watcher.start()
out, err = child.communicate()
took = time.perf_counter() - start
watcher.join()
single = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": child.returncode, "wall": took, "maxrss_kb": max(peak[0], single),
                  "largest_process_kb": single,
                  "stderr": err.decode("utf-8", "replace")[-1500:]}))
"""


# The pipeline stops a PDF layout after 300 s or 3,000 MB by default; a 50x brief needs
# about 8 minutes and close to 3,000 MB.
SCALE_ENV = {"POLICYBRIEF_PDF_SECONDS": "3600", "POLICYBRIEF_PDF_MEGABYTES": "16000"}


def in_fresh_process(project: Path, args: Sequence[str]) -> dict[str, Any]:
    done = subprocess.run([PYTHON, "-c", _CHILD, str(project), *args],
                          env={**env(), **SCALE_ENV}, capture_output=True, check=True)
    data = json.loads(done.stdout)
    if data["code"] != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{data['stderr']}")
    return data


# --- the machine -------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    from importlib.metadata import version

    from policybrief.render import pandoc

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform(),
            "pandoc": ".".join(map(str, pandoc.version())),
            "weasyprint": version("weasyprint"), "policybrief": version("policybrief"),
            "load_average_at_start": load}


# --- the run -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="policybrief build benchmark")
    parser.add_argument("--quick", action="store_true",
                        help="fewer repetitions and no 50x brief (a smoke test, not figures)")
    parser.add_argument("--scales", default=None,
                        help="comma-separated multiples of the default brief (default 1,10,50)")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench.json")
    parser.add_argument("--only", choices=["ranking", "claims"],
                        help="run only this (cheap) section and print its figures")
    parser.add_argument("--claims-only", action="store_true",
                        help="the same as --only claims")
    args = parser.parse_args(argv)
    if args.claims_only or args.only == "claims":
        import claims_eval

        claims = claims_section(REPO)
        print(claims_eval.table(claims))
        print(f"claim checks' own time on the default brief: {claims['stage_seconds']:.3f} s")
        return 0 if all(t["pass"] for t in claims_targets(claims)) else 1
    ranked = ranking_section()
    if args.only == "ranking":
        print(ranking_table(ranked))
        return 0 if ranked["precision"] >= MINIMUMS["ranking precision@3"] else 1
    quick = args.quick
    scales = [int(s) for s in (args.scales or ("1,10" if quick else "1,10,50")).split(",")]

    def reps(name: str) -> int:
        return REPS[name][1 if quick else 0]

    began = time.perf_counter()
    # An installed package comes with its bytecode; an editable one run where
    # PYTHONDONTWRITEBYTECODE is set would compile it again on every command.
    import compileall

    import policybrief

    compileall.compile_dir(Path(policybrief.__file__).parent, quiet=1)
    figures: dict[str, dict[str, Any]] = {}
    info: dict[str, Any] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="policybrief-bench-") as tmp_name:
        tmp = Path(tmp_name)
        project = copy_default(tmp / "brief")
        log(f"bench: default brief copied to {project}")

        # 6. startup
        figures["startup"] = summary(repeat(reps("startup"),
                                            lambda i: run_cli([BRIEF, "--help"], project)),
                                     "brief --help")
        info["startup_imports"] = import_time(["--help"], project)
        log(f"  startup {figures['startup']['median']:.3f} s")

        # 5. check
        figures["check"] = summary(repeat(reps("check"),
                                          lambda i: run_cli([BRIEF, "check"], project)),
                                   "brief check")
        info["check_stages"] = breakdown(probe(["check"], project))
        log(f"  check {figures['check']['median']:.3f} s")

        # 1. full, from a clean build/
        figures["full"] = summary(repeat(reps("full"),
                                         lambda i: run_cli([BRIEF, "build"], project),
                                         lambda i: clean(project)),
                                  "brief build (pdf, html, docx), clean build/")
        info["pages"] = pages(project / "build" / "brief.pdf")
        log(f"  full {figures['full']['median']:.2f} s, {info['pages']} pages")

        # 3. no-op: the same build again
        rebuilt = []

        def noop(i: int) -> float:
            took = run_cli([BRIEF, "build"], project)
            if "nothing changed" not in LAST_OUTPUT[0]:
                rebuilt.append(i)
            return took

        figures["noop"] = summary(repeat(reps("noop"), noop),
                                  "brief build again, nothing changed")
        if rebuilt:
            notes.append(f"no-op runs {rebuilt} wrote outputs (something changed)")
        noop_probe = probe(["build"], project)
        info["noop_stages"] = breakdown(noop_probe)
        info["noop_heavy_modules"] = noop_probe["heavy"]
        log(f"  no-op {figures['noop']['median']:.3f} s")

        # 2. pdf only, from a clean build/
        pdf_args = [BRIEF, "build", "--format", "pdf"]
        figures["pdf"] = summary(repeat(reps("pdf"), lambda i: run_cli(pdf_args, project),
                                        lambda i: clean(project)),
                                 "brief build --format pdf, clean build/")
        log(f"  pdf {figures['pdf']['median']:.2f} s")

        # 4. edit: one sentence with a valid citation appended to one section, then pdf
        path, original, citation = edit_target(project)

        def edit(i: int) -> None:
            path.write_text(original.rstrip("\n")
                            + f" Edit {i + 1} restates the claim {citation}.\n", "utf-8")

        try:
            figures["edit"] = summary(repeat(reps("edit"), lambda i: run_cli(pdf_args, project),
                                             edit),
                                      f"append a cited sentence to {path.name}, then "
                                      "--format pdf (build/ current before)")
        finally:
            path.write_text(original, "utf-8")
        log(f"  edit {figures['edit']['median']:.2f} s")

        # 8. core, in-process (capture what the pipeline hands pandoc and WeasyPrint)
        keep = tmp / "core"
        keep.mkdir()
        clean(project)
        capture = Capture(project, keep)
        capture.run()
        html_job, docx_job = capture.pandoc_job("html5"), capture.pandoc_job("docx")
        html_job(), docx_job()  # warm the page cache
        figures["core_pandoc_html"] = summary(repeat(reps("core_pandoc"),
                                                     lambda i: html_job()),
                                              "pandoc → HTML fragment, as the pipeline runs it")
        figures["core_pandoc_docx"] = summary(repeat(reps("core_pandoc"),
                                                     lambda i: docx_job()),
                                              "pandoc → DOCX, as the pipeline runs it")
        figures["core_pandoc_overlapped"] = summary(
            repeat(reps("core_overlap"), lambda i: overlapped([html_job, docx_job])),
            "both pandoc conversions at once (two processes)")
        weasy = capture.weasy_job()
        figures["core_weasyprint_pdf"] = summary(
            repeat(reps("core_pdf"), lambda i: weasy()),
            "weasyprint.HTML(string=page).write_pdf(same stylesheets and options)")
        if not quick:
            bare = capture.weasy_job(bare=True)
            figures["core_weasyprint_bare"] = summary(
                [bare()], "weasyprint.HTML(string=page).write_pdf(), no options: no house "
                "fonts, no tags (one run, for reference)")
        h, d, w = (figures[k]["median"] for k in
                   ("core_pandoc_html", "core_pandoc_docx", "core_weasyprint_pdf"))
        figures["core"] = {"median": h + w + d, "note": "sum of medians: pandoc html + "
                           "weasyprint pdf + pandoc docx (sequential)"}
        figures["core_pdf"] = {"median": h + w, "note": "sum of medians: pandoc html + "
                               "weasyprint pdf"}
        figures["core_overlapped"] = {"median": h + max(w, d), "note": "html, then the PDF "
                                      "layout with the DOCX conversion beside it (as the "
                                      "pipeline runs them, 2 cores)"}
        log(f"  core {h + w + d:.2f} s (html {h:.2f}, pdf {w:.2f}, docx {d:.2f})")

        # 7. peer chain: separate commands, one after the other, on the same Markdown
        from policybrief import pipeline
        from policybrief.assemble import assembly, variables
        from policybrief.model import Project
        from policybrief.render import pandoc, rendering

        checked = pipeline.load(Project(project))
        context = variables.context(checked.brief, checked.evidence.locators)
        markdown = assembly.assemble(checked.brief, checked.evidence.locators,
                                     checked.evidence.matches, context)
        if capture.markdown and markdown != capture.markdown:
            notes.append("the library's assembled Markdown differs from what the pipeline "
                         "passed pandoc")
        peer = tmp / "peer"
        peer.mkdir()
        (peer / "brief.md").write_text(markdown, "utf-8")
        bib = str(project / "bibliography.bib")
        csl = str(rendering.csl_path(checked.brief))
        cite = ["--citeproc", f"--bibliography={bib}", f"--csl={csl}"]
        steps = {
            "peer_pandoc_html": [pandoc.binary(), "brief.md", "-s", "-t", "html5", *cite,
                                 "-o", "brief.html"],
            "peer_weasyprint": [WEASYPRINT, "brief.html", "brief.pdf"],
            "peer_pandoc_docx": [pandoc.binary(), "brief.md", *cite, "-o", "brief.docx"],
        }
        chain: dict[str, list[float]] = {k: [] for k in steps}
        totals = []
        for _ in range(reps("peer")):
            total = 0.0
            for name, command in steps.items():
                took = run_cli(command, peer)
                chain[name].append(took)
                total += took
            totals.append(total)
        for name, times in chain.items():
            shown = [Path(steps[name][0]).name] + [
                a.split("=")[0] + "=…" if a.startswith(("--bibliography", "--csl")) else a
                for a in steps[name][1:]]
            figures[name] = summary(times, " ".join(shown))
        figures["peer"] = summary(totals, "pandoc → HTML, weasyprint → PDF, pandoc → DOCX, "
                                  "one after the other")
        info["peer_pages"] = pages(peer / "brief.pdf")
        log(f"  peer chain {figures['peer']['median']:.2f} s")

        # quote check: 5,000 quotes against 100 sources, in-process
        import generate

        from policybrief.check import checks

        start = time.perf_counter()
        sections, entries, sources = generate.quote_workload(5000, 100)
        info["quote_workload_seconds"] = time.perf_counter() - start
        results = []

        def quote_check(i: int) -> float:
            start = time.perf_counter()
            results.append(checks.check_citations(sections, entries, sources))
            return time.perf_counter() - start

        figures["quotes"] = summary(repeat(reps("quotes"), quote_check),
                                    "checks.check_citations: 5,000 quotes, 100 sources "
                                    "(index built inside)")
        last = results[-1]
        info["quote_check"] = {
            "quotes": sum(len(s.citations) for s in sections), "sources": len(sources),
            "passages": sum(len(s.passages) for s in sources.values()),
            "source_chars": sum(len(p.text) for s in sources.values() for p in s.passages),
            "found": len(last.matches),
            "normalised": sum(1 for m in last.matches.values() if m.mode == "normalised"),
            "not_found": sum(1 for f in last.findings if f.rule == "quote.not-found")}
        log(f"  quote check {figures['quotes']['median']:.3f} s")

        # claim checks: precision and recall on the labelled pairs, and their own time
        info["claims"] = claims_section(project)
        log(f"  claim checks {info['claims']['stage_seconds']:.3f} s on the default brief")

        # scale: generated briefs, one build each in a fresh process
        scale_rows = []
        for scale in scales:
            where = tmp / f"scale-{scale}"
            start = time.perf_counter()
            generate.generate(where, scale)
            made = time.perf_counter() - start
            pdf_only = scale >= 50
            command = [BRIEF, "build"] + (["--format", "pdf"] if pdf_only else [])
            log(f"  scale {scale}x: {' '.join(command[1:])} … ({SCALE_ENV})")
            data = in_fresh_process(where, command)
            n = pages(where / "build" / "brief.pdf")
            scale_rows.append({
                "scale": scale, "build": "pdf only" if pdf_only else "full",
                "seconds": data["wall"], "pages": n, "seconds_per_page": data["wall"] / n,
                "peak_rss_mb": data["maxrss_kb"] / 1024, "generate_seconds": made,
                "sections": 8 * scale, "sources": 2 * scale})
            log(f"    {data['wall']:.1f} s, {n} pages, {data['maxrss_kb'] / 1024:.0f} MB")
            shutil.rmtree(where, ignore_errors=True)
        info["scale"] = scale_rows

    # --- ratios and targets ---------------------------------------------------------
    med = {k: v["median"] for k, v in figures.items()}
    per_page = {row["scale"]: row["seconds_per_page"] for row in info["scale"]}
    ratios = {
        "full / peer chain": med["full"] / med["peer"],
        "full / core": med["full"] / med["core"],
        "pdf / core pdf": med["pdf"] / med["core_pdf"],
        "edit (pdf) / core pdf": med["edit"] / med["core_pdf"],
        "no-op / full": med["noop"] / med["full"],
    }
    values = {**ratios, "no-op (s)": med["noop"], "check (s)": med["check"],
              "startup (s)": med["startup"], "quote check 5000x100 (s)": med["quotes"]}
    if 1 in per_page and 50 in per_page:
        values["time per page, 50x / 1x"] = per_page[50] / per_page[1]
    big = [row for row in info["scale"] if row["scale"] == 50]
    if big:
        values["peak memory at 50x (MB)"] = big[0]["peak_rss_mb"]
    targets = [{"name": name, "value": values[name], "target": limit,
                "pass": values[name] <= limit}
               for name, limit in TARGETS.items() if name in values]
    info["ranking"] = ranked
    targets += [{"name": name, "value": ranked["precision"], "target": least, "minimum": True,
                 "pass": ranked["precision"] >= least} for name, least in MINIMUMS.items()]
    targets += claims_targets(info["claims"])
    elapsed = time.perf_counter() - began
    result = {"machine": machine(), "figures": figures, "ratios": ratios,
              "targets": targets, "info": info, "notes": notes,
              "bench_seconds": elapsed, "quick": quick,
              "definitions": {
                  "core": "pandoc html + weasyprint pdf + pandoc docx, each timed alone "
                          "in-process and summed (sequential); the pipeline runs pandoc "
                          "html first, then the DOCX conversion in its own process while "
                          "WeasyPrint lays out the PDF (see core_overlapped)",
                  "core pdf": "pandoc html + weasyprint pdf",
                  "core runtime": "the in-process WeasyPrint runs use the pipeline's own "
                                  "settings for the layout (its collector thresholds and "
                                  "pydyf page-reference fix), not its wrappers",
                  "spread": "min–max over the runs (q1–q3 in the JSON)",
                  "peak memory": "the largest sum of resident memory over the build's whole "
                                 "process tree (sampled every 50 ms: brief, pandoc, the PDF "
                                 "layout processes), in a fresh process per scale"}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(table(result))
    print(f"\nwrote {args.out} ({elapsed:.0f} s)")
    return 0


def claims_section(project: Path) -> dict[str, Any]:
    """Precision and recall of the claim checks on tests/claims/pairs.yaml, and the
    claim stage's own time on the default brief (best of 5, in-process)."""
    import claims_eval

    from policybrief import pipeline
    from policybrief.check import claims, tradecraft
    from policybrief.model import Project

    result = claims_eval.evaluate(REPO)
    checked = pipeline.load(Project(project))
    brief = checked.brief
    times = []
    for _ in range(5):
        start = time.perf_counter()
        texts = [p.text for s in brief.sources.values() for p in s.passages]
        texts += [t for s in brief.sections for t, _ in tradecraft.texts(s)]
        names = claims.load_names(brief.project.root, brief.entries, texts)
        claims.check(brief.sections, brief.matches, brief.sources, names, brief.entries)
        times.append(time.perf_counter() - start)
    result["stage_seconds"] = min(times)
    return result


def claims_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    import claims_eval

    out = []
    for rule, (precision, recall) in claims_eval.TARGETS.items():
        for what, limit in (("precision", precision), ("recall", recall)):
            value = result[rule][what]
            out.append({"name": f"{rule} {what}", "value": value, "target": limit,
                        "pass": value >= limit, "minimum": True})
    return out


def table(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [f"machine: {m['cores']} cores, {m['cpu']}, Python {m['python']}, pandoc "
             f"{m['pandoc']}, WeasyPrint {m['weasyprint']}", "",
             f"{'figure':<26} {'median':>9} {'spread (min–max)':>19} {'n':>3}  what"]
    order = ["full", "pdf", "noop", "edit", "check", "startup", "peer", "peer_pandoc_html",
             "peer_weasyprint", "peer_pandoc_docx", "core", "core_pdf", "core_overlapped",
             "core_pandoc_html", "core_weasyprint_pdf", "core_pandoc_docx",
             "core_pandoc_overlapped", "core_weasyprint_bare", "quotes"]
    for name in order:
        f = result["figures"].get(name)
        if f is None:
            continue
        spread = f"{f['min']:.3f}–{f['max']:.3f}" if "min" in f else "(derived)"
        lines.append(f"{name:<26} {f['median']:>8.3f}s {spread:>19} {f.get('n', ''):>3}  "
                     f"{f['note']}")
    lines += ["", f"{'scale':<6} {'build':<9} {'seconds':>8} {'pages':>6} {'s/page':>7} "
              f"{'peak MB':>8}"]
    for row in result["info"].get("scale", []):
        lines.append(f"{str(row['scale']) + 'x':<6} {row['build']:<9} {row['seconds']:>8.1f} "
                     f"{row['pages']:>6} {row['seconds_per_page']:>7.3f} "
                     f"{row['peak_rss_mb']:>8.0f}")
    lines += ["", f"{'target':<28} {'value':>9} {'limit':>8}  result"]
    for t in result["targets"]:
        lines.append(f"{t['name']:<28} {t['value']:>9.3f} "
                     f"{('≥' if t.get('minimum') else '') + format(t['target'], '.2f'):>8}  "
                     f"{'pass' if t['pass'] else 'FAIL'}")
    if "claims" in result["info"]:
        import claims_eval

        lines += ["", claims_eval.table(result["info"]["claims"]),
                  f"claim checks' own time on the default brief: "
                  f"{result['info']['claims']['stage_seconds']:.3f} s (in-process, best of 5)"]
    info = result["info"]
    if "noop_stages" in info:
        lines += ["", "where the no-op build's time goes (one probed run):"]
        lines += [f"  {s:<32} {t:6.3f}s" for s, t in info["noop_stages"]]
    if "check_stages" in info:
        lines += ["", "where brief check's time goes (one probed run):"]
        lines += [f"  {s:<32} {t:6.3f}s" for s, t in info["check_stages"]]
    if "startup_imports" in info:
        total, heavy = info["startup_imports"]
        lines += ["", f"brief --help: {total:.3f} s of imports; heavy modules imported: "
                  f"{', '.join(heavy) or 'none'}"]
    if "ranking" in info:
        lines += ["", ranking_table(info["ranking"])]
    for note in result["notes"]:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def ranking_section() -> dict[str, Any]:
    """Precision@3 of "it bears most on" on the labelled set (bench/ranking.py)."""
    import ranking

    start = time.perf_counter()
    result = ranking.evaluate(k=3)
    result["seconds"] = time.perf_counter() - start
    return result


def ranking_table(result: dict[str, Any]) -> str:
    lines = [f"ranking: precision@{result['precision_at']} {result['precision']:.2f} "
             f"(target ≥ {MINIMUMS['ranking precision@3']:.2f}) on {result['sources']} new "
             f"sources, {result['pairs']} labelled passage → sentence pairs "
             f"({result['seconds']:.1f} s)"]
    lines += [f"  {name:<32} {value:.2f}" for name, value in result["per_source"].items()]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

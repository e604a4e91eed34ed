"""``make bench``: how fast the brief builds, measured side by side on the same inputs.

Everything runs on a copy of the default brief in a temporary folder (and on generated
briefs for the scale figures), so the repository's own build/ is never touched except
for build/bench.json, which this writes. CLI figures are wall-clock times of the
``brief`` command as a subprocess; "core" figures are the unavoidable work timed
in-process (pandoc's two conversions exactly as the pipeline invokes them, and
WeasyPrint laying out and writing the pipeline's own final page). Each figure is the
median of several runs, with min–max and the interquartile range.

Builds that make a PDF also report their CPU time (user + sys) summed over every
process they start (see _MEASURE), against the core's; the full build and the core are
also measured bound to one CPU; and an edit that adds no note (prose) is timed apart
from one that adds a note.

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
from collections.abc import Callable, Iterator, Sequence
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
    "edit": (3, 1), "edit_prose": (5, 2), "peer": (3, 1), "core_pandoc": (5, 2),
    "core_overlap": (3, 1), "core_pdf": (3, 1), "quotes": (5, 2), "one_core": (3, 1),
    "paired": (3, 1),
}
# The targets that compare the build with another tool's runs (the chain, the core) are
# also read pair by pair (paired_rounds): both sides measured back to back in each round,
# the median of the rounds' ratios; the figures' own medians are taken minutes apart, on
# a machine whose speed drifts. The two readings have differed by up to 17%, either way
# from one run to the next, so such a target holds only when both readings hold.
PAIRED = {"full / peer chain": ("full", "peer"),
          "CPU full / CPU core": ("cpu_full", "cpu_core"),
          "full, 1 core / core, 1 core": ("full_1core", "core_1core")}
TARGETS = {
    "prose edit → pdf / clean pdf": 0.35, "note edit → pdf / clean pdf": 0.85,
    "full / peer chain": 0.65, "full, 1 core / core, 1 core": 1.10,
    "CPU full / CPU core": 1.10, "watch: save → pdf (s)": 1.0,
    "full / core": 1.25, "edit (pdf) / core pdf": 1.15,
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


@contextlib.contextmanager
def _temporary_files_in(folder: str) -> Iterator[None]:
    """While in this block, temporary files in ``folder``, this process's and those of
    the commands it runs: the core's WeasyPrint runs copy the faces into a folder that
    outlives the process (the system's temporary folder kept ~5 MB a run)."""
    before = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = os.environ["TMPDIR"] = folder
    try:
        yield
    finally:
        tempfile.tempdir = before[0]
        if before[1] is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = before[1]


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


def pdf_has(pdf: Path, sentence: str) -> bool:
    """Whether the PDF's text has ``sentence`` (line breaks and hyphenation aside)."""
    from pypdf import PdfReader

    text = " ".join(page.extract_text() or "" for page in PdfReader(str(pdf)).pages)
    text = re.sub(r"[\u00ad-]\s*\n\s*", "", text)

    def squeeze(value: str) -> str:
        return re.sub(r"\s+", " ", value.replace("\u2019", "'")).strip()

    return squeeze(sentence) in squeeze(text)


def outlived(label: str, runs: Sequence[dict[str, Any]]) -> list[str]:
    """A note if processes the command started went on working after it exited (the
    wall time ends when the command exits; their CPU is counted all the same)."""
    late = max((r["wall_all"] - r["wall"] for r in runs), default=0.0)
    if late > 0.5:  # the forkserver ends a moment after the build, longer on a busy machine
        return [f"{label}: processes outlived the command by up to {late:.2f} s"]
    return []


def edit_target(project: Path) -> tuple[Path, str, str]:
    """A section with an inline citation in its body, its text, and that citation: the
    section nearest the middle of the brief that has one (as for the prose edit: the
    notes after an edit are numbered anew, so where it falls decides what is laid out
    again, and the middle is where an edit falls on average)."""
    import yaml

    listed = yaml.safe_load((project / "report" / "brief.yaml").read_text("utf-8"))["sections"]
    group = re.compile(r"\[@[^\[\]]*quote[^\[\]]*\]")
    centre = (len(listed) - 1) / 2
    for index in sorted(range(len(listed)), key=lambda i: (abs(i - centre), i)):
        name = listed[index]
        path = project / "report" / "sections" / name
        text = path.read_text("utf-8")
        body = text.split("\n---", 2)[-1] if text.startswith("---") else text
        found = group.search(body)
        if found:
            return path, text, found.group()
    raise RuntimeError("no section body with a quoted citation to copy")


FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n---[ \t]*(?:\n|\Z)", re.S)
NOT_PROSE = re.compile(r"(#|:::|```|~~~|[-*+>|<!]|\d+[.)]\s)")

# One sentence each, plain prose of our own (no citation, no number, no name the claim
# checks look up): a prose edit adds no note.
PROSE_EDITS = ["amber", "blue", "coral", "denim", "ebony", "fawn", "green", "hazel", "ivory",
               "jade", "khaki", "lemon", "mauve", "navy", "ochre", "peach", "quartz", "rose",
               "sage", "teal"]


def prose_sentence(i: int) -> str:
    word = PROSE_EDITS[i % len(PROSE_EDITS)]
    return f"This {word} sentence is a plain edit of our own, and it adds no note."


def prose_target(project: Path) -> tuple[Path, str, int]:
    """Where a prose edit goes: the end of the middle plain paragraph in the body of the
    middle section with one (the first and last sections are never picked when there
    are three or more). Returns the section file, its text and the offset at which a
    sentence appended to that paragraph goes."""
    import yaml

    listed = yaml.safe_load((project / "report" / "brief.yaml").read_text("utf-8"))["sections"]
    middle = list(listed[1:-1]) if len(listed) >= 3 else list(listed)
    centre = (len(middle) - 1) / 2
    for index in sorted(range(len(middle)), key=lambda i: (abs(i - centre), i)):
        path = project / "report" / "sections" / middle[index]
        text = path.read_text("utf-8")
        front = FRONT_MATTER.match(text)
        at = front.end() if front else 0
        plain = []  # (start, end) of each plain paragraph of the body
        for found in re.finditer(r"(?:[^\n]+\n?)+", text[at:]):
            block = found.group().rstrip()
            if block and not NOT_PROSE.match(block) and not block.startswith("    "):
                plain.append((at + found.start(), at + found.start() + len(block)))
        if plain:
            return path, text, plain[(len(plain) - 1) // 2][1]
    raise RuntimeError("no middle section with a plain paragraph in its body to edit")


def prose_edit(text: str, at: int, i: int) -> str:
    """``text`` with the i-th plain sentence appended to the paragraph ending at ``at``."""
    return text[:at] + " " + prose_sentence(i) + text[at:]


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
            converted: str = original_convert(markdown, to, args, cwd, what, output, epoch,
                                              **more)
            return converted

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

        from policybrief.render import html as html_stage

        original_fragment = html_stage.render_fragment

        def fragment(markdown: str, bib: Path, csl: Path, workdir: Path, *more: Any) -> str:
            """The HTML: the core converts the whole document once, as a hand-rolled
            pipeline would (the pipeline converts its appendix beside the rest)."""
            converted = original_fragment(markdown, bib, csl, workdir, *more)
            capture.pandoc["html5"] = {
                "markdown": markdown, "what": "the HTML", "output": False, "epoch": None,
                "more": {}, "args": html_stage.citing(bib, csl)}
            return converted

        pandoc.convert, pdf.write_pdf = convert, write_pdf
        html_stage.render_fragment = fragment
        try:
            pipeline.build(Project(self.project))
        finally:
            pandoc.convert, pdf.write_pdf = original_convert, original_pdf
            html_stage.render_fragment = original_fragment
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

    def cold_spec(self) -> Path:
        """The core's PDF step as a file a fresh process reads (see _COLD): the page,
        the stylesheets' arguments and the options, as the pipeline handed them."""
        html = dict(self.weasy["html"])
        (self.keep / "page.html").write_text(html.pop("string"), "utf-8")
        options = {k: v.hex() if isinstance(v, bytes) else v
                   for k, v in self.weasy["write"].items()
                   if k not in ("stylesheets", "font_config")}
        spec = {"page": str(self.keep / "page.html"), "html": html, "options": options,
                "bytes": [k for k, v in self.weasy["write"].items() if isinstance(v, bytes)],
                "css": self.weasy.get("css", []), "gc": self.weasy.get("gc"),
                "stylesheets": "stylesheets" in self.weasy["write"]}
        path = self.keep / "cold.json"
        path.write_text(json.dumps(spec), "utf-8")
        return path

    def weasy_job(self, bare: bool = False) -> Callable[[], float]:
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration

        html = dict(self.weasy["html"])
        write = dict(self.weasy["write"])
        sheets = self.weasy.get("css", [])

        def job() -> float:
            with _temporary_files_in(str(self.keep)):
                return timed_job()

        def timed_job() -> float:
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


# The core's PDF step in a fresh process, as a command would run it: the interpreter, the
# import of WeasyPrint (as the build imports it), the faces, then the same layout as
# Capture.weasy_job, with the same fixes to WeasyPrint in place as the in-process core
# has (the pipeline installed them in the bench's process). What a CLI build cannot avoid
# and the in-process core does not pay.
_COLD = r"""
import gc, json, sys
spec = json.load(open(sys.argv[1], encoding="utf-8"))
from policybrief.render.pdf import libraries  # WeasyPrint imported as the build does
from policybrief.render.pdf import weasyprint_fixed
weasyprint_fixed()
import weasyprint
from weasyprint.text.fonts import FontConfiguration
if spec["gc"]:
    gc.set_threshold(*spec["gc"])
fonts = FontConfiguration()
options = {k: bytes.fromhex(v) if k in spec["bytes"] else v
           for k, v in spec["options"].items()}
if spec["stylesheets"]:
    options["stylesheets"] = [weasyprint.CSS(font_config=fonts, **k) for k in spec["css"]]
    options["font_config"] = fonts
with open(spec["page"], encoding="utf-8") as f:
    page = f.read()
data = weasyprint.HTML(string=page, **spec["html"]).write_pdf(**options)
if len(sys.argv) > 2:
    with open(sys.argv[2], "wb") as f:
        f.write(data)
"""


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
    data: dict[str, Any] = json.loads(line)
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
    data: dict[str, Any] = json.loads(done.stdout)
    if data["code"] != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{data['stderr']}")
    return data


# --- CPU time of a command and everything it starts --------------------------------------

# Runs one command and reports its wall time and the CPU time (user + sys) of its whole
# process tree. It makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so that
# a descendant orphaned on the way (the forkserver of the PDF layout processes outlives
# the build by a moment, and nobody waits for it) is re-parented here, not to init; once
# the command has exited, it reaps every descendant (waitpid(-1) until ECHILD), so that
# getrusage(RUSAGE_CHILDREN) holds the CPU of them all: the command, pandoc, the
# forkserver and the layout processes (each reaped by the forkserver, whose figure then
# includes theirs). "direct" is the figure before the orphans are reaped (the command
# and what it waited for itself). With "sample" set, a thread also reads the user + sys
# ticks of every descendant in /proc every so often (a lower bound, taken independently;
# it costs CPU of its own, so timed runs go without). "machine_cpu" is the CPU the whole
# machine spent busy meanwhile (/proc/stat): the build's share of it shows how busy the
# machine was, and the build cannot have used more. Output goes to files, so that the
# wall time ends when the command exits (a process it leaves behind may hold a pipe).
_MEASURE = r"""
import ctypes, json, os, resource, subprocess, sys, tempfile, threading, time

spec = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
    raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")
if spec["cpus"]:
    os.sched_setaffinity(0, spec["cpus"])  # the command and all it starts inherit it
TICK = os.sysconf("SC_CLK_TCK")
ME = os.getpid()


def tree():
    # {pid: (user + sys ticks of the process itself, of its reaped children)}, for every
    # live descendant of this process
    stats, children = {}, {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid = int(name)
            children.setdefault(int(fields[1]), []).append(pid)
            stats[pid] = (int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]))
    out, stack = {}, list(children.get(ME, []))
    while stack:
        pid = stack.pop()
        if pid in stats:
            out[pid] = stats[pid]
        stack.extend(children.get(pid, []))
    return out


def machine_busy():
    # CPU seconds the whole machine has spent busy (all cores, every process) so far
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / TICK  # not idle, not iowait


seen, stop = {}, threading.Event()


def sample():
    while not stop.is_set():
        for pid, (own, _) in tree().items():
            seen[pid] = max(seen.get(pid, 0), own)
        stop.wait(spec["sample"])


sampler = threading.Thread(target=sample, daemon=True)
out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
busy = machine_busy()
start = time.perf_counter()
if spec["sample"]:
    sampler.start()
child = subprocess.Popen(spec["args"], cwd=spec["cwd"], stdout=out, stderr=err,
                         env=spec["env"])
code = child.wait()
wall = time.perf_counter() - start
direct = resource.getrusage(resource.RUSAGE_CHILDREN)
reaped, left, deadline = 0, {}, time.monotonic() + spec["linger"]
while True:
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if pid:
        reaped += 1
    elif time.monotonic() > deadline:  # still running: count what /proc says so far
        left = tree()
        break
    else:
        time.sleep(0.005)
wall_all = time.perf_counter() - start
busy = machine_busy() - busy
stop.set()
if spec["sample"]:
    sampler.join()
total = resource.getrusage(resource.RUSAGE_CHILDREN)
extra = sum(own + reaped_ticks for own, reaped_ticks in left.values()) / TICK
out.seek(0)
err.seek(0)
print(json.dumps({
    "code": code, "wall": wall, "wall_all": wall_all,
    "user": total.ru_utime, "sys": total.ru_stime,
    "cpu": total.ru_utime + total.ru_stime + extra,
    "direct": direct.ru_utime + direct.ru_stime, "orphans_reaped": reaped,
    "left_running": len(left), "left_cpu": extra, "machine_cpu": busy,
    "sampled": sum(seen.values()) / TICK if spec["sample"] else None,
    "sampled_processes": len(seen),
    "stdout": out.read().decode("utf-8", "replace")[-4000:],
    "stderr": err.read().decode("utf-8", "replace")[-2000:]}))
"""


def measure(args: Sequence[str], cwd: Path, extra_env: dict[str, str] | None = None,
            cpus: Sequence[int] | None = None, sample: float = 0.0,
            linger: float = 30.0) -> dict[str, Any]:
    """Wall time of one command (until it exits) and the CPU time, user + sys, of its
    whole process tree (see _MEASURE); raise with its stderr if it fails."""
    spec = {"args": [str(a) for a in args], "cwd": str(cwd), "cpus": list(cpus or []),
            "sample": sample, "linger": linger, "env": {**env(), **(extra_env or {})}}
    done = subprocess.run([PYTHON, "-c", _MEASURE, json.dumps(spec)], capture_output=True,
                          env=env())
    if done.returncode != 0:
        raise RuntimeError("the CPU measurement failed:\n"
                           + done.stderr.decode("utf-8", "replace")[-2000:])
    data: dict[str, Any] = json.loads(done.stdout)
    if data["code"] != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({data['code']}):\n"
                           + data["stderr"])
    LAST_OUTPUT[0] = data["stdout"]
    return data


def timed(args: Sequence[str], cwd: Path, into: list[dict[str, Any]],
          **options: Any) -> float:
    """measure(): the wall time, the whole record (without the output) kept in ``into``."""
    data = measure(args, cwd, **options)
    into.append({k: v for k, v in data.items() if k not in ("stdout", "stderr")})
    took: float = data["wall"]
    return took


def with_runs(figure: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """A timed figure with the median CPU time of its runs and the runs themselves."""
    return {**figure, "cpu_median": statistics.median(r["cpu"] for r in runs),
            "measured": runs}


def cpu_now() -> float:
    """CPU time, user + sys, of this process and of the children it has waited for."""
    import resource

    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def with_cpu(job: Callable[[], float], into: list[float]) -> Callable[[], float]:
    """``job`` (returning its wall time), also recording into ``into`` the CPU time it
    took: this process's (in-process WeasyPrint) and its children's (pandoc). Only for
    jobs run one at a time (never beside another thread of this process)."""

    def run() -> float:
        before = cpu_now()
        took = job()
        into.append(cpu_now() - before)
        return took

    return run


@contextlib.contextmanager
def pinned(cpu: int) -> Any:
    """This thread (and every process it starts) on one CPU, for the duration."""
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, saved)


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

        # 1. full, from a clean build/: its wall time (until brief exits) and the CPU
        # time of all its processes (brief, pandoc, the forkserver, the layout processes)
        full_runs: list[dict[str, Any]] = []
        figures["full"] = with_runs(summary(
            repeat(reps("full"), lambda i: timed([BRIEF, "build"], project, full_runs),
                   lambda i: clean(project)),
            "brief build (pdf, html, docx), clean build/"), full_runs)
        figures["cpu_full"] = summary(
            [r["cpu"] for r in full_runs], "CPU time (user + sys) of brief build, clean "
            "build/, summed over all its processes (brief, pandoc, forkserver, layout)")
        info["pages"] = pages(project / "build" / "brief.pdf")
        log(f"  full {figures['full']['median']:.2f} s, {info['pages']} pages, CPU "
            f"{figures['cpu_full']['median']:.2f} s")

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
        pdf_runs: list[dict[str, Any]] = []
        figures["pdf"] = with_runs(summary(
            repeat(reps("pdf"), lambda i: timed(pdf_args, project, pdf_runs),
                   lambda i: clean(project)),
            "brief build --format pdf, clean build/"), pdf_runs)
        log(f"  pdf {figures['pdf']['median']:.2f} s")

        # 4a. prose edit: a plain sentence (no citation, so no note) appended to a
        # paragraph of a middle section, a different one each time, then pdf, with build/
        # current before each (the previous run's)
        run_cli(pdf_args, project)  # build/ current for the brief as it is
        prose_path, prose_original, at = prose_target(project)

        def prose(i: int) -> None:
            prose_path.write_text(prose_edit(prose_original, at, i), "utf-8")

        prose_runs: list[dict[str, Any]] = []
        try:
            figures["edit_prose"] = with_runs(summary(
                repeat(reps("edit_prose"), lambda i: timed(pdf_args, project, prose_runs),
                       prose),
                f"append a plain sentence (no note) to a paragraph of {prose_path.name}, "
                "then --format pdf (build/ current before)"), prose_runs)
        finally:
            prose_path.write_text(prose_original, "utf-8")
        if not pdf_has(project / "build" / "brief.pdf",
                       prose_sentence(reps("edit_prose") - 1)):
            notes.append("the prose edit's sentence is not in the PDF built after it")
        log(f"  prose edit {figures['edit_prose']['median']:.2f} s")

        # 4b. note-adding edit: one sentence with a valid citation appended to one
        # section (a new note), then pdf, with build/ current before each
        run_cli(pdf_args, project)  # build/ current again, without the prose edit
        path, original, citation = edit_target(project)

        def edit(i: int) -> None:
            path.write_text(original.rstrip("\n")
                            + f" Edit {i + 1} restates the claim {citation}.\n", "utf-8")

        edit_runs: list[dict[str, Any]] = []
        try:
            figures["edit"] = with_runs(summary(
                repeat(reps("edit"), lambda i: timed(pdf_args, project, edit_runs), edit),
                f"append a cited sentence (a new note) to {path.name}, then --format pdf "
                "(build/ current before)"), edit_runs)
        finally:
            path.write_text(original, "utf-8")
        # 4c. brief watch --format pdf: from the save of a prose edit to the PDF written
        import watch_edit

        # (sentences the prose edits above did not use: none of them is laid out yet)
        run_cli(pdf_args, project)
        first = reps("edit_prose")
        figures["watch_edit"] = summary(
            watch_edit.measure(project, prose_path, [prose_edit(prose_original, at, i)
                                                     for i in range(first, 2 * first)]),
            f"brief watch --format pdf: save of a prose edit to {prose_path.name} → PDF "
            "written")
        log(f"  watch: save → pdf {figures['watch_edit']['median']:.2f} s")
        for label, runs in (("full", full_runs), ("pdf", pdf_runs), ("prose edit", prose_runs),
                            ("note-adding edit", edit_runs)):
            notes.extend(outlived(label, runs))
        log(f"  note-adding edit {figures['edit']['median']:.2f} s")

        # 8. core, in-process (capture what the pipeline hands pandoc and WeasyPrint)
        keep = tmp / "core"
        keep.mkdir()
        clean(project)
        capture = Capture(project, keep)
        capture.run()
        html_job, docx_job = capture.pandoc_job("html5"), capture.pandoc_job("docx")
        html_job(), docx_job()  # warm the page cache
        core_cpu: dict[str, list[float]] = {"html": [], "pdf": [], "docx": []}
        html_timed = with_cpu(html_job, core_cpu["html"])
        docx_timed = with_cpu(docx_job, core_cpu["docx"])
        figures["core_pandoc_html"] = summary(repeat(reps("core_pandoc"),
                                                     lambda i: html_timed()),
                                              "pandoc → HTML fragment, as the pipeline runs it")
        figures["core_pandoc_docx"] = summary(repeat(reps("core_pandoc"),
                                                     lambda i: docx_timed()),
                                              "pandoc → DOCX, as the pipeline runs it")
        figures["core_pandoc_overlapped"] = summary(
            repeat(reps("core_overlap"), lambda i: overlapped([html_job, docx_job])),
            "both pandoc conversions at once (two processes)")
        weasy = capture.weasy_job()
        weasy_timed = with_cpu(weasy, core_cpu["pdf"])
        figures["core_weasyprint_pdf"] = summary(
            repeat(reps("core_pdf"), lambda i: weasy_timed()),
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
        for part, times in core_cpu.items():
            figures[f"cpu_core_{part}"] = summary(times, f"CPU time of the core's {part} "
                                                  "(this process and its pandoc children)")
        figures["cpu_core"] = {"median": sum(statistics.median(t) for t in core_cpu.values()),
                               "note": "sum of medians: CPU time of pandoc html + weasyprint "
                               "pdf + pandoc docx (user + sys)"}
        log(f"  CPU: full {figures['cpu_full']['median']:.2f} s, core "
            f"{figures['cpu_core']['median']:.2f} s")
        # the core's PDF step as a command would run it (no target: for reading the
        # ratios against the core, which is measured warm, in this process)
        cold = capture.cold_spec()
        cold_runs: list[dict[str, Any]] = []
        figures["core_pdf_cold"] = with_runs(summary(
            repeat(reps("core_pdf"), lambda i: timed([PYTHON, "-c", _COLD, str(cold)],
                                                     keep, cold_runs,
                                                     extra_env={"TMPDIR": str(keep)})),
            "the core's WeasyPrint step in a fresh process: interpreter, import, faces, "
            "layout"), cold_runs)
        figures["cpu_core_cold"] = {
            "median": figures["cpu_core"]["median"] - figures["cpu_core_pdf"]["median"]
            + figures["core_pdf_cold"]["cpu_median"],
            "note": "CPU of core, its WeasyPrint step run as a command (core_pdf_cold)"}
        log(f"  core pdf as a command {figures['core_pdf_cold']['median']:.2f} s, CPU "
            f"{figures['core_pdf_cold']['cpu_median']:.2f} s")

        # one core: the full build and the core, each on the same single CPU
        cpu0 = min(os.sched_getaffinity(0))
        info["one_core_cpu"] = cpu0
        one_core_runs: list[dict[str, Any]] = []
        figures["full_1core"] = with_runs(summary(
            repeat(reps("one_core"),
                   lambda i: timed([BRIEF, "build"], project, one_core_runs, cpus=[cpu0]),
                   lambda i: clean(project)),
            f"brief build, clean build/, all its processes on CPU {cpu0} (as taskset -c "
            f"{cpu0})"), one_core_runs)
        with pinned(cpu0):
            html_job(), docx_job()
            one: dict[str, float] = {}
            for name, job in (("html", html_job), ("pdf", weasy), ("docx", docx_job)):
                one[name] = statistics.median(job() for _ in range(reps("one_core")))
        figures["core_1core"] = {"median": sum(one.values()), "parts": one,
                                 "note": f"sum of medians: the core with this process pinned "
                                 f"to CPU {cpu0} (its pandoc children inherit it)"}
        log(f"  one core: full {figures['full_1core']['median']:.2f} s, core "
            f"{figures['core_1core']['median']:.2f} s")

        # is all the CPU counted? One run of each, with /proc sampled beside (a lower
        # bound taken independently); the layout processes in parts against none (the
        # page laid out whole, in the brief process itself)
        accounting = {}
        for label, extra in (("default", {}), ("workers=1", {"POLICYBRIEF_PDF_WORKERS": "1"})):
            clean(project)
            data = measure([BRIEF, "build"], project, extra, sample=0.05)
            accounting[label] = {k: v for k, v in data.items() if k not in ("stdout", "stderr")}
        info["cpu_accounting"] = accounting
        notes.extend(accounting_notes(accounting, os.cpu_count() or 1))

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

        # the ratios against the chain and the core, pair by pair
        def core_run(pin: bool) -> dict[str, float]:
            with pinned(cpu0) if pin else contextlib.nullcontext():
                before = cpu_now()
                wall = html_job() + weasy() + docx_job()
                return {"wall": wall, "cpu": cpu_now() - before}

        def chain_run() -> float:
            return sum(run_cli(command, peer) for command in steps.values())

        def full_run(pin: bool) -> dict[str, Any]:
            clean(project)
            return measure([BRIEF, "build"], project, cpus=[cpu0] if pin else None)

        info["paired"] = paired_rounds(reps("paired"), {
            "full": lambda: full_run(False), "peer": chain_run, "core": lambda: core_run(False),
            "full_1core": lambda: full_run(True), "core_1core": lambda: core_run(True)})
        log("  pair by pair: " + "; ".join(f"{name} {row['median']:.3f}"
                                         for name, row in info["paired"].items()))

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
    ratios, targets = assess(figures, info)
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
                  "clean pdf": "the pdf figure: brief build --format pdf from a clean build/",
                  "prose edit": "a plain sentence (no citation, so no new note) appended to a "
                                "paragraph in the body of a middle section, a different "
                                "sentence each run, then brief build --format pdf with build/ "
                                "current before",
                  "note-adding edit": "the edit figure: a sentence with a valid citation "
                                      "(a new note) appended to a section, then brief build "
                                      "--format pdf with build/ current before",
                  "cpu": "user + sys CPU seconds. Of a command: summed over every process it "
                         "starts (run under a child subreaper that reaps every orphaned "
                         "descendant, so getrusage(RUSAGE_CHILDREN) holds them all). Of the "
                         "core: this process's CPU (in-process WeasyPrint) plus its "
                         "children's (pandoc), per conversion, sum of the medians",
                  "one core": "full_1core: brief build with the command and all it starts "
                              "bound to one CPU (as taskset -c); core_1core: the core with "
                              "the bench process bound to the same CPU (its pandoc children "
                              "inherit it)",
                  "full": "wall time until the brief command exits",
                  "core runtime": "the in-process WeasyPrint runs use the pipeline's own "
                                  "settings for the layout (its collector thresholds and the "
                                  "fixes its layout installs in a process: pydyf's page "
                                  "references, a pushed line's notes, the glyph arrays), "
                                  "not its wrappers",
                  "spread": "min–max over the runs (q1–q3 in the JSON)",
                  "peak memory": "the largest sum of resident memory over the build's whole "
                                 "process tree (sampled every 50 ms: brief, pandoc, the PDF "
                                 "layout processes), in a fresh process per scale"}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(table(result))
    print(f"\nwrote {args.out} ({elapsed:.0f} s)")
    return 0


def paired_rounds(rounds: int, runs: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """The ratios of :data:`PAIRED`, pair by pair: in each round every run once, one after
    the other (a run gives its wall time, or a record with "wall" and "cpu"), so that
    both sides of a ratio meet the machine at the same speed; every other round in the
    reverse order, so that neither side of a ratio always comes first (a drift within a
    round, or a run that leaves the machine slower for the next, weighs on both sides
    alike); per ratio, the median of the rounds' ratios and the rounds' ratios."""
    taken: list[dict[str, float]] = []
    for number in range(rounds):
        row: dict[str, float] = {}
        order = list(runs.items())
        for name, run in order[::-1] if number % 2 else order:
            got = run()
            if isinstance(got, dict):
                row[name] = got["wall"]
                row[f"cpu_{name}"] = got["cpu"]
            else:
                row[name] = got
        taken.append(row)
    out: dict[str, Any] = {}
    for target, (a, b) in PAIRED.items():
        ratios = [row[a] / row[b] for row in taken if a in row and row.get(b, 0) > 0]
        if ratios:
            out[target] = {"median": statistics.median(ratios), "ratios": ratios,
                           "rounds": [{k: row[k] for k in (a, b)} for row in taken]}
    return out


def assess(figures: dict[str, dict[str, Any]], info: dict[str, Any],
           ) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """The ratios of the figures' medians, and each target (TARGETS) whose figures were
    measured: its value, its limit and whether it holds."""
    med = {k: v["median"] for k, v in figures.items()}
    per_page = {row["scale"]: row["seconds_per_page"] for row in info.get("scale", [])}
    pairs = {
        "full / peer chain": ("full", "peer"),
        "full / core": ("full", "core"),
        "pdf / core pdf": ("pdf", "core_pdf"),
        "prose edit → pdf / clean pdf": ("edit_prose", "pdf"),
        "note edit → pdf / clean pdf": ("edit", "pdf"),
        "edit (pdf) / core pdf": ("edit", "core_pdf"),
        "no-op / full": ("noop", "full"),
        "full, 1 core / core, 1 core": ("full_1core", "core_1core"),
        "CPU full / CPU core": ("cpu_full", "cpu_core"),
        "CPU full / CPU core as commands": ("cpu_full", "cpu_core_cold"),
    }
    ratios = {name: med[a] / med[b] for name, (a, b) in pairs.items()
              if a in med and b in med and med[b] > 0}
    values = dict(ratios)
    # Read pair by pair where measured, and held to the ratio of the medians too (see
    # PAIRED): a target holds only when it holds both ways.
    for name, row in info.get("paired", {}).items():
        values[name] = max(row["median"], ratios.get(name, row["median"]))
    for name, key in (("no-op (s)", "noop"), ("check (s)", "check"),
                      ("watch: save → pdf (s)", "watch_edit"),
                      ("startup (s)", "startup"), ("quote check 5000x100 (s)", "quotes")):
        if key in med:
            values[name] = med[key]
    if 1 in per_page and 50 in per_page:
        values["time per page, 50x / 1x"] = per_page[50] / per_page[1]
    big = [row for row in info.get("scale", []) if row["scale"] == 50]
    if big:
        values["peak memory at 50x (MB)"] = big[0]["peak_rss_mb"]
    targets = [{"name": name, "value": values[name], "target": limit,
                "pass": values[name] <= limit}
               for name, limit in TARGETS.items() if name in values]
    return ratios, targets


def accounting_notes(accounting: dict[str, dict[str, Any]], cores: int) -> list[str]:
    """What would make the CPU figures doubtful, one note each (none when they hold)."""
    out = []
    for label, run in accounting.items():
        cpu, sampled = run["cpu"], run.get("sampled")
        if sampled is not None and cpu < 0.95 * sampled:
            out.append(f"CPU accounting ({label}): getrusage counted {cpu:.2f} s, less than "
                       f"the {sampled:.2f} s /proc showed: some processes' CPU was not counted")
        if cpu > 1.05 * run["wall_all"] * cores:
            out.append(f"CPU accounting ({label}): {cpu:.2f} s of CPU in {run['wall_all']:.2f} s "
                       f"on {cores} cores is more than the machine has")
        busy = run.get("machine_cpu")
        if busy is not None and cpu > 1.05 * busy + 0.05:
            out.append(f"CPU accounting ({label}): {cpu:.2f} s counted, more than the "
                       f"{busy:.2f} s the whole machine was busy meanwhile")
        if run.get("left_running"):
            out.append(f"CPU accounting ({label}): {run['left_running']} processes were still "
                       "running 30 s after the build ended (their CPU so far is counted)")
    whole, parts = accounting.get("workers=1"), accounting.get("default")
    if whole and parts and parts["cpu"] < 0.9 * whole["cpu"]:
        out.append(f"CPU accounting: the build in parts counted {parts['cpu']:.2f} s of CPU, "
                   f"less than the page laid out whole ({whole['cpu']:.2f} s): are the layout "
                   "processes counted?")
    return out


def accounting_table(accounting: dict[str, dict[str, Any]]) -> str:
    lines = ["CPU accounting, brief build from clean (one run each, /proc sampled beside):",
             f"  {'run':<10} {'wall':>7} {'CPU':>7} {'CPU/wall':>8} {'direct':>7} "
             f"{'sampled':>8} {'machine':>8} {'reaped':>6}"]

    def seconds(value: float | None) -> str:
        return "" if value is None else f"{value:.2f}s"

    for label, run in accounting.items():
        lines.append(f"  {label:<10} {run['wall']:>6.2f}s {run['cpu']:>6.2f}s "
                     f"{run['cpu'] / run['wall']:>8.2f} {run['direct']:>6.2f}s "
                     f"{seconds(run.get('sampled')):>8} {seconds(run.get('machine_cpu')):>8} "
                     f"{run['orphans_reaped']:>6}")
    lines.append("  (CPU: user + sys of every process, orphans reaped as a subreaper; direct: "
                 "what brief waited for itself; sampled: /proc ticks, a lower bound; machine: "
                 "the CPU the whole machine was busy meanwhile, all processes, an upper bound)")
    return "\n".join(lines)


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


FIGURE_ORDER = [
    "full", "pdf", "noop", "edit_prose", "edit", "watch_edit", "check", "startup", "peer",
    "peer_pandoc_html", "peer_weasyprint", "peer_pandoc_docx", "core", "core_pdf",
    "core_overlapped", "core_pandoc_html", "core_weasyprint_pdf", "core_pandoc_docx",
    "core_pandoc_overlapped", "core_weasyprint_bare", "full_1core", "core_1core", "cpu_full",
    "cpu_core", "cpu_core_html", "cpu_core_pdf", "cpu_core_docx", "core_pdf_cold",
    "cpu_core_cold", "quotes"]
LABELS = {"edit_prose": "prose edit → pdf", "watch_edit": "watch: save → pdf",
          "edit": "note-adding edit → pdf",
          "full_1core": "full, 1 core", "core_1core": "core, 1 core",
          "cpu_full": "CPU of full", "cpu_core": "CPU of core", "cpu_core_html": "CPU core html",
          "cpu_core_pdf": "CPU core pdf", "cpu_core_docx": "CPU core docx",
          "core_pdf_cold": "core pdf as a command", "cpu_core_cold": "CPU of core, commands"}


def table(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [f"machine: {m['cores']} cores, {m['cpu']}, Python {m['python']}, pandoc "
             f"{m['pandoc']}, WeasyPrint {m['weasyprint']}", "",
             f"{'figure':<26} {'median':>9} {'spread (min–max)':>19} {'n':>3}  what"]
    for name in FIGURE_ORDER:
        f = result["figures"].get(name)
        if f is None:
            continue
        spread = f"{f['min']:.3f}–{f['max']:.3f}" if "min" in f else "(derived)"
        lines.append(f"{LABELS.get(name, name):<26} {f['median']:>8.3f}s {spread:>19} "
                     f"{f.get('n', ''):>3}  {f['note']}")
    lines += ["", f"{'scale':<6} {'build':<9} {'seconds':>8} {'pages':>6} {'s/page':>7} "
              f"{'peak MB':>8}"]
    for row in result["info"].get("scale", []):
        lines.append(f"{str(row['scale']) + 'x':<6} {row['build']:<9} {row['seconds']:>8.1f} "
                     f"{row['pages']:>6} {row['seconds_per_page']:>7.3f} "
                     f"{row['peak_rss_mb']:>8.0f}")
    lines += ["", f"{'target':<32} {'value':>9} {'limit':>8}  result"]
    for t in result["targets"]:
        lines.append(f"{t['name']:<32} {t['value']:>9.3f} "
                     f"{('≥' if t.get('minimum') else '') + format(t['target'], '.2f'):>8}  "
                     f"{'pass' if t['pass'] else 'FAIL'}")
    paired = result["info"].get("paired", {})
    if paired:
        rounds = max(len(row["ratios"]) for row in paired.values())
        counted = f"{rounds} rounds'" if rounds != 1 else "1 round's"
        medians = result.get("ratios", {})
        lines.append(f"(read two ways, the value above the larger: pair by pair, the median "
                     f"of {counted} ratios, each round measuring both sides back to back; "
                     "and as the ratio of the figures' medians)")
        for name in PAIRED:
            if name in paired:
                lines.append(f"  {name:<30} pair by pair {paired[name]['median']:.3f}"
                             + (f", medians {medians[name]:.3f}" if name in medians else ""))
    cold = result.get("ratios", {}).get("CPU full / CPU core as commands")
    if cold is not None:
        lines.append(f"{'(CPU full / CPU core as commands':<32} {cold:>9.3f} {'':>8}  "
                     "no target: the core's WeasyPrint run as a command would run it)")
    if "claims" in result["info"]:
        import claims_eval

        lines += ["", claims_eval.table(result["info"]["claims"]),
                  f"claim checks' own time on the default brief: "
                  f"{result['info']['claims']['stage_seconds']:.3f} s (in-process, best of 5)"]
    info = result["info"]
    if "cpu_accounting" in info:
        lines += ["", accounting_table(info["cpu_accounting"])]
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

"""``brief watch --format pdf``: the time from a saved edit to the new PDF.

The watcher is started on a copy of the default brief and left to make its first build;
then one section is edited and saved, again and again (each time another sentence of
prose, no note: the prose edit of run.py), and each time the clock runs from the save to
the watcher's line that says it wrote build/brief.pdf. The figure includes the watcher's
own wait for the saves to settle (50 ms).

    .venv/bin/python bench/watch_edit.py [--reps 5]
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent if (Path(sys.executable).parent / "brief").exists() \
    else REPO / ".venv" / "bin"
def measure(project: Path, section: Path, edits: list[str], timeout: float = 300.0
            ) -> list[float]:
    """Seconds from each save of ``section`` with the next of ``edits`` (its whole
    text) to the PDF written by the watcher; the section is restored after."""
    original = section.read_text("utf-8")
    env = {**os.environ, "CI": "1"}
    env.pop("SOURCE_DATE_EPOCH", None)
    watcher = subprocess.Popen([str(BIN / "brief"), "-C", str(project), "watch", "--format",
                                "pdf", "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert watcher.stdout is not None
        for line in watcher.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()

    def wait_for(prefix: str, written: bool = True) -> None:
        end = time.monotonic() + timeout
        while True:
            line = lines.get(timeout=max(0.1, end - time.monotonic()))
            if line.startswith(prefix):
                if written and "brief.pdf" not in line:
                    raise RuntimeError(f"the watcher did not write the PDF: {line}")
                return
            if line.startswith("build failed"):
                raise RuntimeError(f"the watcher's build failed: {line}")

    times = []
    try:
        wait_for("build 1:", written=False)  # (build/ may be current already)
        for number, text in enumerate(edits):
            time.sleep(0.5)  # the watcher idle, as after a pause in typing
            with open(section, "w", encoding="utf-8") as handle:
                handle.write(text)
            saved = time.perf_counter()
            wait_for(f"build {number + 2}:")
            times.append(time.perf_counter() - saved)
    finally:
        section.write_text(original, "utf-8")
        watcher.terminate()
        try:
            watcher.wait(10)
        except subprocess.TimeoutExpired:
            watcher.kill()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO / "bench"))
    from run import copy_default, prose_edit, prose_target

    with tempfile.TemporaryDirectory(prefix="policybrief-watch-") as tmp:
        project = copy_default(Path(tmp) / "brief")
        section, original, at = prose_target(project)
        times = measure(project, section,
                        [prose_edit(original, at, i) for i in range(args.reps)])
    print("save → PDF written by brief watch: "
          + ", ".join(f"{t:.2f}" for t in times)
          + f" s; median {statistics.median(times):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""pandoc, as pypandoc-binary ships it, run bounded and sandboxed.

pypandoc finds the bundled binary; it is run here as a subprocess so that it gets a
time limit, a memory limit (GHC's ``+RTS -M``) and ``--sandbox``, and so that every
warning (an unknown citation renders as "(key?)" and exits 0) is a failure.
"""

from __future__ import annotations

import os
import subprocess
from functools import cache
from pathlib import Path

from ..errors import RenderError

TIMEOUT = 120  # seconds for one conversion
MEMORY = "1024M"  # pandoc's heap limit
READER = "markdown-raw_html-raw_attribute-raw_tex-tex_math_dollars-tex_math_single_backslash"
MINIMUM = (3, 9)


@cache
def binary() -> str:
    """The pandoc that pypandoc-binary ships (the pinned one, found without importing
    pypandoc, which would run every pandoc on the PATH to choose one); else pypandoc's."""
    import importlib.util

    spec = importlib.util.find_spec("pypandoc")
    if spec is not None and spec.origin:
        bundled = Path(spec.origin).parent / "files" / \
            ("pandoc.exe" if os.name == "nt" else "pandoc")
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    import pypandoc

    return str(pypandoc.get_pandoc_path())


@cache
def version() -> tuple[int, ...]:
    out = subprocess.run([binary(), "--version"], capture_output=True, text=True, check=True,
                         timeout=30).stdout
    return tuple(int(p) for p in out.split()[1].split(".") if p.isdigit())


def convert(markdown: str, to: str, args: list[str], cwd: Path, what: str,
            output: Path | None = None, epoch: int | None = None,
            timeout: float = TIMEOUT, reader: str = READER) -> str:
    """Convert ``markdown`` (or, with ``reader="json"``, pandoc's document as JSON: see
    parsed.py) with pandoc; ``what`` names the job in error messages."""
    command = [binary(), "+RTS", f"-M{MEMORY}", "-RTS", "--from", reader, "--to", to,
               "--sandbox", "--fail-if-warnings", *args]
    if output is not None:
        command += ["--output", str(output)]
    env = dict(os.environ)
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        done = subprocess.run(command, input=markdown.encode("utf-8"), capture_output=True,
                              cwd=cwd, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise RenderError(f"pandoc took longer than {timeout:g} s rendering {what} (deeply "
                          "nested brackets or lists?)", "report/sections", 1) from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = "; ".join(line.strip() for line in message[:3]) or f"exit {done.returncode}"
        if "Heap exhausted" in detail or done.returncode == 251:
            detail = f"ran out of memory ({MEMORY}); deeply nested input?"
        raise RenderError(f"pandoc failed rendering {what}: {detail}", "report/sections", 1)
    return done.stdout.decode("utf-8")

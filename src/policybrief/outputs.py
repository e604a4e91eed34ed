"""Stage 7, write: outputs staged beside their targets, then swapped in together.

Nothing is written until everything has been loaded, checked and rendered. Each output
goes to a temporary file in its own folder and is renamed over the old one only once
every output of the build exists, so a failure leaves the last good set untouched. A
lock file stops two builds writing at once; a state file remembers the content hash of
each output's inputs, so that a rebuild with nothing changed writes nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from .errors import BriefError

STATE = ".state.json"


@contextlib.contextmanager
def locked(build: Path) -> Iterator[None]:
    """Hold ``build/.lock`` for the duration; a second build waits for the first."""
    build.mkdir(parents=True, exist_ok=True)
    with open(build / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BriefError("another build is writing to build/ right now; wait for it",
                             "build/.lock", 1) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_state(build: Path) -> dict[str, str]:
    try:
        data = json.loads((build / STATE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def unchanged(build: Path, name: str, digest: str, state: Mapping[str, str]) -> bool:
    """True when ``build/name`` exists and was made from inputs with this ``digest``."""
    return state.get(name) == digest and (build / name).is_file()


def publish(build: Path, files: Mapping[str, bytes], digests: Mapping[str, str]) -> list[str]:
    """Write ``files`` (name → bytes) into ``build`` together; return what changed."""
    staged: list[tuple[Path, Path]] = []
    try:
        for name, data in files.items():
            target = build / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_file() and target.read_bytes() == data:
                continue
            temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            with open(temp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            staged.append((temp, target))
        state = {**read_state(build), **digests}
        state_temp = build / f".{STATE}.{os.getpid()}.tmp"
        state_temp.write_text(json.dumps(state, indent=1, sort_keys=True), "utf-8")
    except BaseException:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        raise
    for temp, target in staged:
        os.replace(temp, target)
    os.replace(state_temp, build / STATE)
    return [target.relative_to(build).as_posix() for _, target in staged]

"""How a build says what it is doing, without a callback threaded through every call.

A :class:`Progress` is handed down from the command to each stage that takes long
enough to be worth naming: ``stage`` is called with each step as it starts ("load the
sources", "lay out the PDF (WeasyPrint)"), ``notice`` with what the analyst must read
even in a quiet run (what changed sources mean for the brief). :data:`QUIET` says
nothing, for the library and the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class Progress:
    """The two things a build reports while it runs."""

    stage: Callable[[str], None] = _quiet
    notice: Callable[[str], None] = _quiet


QUIET = Progress()

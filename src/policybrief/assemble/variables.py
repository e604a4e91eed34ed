"""The variables every template shares: the estimative scale, the evidence appendix's
rows, the figures and the house style, the brief's date written out.

In: the checked ``Brief`` and each citation's locator. Out: the context that
:func:`policybrief.assemble.assembly.assemble` renders the document with, and that the
HTML page is rendered with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .. import __version__
from ..check import tradecraft
from ..model import Brief, Citation, House
from . import figures
from .evidence import appendix


def long_date(iso: str) -> str:
    """``2024-05-20`` → ``20 May 2024``."""
    day = dt.date.fromisoformat(iso)
    return f"{day.day} {day.strftime('%B %Y')}"


def context(brief: Brief, locators: Mapping[Citation, str]) -> dict[str, Any]:
    """Variables the templates share."""
    groups, coverage = appendix(brief, dict(locators))
    authors = {k: e.fields.get("author", k).strip("{}") for k, e in brief.entries.items()}
    return {
        "terms": tradecraft.terms(),
        "attribution": lambda a: tradecraft.attribution_text(a, authors),
        "date_long": long_date(str(brief.meta["date"])),
        "version": __version__,
        "evidence_groups": groups,
        "coverage": coverage,
        "estimative": tradecraft.estimative(),
        "figures": brief.figures or figures.Figures(),
        "house": brief.house or House(),
    }

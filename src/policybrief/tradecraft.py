"""Analytic tradecraft: the estimative vocabulary (ICD 203) and its rules.

One vocabulary of likelihood terms with their ranges and one of confidence levels;
templates print them, and the checks hold scenarios and key judgments to them.
"""

from __future__ import annotations

from collections.abc import Mapping

# term -> (low %, high %), in ICD 203's order.
LIKELIHOOD: dict[str, tuple[int, int]] = {
    "almost no chance": (1, 5),
    "very unlikely": (5, 20),
    "unlikely": (20, 45),
    "roughly even chance": (45, 55),
    "likely": (55, 80),
    "very likely": (80, 95),
    "almost certain": (95, 99),
}

CONFIDENCE: dict[str, str] = {
    "high": "sound argument, consistent reporting from several good sources, few gaps "
            "and assumptions",
    "moderate": "credibly sourced and plausible, but not corroborated enough for more",
    "low": "credibility or plausibility uncertain, information fragmented, dated or "
           "poorly corroborated",
}


def term_range(term: str) -> str:
    """``likely`` → ``55–80%``."""
    low, high = LIKELIHOOD[term]
    return f"{low}–{high}%"


def terms() -> dict[str, str]:
    return {term: term_range(term) for term in LIKELIHOOD}


def attribution_text(attribution: str, authors: Mapping[str, str]) -> str:
    """Whose judgment: the brief's own, or a source's (by its author)."""
    if attribution == "brief":
        return "The brief's own judgment."
    return f"Judgment of the source: {authors.get(attribution, attribution)}."

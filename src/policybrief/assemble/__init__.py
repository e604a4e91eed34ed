"""Stage 3, assemble: the checked brief in, one Markdown document and its pieces out.

In: the checked ``Brief`` and its ``Evidence``. Out: the assembled Markdown (every
citation resolved to its key and quote), the evidence appendix, and the figures as
SVG. All Jinja lives here: the one environment (``assembly.environment``), the
templates' context, the figures' SVG templates (``figures``, laid out by ``drawing``).
"""

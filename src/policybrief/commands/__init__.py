"""The commands: what a user types in, a build or an edit of the project out.

``cli`` is the thin ``brief`` command over the library (errors are caught and turned
into exit codes only there); the others are the commands that are more than a build:
``scaffold`` (``brief init``, ``brief new``, ``brief templates``), ``intake`` (``brief
sources add``), ``lock`` (``brief sources lock``), ``locators`` (``brief check --fix``),
``watch``, ``parity`` and ``review``. They call :func:`policybrief.pipeline.build` and
the stages below it; nothing below imports them.
"""

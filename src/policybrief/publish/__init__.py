"""Stage 5, publish: the rendered files in, ``build/`` out, atomically.

In: the rendered files as bytes and their input digests. Out: a complete new set in
``build/.builds/``, swapped in at once (``outputs``), and the record of the inputs
that made it (``inputs``: the fingerprint that lets an unchanged build be skipped).
This and :mod:`policybrief.load` are the only stages that touch the disk.
"""

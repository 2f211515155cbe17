"""Evaluation harness: how trained models score against Gatys optimisation on the same loss.

Modules: ``fast_vs_gatys`` (a fast stylizer against an L-BFGS run on one loss: matching
iteration count and speed), ``fast_models`` (load a fast model from any file the harness
accepts) and ``quality`` (per-style quality rows of trained models). ``scripts/`` holds the
command-line wrappers that write docs/BENCHMARKS.md's tables.
"""

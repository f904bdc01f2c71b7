"""Builders of tiny random models saved in the published file layouts, for tests and benchmarks only.

diffusers keeps ``get_dummy_components`` with its tests; these live here for the same reason: no product
code needs them. ``tests.builders.brushnet`` (SD1.5 + BrushNet) and ``tests.builders.segment`` (SAM,
GroundingDINO, Qwen2-VL) import as ``tests.builders...`` with the repository root on ``sys.path``
(pytest's ``pythonpath = ["."]``; each benchmark inserts the root itself).
"""

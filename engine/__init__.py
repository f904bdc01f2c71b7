"""The BrushEdit agent: instructor, segmentation, BrushNet inpainting and classical fill.

Nothing in this package imports Qt or ``desktop``; heavy dependencies (torch, diffusers,
transformers) are imported lazily inside the modules that need them, so ``engine.api`` stays
cheap to import from the editor's GUI thread.
"""

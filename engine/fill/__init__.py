"""Fill engine for removal without weights or a GPU: an exemplar (PatchMatch) fill that copies
texture (:mod:`engine.fill.patch_fill`, the default) and OpenCV's Telea / Navier-Stokes diffusion
inpainting, behind one entry point, :func:`run_fill`."""

from engine.fill.opencv_fill import DEFAULT_METHOD, DIFFUSION_METHODS, FILL_METHODS, run_fill

__all__ = ["DEFAULT_METHOD", "DIFFUSION_METHODS", "FILL_METHODS", "run_fill"]

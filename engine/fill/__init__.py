"""Fill engine for removal without weights or a GPU: an exemplar (PatchMatch) fill that copies
texture, and OpenCV's Telea / Navier-Stokes diffusion inpainting."""

from engine.fill.opencv_fill import DEFAULT_METHOD, DIFFUSION_METHODS, FILL_METHODS, run_fill
from engine.fill.patch_fill import patch_fill

__all__ = ["DEFAULT_METHOD", "DIFFUSION_METHODS", "FILL_METHODS", "patch_fill", "run_fill"]

"""Fast classical fill (OpenCV Telea / Navier-Stokes) for removal without weights or a GPU."""

from engine.fill.opencv_fill import FILL_METHODS, run_fill

__all__ = ["FILL_METHODS", "run_fill"]

"""Numpy mask operations shared by the engine and the editor's document.

A package of its own so that neither side imports the other for them (see ``pyproject.toml``'s
import-linter contracts): it imports only numpy and OpenCV.
"""

from masks import mask_ops

__all__ = ["mask_ops"]

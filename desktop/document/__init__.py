"""The editor's document: layers, edit mask, history, OpenRaster I/O. Plain Python + numpy; never Qt or torch.

>>> from desktop.document import Document
>>> doc = Document.new(64, 48)
>>> doc.flatten().shape
(48, 64, 4)
"""

from .document import Document
from .errors import DocumentError
from .events import DocumentEvent
from .history import History
from .layers import EditLayer, Layer, RasterLayer, Variant
from .provenance import Provenance

__all__ = ["Document", "DocumentError", "DocumentEvent", "EditLayer", "History", "Layer", "Variant",
           "Provenance", "RasterLayer"]

"""The editor's document: layers, edit mask, history, OpenRaster I/O. Plain Python + numpy; never Qt or torch."""

"""The BrushEdit Studio editor: the document model (``desktop.document``) and the Qt UI (``desktop.ui``)."""

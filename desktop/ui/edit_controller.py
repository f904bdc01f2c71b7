"""The edit flow's old home: it is the model layer's :class:`desktop.model.edit_model.EditModel` now
(QtCore only, no widget: it decides, the panels bind to it). ``EditController`` stays its name here,
with the helpers it used to carry, for the code and tests that import them from this module."""

from __future__ import annotations

from desktop.model.apply_result import (  # noqa: F401  (old private names, kept working)
    layer_from_candidate as _layer_from_candidate,
    layer_full_mask as _layer_full_mask,
    layer_name as _layer_name,
    make_provenance,
    params_from_provenance as _params_from_provenance,
    worker_record as _worker_record,
)
from desktop.model.edit_model import EditModel
from desktop.model.run_text import (  # noqa: F401
    AUTO_MASK_MODELS,
    auto_mask_missing as _auto_mask_missing,
    empty_mask_error as _empty_mask_error,
)
from desktop.model.snapshots import Snapshots, snapshot_rgb  # noqa: F401

EditController = EditModel

__all__ = ["EditController", "make_provenance", "snapshot_rgb"]

"""The shared mask operations, re-exported from :mod:`masks.mask_ops` so older imports keep working.

``engine.segment.mask_ops`` *is* ``masks.mask_ops`` (the same module object), so private helpers and
monkeypatches reach the same functions.
"""

import sys

from masks import mask_ops as _mask_ops

sys.modules[__name__] = _mask_ops

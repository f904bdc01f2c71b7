"""Text -> boxes (GroundingDINO), points/boxes -> mask (SAM), and mask operations.

Keep this ``__init__`` free of torch imports: ``engine.segment.mask_ops`` re-exports ``masks.mask_ops``.
"""

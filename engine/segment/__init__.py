"""Text -> boxes (GroundingDINO), points/boxes -> mask (SAM), and mask operations.

Keep this ``__init__`` free of torch imports: ``desktop.document`` imports ``engine.segment.mask_ops``.
"""

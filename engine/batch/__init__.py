"""Batch work on the engine's side: one photo's plan-and-paint (:mod:`engine.batch.item`), the same
for every runner; the batch run over a folder (:mod:`engine.batch.run`: settings, the run loop, the
local executor; :mod:`engine.batch.files`: photos, masks, report and state; :mod:`engine.batch.sheet`:
the contact sheet); and a Ray pool of engines that runs it on a cluster (:mod:`engine.batch.ray_pool`,
imported only by ``brushedit batch --ray``).

The photos' pixels and the outputs go through the caller's :class:`~engine.batch.run.BatchFiles` (the
document side: ``desktop.document.result_files.DocumentFiles``), so nothing here imports the editor or
the CLI; ``brushedit batch`` (:mod:`cli.batch`) and File ▸ Batch… (through ``desktop.engine_client``)
are two faces of this one run.
"""

from engine.batch.item import BatchDone, BatchWork, derive_seed, edit_one

__all__ = ["BatchDone", "BatchWork", "derive_seed", "edit_one"]

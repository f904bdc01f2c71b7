"""Batch work on the engine's side: one photo's plan-and-paint (:mod:`engine.batch.item`), the same
for every runner, and a Ray pool of engines that runs it on a cluster (:mod:`engine.batch.ray_pool`,
imported only by ``brushedit batch --ray``).

Reading folders, writing outputs, the report and the contact sheet belong to the caller
(:mod:`cli.batch_run`): the engine never touches the user's files here.
"""

from engine.batch.item import BatchDone, BatchWork, derive_seed, edit_one

__all__ = ["BatchDone", "BatchWork", "derive_seed", "edit_one"]

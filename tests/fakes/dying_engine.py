"""An engine whose process dies on its first photos (``os._exit``): a Ray worker lost mid-batch.

``DyingEngine(config, marker_dir=D, deaths=N)``: each ``inpaint`` first tries to claim one of N
marker files in D (atomically, ``O_EXCL``); the call that claims one kills its process, any later one
paints with the real :class:`engine.dispatch.Engine` and leaves a file in ``D/paints`` naming the engine
object (pid and id). So across fresh workers exactly N paints die, and a test can count the engines.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


class DyingEngine:
    def __init__(self, config: Any = None, *, marker_dir: str, deaths: int = 1) -> None:
        from engine.dispatch import Engine

        self.engine = Engine(config)
        self.marker_dir = Path(marker_dir)
        self.deaths = deaths
        self.made = f"{os.getpid()}-{id(self)}"  # which engine painted: one file per paint names it

    def plan(self, *args: Any, **kwargs: Any) -> Any:
        return self.engine.plan(*args, **kwargs)

    def inpaint(self, *args: Any, **kwargs: Any) -> Any:
        for n in range(self.deaths):
            try:
                fd = os.open(self.marker_dir / f"death-{n}", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                continue
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            os._exit(1)
        result = self.engine.inpaint(*args, **kwargs)
        paints = self.marker_dir / "paints"
        paints.mkdir(exist_ok=True)
        (paints / f"{self.made}-{len(list(paints.iterdir()))}-{os.urandom(4).hex()}").touch()
        return result

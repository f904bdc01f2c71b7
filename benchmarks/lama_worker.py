"""One side of ``benchmarks/lama.py``'s side-by-side with IOPaint, in a process of its own.

Run by the benchmark, not by hand: ``PYTHON lama_worker.py SIDE WEIGHTS THREADS`` where SIDE is ``ours``
(this project's venv; WEIGHTS the ``.safetensors``) or ``iopaint`` (IOPaint 1.6's venv; WEIGHTS the folder
given to IOPaint as ``--model-dir``, holding ``torch/hub/checkpoints/big-lama.pt``). It imports only its
own side, so it runs in either venv. Commands on stdin, one a line, each answered by one JSON line:

- ``load``: load the model (ours: ``load_lama``; IOPaint: ``ModelManager("lama", cpu)``);
- ``remove IMAGE MASK``: one in-process removal through each tool's own removal path (crop, pass(es),
  paste back), timed without start-up or loading;
- ``forward H W``: one pass of the network alone at ``H x W`` (a fixed random image, a centred hole);
- ``quit``.
"""

from __future__ import annotations

import json
import sys
import time


def _read(path: str, gray: bool = False):
    import cv2

    if gray:
        return cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    return cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


class Ours:
    def __init__(self, weights: str) -> None:
        self.weights, self.model = weights, None

    def load(self) -> None:
        from engine.fill.lama import load_lama

        self.model = load_lama(self.weights)

    def remove(self, image, mask) -> None:
        from engine.api import EditParams, InpaintRequest
        from engine.fill.lama_remove import run_lama

        run_lama(self.model, InpaintRequest(image, mask, params=EditParams(seed=0)))

    def forward(self, image, mask) -> None:
        import torch

        with torch.inference_mode():
            self.model(image, mask)


class IOPaint:
    def __init__(self, model_dir: str) -> None:
        self.model_dir, self.manager = model_dir, None

    def load(self) -> None:
        import os

        os.environ["XDG_CACHE_HOME"] = self.model_dir  # what `iopaint run --model-dir` sets
        import torch
        from iopaint.model_manager import ModelManager

        self.manager = ModelManager(name="lama", device=torch.device("cpu"))

    def remove(self, image, mask) -> None:
        from iopaint.schema import InpaintRequest

        self.manager(image, mask, InpaintRequest())  # its defaults: the crop strategy, margin 128

    def forward(self, image, mask) -> None:
        import torch

        with torch.no_grad():  # as IOPaint's InpaintModel.__call__
            self.manager.model.model(image, mask)


def main() -> None:
    side, weights, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    worker = Ours(weights) if side == "ours" else IOPaint(weights)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        t = time.perf_counter()
        if words[0] == "load":
            worker.load()
        elif words[0] == "remove":
            image, mask = _read(words[1]), _read(words[2], gray=True)
            t = time.perf_counter()
            worker.remove(image, mask)
        elif words[0] == "forward":
            h, w = int(words[1]), int(words[2])
            g = torch.Generator().manual_seed(0)
            image = torch.rand(1, 3, h, w, generator=g)
            mask = torch.zeros(1, 1, h, w)
            mask[..., h // 4:3 * h // 4, w // 4:3 * w // 4] = 1
            t = time.perf_counter()
            worker.forward(image, mask)
        else:
            raise SystemExit(f"unknown command {words[0]!r}")
        print(json.dumps({"seconds": time.perf_counter() - t, "threads": torch.get_num_threads(),
                          "numpy": np.__version__, "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()

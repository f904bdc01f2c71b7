"""Run the CLI as a user would: a subprocess of ``python main.py``, with nothing real to find."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from cli_helpers import ROOT


class Run:
    def __init__(self, proc: subprocess.CompletedProcess) -> None:
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]

    def __repr__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


@pytest.fixture
def isolated_env(tmp_path):
    """An environment in which no real weights, settings or network can be reached."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRUSHEDIT_", "HF_", "OPENAI_"))}
    env.update(
        BRUSHEDIT_MODELS_DIR=str(tmp_path / "no-models"),
        HF_HOME=str(tmp_path / "no-hf-home"),
        HF_HUB_OFFLINE="1",
        QT_QPA_PLATFORM="offscreen",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@pytest.fixture
def brushedit(isolated_env):
    """``brushedit(*args, env=...)`` runs ``python main.py *args`` and returns a :class:`Run`."""

    def run(*args, env=None, timeout=300, executable=None):
        cmd = [executable] if executable else [sys.executable, str(ROOT / "main.py")]
        proc = subprocess.run(cmd + [str(a) for a in args], cwd=ROOT, env=env or isolated_env,
                              capture_output=True, text=True, timeout=timeout)
        return Run(proc)

    return run


@pytest.fixture(scope="session")
def photos(tmp_path_factory):
    """Real photos from scikit-image, saved as a user would have them, plus matching masks."""
    from PIL import Image
    from skimage import data

    root = tmp_path_factory.mktemp("photos")
    cat = data.chelsea()  # 451 x 300
    Image.fromarray(cat).save(root / "cat.png")
    Image.fromarray(data.coffee()).save(root / "coffee.jpg", quality=92)
    mask = np.zeros(cat.shape[:2], np.uint8)
    mask[90:190, 140:250] = 255
    Image.fromarray(mask).save(root / "cat_mask.png")
    Image.fromarray(mask[::2, ::2]).save(root / "cat_mask_half.png")  # same aspect: resized
    Image.fromarray(np.zeros((100, 100), np.uint8) + 255).save(root / "square_mask.png")
    Image.fromarray(np.zeros_like(mask)).save(root / "empty_mask.png")
    return root


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory):
    """Tiny random SD1.5-style base + BrushNet folders in diffusers format."""
    from tests.builders.brushnet import save_tiny_weights

    return save_tiny_weights(tmp_path_factory.mktemp("weights"))


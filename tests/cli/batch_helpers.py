"""A folder of photos for the batch tests: real photo crops, masks named as users name them, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def _photo(seed: int, h: int = 160, w: int = 224) -> np.ndarray:
    """A photo-like picture: a real photo's crop, shifted per seed (textured, so the fill has work)."""
    from skimage import data

    base = data.astronaut() if seed % 2 else data.chelsea()
    y, x = (seed * 17) % 60, (seed * 29) % 80
    return np.ascontiguousarray(base[y:y + h, x:x + w])


def _mask(shape, seed: int) -> np.ndarray:
    m = np.zeros(shape[:2], np.uint8)
    y, x = 30 + seed * 5 % 40, 40 + seed * 7 % 60
    m[y:y + 60, x:x + 70] = 255
    return m


def make_folder(root: Path, n: int = 4, bad: bool = True) -> tuple[Path, Path]:
    """IN_DIR with ``n`` good photos (PNG and JPEG), a mask folder, and two bad files among them."""
    from PIL import Image

    photos, masks = root / "photos", root / "masks"
    photos.mkdir()
    masks.mkdir()
    for i in range(n):
        name = f"shot{i:02d}" + (".jpg" if i % 3 == 2 else ".png")
        img = _photo(i)
        Image.fromarray(img).save(photos / name, quality=92)
        # The mask names as a user has them: the photo's stem, or the `plan` output's "<stem>.mask.png".
        mask_name = f"shot{i:02d}.png" if i % 2 else f"shot{i:02d}.mask.png"
        Image.fromarray(_mask(img.shape, i)).save(masks / mask_name)
    if bad:
        (photos / "notes.png").write_text("this is not an image")  # not an image
        whole = (photos / "shot00.png").read_bytes()
        (photos / "cut.png").write_bytes(whole[: len(whole) // 2])  # truncated
        for name in ("notes.png", "cut.png"):
            Image.fromarray(_mask((160, 224), 0)).save(masks / name)
    (photos / "readme.txt").write_text("not a photo: ignored")
    return photos, masks


def report_of(out: Path) -> list[dict]:
    """The lines of ``out/report.jsonl``."""
    return [json.loads(line) for line in (Path(out) / "report.jsonl").read_text().splitlines()]

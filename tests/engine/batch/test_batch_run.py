"""engine.batch.run: the batch run with any caller's files (neither the editor nor the CLI imported).

The photos are read, the outputs, report, state, contact sheet and thumbnails written, all through the
:class:`~engine.batch.settings.BatchFiles` it is handed; here a plain PIL one that records what it was
asked, over the real engine painting with the classical fill.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.api import EditParams, EngineError
from engine.batch import derive_seed
from engine.batch.run import (
    REPORT,
    SHEET,
    STATE,
    THUMBS,
    BatchError,
    BatchSettings,
    LocalExecutor,
    run_batch,
)

HOLE = (slice(40, 90), slice(50, 120))


class PlainFiles:
    """A BatchFiles on PIL alone: layers pasted over the photo and saved as PNG; every write recorded."""

    def __init__(self) -> None:
        self.bytes_written: list[Path] = []
        self.layers: dict[str, list] = {}
        self.removed: list[Path] = []

    def open_photo(self, path: Path, max_pixels: int):
        try:
            with Image.open(path) as im:
                rgb = np.asarray(im.convert("RGB"))
        except OSError as exc:
            raise ValueError(f"{path.name}: not an image") from exc
        return path.name, rgb, rgb

    def read_mask(self, path: Path, width: int, height: int) -> np.ndarray:
        gray = np.asarray(Image.open(path).convert("L"))
        if gray.shape != (height, width):
            raise ValueError(f"the mask is {gray.shape[1]}x{gray.shape[0]}")
        return np.where(gray > 127, 255, 0).astype(np.uint8)

    def write_layers(self, out: Path, photo, rgba, layers, mask) -> list[Path]:
        picture = np.array(rgba)
        for layer in layers:
            (x, y), (h, w) = layer.offset, layer.pixels.shape[:2]
            picture[y:y + h, x:x + w] = layer.pixels[..., :3]
        Image.fromarray(picture).save(out, format="PNG")
        self.layers[out.name] = layers
        return [out]

    def write_bytes(self, path: Path, data: bytes) -> None:
        path.write_bytes(data)
        self.bytes_written.append(path)

    def remove_parts(self, folder: Path) -> None:
        self.removed.append(folder)


def _folder(root: Path, n: int = 3) -> tuple[Path, Path]:
    from skimage import data

    photos = root / "photos"
    photos.mkdir()
    for i in range(n):
        Image.fromarray(np.ascontiguousarray(data.astronaut()[i * 20:i * 20 + 128, :160])).save(photos / f"p{i}.png")
    mask = np.zeros((128, 160), np.uint8)
    mask[HOLE] = 255
    Image.fromarray(mask).save(root / "mask.png")
    return photos, root / "mask.png"


@pytest.fixture(scope="module")
def engine():
    from engine.dispatch import Engine, EngineConfig

    return Engine(EngineConfig(device="cpu"))


def test_the_run_reads_and_writes_only_through_the_files_it_is_given(engine, tmp_path):
    photos, mask = _folder(tmp_path)
    out = tmp_path / "out"
    files = PlainFiles()
    settings = BatchSettings(photos, out, mask=mask, params=EditParams(engine="fill"), base_seed=5)
    seen = []
    summary = run_batch(settings, LocalExecutor(engine), files, on_line=lambda line, done, todo: seen.append(done))
    assert (summary.total, summary.ok, summary.failed, seen) == (3, 3, 0, [1, 2, 3])
    # The state, the final report, the sheet and two thumbnails a photo: each through files.write_bytes.
    written = sorted(path.relative_to(out.resolve()).as_posix() for path in files.bytes_written)
    thumbs = sorted(f"{THUMBS}/{path.name}" for path in (out / THUMBS).iterdir())
    assert len(thumbs) == 6 and written == sorted([STATE, REPORT, SHEET] + thumbs)
    lines = [json.loads(text) for text in (out / REPORT).read_text().splitlines()]
    assert [line["key"] for line in lines] == ["p0.png", "p1.png", "p2.png"]
    for line in lines:
        key = line["key"]
        assert line["status"] == "ok" and line["seed"] == derive_seed(5, key) and line["engine"] == "fill"
        layer, = files.layers[key]  # one candidate, its provenance as the CLI's edit records it
        assert layer.provenance["seed"] == derive_seed(5, key) and layer.provenance["engine"] == "fill"
        assert layer.provenance["extra"]["source"] == key and layer.provenance["extra"]["tool"] == "brushedit edit"
        before, after = np.asarray(Image.open(photos / key)), np.asarray(Image.open(out / key))
        outside = np.ones(before.shape[:2], bool)
        outside[HOLE[0].start - 25:HOLE[0].stop + 25, HOLE[1].start - 25:HOLE[1].stop + 25] = False
        assert np.array_equal(after[outside], before[outside])
        assert np.abs(after[HOLE].astype(int) - before[HOLE].astype(int)).mean() > 2
    assert json.loads((out / STATE).read_text())["base_seed"] == 5
    assert "p1.png" in (out / SHEET).read_text()


def test_resume_cleans_through_the_files_and_skips_the_photos_done(engine, tmp_path):
    photos, mask = _folder(tmp_path, n=2)
    out = tmp_path / "out"
    settings = BatchSettings(photos, out, mask=mask, params=EditParams(engine="fill"), base_seed=3)
    assert run_batch(settings, LocalExecutor(engine), PlainFiles()).ok == 2
    files = PlainFiles()
    again = BatchSettings(photos, out, mask=mask, params=EditParams(engine="fill"), resume=True)
    summary = run_batch(again, LocalExecutor(engine), files)
    assert files.removed == [out.resolve()] and files.layers == {}
    assert (summary.skipped_done, summary.ok, summary.base_seed) == (2, 2, 3)


def test_a_photo_or_mask_the_files_cannot_read_is_a_bad_input_line(engine, tmp_path):
    photos, _mask = _folder(tmp_path, n=1)
    (photos / "notes.png").write_text("not an image")
    small = tmp_path / "small.png"
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(small)
    summary = run_batch(BatchSettings(photos, tmp_path / "out", mask=small, params=EditParams(engine="fill")),
                        LocalExecutor(engine), PlainFiles())
    reasons = {line["key"]: (line["status"], line["reason"]) for line in summary.lines}
    assert reasons == {"notes.png": ("bad-input", "notes.png: not an image"),
                       "p0.png": ("bad-input", "--mask: the mask is 10x10")}


def test_a_batch_that_cannot_start_is_a_bad_input_engine_error(engine, tmp_path):
    photos, mask = _folder(tmp_path, n=1)
    with pytest.raises(BatchError, match="the output folder is the input folder") as caught:
        run_batch(BatchSettings(photos, photos, mask=mask, params=EditParams(engine="fill")),
                  LocalExecutor(engine), PlainFiles())
    assert isinstance(caught.value, EngineError) and caught.value.kind == "bad-input"
    from cli.errors import USAGE, from_exception

    assert from_exception(caught.value).code == USAGE  # brushedit batch still exits 2

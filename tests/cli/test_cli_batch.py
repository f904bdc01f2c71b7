"""``brushedit batch``: a folder of photos with per-photo masks, bad files among them, kill and resume."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from batch_helpers import _mask, _photo, make_folder, report_of as _report
from cli_helpers import ROOT, read_rgb

SOME_FAILED = 5


def test_masks_folder_with_two_bad_files(brushedit, tmp_path):
    photos, masks = make_folder(tmp_path)
    out = tmp_path / "out"
    r = brushedit("batch", photos, "-o", out, "--mask", masks, "--engine", "fill", "--seed", "11", "--json")
    assert r.code == SOME_FAILED, r
    summary = json.loads(r.out)
    assert (summary["total"], summary["ok"], summary["failed"]) == (6, 4, 2)
    assert summary["ignored"] == ["readme.txt"]
    lines = {line["key"]: line for line in _report(out)}
    assert sorted(lines) == ["cut.png", "notes.png", "shot00.png", "shot01.png", "shot02.jpg", "shot03.png"]
    assert lines["notes.png"]["status"] == "bad-input" and "not an image" in lines["notes.png"]["reason"]
    assert lines["cut.png"]["status"] == "bad-input" and "truncated" in lines["cut.png"]["reason"]
    from engine.batch import derive_seed
    from masks import mask_ops

    for i in range(4):
        key = f"shot{i:02d}" + (".jpg" if i % 3 == 2 else ".png")
        line = lines[key]
        assert line["status"] == "ok" and line["reason"] == "", line
        assert set(line) >= {"input", "output", "status", "reason", "seconds", "seed", "engine", "painter",
                             "instructor", "worker"}
        assert line["seed"] == derive_seed(11, key) and line["engine"] == "fill"
        assert line["worker"]["pid"] > 0 and line["worker"]["device"] == "cpu"
        output = out / key  # the input's name and format
        assert line["output"] == str(output) and line["input"] == str(photos / key)
        before, after = read_rgb(photos / key), read_rgb(output)
        hole = _mask(before.shape, i) > 0
        far = mask_ops.dilate(hole.astype(np.uint8) * 255, 25) == 0
        if key.endswith(".png"):  # lossless: outside the mask bit for bit, inside repainted
            assert np.array_equal(after[far], before[far])
        assert np.abs(after[hole].astype(int) - before[hole].astype(int)).mean() > 2
    # The inputs are untouched, and nothing half-written is left.
    assert not list(out.rglob("*.part"))
    assert sorted(p.name for p in photos.iterdir()) == ["cut.png", "notes.png", "readme.txt", "shot00.png",
                                                         "shot01.png", "shot02.jpg", "shot03.png"]
    sheet = (out / "index.html").read_text()
    assert "shot01.png" in sheet and "not an image" in sheet


def test_help_documents_the_exit_codes(brushedit):
    r = brushedit("batch", "--help")
    assert r.code == 0
    text = " ".join(r.out.split())
    assert "5 the batch ran but some photos were not edited" in text and "0 every photo edited" in text
    readme = (ROOT / "README.md").read_text()
    assert "brushedit batch" in readme and "exit code 5" in readme


def test_too_large_and_nothing_found_are_reported_and_the_rest_carry_on(brushedit, tmp_path):
    from PIL import Image

    photos, masks = make_folder(tmp_path, n=2, bad=False)
    Image.fromarray(_photo(5, 400, 500)).save(photos / "huge.png")  # 0.2 MP, over the limit below
    Image.fromarray(_mask((400, 500), 1)).save(masks / "huge.png")
    Image.fromarray(_photo(6)).save(photos / "empty.png")
    Image.fromarray(np.zeros((160, 224), np.uint8)).save(masks / "empty.png")
    Image.fromarray(_photo(7)).save(photos / "lonely.png")  # no mask for it
    out = tmp_path / "out"
    r = brushedit("batch", photos, "-o", out, "--mask", masks, "--engine", "fill", "--max-megapixels", "0.1")
    assert r.code == SOME_FAILED, r
    lines = {line["key"]: line for line in _report(out)}
    assert lines["huge.png"]["status"] == "bad-input" and "too large" in lines["huge.png"]["reason"]
    assert lines["empty.png"]["status"] == "nothing-found" and "empty" in lines["empty.png"]["reason"]
    assert lines["lonely.png"]["status"] == "skipped" and "no mask" in lines["lonely.png"]["reason"]
    assert lines["shot00.png"]["status"] == lines["shot01.png"]["status"] == "ok"
    assert "2 of 5 photos edited" in r.out


def test_refuses_to_write_into_the_input_folder_or_over_a_previous_batch(brushedit, tmp_path):
    photos, masks = make_folder(tmp_path, n=1, bad=False)
    r = brushedit("batch", photos, "-o", photos, "--mask", masks, "--engine", "fill")
    assert r.code == 2 and "input folder" in r.err, r
    out = tmp_path / "out"
    assert brushedit("batch", photos, "-o", out, "--mask", masks, "--engine", "fill").code == 0
    again = brushedit("batch", photos, "-o", out, "--mask", masks, "--engine", "fill")
    assert again.code == 2 and "--resume" in again.err, again
    changed = brushedit("batch", photos, "-o", out, "--mask", masks, "--engine", "fill", "--resume",
                        "--steps", "7")
    assert changed.code == 2 and "--steps" in changed.err, changed
    chain = brushedit("batch", photos, "remove the cat and remove the dog", "-o", tmp_path / "o2")
    assert chain.code == 2 and "2 steps" in chain.err, chain


def test_an_output_folder_inside_the_input_is_left_out_of_a_recursive_batch(brushedit, tmp_path):
    from PIL import Image

    photos, masks = make_folder(tmp_path, n=2, bad=False)
    (photos / "sub").mkdir()
    Image.fromarray(_photo(3)).save(photos / "sub" / "deep.png")
    Image.fromarray(_mask((160, 224), 3)).save(masks / "deep.png")
    out = photos / "edited"
    r = brushedit("batch", photos, "-o", out, "--mask", masks, "--engine", "fill", "-r", "--format", "webp",
                  "--ora")
    assert r.code == 0, r
    assert sorted(line["key"] for line in _report(out)) == ["shot00.png", "shot01.png", "sub/deep.png"]
    assert (out / "sub" / "deep.webp").is_file() and (out / "sub" / "deep.ora").is_file()
    from desktop.document import Document

    doc = Document.open(out / "sub" / "deep.ora")
    assert len(doc.layers) == 2 and doc.layers[1].provenance.engine == "fill"
    # A second recursive batch over the same tree does not take the first one's outputs as inputs.
    r2 = brushedit("batch", photos, "-o", photos / "edited2", "--mask", masks, "--engine", "fill", "-r")
    assert r2.code == 0 and len(_report(photos / "edited2")) == 3


def test_contact_sheet_escapes_file_names(brushedit, tmp_path):
    from PIL import Image

    photos = tmp_path / "photos"
    photos.mkdir()
    evil = '<img src=x onerror="alert(1)">&.png'
    Image.fromarray(_photo(1)).save(photos / evil, format="PNG")
    mask = tmp_path / "mask.png"
    Image.fromarray(_mask((160, 224), 1)).save(mask)
    out = tmp_path / "out"
    r = brushedit("batch", photos, "-o", out, "--mask", mask, "--engine", "fill")
    assert r.code == 0, r
    sheet = (out / "index.html").read_text()
    assert "<img src=x" not in sheet and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;.png" in sheet
    thumbs = [p.name for p in (out / "thumbs").iterdir()]
    assert len(thumbs) == 2 and all(f'src="thumbs/{t}"' in sheet for t in thumbs)


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def test_killed_mid_way_and_resumed_gives_the_same_pixels(brushedit, isolated_env, tmp_path):
    photos, masks = make_folder(tmp_path, n=8, bad=False)
    whole = tmp_path / "whole"
    r = brushedit("batch", photos, "-o", whole, "--mask", masks, "--engine", "fill", "--seed", "5")
    assert r.code == 0, r

    out = tmp_path / "killed"
    cmd = [sys.executable, str(ROOT / "main.py"), "batch", str(photos), "-o", str(out), "--mask", str(masks),
           "--engine", "fill", "--seed", "5"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=isolated_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        report = out / "report.jsonl"
        _wait_for(lambda: report.is_file() and report.read_text().count("\n") >= 1 or proc.poll() is not None,
                  120, "the first photo to be reported")
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, "the batch ended before it could be killed"
    lines = report.read_text().splitlines()
    assert 1 <= len(lines) < 8
    for line in lines[:-1]:
        json.loads(line)  # every finished line is whole
    for path in out.iterdir():  # whatever output exists is a whole image
        if path.suffix in (".png", ".jpg"):
            read_rgb(path)

    r = brushedit("batch", photos, "-o", out, "--mask", masks, "--engine", "fill", "--resume", "--json")
    assert r.code == 0, r
    summary = json.loads(r.out)
    assert summary["ok"] == 8 and summary["resumed_done"] >= 1
    assert not list(out.rglob("*.part"))
    resumed = _report(out)
    assert len(resumed) == 8 and len({line["key"] for line in resumed}) == 8
    for line in _report(whole):
        twin = out / line["key"]
        assert np.array_equal(read_rgb(twin), read_rgb(line["output"])), line["key"]
    # The resumed run took the recorded base seed (no --seed given) and the same per-photo seeds.
    assert sorted((x["key"], x["seed"]) for x in resumed) == sorted((x["key"], x["seed"]) for x in _report(whole))


@pytest.fixture(scope="module")
def tiny_detectors(tmp_path_factory):
    from tests.builders.segment import save_tiny_grounding_dino, save_tiny_sam

    root = tmp_path_factory.mktemp("detectors")
    return save_tiny_sam(root / "sam" / "tiny_sam.pth"), save_tiny_grounding_dino(root / "gdino")


def test_an_instruction_plans_every_photo_on_its_own(brushedit, tmp_path, tiny_detectors):
    sam, gdino = tiny_detectors
    photos, _ = make_folder(tmp_path, n=3, bad=False)
    out = tmp_path / "out"
    r = brushedit("batch", photos, "remove the cat", "-o", out, "--sam", sam, "--grounding", gdino,
                  "--device", "cpu", "--engine", "fill", "--json")
    assert r.code in (0, SOME_FAILED), r
    lines = _report(out)
    assert len(lines) == 3
    for line in lines:
        assert line["mask"] == "planned"
        if line["status"] == "ok":  # a random detector may find nothing in a photo: then it says so
            report = line["instructor"]  # the default `auto`, on a machine with no CUDA card: the rules
            assert (report["requested"], report["used"], report["ran"]) == ("auto", "offline", False)
            assert "no CUDA card" in report["why"]
            assert line["category"] == "removal" and line["target"] == "cat"
        else:
            assert line["status"] == "nothing-found" and "no object found for 'remove the cat'" in line["reason"]


def test_an_empty_folder_is_a_usage_error_and_writes_nothing(brushedit, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "notes.txt").write_text("x")
    r = brushedit("batch", photos, "remove the cat", "-o", tmp_path / "out")
    assert r.code == 2 and "no photos" in r.err, r
    assert not (tmp_path / "out" / "batch.json").exists()


def test_on_a_terminal_the_bar_shows_count_rate_and_eta():
    import io

    from cli.batch import _Bar

    class Tty(io.StringIO):
        def isatty(self):
            return True

    stream = Tty()
    bar = _Bar(quiet=False, stream=stream)
    bar.start(3, 4)
    for i, status in enumerate(("ok", "bad-input", "ok")):
        bar.stage(1, 2, "painting")
        bar.line({"key": f"p{i}.png", "status": status, "reason": "not an image", "seconds": 0.1}, i + 1, 3)
    bar.close()
    text = stream.getvalue()
    assert "resuming: 1 of 4 photos done already" in text
    assert "3/3" in text and "photo/s" in text and "<" in text  # count, rate, ETA (elapsed<remaining)
    assert "p1.png: bad-input: not an image" in text and "failed=1" in text
    quiet = Tty()
    silent = _Bar(quiet=True, stream=quiet)
    silent.start(1, 1)
    silent.line({"key": "a", "status": "ok", "reason": "", "seconds": 0.1}, 1, 1)
    assert quiet.getvalue() == ""


def test_ctrl_c_ends_with_130_and_leaves_a_whole_report_and_sheet(isolated_env, tmp_path):
    photos, masks = make_folder(tmp_path, n=8, bad=False)
    out = tmp_path / "out"
    cmd = [sys.executable, str(ROOT / "main.py"), "batch", str(photos), "-o", str(out), "--mask", str(masks),
           "--engine", "fill"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=isolated_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        report = out / "report.jsonl"
        _wait_for(lambda: report.is_file() and report.read_text().count("\n") >= 1 or proc.poll() is not None,
                  120, "the first photo to be reported")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "cancelled" in err
    lines = _report(out)  # rewritten whole: one line per photo done, each valid JSON
    assert 1 <= len(lines) < 8 and all(line["status"] == "ok" for line in lines)
    assert (out / "index.html").is_file() and not list(out.rglob("*.part"))

"""Compound instructions through the CLI: ``plan --json`` lists the steps, ``edit "A and B"`` paints
the chain (one result, or an .ora layer per step); negations and names holding "and" as the parser says.

The detector and SAM are scripted stand-ins (boxes per word) so the masks are known; painting is the
real fill engine. Runs the CLI in-process through ``cli.main``.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import cli
from cli_helpers import read_rgb
from engine.api import SegmentResult
from engine.dispatch import Engine
from masks import mask_ops as mo
from engine.segment.select import Detection

BOXES = {"cat": (60, 40, 200, 200), "pot": (300, 180, 360, 240), "salt and pepper shakers": (380, 20, 440, 80),
         "dog": (10, 230, 60, 290)}


class Detector:
    def __init__(self):
        self.queries = []
        self.images = []

    def detect(self, image, text, thresholds=None):
        self.queries.append(text)
        self.images.append(np.array(image))
        for word, box in BOXES.items():
            if word == text or (word in text and len(text) < 40):
                return [Detection(tuple(map(float, box)), 0.9, word)]
        return []


class Segmenter:
    def set_image(self, image, key=None):
        self.shape = image.shape[:2]
        return True

    def masks_from_boxes(self, boxes):
        return [mo.box_mask(self.shape, (int(a), int(b), int(c - a), int(d - b))) for a, b, c, d in boxes]

    def predict(self, points=(), labels=(), box=None, multimask=True):
        return SegmentResult(np.zeros(self.shape, np.uint8), 0.0)


@pytest.fixture
def scripted(monkeypatch, isolated_env):
    for k, v in isolated_env.items():
        monkeypatch.setenv(k, v)
    detector = Detector()
    monkeypatch.setattr(Engine, "detector", lambda self, on_progress=None: detector)
    monkeypatch.setattr(Engine, "segmenter", lambda self, on_progress=None: Segmenter())
    return detector


def _run(capsys, *args):
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_json_lists_the_steps_and_keeps_the_first_at_top_level(scripted, photos, tmp_path, capsys):
    image = tmp_path / "cat.png"
    shutil.copy(photos / "cat.png", image)
    code, out, err = _run(capsys, "plan", image, "remove the cat and remove the pot", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [(s["category"], s["target"]) for s in data["steps"]] == [("removal", "cat"), ("removal", "pot")]
    assert (data["category"], data["target"]) == ("removal", "cat")
    assert data["steps"][0]["mask"] == data["mask"] and data["steps"][1]["mask"].endswith("cat.mask.step2.png")
    second = read_rgb(tmp_path / "cat.mask.step2.png")[..., 0]
    assert second[210, 330] == 255 and second[100, 100] == 0


def test_plan_json_of_a_negation_has_one_step_and_a_kept_object(scripted, photos, tmp_path, capsys):
    image = tmp_path / "cat.png"
    shutil.copy(photos / "cat.png", image)
    code, out, err = _run(capsys, "plan", image, "don't touch the cat, just remove the pot", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [(s["category"], s["target"]) for s in data["steps"]] == [("removal", "pot")]
    assert data["protected"] == ["cat"]


def test_plan_json_keeps_a_name_holding_and_as_one_target(scripted, photos, tmp_path, capsys):
    image = tmp_path / "cat.png"
    shutil.copy(photos / "cat.png", image)
    code, out, err = _run(capsys, "plan", image, "remove the salt and pepper shakers", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [s["target"] for s in data["steps"]] == ["salt and pepper shakers"]
    assert "salt and pepper shakers" in scripted.queries


def test_edit_a_and_b_paints_the_chain_into_one_picture(scripted, photos, tmp_path, capsys):
    out = tmp_path / "both.png"
    code, stdout, err = _run(capsys, "edit", photos / "cat.png", "remove the cat and remove the pot",
                             "-o", out, "--json", "--seed", "3")
    assert code == 0, err
    summary = json.loads(stdout)
    assert [(s["category"], s["target"]) for s in summary["steps"]] == [("removal", "cat"), ("removal", "pot")]
    assert [s["seeds"] for s in summary["steps"]] == [[3], [4]]
    before, after = read_rgb(photos / "cat.png"), read_rgb(out)
    assert not np.array_equal(before[60:180, 80:180], after[60:180, 80:180])  # the cat's region
    assert not np.array_equal(before[190:230, 310:350], after[190:230, 310:350])  # the pot's region
    assert np.array_equal(before[280:, 200:280], after[280:, 200:280])  # far from both: untouched
    # The plan found both on the photo; step 2 was found again on step 1's result (the cat gone).
    assert scripted.queries == ["cat", "pot", "pot"]
    assert np.array_equal(scripted.images[1], before)
    assert not np.array_equal(scripted.images[2][60:180, 80:180], before[60:180, 80:180])


def test_edit_a_and_b_to_ora_gives_a_layer_per_step_with_its_provenance(scripted, photos, tmp_path, capsys):
    from desktop.document import Document

    out = tmp_path / "both.ora"
    code, _, err = _run(capsys, "edit", photos / "cat.png", "remove the cat, then remove the pot", "-o", out)
    assert code == 0, err
    doc = Document.open(out)
    edits = [layer for layer in doc.layers if getattr(layer, "provenance", None) is not None]
    assert len(edits) == 2
    assert [e.provenance.instruction for e in edits] == ["remove the cat", "remove the pot"]
    assert [e.provenance.extra["step"] for e in edits] == [1, 2]
    assert all(e.provenance.extra["chain_instruction"] == "remove the cat, then remove the pot" for e in edits)


def test_edit_with_a_negation_paints_only_the_step(scripted, photos, tmp_path, capsys):
    out = tmp_path / "one.png"
    code, stdout, err = _run(capsys, "edit", photos / "cat.png", "remove the pot but keep the cat", "-o", out,
                             "--json")
    assert code == 0, err
    summary = json.loads(stdout)
    assert (summary["category"], summary["target"]) == ("removal", "pot")
    before, after = read_rgb(photos / "cat.png"), read_rgb(out)
    assert np.array_equal(before[60:180, 80:180], after[60:180, 80:180])  # the kept cat is untouched


def test_plan_text_output_lists_steps_and_kept_objects(scripted, photos, tmp_path, capsys):
    image = tmp_path / "cat.png"
    shutil.copy(photos / "cat.png", image)
    code, out, err = _run(capsys, "plan", image, "make it look like winter, then remove the pot, keep the cat")
    assert code == 0, err
    assert "step 1:     global" in out and "step 2:     removal pot" in out
    assert "keep:       cat" in out


def test_edit_a_and_b_with_server_runs_the_chain_there(scripted, photos, tmp_path, capsys, monkeypatch):
    """``--server``: the chain's plans and paints are jobs on the studio server (here one in a thread of
    this process, so the scripted detector answers there too), step 2 found on step 1's result."""
    pytest.importorskip("uvicorn")
    from tests.fakes.servers import ThreadServer

    monkeypatch.delenv("BRUSHEDIT_SERVER_TOKEN", raising=False)
    out = tmp_path / "remote.png"
    with ThreadServer() as server:
        code, stdout, err = _run(capsys, "edit", photos / "cat.png", "remove the cat and remove the pot",
                                 "-o", out, "--json", "--seed", "3", "--server", server.url)
    assert code == 0, err
    summary = json.loads(stdout)
    assert [(s["category"], s["target"]) for s in summary["steps"]] == [("removal", "cat"), ("removal", "pot")]
    assert [s["seeds"] for s in summary["steps"]] == [[3], [4]]
    assert scripted.queries == ["cat", "pot", "pot"]  # planned there; step 2 again on step 1's result
    assert not np.array_equal(scripted.images[2][60:180, 80:180], read_rgb(photos / "cat.png")[60:180, 80:180])
    before, after = read_rgb(photos / "cat.png"), read_rgb(out)
    assert not np.array_equal(before[190:230, 310:350], after[190:230, 310:350])


def test_remote_runner_paints_as_engine_inpaint_does_and_a_cancel_reaches_the_server():
    """run_chain calls ``inpaint(request, progress, on_preview, is_cancelled)``: the remote runner takes
    the same arguments, and ``is_cancelled`` turning true cancels the job on the server."""
    pytest.importorskip("uvicorn")
    from cli.remote import RemoteRunner
    from engine.api import Cancelled, EditParams, InpaintRequest
    from tests.fakes.servers import GateEngine, ThreadServer, gate_workers

    gate = GateEngine()  # runs until released or cancelled
    image = np.zeros((32, 32, 3), np.uint8)
    mask = np.zeros((32, 32), np.uint8)
    mask[8:16, 8:16] = 255
    with ThreadServer(workers=gate_workers(gate)) as server:
        runner = RemoteRunner(server.url, token="")
        try:
            with pytest.raises(Cancelled):
                runner.inpaint(InpaintRequest(image, mask, "x", EditParams(steps=2)), None, None,
                               lambda: gate.started.is_set())
            gate.release.set()
            result = runner.inpaint(InpaintRequest(image, mask, "x", EditParams(steps=2)), None, None, lambda: False)
            assert result.candidates[0].image[10, 10, 0] == 255
        finally:
            runner.close()

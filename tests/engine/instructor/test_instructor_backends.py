"""Backends: scripted good, malformed and hostile answers all end in a usable plan."""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

from engine.api import CATEGORIES, MissingModelsError
from engine.instructor import plan
from engine.instructor.answer import AnswerError, extract_fields, interpret_answer, parse_box
from engine.instructor.backends import (InstructorBackend, OfflineBackend, OpenAICompatBackend,
                                        QwenVLBackend, load_backend)
from engine.instructor import parse_instruction
from masks import mask_ops as mo

SECRET = "sk-test-secret-value-123"


class Scripted(InstructorBackend):
    name = "scripted"

    def __init__(self, *answers):
        self.answers = list(answers)
        self.problems = []

    def ask(self, image, instruction, problem=None):
        self.problems.append(problem)
        a = self.answers.pop(0) if self.answers else ""
        if isinstance(a, Exception):
            raise a
        return a


def test_good_json_answer_is_used(chelsea, fake_detector, box_segmenter):
    b = Scripted('Sure! ```json\n{"category": "removal", "target": "cat", "caption": "empty sofa"}\n```')
    p = plan(chelsea, "get that animal out of here", b, detector=fake_detector, segmenter=box_segmenter)
    assert (p.category, p.target, p.caption, p.backend) == ("removal", "cat", "empty sofa", "scripted")
    assert mo.bbox(p.mask)[0] < 100


def test_model_box_places_the_addition(chelsea):
    b = Scripted({"category": "addition", "target": "balloon", "box": [20, 30, 120, 150], "caption": "a red balloon"})
    p = plan(chelsea, "add a balloon", b)
    assert p.backend == "scripted" and mo.bbox(p.candidate_masks[0]) == (20, 30, 100, 120)


def test_malformed_answer_is_retried_once_with_the_problem(chelsea):
    b = Scripted("{category: global", {"category": "global", "target": None, "caption": "a snowy scene"})
    p = plan(chelsea, "make it winter", b)
    assert p.backend == "scripted" and p.caption == "a snowy scene"
    assert b.problems[0] is None and "no JSON" in b.problems[1]


HOSTILE = [
    {"category": "destroy", "target": "cat"},                      # wrong category
    {"category": "addition", "target": "hat", "box": [5000, 5000, 6000, 6000]},  # box outside
    {"category": "addition", "target": "hat", "box": "left"},     # box not numbers
    "I think you should remove the cat because it is cute.",      # prose
    "",                                                            # empty
    None,
    "x" * 10_000,                                                  # 10 kB junk
    "{" * 5000 + "}" * 5000,                                       # pathological braces
    '{"category": ["removal"], "target": {"a": 1}}',               # wrong types
    '{"category": "removal"}',                                     # no target, category disagrees
    RuntimeError("CUDA out of memory"),                            # backend crashes
]


def test_absurd_target_is_repaired_from_the_parser(chelsea, fake_detector, box_segmenter):
    b = Scripted({"category": "local", "target": "the " * 100, "caption": "a red dog"})
    p = plan(chelsea, "make the dog red", b, detector=fake_detector, segmenter=box_segmenter)
    assert (p.category, p.target, p.backend) == ("local", "dog", "scripted")


@pytest.mark.parametrize("answer", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_answers_end_in_a_usable_plan(chelsea, fake_detector, box_segmenter, answer):
    b = Scripted(answer, answer)
    p = plan(chelsea, "make the dog red", b, detector=fake_detector, segmenter=box_segmenter)
    assert p.category in CATEGORIES and p.mask.shape == chelsea.shape[:2] and p.mask.dtype == np.uint8
    assert (p.category, p.target, p.backend) == ("local", "dog", "offline")
    assert any("offline" in n for n in p.notes) and len(b.problems) == 2


def test_removal_caption_never_names_the_removed_object(chelsea, fake_detector, box_segmenter):
    b = Scripted({"category": "removal", "target": "cat", "caption": "a cute cat on a sofa"})
    p = plan(chelsea, "remove the cat", b, detector=fake_detector, segmenter=box_segmenter)
    assert p.backend == "scripted" and "cat" not in p.caption


def test_tolerant_text_and_category_synonyms():
    f = extract_fields("Category: Object Removal\nTarget: the red car\nCaption: empty road")
    i = interpret_answer(f, "x", (100, 100, 3), parse_instruction("remove the red car"))
    assert (i.category, i.target, i.caption) == ("removal", "red car", "empty road")
    with pytest.raises(AnswerError):
        extract_fields("no fields here")


def test_box_scales():
    shape = (200, 400, 3)
    assert parse_box([0.25, 0.5, 0.5, 1.0], shape) == (100.0, 100.0, 200.0, 200.0)
    assert parse_box([250, 500, 500, 1000], shape, "1000") == (100.0, 100.0, 200.0, 200.0)
    assert parse_box("[10, 20, 30, 40]", shape) == (10.0, 20.0, 30.0, 40.0)
    assert parse_box([30, 40, 10, 20], shape) == (10.0, 20.0, 30.0, 40.0)  # corners swapped
    for bad in ([500, 10, 600, 20], [1, 2, 3], [float("nan")] * 4, [10, 10, 10.5, 10.5]):
        with pytest.raises(AnswerError):
            parse_box(bad, shape)
    assert parse_box(None, shape) is None


def test_offline_backend_and_load_backend(monkeypatch):
    assert isinstance(load_backend("offline"), OfflineBackend)
    monkeypatch.setenv("BRUSHEDIT_API_KEY", SECRET)
    b = load_backend("openai", base_url="http://127.0.0.1:9/v1", model="m")
    assert isinstance(b, OpenAICompatBackend) and b.has_api_key and SECRET not in repr(b)
    with pytest.raises(MissingModelsError):
        load_backend("local")
    with pytest.raises(MissingModelsError):
        load_backend("local", model_dir="/nonexistent/qwen2-vl-7b")
    with pytest.raises(ValueError):
        load_backend("telepathy")


# --- OpenAI-compatible endpoint on a local fake server ----------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    replies: list = []
    seen: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((self.path, dict(self.headers), body))
        status, payload = type(self).replies.pop(0)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


@pytest.fixture
def fake_server():
    _Handler.replies, _Handler.seen = [], []
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", _Handler
    server.shutdown()
    server.server_close()


def _chat(content):
    return {"choices": [{"message": {"role": "assistant", "content": content}}]}


def test_openai_backend_talks_to_a_compatible_server(chelsea, fake_server, caplog):
    url, handler = fake_server
    handler.replies = [(200, _chat('{"category": "global", "target": null, "caption": "a winter scene"}'))]
    b = OpenAICompatBackend(url, "qwen2.5vl:7b", api_key=SECRET, timeout=5)
    with caplog.at_level(logging.DEBUG):
        p = plan(chelsea, "make it winter", b)
    assert (p.category, p.caption, p.backend) == ("global", "a winter scene", "openai")
    path, headers, body = handler.seen[0]
    assert path == "/v1/chat/completions" and headers["Authorization"] == "Bearer " + SECRET
    assert body["model"] == "qwen2.5vl:7b"
    image_part = body["messages"][1]["content"][0]
    assert image_part["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert SECRET not in repr(b) and SECRET not in str(b) and SECRET not in caplog.text


def test_openai_errors_fall_back_without_leaking_the_key(chelsea, fake_server, caplog):
    url, handler = fake_server
    handler.replies = [(401, {"error": {"message": "invalid api key"}}), (500, {"error": {}})]
    b = OpenAICompatBackend(url, "gpt-4o", api_key=SECRET, timeout=5)
    with caplog.at_level(logging.DEBUG):
        p = plan(chelsea, "make it look like winter", b)
    assert p.category == "global" and p.backend == "offline"
    assert any("HTTP 401" in n for n in p.notes) and all(SECRET not in n for n in p.notes)
    assert SECRET not in caplog.text


def test_openai_unreachable_server_falls_back(chelsea):
    b = OpenAICompatBackend("http://127.0.0.1:9/v1", "m", api_key=None, timeout=2)
    p = plan(chelsea, "add a red balloon", b)
    assert p.category == "addition" and p.backend == "offline"
    assert any("cannot reach" in n for n in p.notes)


def test_injected_transport(chelsea):
    calls = []

    def transport(url, headers, body, timeout):
        calls.append(url)
        return _chat([{"type": "text", "text": '{"category": "addition", "target": "kite", '
                                                 '"box": [10, 10, 90, 90], "caption": "a kite"}'}])
    p = plan(chelsea, "add a kite", OpenAICompatBackend("http://x/v1", "m", transport=transport))
    assert p.backend == "openai" and calls == ["http://x/v1/chat/completions"]


# --- local Qwen2-VL, tiny and random ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_qwen_dir(tmp_path_factory):
    from tests.builders.segment import save_tiny_qwen2_vl
    return save_tiny_qwen2_vl(tmp_path_factory.mktemp("qwen"))


def test_tiny_qwen_gibberish_falls_back_to_the_parser(chelsea, tiny_qwen_dir):
    b = QwenVLBackend.from_pretrained(tiny_qwen_dir, device="cpu", max_new_tokens=24)
    p = plan(chelsea, "make it look like winter", b)
    assert p.category == "global" and p.backend == "offline" and p.mask.min() == 255


def test_tiny_qwen_answer_goes_through_the_real_processor(chelsea, tiny_qwen_dir, monkeypatch):
    import torch

    b = QwenVLBackend.from_pretrained(tiny_qwen_dir, device="cpu", max_new_tokens=8)
    answer = '{"category": "addition", "target": "moon", "box": [100, 100, 300, 300], "caption": "a full moon"}'
    ids = b.processor.tokenizer(answer, return_tensors="pt")["input_ids"]
    seen = {}

    def fake_generate(**inputs):
        seen.update(inputs)
        return torch.cat([inputs["input_ids"], ids], dim=1)
    monkeypatch.setattr(b.model, "generate", fake_generate)
    p = plan(chelsea, "add a moon", b)
    assert p.backend == "local" and p.caption == "a full moon"
    assert "pixel_values" in seen and "image_grid_thw" in seen
    # Qwen2-VL's 0..1000 grid -> pixels of the 451 x 300 image.
    x, y, w, h = mo.bbox(p.candidate_masks[0])
    assert abs(x - 45) <= 1 and abs(y - 30) <= 1 and abs(w - 90) <= 2 and abs(h - 60) <= 2


def test_tiny_qwen2_5_boxes_are_pixels_of_the_image_it_saw(tmp_path, monkeypatch):
    import torch
    from skimage import data

    from tests.builders.segment import save_tiny_qwen2_5_vl

    image = data.astronaut()  # 512 x 512, sent at 256 px, seen by the tiny processor at 112 px
    b = QwenVLBackend.from_pretrained(save_tiny_qwen2_5_vl(tmp_path / "q25"), device="cpu",
                                      max_new_tokens=8, max_side=256)
    assert type(b.model).__name__ == "Qwen2_5_VLForConditionalGeneration" and b.box_scale == "pixels"
    assert b.seen_size(image[::2, ::2]) == (112, 112)
    answer = '{"category": "addition", "target": "moon", "box": [28, 14, 56, 42], "caption": "a moon"}'
    ids = b.processor.tokenizer(answer, return_tensors="pt")["input_ids"]
    monkeypatch.setattr(b.model, "generate", lambda **kw: torch.cat([kw["input_ids"], ids], dim=1))
    p = plan(image, "add a moon", b)
    assert p.backend == "local" and mo.bbox(p.candidate_masks[0]) == (128, 64, 128, 128)

"""The caption fits what is painted: of the region when the painter crops (for a removal, the
background that is left), of the whole image when it paints the whole frame (issue 19, item 6)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.instructor import plan
from engine.instructor.backends import InstructorBackend
from engine.instructor.captions import paints_whole_frame
from engine.instructor.prompts import system_prompt
from masks import mask_ops as mo

from engine.segment.select import Detection

WHOLE = "a cosy living room with a grey sofa, a floor lamp and a potted plant"


class FakeDetector:
    """Scripted boxes per query word."""

    def __init__(self, boxes):
        self.boxes = boxes

    def detect(self, image, text, thresholds=None):
        for word, dets in self.boxes.items():
            if word in text:
                return [Detection(tuple(map(float, b)), s, word) for b, s in dets]
        return []


class BoxSegmenter:
    """A SAM stand-in whose mask is exactly the box."""

    def set_image(self, image, key=None):
        self.shape = image.shape[:2]
        return True

    def masks_from_boxes(self, boxes):
        return [mo.box_mask(self.shape, (int(x0), int(y0), int(x1 - x0), int(y1 - y0))) for x0, y0, x1, y1 in boxes]


class Scripted(InstructorBackend):
    name = "scripted"

    def __init__(self, answer):
        self.answer = answer

    def ask(self, image, instruction, problem=None):
        return self.answer


@pytest.fixture(scope="module")
def room(chelsea):
    return cv2.resize(chelsea, (2000, 1330), interpolation=cv2.INTER_CUBIC)  # a 2.7 MP photo


def _plan(photo, instruction, answer, box):
    detector = FakeDetector({"lamp": [(box, 0.9)], "sofa": [(box, 0.9)]})
    return plan(photo, instruction, Scripted(answer), detector=detector, segmenter=BoxSegmenter())


def test_a_small_removal_is_painted_with_the_background_that_remains(room):
    p = _plan(room, "remove the lamp", {"category": "removal", "target": "lamp", "caption": WHOLE.replace(
        ", a floor lamp", ""), "region": "a bare white wall above a wooden floor"}, (1500, 300, 1620, 700))
    assert not paints_whole_frame(p.mask)
    assert (p.caption, p.caption_of) == ("a bare white wall above a wooden floor", "region")
    assert "sofa" not in p.caption and "lamp" in p.negative_prompt


def test_a_removal_over_most_of_the_photo_keeps_the_whole_image_caption(room):
    caption = "an empty living room with a potted plant"
    p = _plan(room, "remove the sofa", {"category": "removal", "target": "sofa", "caption": caption,
                                        "region": "a wooden floor"}, (60, 60, 1940, 1270))
    assert paints_whole_frame(p.mask)
    assert (p.caption, p.caption_of) == (caption, "image")


def test_a_global_edit_is_captioned_as_the_whole_image(room):
    p = plan(room, "make it a watercolor painting", Scripted(
        {"category": "global", "target": None, "caption": "a watercolor painting of a living room",
         "region": "watercolor"}))
    assert (p.caption, p.caption_of) == ("a watercolor painting of a living room", "image")


def test_a_local_edit_on_a_crop_names_only_the_changed_object(room):
    p = _plan(room, "make the lamp red", {"category": "local", "target": "lamp", "caption": WHOLE.replace(
        "a floor lamp", "a red floor lamp"), "region": "a red floor lamp"}, (1500, 300, 1620, 700))
    assert (p.caption, p.caption_of) == ("a red floor lamp", "region")


def test_an_addition_box_on_a_crop_is_captioned_by_the_new_object(room):
    p = plan(room, "add a hat on the sofa", Scripted(
        {"category": "addition", "target": "straw hat", "box": [500, 400, 640, 520],
         "caption": "a living room with a straw hat on the grey sofa", "region": "a straw hat"}))
    assert (p.caption, p.caption_of) == ("a straw hat", "region")


def test_without_a_region_caption_a_removal_falls_back_to_a_phrase_that_never_names_the_object(room):
    p = _plan(room, "remove the lamp from the wall", {"category": "removal", "target": "lamp", "caption": WHOLE},
              (1500, 300, 1620, 700))
    assert p.caption_of == "region" and "lamp" not in p.caption and p.caption != WHOLE
    q = _plan(room, "remove the lamp", {"category": "removal", "target": "lamp", "caption": "a room",
                                        "region": "a lamp-free corner"}, (1500, 300, 1620, 700))
    assert "lamp" not in q.caption  # a region caption naming the removed object is refused


def test_the_offline_parser_captions_are_of_the_region(room):
    p = plan(room, "add a red balloon")
    assert p.caption == "a red balloon" and p.caption_of == "region"


def test_the_planning_prompt_asks_for_both_captions():
    text = system_prompt(756, 588, "pixels")
    assert '"caption"' in text and '"region"' in text and "WHOLE image" in text
    assert "background that is" in text  # for removal: what is left, never the object


def test_paints_whole_frame_follows_the_painters_crop_policy():
    small = mo.box_mask((1500, 2000), (900, 600, 100, 100))
    most = mo.box_mask((1500, 2000), (50, 50, 1900, 1400))
    assert not paints_whole_frame(small) and paints_whole_frame(most)
    assert not paints_whole_frame(np.zeros((100, 100), np.uint8))


def test_an_offline_global_plan_is_captioned_as_the_image(room):
    p = plan(room, "make it look like winter")
    assert p.category == "global" and p.caption_of == "image" and "winter" in p.caption

"""Whole-image wordings the parser reads as global, and their object look-alikes it must not."""

from __future__ import annotations

import pytest

from engine.instructor import parse_instruction


@pytest.mark.parametrize("text", [
    "create a moody, cinematic composition in teal and orange",
    "craft a dreamy pastel version of this",
    "produce a gritty comic book rendition",
    "design a stained glass interpretation of the picture",
    "make it feel like a foggy morning",
    "make this look like it was shot on Kodak Portra",
    "make it darker and more dramatic",
    "make it pour with rain",
    "infuse the image with a vaporwave palette",
    "relight the photo with harsh midday sun",
    "give it a high key bright airy edit",
    "turn summer into fall",
    "switch day to night",
    "add heavy fog everywhere",
    "add a dreamy bokeh and soft glow to the whole photo",
    "cool down the whole image",
])
def test_whole_image_wordings_are_global(text):
    intent = parse_instruction(text)
    assert intent.category == "global" and intent.target is None and intent.caption, intent


@pytest.mark.parametrize("text,category,target", [
    ("add a painting on the wall", "addition", "painting"),
    ("create a poster on the wall", "addition", "poster"),
    ("create a snowman next to the tree", "addition", "snowman"),
    ("add three clouds", "addition", "clouds"),
    ("draw a cat on the sofa", "addition", "cat"),
    ("give the dog a bone", "addition", "bone"),
    ("turn the car into a boat", "local", "car"),
    ("tint the parrot a soft pink", "local", "parrot"),
    ("dye the shirt navy blue", "local", "shirt"),
    ("rid the beach of the plastic bottles", "removal", "plastic bottles"),
    ("get that bin out of the frame", "removal", "bin"),
    ("expel the pigeons", "removal", "pigeons"),
    ("nix the watermark", "removal", "watermark"),
    ("pop a hat on the snowman", "addition", "hat"),
])
def test_objects_stay_objects(text, category, target):
    intent = parse_instruction(text)
    assert (intent.category, intent.target) == (category, target)


def test_a_removed_objects_place_is_the_caption_not_the_object():
    intent = parse_instruction("rid the beach of the plastic bottles")
    assert "bottle" not in intent.caption and "beach" in intent.caption

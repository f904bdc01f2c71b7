"""The offline parser: phrasings, robustness, and accuracy on labelled public instructions."""

import random
from pathlib import Path

import pytest

from engine.api import CATEGORIES
from engine.instructor import Intent, parse_instruction
from parser_accuracy import evaluate, load, norm_target

DATA = Path(__file__).parent / "data"
SHARED = DATA / "edit_instructions.jsonl"  # a copy of shared/data/edit_instructions.jsonl (development set)


@pytest.mark.parametrize("text, category, target", [
    ("remove the red car on the left", "removal", "red car"),
    ("Can you please get rid of the man in the back?", "removal", "man"),
    ("erase the dog", "removal", "dog"),
    ("I want the lamp gone", "removal", "lamp"),
    ("make the tree disappear", "removal", "tree"),
    ("there should be no people", "removal", "people"),
    ("bitte remove the lamp, danke", "removal", "lamp"),
    ("put a hat on the dog", "addition", "hat"),
    ("por favor, add a boat on the lake", "addition", "boat"),
    ("give the man a beard", "addition", "beard"),
    ("make the woman wear sunglasses", "addition", "sunglasses"),
    ("there should be a dog next to the bench", "addition", "dog"),
    ("swap the cat for a tiger", "local", "cat"),
    ("substitute a tiger for the cat", "local", "cat"),
    ("turn the cat into a tiger", "local", "cat"),
    ("make the car red", "local", "car"),
    ("cat -> tiger", "local", "cat"),
    ("could you make the leftmost chair blue?", "local", "chair"),
    ("I'd like the house to be red", "local", "house"),
    ("make it look like winter", "global", None),
    ("Van Gogh style", "global", None),
    ("brighten the image", "global", None),
    ("change the season to autumn", "global", None),
    ("change the background to a beach", "background", None),
    ("put the cat on a beach", "background", None),
    ("replace the background with a snowy forest", "background", None),
])
def test_phrasings(text, category, target):
    i = parse_instruction(text)
    assert (i.category, norm_target(i.target)) == (category, target)
    assert i.confident and i.caption


def test_spatial_and_anchor_are_split_off():
    i = parse_instruction("remove the red car on the left")
    assert i.spatial == "left"
    i = parse_instruction("delete the biggest dog")
    assert (i.target, i.spatial) == ("dog", "largest")
    i = parse_instruction("Add a man to the right of the giraffe")
    assert (i.target, i.relation, i.anchor) == ("man", "right of", "giraffe")
    i = parse_instruction("put a hat on the dog")
    assert (i.relation, i.anchor) == ("on", "dog")


def test_captions_follow_the_category():
    assert "car" not in parse_instruction("remove the red car").caption
    assert parse_instruction("remove the cup from the table").caption.startswith("empty table")
    assert parse_instruction("make the car red").caption == "a red car"
    assert parse_instruction("Turn the handbag into the glass one").caption == "a glass handbag"
    assert parse_instruction("turn the cat into a tiger").caption == "a tiger"
    assert "winter" in parse_instruction("make it look like winter").caption
    assert "beach" in parse_instruction("change the background to a beach").caption
    assert parse_instruction("add three birds to the sky").caption == "three birds"


@pytest.mark.parametrize("junk", [None, "", "   ", "!!!", "x" * 10_000, "\x00\x01\x02", 12345,
                                  "{\"category\": \"removal\"}", "🙂🙂🙂", "remove", "add", "->", "a -> ",
                                  "remove the " * 500, "((((((((((", "the the the the"])
def test_never_raises_and_flags_unknown(junk):
    i = parse_instruction(junk)
    assert isinstance(i, Intent) and i.category in CATEGORIES


def test_unknown_text_is_a_low_confidence_local_edit():
    i = parse_instruction("flibber the wobble")
    assert (i.category, i.target, i.confident) == ("local", "flibber the wobble", False)


def test_random_text_never_raises():
    rng = random.Random(0)
    words = "remove add the a cat to into with -> background style make on left please , . ? !".split()
    for _ in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
        assert parse_instruction(text).category in CATEGORIES


def test_accuracy_on_the_shared_development_set():
    cat, tgt, fails = evaluate(load(SHARED))
    assert cat >= 0.97 and tgt >= 0.95, fails


# Floors a little below the measured scores, so a regression fails (see data/README.md).
@pytest.mark.parametrize("name, cat_floor, tgt_floor", [
    ("i2ebench_paraphrases_heldout.jsonl", 0.97, 0.95),
    ("instructpix2pix_examples_heldout.jsonl", 0.9, 0.9),
    ("i2ebench_2nd_heldout.jsonl", 0.96, 0.85),  # blind set: never tuned on (92.8 % -> 97.0 % with issue 19)
    ("designer_dev.jsonl", 0.98, 0.97),  # our own wordings, tuned on (issue 19: 79.2 % before)
])
def test_accuracy_on_collected_public_instructions(name, cat_floor, tgt_floor):
    rows = load(DATA / name)
    assert all(r.get("source") for r in rows)
    cat, tgt, fails = evaluate(rows)
    assert cat >= cat_floor and tgt >= tgt_floor, (cat, tgt, fails[:10])

import pytest

from engine.api import MissingModelsError
from engine.segment.grounding import GroundingDetector, load_grounding_dino, prompt_text
from tests.builders.segment import save_tiny_grounding_dino


def test_prompt_text_is_lower_case_phrases_ended_by_dots():
    assert prompt_text("Red Car") == "red car."
    assert prompt_text("cup of coffee and the pair of glasses") == "cup of coffee. the pair of glasses."
    assert prompt_text("  ") == "object."


@pytest.mark.parametrize("name", ["salt and pepper shaker", "black and white cat", "fish and chips",
                                  "Salt And Pepper Shaker."])
def test_a_name_holding_and_stays_one_phrase(name):
    lower = name.lower().rstrip(".")
    assert prompt_text(name) == lower + "."
    assert prompt_text(f"the {lower} and the cup") == f"the {lower}. the cup."
    assert prompt_text(f"{lower}. spoon") == f"{lower}. spoon."


def test_detect_returns_boxes_inside_the_image_best_first(tiny_gdino, chelsea):
    det = GroundingDetector(*tiny_gdino)
    found = det.detect(chelsea, "cat", thresholds=(0.0,))
    h, w = chelsea.shape[:2]
    assert found
    for d in found:
        x0, y0, x1, y1 = d.box
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h and 0 <= d.score <= 1
    scores = [d.score for d in found]
    assert scores == sorted(scores, reverse=True)


def test_threshold_is_lowered_until_something_is_found(tiny_gdino, chelsea):
    det = GroundingDetector(*tiny_gdino)
    assert det.detect(chelsea, "cat", thresholds=(1.01,)) == []
    lowered = det.detect(chelsea, "cat", thresholds=(1.01, 1.001, 0.0))
    assert lowered and lowered == det.detect(chelsea, "cat", thresholds=(0.0,))


def test_save_and_load_folder(tmp_path, chelsea):
    folder = save_tiny_grounding_dino(tmp_path / "gd")
    det = load_grounding_dino(folder, device="cpu")
    assert isinstance(det.detect(chelsea, "dog", thresholds=(0.0,)), list)
    with pytest.raises(MissingModelsError) as err:
        load_grounding_dino(tmp_path / "grounding-dino-base")
    assert err.value.names == ("grounding-dino-base",)


def test_a_pickle_only_folder_is_refused(tmp_path):
    """Weights load only from safetensors: a folder holding just pytorch_model.bin is not unpickled."""
    from engine.segment.grounding import load_grounding_dino
    from tests.builders.segment import tiny_grounding_dino

    import torch

    model, processor = tiny_grounding_dino()
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    for f in tmp_path.glob("*.safetensors"):
        f.unlink()
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    assert (tmp_path / "pytorch_model.bin").exists() and not (tmp_path / "model.safetensors").exists()
    with pytest.raises(OSError, match="safetensors"):
        load_grounding_dino(tmp_path, device="cpu")

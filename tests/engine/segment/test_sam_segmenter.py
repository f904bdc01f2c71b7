import pickle

import numpy as np
import pytest

from engine.api import MissingModelsError, SegmentRequest
from engine.segment.sam import SamSegmenter, build_sam, load_sam, sam_config
from tests.builders.segment import save_tiny_sam, tiny_sam


def _count_encoder_calls(model):
    calls = []
    model.image_encoder.register_forward_hook(lambda *a: calls.append(1))
    return calls


def test_config_registry_knows_published_sizes():
    assert sam_config("vit_h")["encoder_embed_dim"] == 1280
    assert sam_config("vit_b")["encoder_depth"] == 12
    assert sam_config("sam-vit-l")["encoder_embed_dim"] == 1024
    with pytest.raises(ValueError):
        sam_config("vit_x")


@pytest.mark.parametrize("name", ["sam_tiny.pth", "sam_tiny.safetensors"])
def test_save_and_load_roundtrip(tmp_path, name):
    path = save_tiny_sam(tmp_path / name)
    assert path.exists() and path.with_suffix(".json").exists()
    loaded = load_sam(path, device="cpu")
    ref = tiny_sam()
    for (k, a), (_, b) in zip(sorted(loaded.state_dict().items()), sorted(ref.state_dict().items())):
        assert np.array_equal(a.numpy(), b.numpy()), k


def test_load_from_folder_and_type_from_file_name(tmp_path):
    path = save_tiny_sam(tmp_path)  # a folder: sam_tiny.pth written in it
    assert load_sam(tmp_path, device="cpu") is not None
    # Without a config beside it the type comes from the name; a tiny state dict does not fit vit_b.
    renamed = tmp_path / "other" / "sam_vit_b_01ec64.pth"
    renamed.parent.mkdir()
    renamed.write_bytes(path.read_bytes())
    with pytest.raises(ValueError, match="does not match"):
        load_sam(renamed, device="cpu")
    unnamed = tmp_path / "other" / "weights.pth"
    unnamed.write_bytes(path.read_bytes())
    with pytest.raises(ValueError, match="model type"):
        load_sam(unnamed, device="cpu")
    assert load_sam(unnamed, model_type="tiny", device="cpu") is not None


def test_missing_checkpoint_names_the_manifest_entry(tmp_path):
    with pytest.raises(MissingModelsError) as err:
        load_sam(tmp_path / "sam_vit_l_0b3195.pth")
    assert err.value.names == ("sam-vit-l",)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_pickle_payload_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))
    path = tmp_path / "sam_evil.pth"
    path.write_bytes(pickle.dumps({"x": Evil()}))
    with pytest.raises(ValueError, match="weights_only"):
        load_sam(path, model_type="tiny", device="cpu")


def test_embedding_is_computed_once_per_image(tiny_sam_model, chelsea):
    seg = SamSegmenter(tiny_sam_model)
    calls = _count_encoder_calls(seg.model)
    assert seg.set_image(chelsea) is True
    r1 = seg.predict([(200, 150)], [1])
    r2 = seg.predict([(200, 150), (50, 50)], [1, 0])
    assert seg.set_image(chelsea) is False
    seg.predict(box=(100, 50, 300, 250))
    assert len(calls) == 1
    other = chelsea[::-1].copy()
    assert seg.set_image(other) is True and len(calls) == 2
    assert seg.set_image(chelsea) is False and len(calls) == 2  # back from the cache
    h, w = chelsea.shape[:2]
    for r in (r1, r2):
        assert r.mask.shape == (h, w) and r.mask.dtype == np.uint8
        assert set(np.unique(r.mask)) <= {0, 255}
    assert len(r1.alternatives) == 2 and np.isfinite(r1.score)


def test_cache_is_bounded(tiny_sam_model, chelsea):
    seg = SamSegmenter(tiny_sam_model, cache_size=2)
    calls = _count_encoder_calls(seg.model)
    for k in ("a", "b", "c"):
        seg.set_image(chelsea, key=k)
    seg.set_image(chelsea, key="a")  # evicted: computed again
    assert len(calls) == 4


def test_single_mask_and_boxes(tiny_sam_model, chelsea):
    seg = SamSegmenter(tiny_sam_model)
    seg.set_image(chelsea)
    r = seg.predict([(10, 10)], [1], box=(400, 280, 0, 0), multimask=False)  # box corners swapped
    assert r.alternatives == () and r.mask.shape == chelsea.shape[:2]
    masks = seg.masks_from_boxes([(0, 0, 100, 100), (200, 100, 451, 300)])
    assert len(masks) == 2 and all(m.shape == chelsea.shape[:2] for m in masks)


def test_bad_calls_say_what_is_wrong(tiny_sam_model, chelsea):
    seg = SamSegmenter(tiny_sam_model)
    with pytest.raises(RuntimeError, match="set_image"):
        seg.predict([(1, 1)], [1])
    seg.set_image(chelsea)
    with pytest.raises(ValueError, match="click"):
        seg.predict()
    with pytest.raises(ValueError, match="labels"):
        seg.predict([(1, 1), (2, 2)], [1])
    with pytest.raises(ValueError, match="RGB"):
        seg.set_image(chelsea[..., 0])


def test_segment_request_reuses_the_keyed_embedding(tiny_sam_model, chelsea):
    seg = SamSegmenter(tiny_sam_model)
    calls = _count_encoder_calls(seg.model)
    r = seg.segment(SegmentRequest(image=chelsea, points=((100.0, 100.0),), labels=(1,), image_key="doc1"))
    seg.segment(SegmentRequest(image=chelsea, points=((100.0, 100.0), (300.0, 50.0)), labels=(1, 0),
                               image_key="doc1"))
    assert len(calls) == 1 and r.mask.shape == chelsea.shape[:2]


def test_build_sam_any_size():
    m = build_sam({"model_type": "tiny", "encoder_depth": 1, "encoder_global_attn_indexes": [0]})
    assert len(m.image_encoder.blocks) == 1


def test_further_clicks_refine_the_previous_mask(tiny_sam_model, chelsea):
    seg = SamSegmenter(tiny_sam_model)
    seg.set_image(chelsea)
    seen = []
    original = seg._predictor.predict

    def spy(**kw):
        seen.append(kw.get("mask_input") is not None)
        return original(**kw)
    seg._predictor.predict = spy
    seg.predict([(100, 100)], [1])
    seg.predict([(100, 100), (300, 200)], [1, 0])      # extends the last clicks: refined
    seg.predict([(50, 50)], [1])                       # a new object: from scratch
    seg.predict([(50, 50)], [1], box=(0, 0, 100, 100))  # same click, now a box: from scratch
    assert seen == [False, True, False, False]


def test_batched_boxes_match_one_by_one(tiny_sam_model, chelsea):
    seg = SamSegmenter(tiny_sam_model)
    seg.set_image(chelsea)
    boxes = [(0, 0, 100, 100), (200, 100, 451, 300), (50, 60, 70, 80)]
    batched = seg.masks_from_boxes(boxes)
    single = [seg.predict(box=b, multimask=False).mask for b in boxes]
    for a, b in zip(batched, single):
        assert (a != b).mean() < 0.001
    assert seg.masks_from_boxes([]) == []

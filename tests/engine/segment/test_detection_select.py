from engine.segment.select import Detection, choose_detection, rank_detections

DETS = [
    Detection((10, 10, 60, 60), 0.9, "a"),      # top-left, small, best score
    Detection((300, 200, 450, 300), 0.4, "b"),  # bottom-right, large
    Detection((200, 120, 250, 170), 0.6, "c"),  # centre, small
]


def _pick(spatial):
    return choose_detection(DETS, spatial, (300, 450)).label


def test_spatial_words_pick_the_meant_detection():
    assert _pick(None) == "a"
    assert _pick("left") == "a" and _pick("right") == "b"
    assert _pick("top") == "a" and _pick("bottom") == "b"
    assert _pick("largest") == "b" and _pick("smallest") in ("a", "c")
    assert _pick("center") == "c"
    assert _pick("front") == "b" and _pick("back") == "a"
    assert _pick("bottom right") == "b" and _pick("top left") == "a"


def test_unknown_words_fall_back_to_score_and_empty_is_none():
    assert [d.label for d in rank_detections(DETS, "sideways")] == ["a", "c", "b"]
    assert choose_detection([], "left") is None

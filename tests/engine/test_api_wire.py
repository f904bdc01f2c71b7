"""Every engine.api request and message round-trips through its wire form, arrays bit for bit."""

from pathlib import Path

import numpy as np
import pytest

from engine import api, connect, protocol, wire


def _rng():
    return np.random.default_rng(7)


def _image(h=37, w=53, c=3):
    return _rng().integers(0, 256, (h, w, c), dtype=np.uint8)


def _mask(h=37, w=53):
    return (_rng().random((h, w)) > 0.5).astype(np.uint8) * 255


def _examples():
    image, mask = _image(), _mask()
    params = api.EditParams(steps=3, guidance=6.25, seed=12345, num_candidates=2, engine="fill",
                            resolution_mode="whole", working_size=512, negative_prompt="bad, ünïcode")
    inpaint = api.InpaintRequest(image, mask, "a sunset", params, instruction="make it red", category="local",
                                 target="car")
    cand = api.Candidate(_image(), 12345, (1, 2, 30, 20))
    worker = api.WorkerInfo("studio-1", 4242, "cuda")
    return [
        params, inpaint,
        api.PlanRequest(_image(), "remove the man", backend="local"),
        api.SegmentRequest(image, ((1.5, 2.0), (10.0, 3.25)), (1, 0), (0.0, 1.0, 20.5, 30.0), "key"),
        api.DownloadRequest(("sam-vit-b", "brushnet-x")),
        cand,
        api.EditResult(inpaint, (cand, api.Candidate(_image(), 12346, (0, 0, 53, 37))), "fill", "patch", 1.5, worker),
        api.EditPlan("remove the man", "removal", "man", "empty street", "ugly", mask, (mask, 255 - mask), 0.75,
                     "offline", ("note one",)),
        api.EditPlan("add a moon", "addition", "moon", "a moon", "ugly", mask, (), 1.0, "local",
                     instructor=api.InstructorReport("auto", "local", "qwen2-vl-7b", True, None)),
        api.InstructorReport("local", "offline", "qwen2-vl-2b", True, "local answer refused: no JSON object"),
        api.SegmentResult(mask, 0.875, (mask,)),
        api.ModelStatusRequest((("sam-vit-b", "/tmp/sam"),), ("sam-vit-b",)),
        api.ModelStatusReport((api.ModelEntry("sam-vit-b", 375, False, "missing", "select", "SAM", True, "sam"),)),
        api.ModelEntry("brushnet-x", None, True, "installed", "paint", "BrushNet"),
        api.ModelPathRequest("sam", "/x/y"), api.ModelPathStatus(True, "Usable", "sam-vit-b"),
        api.FolderCheckRequest("sam-vit-b", "/x"), api.FolderCheck(False, "a.bin", "missing"),
        api.ParseRequest("remove the dog"),
        api.ParsedInstruction("removal", "dog", caption="grass", box=(0.0, 0.5, 1.0, 1.0)),
        worker,
        api.JobQueued("a-1", "inpaint", 3), api.JobStarted("a-1", "inpaint"), api.Progress("a-1", 5, 50, "denoising"),
        api.Preview("a-1", _image(8, 9), 5, (1, 2, 3, 4)), api.Preview("a-1", _image(8, 9), 0, None),
        api.JobFinished("a-1", cand), api.JobFinished("a-2", (Path("/models/sam"), Path("/models/x"))),
        api.JobFailed("a-1", "missing model weights: x", "run: brushedit models download x", "missing-models"),
        api.JobCancelled("a-1"), api.EngineStatus("cuda", "H200", 123, 456), api.EngineStatus("cpu"),
    ]


def _same(a, b):
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        assert np.array_equal(a, b)
        return
    if hasattr(type(a), "KIND"):
        assert type(a) is type(b)
        for name in a.__dataclass_fields__:
            _same(getattr(a, name), getattr(b, name))
        return
    if isinstance(a, (tuple, list)):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    assert type(a) is type(b) and a == b


@pytest.mark.parametrize("obj", _examples(), ids=lambda o: type(o).__name__)
def test_every_api_object_round_trips_through_one_frame(obj):
    frame = wire.pack(api.to_dict(obj))
    assert b"pickle" not in frame
    _same(obj, api.from_dict(wire.unpack(frame)))


def test_every_wire_class_has_an_example_and_a_unique_kind():
    import dataclasses
    import inspect

    registered = set(wire.record_classes())
    covered = {type(o) for o in _examples()}
    assert covered == registered
    # A dataclass added to engine.api or engine.protocol later must travel too: a Record base and a KIND
    # register it, with no list to keep by hand.
    declared = {cls for module in (api, protocol) for _, cls in inspect.getmembers(module, inspect.isclass)
                if dataclasses.is_dataclass(cls) and cls.__module__ == module.__name__}
    assert declared == registered, declared ^ registered
    assert len({cls.KIND for cls in registered}) == len(registered)


def test_two_records_with_one_kind_are_refused():
    from dataclasses import dataclass
    from typing import ClassVar

    with pytest.raises(TypeError, match="share the KIND 'inpaint'"):
        @dataclass(frozen=True)
        class Impostor(wire.Record):
            KIND: ClassVar[str] = "inpaint"
    assert wire.from_dict(api.to_dict(api.DownloadRequest(("x",)))).names == ("x",)
    with pytest.raises(wire.WireError, match="not an engine.api object"):
        api.to_dict(object())


@pytest.mark.parametrize("array", [
    np.zeros((0, 0), np.uint8),
    (np.arange(60).reshape(6, 10) % 2).astype(bool),
    np.arange(24, dtype=np.uint8).reshape(2, 3, 4),           # RGBA
    np.arange(12, dtype=np.uint8).reshape(2, 3, 2),           # grey + alpha
    np.arange(6, dtype=np.uint8).reshape(2, 3, 1),
    np.linspace(-1, 1, 30, dtype=np.float32).reshape(5, 6),
    np.array([np.nan, np.inf, -0.0, 1e-300]),
    np.arange(10, dtype=np.uint16) * 6000,
    np.arange(5, dtype=np.int64) - 2,
    np.arange(7, dtype=np.uint8),                              # 1-D
])
def test_arrays_of_every_dtype_and_shape_come_back_bit_exact(array):
    back = wire.decode_array(wire.unpack(wire.pack(wire.encode_array(array))))
    assert back.dtype == array.dtype and back.shape == array.shape
    assert back.tobytes() == array.tobytes()


def test_uint8_images_travel_as_png():
    enc = wire.encode_array(_image())
    assert enc["$array"] == "png" and enc["data"].startswith(wire.PNG_SIGNATURE)
    from PIL import Image
    import io

    assert np.array_equal(np.asarray(Image.open(io.BytesIO(enc["data"]))), _image())  # a real PNG


def test_a_foreign_filtered_png_decodes_through_pillow():
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(_image()).save(buf, "PNG", optimize=True)  # Pillow uses row filters
    assert np.array_equal(wire.png_decode(buf.getvalue()), _image())


def test_objects_and_unknown_dtypes_never_travel():
    with pytest.raises(wire.WireError):
        wire.encode_array(np.array([object()], dtype=object))
    with pytest.raises(wire.WireError):
        wire.decode_array({"$array": "raw", "data": b"x", "dtype": "object", "shape": [1]})
    with pytest.raises(wire.WireError):
        api.from_dict({"type": "os.system"})


def test_images_over_the_pixel_limit_are_refused_before_decoding():
    d = api.to_dict(api.InpaintRequest(_image(100, 100), _mask(100, 100)))
    with pytest.raises(wire.WireError, match="over the limit"):
        api.from_dict(d, max_pixels=100 * 99)
    assert api.from_dict(d, max_pixels=100 * 100).image.shape == (100, 100, 3)


def test_malformed_frames_are_refused():
    good = wire.pack({"a": b"xy"})
    for bad in (b"", b"BEW1", b"XXXX" + good[4:], good[:-1], good[:8] + b"{not json" + good[8:]):
        with pytest.raises(wire.WireError):
            wire.unpack(bad)


def test_job_ids_are_unique_strings_in_submission_order():
    ids = [api.new_job_id() for _ in range(50)]
    assert all(isinstance(i, str) for i in ids) and len(set(ids)) == 50 and ids == sorted(ids)
    assert api.InpaintRequest(_image(), _mask()).job_id != api.InpaintRequest(_image(), _mask()).job_id


def test_the_service_and_the_fake_implement_the_one_protocol():
    from engine.service import EngineService
    from tests.fakes.fake_engine import FakeEngineService

    for backend in (EngineService(lambda m: None), FakeEngineService(lambda m: None)):
        assert isinstance(backend, api.EngineBackend)
        assert isinstance(backend, protocol.EngineBackend)


def test_the_old_factory_names_on_engine_api_are_engine_connects():
    """Outside code calls engine.api.local_engine & co. (the compatibility path): the same objects."""
    for name in ("local_engine", "remote_engine", "engine_config", "check_server", "answer_locally",
                 "engine_version"):
        assert getattr(api, name) is getattr(connect, name), name
    from engine.api import engine_config, local_engine  # the from-import form works too

    assert engine_config is connect.engine_config and local_engine is connect.local_engine
    assert api.EngineBackend is protocol.EngineBackend and api.MessageSink is protocol.MessageSink
    assert api.JobQueued is protocol.JobQueued and api.Query is protocol.Query
    assert api.engine_version() == connect.engine_version()
    from engine.dispatch import EngineConfig

    assert api.engine_config(device="cpu") == EngineConfig(device="cpu")
    events = []
    service = api.local_engine(events.append)
    try:
        assert type(service).__name__ == "EngineService" and isinstance(service, api.EngineBackend)
    finally:
        service.shutdown()
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        api.no_such_name  # noqa: B018


def test_queries_are_answered_locally_without_torch():
    import subprocess
    import sys

    code = ("import sys\nfrom engine import api\n"
            "r = api.answer_locally(api.ModelStatusRequest())\n"
            "assert r.entries and r.names('sam')\n"
            "p = api.answer_locally(api.ParseRequest('remove the dog'))\n"
            "assert p.category == 'removal' and p.target == 'dog', p\n"
            "assert not api.answer_locally(api.ModelPathRequest('sam', '/no/such/dir')).usable\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"

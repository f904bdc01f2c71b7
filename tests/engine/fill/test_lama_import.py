"""``import_lama``: tiny fakes of the release's Lightning ``best.ckpt`` and IOPaint's TorchScript
``big-lama.pt``, made here, converted to safetensors with only the generator kept."""

from __future__ import annotations

import sys
import types

import pytest
import torch
from torch import nn

from engine.fill.lama import LamaLayoutError, load_lama, tiny_lama
from engine.fill.lama_import import import_lama


def _fake_omegaconf_class():
    """A class pickled as omegaconf.dictconfig.DictConfig (omegaconf itself is not installed)."""
    mod = types.ModuleType("omegaconf.dictconfig")

    class DictConfig:
        def __init__(self, content):
            self._content = content

    DictConfig.__module__, DictConfig.__qualname__ = "omegaconf.dictconfig", "DictConfig"
    mod.DictConfig = DictConfig
    return mod, DictConfig


@pytest.fixture
def lightning_ckpt(tmp_path, monkeypatch):
    model = tiny_lama(seed=1)
    mod, DictConfig = _fake_omegaconf_class()
    monkeypatch.setitem(sys.modules, "omegaconf", types.ModuleType("omegaconf"))
    monkeypatch.setitem(sys.modules, "omegaconf.dictconfig", mod)
    state = dict(model.state_dict())
    state["discriminator.model0.0.weight"] = torch.zeros(2, 2)
    state["loss_resnet_pl.impl.conv1.weight"] = torch.zeros(3)
    ckpt = {"epoch": 40, "global_step": 123, "pytorch-lightning_version": "1.2.9", "state_dict": state,
            "optimizer_states": [], "hyper_parameters": {"config": DictConfig({"generator": {"ngf": 4}})}}
    path = tmp_path / "best.ckpt"
    torch.save(ckpt, path)
    monkeypatch.delitem(sys.modules, "omegaconf.dictconfig")  # loading must not need it
    monkeypatch.delitem(sys.modules, "omegaconf")
    return path, model


def test_lightning_checkpoint_keeps_only_the_generator(tmp_path, lightning_ckpt):
    path, model = lightning_ckpt
    report = import_lama(path, tmp_path / "out" / "big-lama.safetensors")
    assert report.source_format == "lightning" and report.dropped == 2
    assert report.kept == len(model.state_dict())
    loaded = load_lama(report.output)
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    assert "width 4" in report.describe() and "dropped 2" in report.describe()


class _Wrapper(nn.Module):  # bin/to_jit.py's shape: .model (the training module) -> .generator
    def __init__(self, lama):
        super().__init__()
        self.model = nn.Module()
        self.model.generator = lama.generator

    def forward(self, image, mask):
        return self.model.generator(torch.cat([image * (1 - mask), mask], 1))


def test_torchscript_file_is_converted(tmp_path):
    model = tiny_lama(seed=2)
    traced = torch.jit.trace(_Wrapper(model), (torch.rand(1, 3, 32, 32), torch.zeros(1, 1, 32, 32)),
                             check_trace=False)
    path = tmp_path / "big-lama.pt"
    traced.save(str(path))
    report = import_lama(path, tmp_path / "lama.safetensors")
    assert report.source_format == "torchscript"
    loaded = load_lama(report.output)
    image, mask = torch.rand(1, 3, 40, 24), (torch.rand(1, 1, 40, 24) > 0.7).float()
    assert torch.equal(loaded(image, mask), model(image, mask))


def test_a_pickle_naming_another_class_is_refused_by_name(tmp_path, monkeypatch):
    mod = types.ModuleType("evil")

    class Payload:
        def __reduce__(self):
            return (print, ("ran",))

    Payload.__module__, Payload.__qualname__ = "evil", "Payload"
    mod.Payload = Payload
    monkeypatch.setitem(sys.modules, "evil", mod)
    path = tmp_path / "best.ckpt"
    torch.save({"state_dict": tiny_lama().state_dict(), "x": Payload()}, path)
    with pytest.raises(LamaLayoutError, match="print"):
        import_lama(path, tmp_path / "out.safetensors")
    assert not (tmp_path / "out.safetensors").exists()


def test_a_checkpoint_without_a_generator_is_refused(tmp_path):
    path = tmp_path / "other.ckpt"
    torch.save({"state_dict": {"encoder.weight": torch.zeros(2)}}, path)
    with pytest.raises(LamaLayoutError, match="no LaMa generator"):
        import_lama(path, tmp_path / "out.safetensors")


def test_a_generator_missing_a_key_is_refused_by_name(tmp_path):
    state = dict(tiny_lama().state_dict())
    del state["generator.model.5.conv1.ffc.convg2l.weight"]
    path = tmp_path / "best.ckpt"
    torch.save({"state_dict": state}, path)
    with pytest.raises(LamaLayoutError, match=r"generator\.model\.5\.conv1\.ffc\.convg2l\.weight"):
        import_lama(path, tmp_path / "out.safetensors")

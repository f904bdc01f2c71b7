"""The LaMa port against the FFC maths written out independently in numpy (float64, a DFT by
explicit sums), the published key layout, and the loader's refusals."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.fill.lama import (
    LaMa,
    LamaConfig,
    LamaLayoutError,
    config_from_state_dict,
    lama_from_state_dict,
    load_lama,
    pad_symmetric,
    save_lama,
    tiny_lama,
)

# A copy of shared/reference/lama_big_state_dict.json: the released generator's names and shapes.
REFERENCE = Path(__file__).resolve().parent / "data" / "lama_big_state_dict.json"
EPS = 1e-5  # BatchNorm2d's default


# --- the maths, written out -----------------------------------------------------------------

def np_conv(x, w, stride=1, pad=0, mode="reflect", bias=None):
    """Cross-correlation of ``x`` (C, H, W) with ``w`` (O, C, k, k), reflection padding."""
    if pad:
        x = np.pad(x, ((0, 0), (pad, pad), (pad, pad)), mode=mode)
    k = w.shape[-1]
    ho, wo = (x.shape[1] - k) // stride + 1, (x.shape[2] - k) // stride + 1
    out = np.zeros((w.shape[0], ho, wo))
    for ky in range(k):
        for kx in range(k):
            window = x[:, ky:ky + stride * (ho - 1) + 1:stride, kx:kx + stride * (wo - 1) + 1:stride]
            out += np.einsum("oc,chw->ohw", w[:, :, ky, kx], window)
    return out if bias is None else out + bias[:, None, None]


def np_conv_transpose(x, w, bias):
    """ConvTranspose2d(k=3, stride=2, padding=1, output_padding=1) by scattering each input pixel."""
    c, h, wd = x.shape
    full = np.zeros((w.shape[1], 2 * (h - 1) + 3 + 1, 2 * (wd - 1) + 3 + 1))
    for ky in range(3):
        for kx in range(3):
            full[:, ky:ky + 2 * h:2, kx:kx + 2 * wd:2] += np.einsum("co,chw->ohw", w[:, :, ky, kx], x)
    return full[:, 1:1 + 2 * h, 1:1 + 2 * wd] + bias[:, None, None]


def np_bn(x, sd, name):
    g, b = sd[name + ".weight"], sd[name + ".bias"]
    m, v = sd[name + ".running_mean"], sd[name + ".running_var"]
    return (x - m[:, None, None]) / np.sqrt(v[:, None, None] + EPS) * g[:, None, None] + b[:, None, None]


def relu(x):
    return np.maximum(x, 0)


def dft2_half(x):
    """The orthonormal 2-D DFT of real (C, H, W), columns 0..W//2, by explicit sums."""
    c, h, w = x.shape
    u, yy = np.arange(h)[:, None], np.arange(h)[None, :]
    v, xx = np.arange(w // 2 + 1)[:, None], np.arange(w)[None, :]
    rows = np.exp(-2j * np.pi * u * yy / h)  # (u, y)
    cols = np.exp(-2j * np.pi * v * xx / w)  # (v, x)
    return np.einsum("uy,cyx,vx->cuv", rows, x, cols) / np.sqrt(h * w)


def idft2_half(spec, h, w):
    """The real inverse of :func:`dft2_half` for a half spectrum (C, H, W//2+1)."""
    u, yy = np.arange(h)[None, :], np.arange(h)[:, None]
    v, xx = np.arange(w // 2 + 1)[None, :], np.arange(w)[:, None]
    weight = np.full(w // 2 + 1, 2.0)
    weight[0] = 1.0
    if w % 2 == 0:
        weight[-1] = 1.0
    rows = np.exp(2j * np.pi * yy * u / h)  # (y, u)
    cols = np.exp(2j * np.pi * xx * v / w) * weight  # (x, v)
    return np.real(np.einsum("yu,cuv,xv->cyx", rows, spec, cols)) / np.sqrt(h * w)


def np_fourier_unit(x, sd, p):
    spec = dft2_half(x)
    c = x.shape[0]
    stacked = np.empty((2 * c,) + spec.shape[1:])
    stacked[0::2], stacked[1::2] = spec.real, spec.imag  # channel 2k real, 2k+1 imaginary
    y = relu(np_bn(np_conv(stacked, sd[p + "conv_layer.weight"]), sd, p + "bn"))
    return idft2_half(y[0::2] + 1j * y[1::2], *x.shape[1:])


def np_spectral(x, sd, p):
    y = relu(np_bn(np_conv(x, sd[p + "conv1.0.weight"]), sd, p + "conv1.1"))
    return np_conv(y + np_fourier_unit(y, sd, p + "fu."), sd[p + "conv2.weight"])


def np_ffc_bn_relu(x_l, x_g, sd, p, stride=1, pad=1):
    def conv(name, x):
        key = p + "ffc." + name + ".weight"
        return np_conv(x, sd[key], stride, pad) if key in sd and x is not None else 0

    out_l = conv("convl2l", x_l) + conv("convg2l", x_g)
    out_g = conv("convl2g", x_l)
    if p + "ffc.convg2g.conv2.weight" in sd:
        out_g = out_g + np_spectral(x_g, sd, p + "ffc.convg2g.")
    out_l = relu(np_bn(out_l, sd, p + "bn_l"))
    out_g = relu(np_bn(out_g, sd, p + "bn_g")) if p + "bn_g.weight" in sd else None
    return out_l, out_g


def np_lama(image, mask, sd, config: LamaConfig):
    """The whole forward for one image: predict.py's padding, masking, the generator, the crop."""
    h, w = image.shape[1:]
    ph, pw = -(-h // 8) * 8, -(-w // 8) * 8
    pad = ((0, 0), (0, ph - h), (0, pw - w))
    image, mask = np.pad(image, pad, mode="symmetric"), np.pad(mask, pad, mode="symmetric")
    hole = (mask > 0).astype(np.float64)
    x = np.concatenate([image * (1 - hole), hole])
    x = np.pad(x, ((0, 0), (3, 3), (3, 3)), mode="reflect")
    x_l, x_g = np_ffc_bn_relu(x, None, sd, "generator.model.1.", pad=0)
    i = 2
    for _ in range(config.n_downsampling):
        x_l, x_g = np_ffc_bn_relu(x_l, x_g, sd, f"generator.model.{i}.", stride=2)
        i += 1
    for _ in range(config.n_blocks):
        y_l, y_g = np_ffc_bn_relu(x_l, x_g, sd, f"generator.model.{i}.conv1.")
        y_l, y_g = np_ffc_bn_relu(y_l, y_g, sd, f"generator.model.{i}.conv2.")
        x_l, x_g = x_l + y_l, x_g + y_g
        i += 1
    x = np.concatenate([x_l, x_g])
    i += 1
    for _ in range(config.n_downsampling):
        x = np_conv_transpose(x, sd[f"generator.model.{i}.weight"], sd[f"generator.model.{i}.bias"])
        x = relu(np_bn(x, sd, f"generator.model.{i + 1}"))
        i += 3
    x = np.pad(x, ((0, 0), (3, 3), (3, 3)), mode="reflect")
    x = np_conv(x, sd[f"generator.model.{i + 1}.weight"], bias=sd[f"generator.model.{i + 1}.bias"])
    return (1 / (1 + np.exp(-x)))[:, :h, :w]


def _inputs(h, w, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.random((3, h, w))
    mask = np.zeros((1, h, w))
    mask[:, h // 4:h // 4 + h // 2, w // 3:w // 3 + w // 3] = 0.6  # soft values count as hole
    return image, mask


# --- parity ---------------------------------------------------------------------------------

@pytest.mark.parametrize("h,w,n_down", [(19, 13, 2), (16, 24, 3), (21, 30, 2)])
def test_forward_matches_the_written_out_maths_float64(h, w, n_down):
    model = tiny_lama(seed=3, ngf=4, n_blocks=2, n_downsampling=n_down).double()
    sd = {k: v.numpy().astype(np.float64) for k, v in model.state_dict().items()}
    image, mask = _inputs(h, w)
    expected = np_lama(image, mask, sd, model.config)
    got = model(torch.from_numpy(image)[None], torch.from_numpy(mask)[None])[0].numpy()
    assert got.shape == (3, h, w)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-8)
    assert np.ptp(expected) > 0.05  # the check means something: the output is not flat


def test_forward_float32_matches_the_maths_closely():
    model = tiny_lama(seed=5, ngf=4, n_blocks=1)
    sd = {k: v.numpy().astype(np.float64) for k, v in model.state_dict().items()}
    image, mask = _inputs(27, 17, seed=1)
    expected = np_lama(image, mask, sd, model.config)
    got = model(torch.from_numpy(image).float()[None], torch.from_numpy(mask).float()[None])[0].numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-5)


def test_the_spectrum_is_interleaved_real_imaginary():
    """Swapping the real/imaginary order of the Fourier unit's input channels changes the output:
    the parity above pins the interleaved order, and this pins that the order is observable."""
    model = tiny_lama(seed=1).double()
    image, mask = (torch.from_numpy(a)[None] for a in _inputs(24, 24))
    before = model(image, mask)
    with torch.no_grad():
        for m in model.modules():
            if m.__class__.__name__ == "FourierUnit":
                w = m.conv_layer.weight
                order = torch.arange(w.shape[1]).view(-1, 2).flip(1).reshape(-1)
                w.copy_(w[:, order])
    assert not torch.allclose(before, model(image, mask))


@pytest.mark.parametrize("h,w", [(9, 9), (13, 3), (8, 16), (1, 5)])
def test_padding_is_numpy_symmetric(h, w):
    x = torch.arange(h * w, dtype=torch.float64).reshape(1, 1, h, w)
    expected = np.pad(x.numpy()[0, 0], ((0, -h % 8), (0, -w % 8)), mode="symmetric")
    np.testing.assert_array_equal(pad_symmetric(x, 8)[0, 0].numpy(), expected)


def test_known_pixels_do_not_leak_into_the_hole_input():
    """What is under the hole never reaches the network (image * (1 - mask))."""
    model = tiny_lama(seed=2)
    image, mask = (torch.from_numpy(a).float()[None] for a in _inputs(32, 40))
    other = image.clone()
    other[mask.expand_as(image) > 0] = torch.rand(int((mask > 0).sum()) * 3)
    assert torch.equal(model(image, mask), model(other, mask))


def test_batch_items_are_independent():
    model = tiny_lama(seed=4)
    a, ma = (torch.from_numpy(x).float()[None] for x in _inputs(24, 32, 0))
    b, mb = (torch.from_numpy(x).float()[None] for x in _inputs(24, 32, 1))
    both = model(torch.cat([a, b]), torch.cat([ma, mb]))
    torch.testing.assert_close(both[1:], model(b, mb), rtol=0, atol=1e-6)


def test_too_small_input_is_refused():
    with pytest.raises(ValueError, match="at least"):
        tiny_lama()(torch.rand(1, 3, 8, 20), torch.zeros(1, 1, 8, 20))


# --- the published layout -------------------------------------------------------------------

def _published():
    data = json.loads(REFERENCE.read_text())
    return data, {k: tuple(s) for k, s in data["keys"]}


@pytest.mark.skipif(not REFERENCE.is_file(), reason="reference layout not available")
def test_full_size_model_has_the_published_layout_exactly():
    data, published = _published()
    with torch.device("meta"):
        model = LaMa()
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert ours == published
    assert sum(p.numel() for p in model.parameters()) == data["total_parameters"] == 50_975_875
    meta = {k: torch.empty(s, device="meta") for k, s in published.items()}
    assert config_from_state_dict(meta) == LamaConfig()


def _fake_published_state():
    _, published = _published()
    return {k: torch.zeros(s) if s else torch.tensor(0) for k, s in published.items()}


@pytest.mark.skipif(not REFERENCE.is_file(), reason="reference layout not available")
def test_published_layout_loads_with_no_missing_or_unexpected_keys():
    model = lama_from_state_dict(_fake_published_state())
    assert model.config == LamaConfig()
    assert not model.training


@pytest.mark.skipif(not REFERENCE.is_file(), reason="reference layout not available")
def test_a_missing_key_is_refused_by_name():
    state = _fake_published_state()
    del state["generator.model.9.conv2.ffc.convg2g.fu.bn.running_var"]
    with pytest.raises(LamaLayoutError, match=r"generator\.model\.9\.conv2\.ffc\.convg2g\.fu\.bn\.running_var"):
        lama_from_state_dict(state)


@pytest.mark.skipif(not REFERENCE.is_file(), reason="reference layout not available")
def test_a_wrong_shape_is_refused_by_name():
    state = _fake_published_state()
    state["generator.model.12.conv1.ffc.convl2g.weight"] = torch.zeros(384, 128, 1, 1)
    with pytest.raises(LamaLayoutError, match=r"generator\.model\.12\.conv1\.ffc\.convl2g\.weight.*\(384, 128, 1, 1\)"):
        lama_from_state_dict(state)


def test_an_unexpected_key_is_refused_by_name():
    state = tiny_lama().state_dict()
    state["generator.model.3.extra.weight"] = torch.zeros(2)
    with pytest.raises(LamaLayoutError, match=r"unexpected key generator\.model\.3\.extra\.weight"):
        lama_from_state_dict(state)


def test_save_and_load_round_trip_reads_the_architecture(tmp_path):
    model = tiny_lama(seed=7, ngf=8, n_blocks=3, n_downsampling=2)
    path = save_lama(model, tmp_path / "lama.safetensors")
    loaded = load_lama(path)
    assert loaded.config == model.config
    image, mask = (torch.from_numpy(a).float()[None] for a in _inputs(20, 28))
    assert torch.equal(loaded(image, mask), model(image, mask))


def test_pickle_and_torchscript_files_are_refused(tmp_path):
    state = tiny_lama().state_dict()
    pickled = tmp_path / "best.ckpt"
    torch.save({"state_dict": state}, pickled)
    with pytest.raises(LamaLayoutError, match="models import lama"):
        load_lama(pickled)
    scripted = tmp_path / "big-lama.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(scripted))
    with pytest.raises(LamaLayoutError, match="not a safetensors"):
        load_lama(scripted)
    raw = tmp_path / "raw.pkl"
    buf = io.BytesIO()
    torch.save(state, buf, _use_new_zipfile_serialization=False)
    raw.write_bytes(buf.getvalue())
    with pytest.raises(LamaLayoutError, match="not a safetensors"):
        load_lama(raw)
    assert zipfile.is_zipfile(pickled)


@pytest.mark.parametrize("dtype,tol", [(torch.float16, 1e-3), (torch.bfloat16, 5e-3)])
def test_half_precision_code_path_on_cpu(dtype, tol):
    """The mixed-precision path (FFTs in float32, the rest in half) runs and stays close on the CPU."""
    image, mask = (torch.from_numpy(a).float()[None] for a in _inputs(90, 123))
    expected = tiny_lama(seed=0, ngf=16, n_blocks=4)(image, mask)
    assert expected.std() > 0.01  # enough signal for the tolerance to mean something
    got = tiny_lama(seed=0, ngf=16, n_blocks=4).to(dtype)(image.to(dtype), mask)
    assert got.dtype == dtype and (got.float() - expected).abs().max().item() < tol


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("dtype,tol", [(torch.float16, 2e-2), (torch.bfloat16, 6e-2)])
def test_half_precision_on_cuda_keeps_parity(dtype, tol):
    torch.manual_seed(0)
    model = tiny_lama(seed=0, ngf=16, n_blocks=4)
    image, mask = (torch.from_numpy(a).float()[None] for a in _inputs(90, 123))
    expected = model.cuda()(image.cuda(), mask.cuda()).float()
    half = model.to(dtype)
    got = half(image.cuda().to(dtype), mask.cuda()).float()
    assert (got - expected).abs().max().item() < tol

"""LaMa (Suvorov et al., WACV 2022): the big-lama generator on plain torch, and its loader.

The network is a ResNet of *fast Fourier convolutions* (FFC): every residual block splits its
channels into a local part (ordinary 3x3 convolutions) and a global part (a 1x1 convolution in the
frequency domain, so one layer sees the whole image). Written from the paper and from reading the
reference (advimman/lama, ``saicinpainting/training/modules/ffc.py``, ``configs/training/big-lama.yaml``);
the module tree is laid out so that :meth:`LaMa.state_dict` has exactly the names and shapes of the
released ``best.ckpt``'s ``generator.`` entries (``shared/reference/lama_big_state_dict.json``).

Details that decide the output to the last bit, as the reference has them:

- the input is ``image * (1 - mask)`` with the binary mask concatenated (4 channels);
- the image is padded at the bottom and right to a multiple of 8 the way ``bin/predict.py``'s dataset
  does (``numpy.pad(mode="symmetric")``: the edge pixel is repeated), and the output is cropped back;
- the stem and head pad by 3 with reflection; every 3x3 convolution pads with reflection;
- the spectral unit takes ``rfft2(norm="ortho")`` and lays real and imaginary parts *interleaved* in
  the channel axis (channel ``2k`` the real part of channel ``k``, ``2k + 1`` its imaginary part),
  a 1x1 convolution + BatchNorm + ReLU there, and ``irfft2`` back at the input's exact size;
- big-lama has no local Fourier unit (``enable_lfu: false``), no gates, no SE, and a sigmoid at the end;
- BatchNorm runs with its running statistics (the module is returned in eval mode).

Only safetensors files are read here. The released pickle (``best.ckpt``) and IOPaint's TorchScript
(``big-lama.pt``) are converted once by ``brushedit models import lama FILE``
(:mod:`engine.fill.lama_import`); :func:`load_lama` refuses them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

PAD_MODULO = 8  # bin/predict.py: configs/prediction/default.yaml, dataset.pad_out_to_modulo
MIN_SIDE = 9  # padded to 16, the bottleneck is 2 px: reflection padding needs at least 2
PREFIX = "generator."


class LamaLayoutError(ValueError):
    """A checkpoint whose names or shapes are not a LaMa generator's (the message names the key)."""


@dataclass(frozen=True)
class LamaConfig:
    """The shape of an FFC ResNet generator; big-lama is the default.

    ``global_channels`` is how many of the bottleneck's channels are global (Fourier): big-lama's
    ``ratio_gin = ratio_gout = 0.75`` of 512, i.e. 384.
    """

    input_nc: int = 4
    output_nc: int = 3
    ngf: int = 64
    n_downsampling: int = 3
    n_blocks: int = 18
    global_channels: int = 384
    max_features: int = 1024

    def width(self, level: int) -> int:
        """Channels after ``level`` downsamplings."""
        return min(self.max_features, self.ngf * 2 ** level)

    @property
    def bottleneck(self) -> int:
        return self.width(self.n_downsampling)


# --- building blocks ----------------------------------------------------------------------


def _conv(cin: int, cout: int, kernel: int, stride: int = 1, padding: int = 0) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, stride, padding, bias=False,
                     padding_mode="reflect" if padding else "zeros")


class FourierUnit(nn.Module):
    """A 1x1 convolution + BatchNorm + ReLU on the image's 2-D real spectrum."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv_layer = nn.Conv2d(2 * channels, 2 * channels, 1, bias=False)
        self.bn = nn.BatchNorm2d(2 * channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        # FFTs in float32 always: half-precision FFTs on CUDA take only power-of-two sizes, and
        # the spectrum's DC term grows with the image (sqrt(h * w) times the mean).
        spectrum = torch.fft.rfft2(x.float(), norm="ortho")
        stacked = torch.stack((spectrum.real, spectrum.imag), dim=2)  # n, c, 2, h, w//2+1
        stacked = stacked.reshape(n, 2 * c, h, spectrum.shape[-1]).to(x.dtype)
        y = F.relu(self.bn(self.conv_layer(stacked)))
        y = y.float().reshape(n, c, 2, h, spectrum.shape[-1])
        out = torch.fft.irfft2(torch.complex(y[:, :, 0], y[:, :, 1]), s=(h, w), norm="ortho")
        return out.to(x.dtype)


class SpectralTransform(nn.Module):
    """The global-to-global path: 1x1 down to half, a Fourier unit with a skip, 1x1 back up."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        half = cout // 2
        self.conv1 = nn.Sequential(_conv(cin, half, 1), nn.BatchNorm2d(half), nn.ReLU())
        self.fu = FourierUnit(half)
        self.conv2 = _conv(half, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv1(x)
        return self.conv2(y + self.fu(y))


class FFC(nn.Module):
    """A fast Fourier convolution between ``(local, global)`` channel groups.

    A path exists only when both its ends have channels (the reference's ``nn.Identity`` stand-ins
    have no weights, so leaving them out keeps the state-dict names).
    """

    def __init__(self, in_local: int, in_global: int, out_local: int, out_global: int,
                 kernel: int, stride: int = 1, padding: int = 0) -> None:
        super().__init__()
        if in_local and out_local:
            self.convl2l = _conv(in_local, out_local, kernel, stride, padding)
        if in_local and out_global:
            self.convl2g = _conv(in_local, out_global, kernel, stride, padding)
        if in_global and out_local:
            self.convg2l = _conv(in_global, out_local, kernel, stride, padding)
        if in_global and out_global:
            self.convg2g = SpectralTransform(in_global, out_global)

    def forward(self, x_l, x_g):
        out_l = out_g = None
        for name, src, is_global in (("convl2l", x_l, False), ("convg2l", x_g, False),
                                     ("convl2g", x_l, True), ("convg2g", x_g, True)):
            layer = getattr(self, name, None)
            if layer is None or src is None:
                continue
            y = layer(src)
            if is_global:
                out_g = y if out_g is None else out_g + y
            else:
                out_l = y if out_l is None else out_l + y
        return out_l, out_g


class FFCBnReLU(nn.Module):
    """FFC, then BatchNorm and ReLU on each non-empty group (the reference's ``FFC_BN_ACT``)."""

    def __init__(self, in_local: int, in_global: int, out_local: int, out_global: int,
                 kernel: int, stride: int = 1, padding: int = 0) -> None:
        super().__init__()
        self.ffc = FFC(in_local, in_global, out_local, out_global, kernel, stride, padding)
        if out_local:
            self.bn_l = nn.BatchNorm2d(out_local)
        if out_global:
            self.bn_g = nn.BatchNorm2d(out_global)

    def forward(self, x):
        x_l, x_g = self.ffc(*x)
        x_l = F.relu(self.bn_l(x_l)) if x_l is not None else None
        x_g = F.relu(self.bn_g(x_g)) if x_g is not None else None
        return x_l, x_g


class FFCResBlock(nn.Module):
    """Two 3x3 FFCs with a residual connection on both groups."""

    def __init__(self, local: int, global_: int) -> None:
        super().__init__()
        self.conv1 = FFCBnReLU(local, global_, local, global_, 3, padding=1)
        self.conv2 = FFCBnReLU(local, global_, local, global_, 3, padding=1)

    def forward(self, x):
        y = self.conv2(self.conv1(x))
        return x[0] + y[0], x[1] + y[1]


class _Concat(nn.Module):
    """``(local, global)`` back to one tensor (the reference's ``ConcatTupleLayer``)."""

    def forward(self, x):
        x_l, x_g = x
        return x_l if x_g is None else torch.cat((x_l, x_g), dim=1)


class FFCResNetGenerator(nn.Module):
    """The generator: reflect-pad 7x7 stem, strided downsampling, FFC res blocks, transposed-conv
    upsampling, reflect-pad 7x7 head, sigmoid. ``self.model`` indices are the reference's."""

    def __init__(self, config: LamaConfig) -> None:
        super().__init__()
        c = config
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), FFCBnReLU(c.input_nc, 0, c.ngf, 0, 7)]
        for i in range(c.n_downsampling):
            out = c.width(i + 1)
            out_g = c.global_channels if i == c.n_downsampling - 1 else 0
            layers.append(FFCBnReLU(c.width(i), 0, out - out_g, out_g, 3, stride=2, padding=1))
        local = c.bottleneck - c.global_channels
        layers += [FFCResBlock(local, c.global_channels) for _ in range(c.n_blocks)]
        layers.append(_Concat())
        for i in range(c.n_downsampling, 0, -1):
            layers += [nn.ConvTranspose2d(c.width(i), c.width(i - 1), 3, stride=2, padding=1,
                                          output_padding=1),
                       nn.BatchNorm2d(c.width(i - 1)), nn.ReLU()]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c.ngf, c.output_nc, 7), nn.Sigmoid()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = (self.model[0](x), None)  # the stem pads a plain tensor; FFC layers take (local, global)
        for layer in list(self.model)[1:]:
            h = layer(h)
        return h


class LaMa(nn.Module):
    """Big-lama: ``forward(image, mask)`` -> the generator's raw output at the input's size.

    ``state_dict()`` names equal the released checkpoint's (``generator.model.<i>...``).
    """

    def __init__(self, config: LamaConfig | None = None) -> None:
        super().__init__()
        self.config = config or LamaConfig()
        self.generator = FFCResNetGenerator(self.config)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Inpaint ``image`` where ``mask > 0``.

        Parameters
        ----------
        image : Tensor
            ``N x 3 x H x W``, values in [0, 1].
        mask : Tensor
            ``N x 1 x H x W``; any value above 0 is hole.

        Returns
        -------
        Tensor
            ``N x 3 x H x W`` in [0, 1]: the generator's output everywhere (known pixels too; the
            caller composites), computed on the input padded as ``bin/predict.py`` pads.
        """
        if image.ndim != 4 or mask.ndim != 4 or mask.shape[1] != 1 or image.shape[1] != 3 \
                or image.shape[-2:] != mask.shape[-2:] or image.shape[0] != mask.shape[0]:
            raise ValueError(f"image must be N x 3 x H x W and mask N x 1 x H x W of the same size, "
                             f"got {tuple(image.shape)} and {tuple(mask.shape)}")
        h, w = image.shape[-2:]
        if min(h, w) < MIN_SIDE:
            raise ValueError(f"LaMa needs at least {MIN_SIDE} px per side, got {w}x{h}")
        dtype = next(self.parameters()).dtype
        image = pad_symmetric(image.to(dtype), PAD_MODULO)
        hole = (pad_symmetric(mask, PAD_MODULO) > 0).to(dtype)
        out = self.generator(torch.cat((image * (1 - hole), hole), dim=1))
        return out[..., :h, :w]


def _symmetric_index(size: int, padded: int, device) -> torch.Tensor:
    # numpy's "symmetric": the signal mirrored with its edge sample repeated, period 2 * size.
    i = torch.arange(padded, device=device) % (2 * size)
    return torch.where(i < size, i, 2 * size - 1 - i)


def pad_symmetric(x: torch.Tensor, modulo: int) -> torch.Tensor:
    """Pad the last two axes at the end up to a multiple of ``modulo`` as ``numpy.pad(mode="symmetric")``."""
    h, w = x.shape[-2:]
    ph, pw = -(-h // modulo) * modulo, -(-w // modulo) * modulo
    if (ph, pw) == (h, w):
        return x
    x = x.index_select(-2, _symmetric_index(h, ph, x.device))
    return x.index_select(-1, _symmetric_index(w, pw, x.device))


# --- reading the layout -------------------------------------------------------------------

_DOWN = re.compile(r"^model\.(\d+)\.ffc\.convl2l\.weight$")
_BLOCK = re.compile(r"^model\.(\d+)\.conv1\.ffc\.convl2l\.weight$")


def config_from_state_dict(state: dict) -> LamaConfig:
    """The :class:`LamaConfig` whose generator has the shapes in ``state`` (``generator.`` names).

    Raises
    ------
    LamaLayoutError
        A key the architecture is read from is missing (the message names it).
    """
    names = {k[len(PREFIX):]: k for k in state if k.startswith(PREFIX)}

    def shape(name: str) -> tuple[int, ...]:
        if name not in names:
            raise LamaLayoutError(f"not a LaMa generator: {PREFIX}{name} is missing")
        return tuple(state[names[name]].shape)

    stem = shape("model.1.ffc.convl2l.weight")
    ngf, input_nc = stem[0], stem[1]
    plain = sorted(int(m.group(1)) for k in names if (m := _DOWN.match(k)))
    n_down = len(plain) - 1  # the stem is model.1
    if n_down < 1:
        raise LamaLayoutError(f"not a LaMa generator: no downsampling layer ({PREFIX}model.2.ffc.convl2l.weight)")
    last = 1 + n_down
    global_channels = shape(f"model.{last}.ffc.convl2g.weight")[0]
    n_blocks = sum(1 for k in names if _BLOCK.match(k))
    head = 1 + n_down + n_blocks + 1 + 3 * n_down + 2
    output_nc = shape(f"model.{head}.weight")[0]
    widths = [ngf] + [shape(f"model.{2 + i}.ffc.convl2l.weight")[0] for i in range(n_down - 1)]
    widths.append(shape(f"model.{last}.ffc.convl2l.weight")[0] + global_channels)
    # max_features only caps widths: the smallest cap that explains what the shapes say.
    max_features = max(widths) if any(widths[i] < ngf * 2 ** i for i in range(len(widths))) else 1024
    return LamaConfig(input_nc=input_nc, output_nc=output_nc, ngf=ngf, n_downsampling=n_down,
                      n_blocks=n_blocks, global_channels=global_channels, max_features=max_features)


def check_layout(model: nn.Module, state: dict) -> None:
    """Raise :class:`LamaLayoutError` naming the first missing, unexpected or misshapen key."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    if missing:
        raise LamaLayoutError(f"LaMa checkpoint is missing {missing[0]}"
                              + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    unexpected = [k for k in state if k not in expected]
    if unexpected:
        raise LamaLayoutError(f"LaMa checkpoint has an unexpected key {unexpected[0]}"
                              + (f" (and {len(unexpected) - 1} more)" if len(unexpected) > 1 else ""))
    for k, v in expected.items():
        if tuple(state[k].shape) != tuple(v.shape):
            raise LamaLayoutError(f"LaMa checkpoint key {k} has shape {tuple(state[k].shape)}, "
                                  f"expected {tuple(v.shape)}")


def lama_from_state_dict(state: dict, device="cpu", dtype=torch.float32) -> LaMa:
    """A :class:`LaMa` in eval mode with the weights of ``state`` (names with or without ``generator.``)."""
    if state and not any(k.startswith(PREFIX) for k in state):
        state = {PREFIX + k: v for k, v in state.items()}
    config = config_from_state_dict(state)
    with torch.device("meta"):
        model = LaMa(config)
    check_layout(model, state)
    # Built on the meta device and given the file's tensors (assign): no random initialisation of
    # 51M parameters that the load would overwrite (~1 s of a one-core start).
    model.load_state_dict(state, strict=True, assign=True)
    return model.to(device=device, dtype=dtype).eval().requires_grad_(False)


def is_safetensors(path: str | Path) -> bool:
    """Whether ``path`` starts like a safetensors file (an 8-byte header length, then ``{``)."""
    with open(path, "rb") as f:
        head = f.read(9)
    if len(head) < 9:
        return False
    size = int.from_bytes(head[:8], "little")
    return head[8:9] == b"{" and 0 < size < 100_000_000


def load_lama(path: str | Path, device="cpu", dtype=torch.float32) -> LaMa:
    """Load a big-lama generator from a safetensors file with the released ``generator.`` layout.

    Parameters
    ----------
    path : str or Path
        A ``.safetensors`` file (``brushedit models import lama FILE`` makes one from the released
        ``best.ckpt`` or IOPaint's ``big-lama.pt``).
    device, dtype
        Where and in which precision the module runs (FFTs stay in float32; see :class:`FourierUnit`).

    Returns
    -------
    LaMa
        In eval mode, gradients off; width and depth read from the shapes.

    Raises
    ------
    LamaLayoutError
        The file is not safetensors (a pickle or TorchScript file: convert it first), or a key is
        missing, unexpected or of the wrong shape (the message names it).
    """
    path = Path(path)
    if not is_safetensors(path):
        raise LamaLayoutError(f"{path} is not a safetensors file (a pickled or TorchScript checkpoint "
                              f"is not loaded here): convert it once with: brushedit models import lama {path}")
    from safetensors.torch import load_file

    return lama_from_state_dict(load_file(str(path)), device=device, dtype=dtype)


def save_lama(model: LaMa, path: str | Path) -> Path:
    """Write ``model``'s weights as safetensors with the released layout."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}, str(path),
              metadata={"format": "pt", "model": "big-lama generator"})
    return path


def tiny_lama(seed: int = 0, ngf: int = 4, n_blocks: int = 1, n_downsampling: int = 3) -> LaMa:
    """A small random LaMa for tests (same code, narrow and shallow), with non-trivial BatchNorm stats."""
    config = LamaConfig(ngf=ngf, n_blocks=n_blocks, n_downsampling=n_downsampling,
                        global_channels=(ngf * 2 ** n_downsampling * 3) // 4)
    g = torch.Generator().manual_seed(seed)
    model = LaMa(config)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (0.5 / max(1, p[0].numel()) ** 0.5)
                    if p.ndim > 1 else 1 + 0.1 * torch.randn(p.shape, generator=g)
                    if name.endswith("weight") else 0.1 * torch.randn(p.shape, generator=g))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape, generator=g))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=g))
    return model.eval().requires_grad_(False)

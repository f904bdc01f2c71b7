"""Points and boxes -> masks with Segment Anything (the ``segment-anything`` package).

The image embedding (the big ViT) is computed once per image and cached by key, so every further
click only runs the small prompt encoder and mask decoder: that is what makes point-and-paint
interactive.

Weights load from safetensors or with ``torch.load(weights_only=True)``; the model type (vit_h,
vit_l, vit_b, or a custom size such as the tests' tiny one) comes from the argument, from a JSON
config beside the checkpoint, or from the file name (``sam_vit_h_4b8939.pth``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from engine.api import EngineError, MissingModelsError, SegmentRequest, SegmentResult

# The published sizes (segment-anything's build_sam.py) plus the tests' tiny one.
SAM_CONFIGS: dict[str, dict[str, Any]] = {
    "vit_h": dict(encoder_embed_dim=1280, encoder_depth=32, encoder_num_heads=16,
                  encoder_global_attn_indexes=[7, 15, 23, 31]),
    "vit_l": dict(encoder_embed_dim=1024, encoder_depth=24, encoder_num_heads=16,
                  encoder_global_attn_indexes=[5, 11, 17, 23]),
    "vit_b": dict(encoder_embed_dim=768, encoder_depth=12, encoder_num_heads=12,
                  encoder_global_attn_indexes=[2, 5, 8, 11]),
    "tiny": dict(encoder_embed_dim=32, encoder_depth=2, encoder_num_heads=2,
                 encoder_global_attn_indexes=[1], image_size=128, window_size=4,
                 prompt_embed_dim=32, mask_in_chans=4, decoder_mlp_dim=64, decoder_num_heads=2,
                 iou_head_hidden_dim=32),
}

_DEFAULTS: dict[str, Any] = dict(image_size=1024, patch_size=16, window_size=14, prompt_embed_dim=256,
                                 mask_in_chans=16, decoder_mlp_dim=2048, decoder_num_heads=8,
                                 decoder_depth=2, iou_head_hidden_dim=256)

CONFIG_FILE = "sam_config.json"
_WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")


def sam_config(model_type: str | dict) -> dict[str, Any]:
    """The full build config of ``model_type`` ("vit_h", "vit_l", "vit_b", "tiny") or a dict."""
    if isinstance(model_type, dict):
        base = dict(model_type)
        name = base.pop("model_type", None)
        cfg = dict(_DEFAULTS, **(SAM_CONFIGS.get(name, {}) if name else {}))
        cfg.update(base)
        return cfg
    key = model_type.lower().replace("-", "_")
    if key.startswith("sam_"):
        key = key[4:]
    if key not in SAM_CONFIGS:
        raise ValueError(f"unknown SAM model type {model_type!r}; expected one of {sorted(SAM_CONFIGS)}")
    return dict(_DEFAULTS, **SAM_CONFIGS[key])


def build_sam(config: str | dict):
    """Build a randomly initialised ``segment_anything.modeling.Sam`` of the given size."""
    from functools import partial

    import torch
    from segment_anything.modeling import (ImageEncoderViT, MaskDecoder, PromptEncoder, Sam,
                                           TwoWayTransformer)

    c = sam_config(config)
    emb = c["image_size"] // c["patch_size"]
    sam = Sam(
        image_encoder=ImageEncoderViT(
            depth=c["encoder_depth"], embed_dim=c["encoder_embed_dim"], img_size=c["image_size"],
            mlp_ratio=4, norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            num_heads=c["encoder_num_heads"], patch_size=c["patch_size"], qkv_bias=True,
            use_rel_pos=True, global_attn_indexes=list(c["encoder_global_attn_indexes"]),
            window_size=c["window_size"], out_chans=c["prompt_embed_dim"]),
        prompt_encoder=PromptEncoder(
            embed_dim=c["prompt_embed_dim"], image_embedding_size=(emb, emb),
            input_image_size=(c["image_size"], c["image_size"]), mask_in_chans=c["mask_in_chans"]),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(depth=c["decoder_depth"], embedding_dim=c["prompt_embed_dim"],
                                          mlp_dim=c["decoder_mlp_dim"], num_heads=c["decoder_num_heads"]),
            transformer_dim=c["prompt_embed_dim"], iou_head_depth=3,
            iou_head_hidden_dim=c["iou_head_hidden_dim"]),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
    )
    sam.eval()
    sam.sam_config = c  # remembered so a saver can write it beside the weights
    return sam


def _find_checkpoint(path: Path) -> Path:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in _WEIGHT_SUFFIXES)
        if not files:
            raise MissingModelsError(["sam-vit-h"], f"no SAM checkpoint in {path}")
        # Prefer safetensors when both exist.
        files.sort(key=lambda p: p.suffix != ".safetensors")
        return files[0]
    if not path.exists():
        raise MissingModelsError([_manifest_name(path.name)], f"SAM checkpoint not found: {path}")
    return path


def _manifest_name(file_name: str) -> str:
    n = file_name.lower()
    for t in ("vit_l", "vit_b", "vit_h"):
        if t in n or t.replace("_", "-") in n:
            return "sam-" + t.replace("_", "-")
    return "sam-vit-h"


def _resolve_config(ckpt: Path, model_type: str | None) -> dict[str, Any]:
    if model_type:
        return sam_config(model_type)
    for cfg_path in (ckpt.with_suffix(".json"), ckpt.parent / CONFIG_FILE):
        if cfg_path.is_file():
            return sam_config(json.loads(cfg_path.read_text()))
    n = ckpt.name.lower()
    for t in ("vit_h", "vit_l", "vit_b"):
        if t in n or t.replace("_", "-") in n:
            return sam_config(t)
    raise ValueError(f"cannot tell the SAM model type of {ckpt.name}: pass model_type "
                     f"('vit_h', 'vit_l' or 'vit_b') or put a {CONFIG_FILE} beside it")


class WeightsRefusedError(EngineError, ValueError):
    """A checkpoint torch.load(weights_only=True) refuses: damaged, or not plain weights (a models
    problem, exit 3; still a ValueError for callers that catch bad input)."""


def load_sam_state_dict(ckpt: Path) -> dict:
    """Read a SAM state dict safely: safetensors, else ``torch.load(weights_only=True)``."""
    if ckpt.suffix == ".safetensors":
        from safetensors.torch import load_file
        return load_file(str(ckpt))
    import pickle

    import torch
    try:
        return torch.load(str(ckpt), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
        import textwrap

        # A damaged download (or a file that is not plain weights): a models problem (exit 3), not bad usage.
        first = textwrap.shorten(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 200,
                                 placeholder=" …", break_on_hyphens=False)
        raise WeightsRefusedError(f"{ckpt.name} is corrupt or not a plain weights file (torch.load weights_only "
                          f"refused it: {first})",
                          hint="find it with: brushedit models verify; then download it again "
                               "(brushedit models download --force), or use another file",
                          kind="missing-models") from exc


def load_sam(checkpoint_path: str | Path, model_type: str | None = None, device: str | None = None):
    """Load a Segment Anything model.

    Parameters
    ----------
    checkpoint_path : str or Path
        A ``.pth``/``.pt`` (read with ``torch.load(weights_only=True)``) or ``.safetensors`` file, or a
        folder holding one.
    model_type : str, optional
        "vit_h", "vit_l", "vit_b" or "tiny". Default: a ``<name>.json`` or ``sam_config.json``
        beside the checkpoint, else the type named in the file name.
    device : str, optional
        Torch device; default CUDA when available, else CPU.

    Returns
    -------
    segment_anything.modeling.Sam
        The model in eval mode on ``device``.

    Raises
    ------
    engine.api.MissingModelsError
        When the checkpoint does not exist.
    ValueError
        When the model type cannot be determined or the weights do not fit it.
    """
    import torch

    ckpt = _find_checkpoint(Path(checkpoint_path))
    cfg = _resolve_config(ckpt, model_type)
    sam = build_sam(cfg)
    state = load_sam_state_dict(ckpt)
    try:
        sam.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{ckpt.name} does not match SAM {model_type or 'config'}: "
                         f"{str(exc).splitlines()[0]}") from exc
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    return sam.to(device).eval()


def save_sam(model, path: str | Path) -> Path:
    """Save ``model`` as safetensors (``.safetensors``) or a torch state dict, with its config beside."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file
        save_file(state, str(path))
    else:
        import torch
        torch.save(state, str(path))
    cfg = getattr(model, "sam_config", None)
    if cfg is not None:
        path.with_suffix(".json").write_text(json.dumps(cfg, indent=1))
    return path


def image_key(image: np.ndarray) -> str:
    """A content hash of an image, used as the embedding cache key when the caller gives none."""
    a = np.ascontiguousarray(image)
    h = hashlib.blake2b(digest_size=16)
    h.update(str(a.shape).encode())
    h.update(a.data)
    return h.hexdigest()


class SamSegmenter:
    """Interactive SAM: one image embedding per image (cached), a cheap decoder run per click.

    Parameters
    ----------
    model : segment_anything.modeling.Sam
        From :func:`load_sam` (or :func:`tests.builders.segment.tiny_sam`).
    device : str, optional
        Move the model there; default: where it already is.
    cache_size : int
        How many image embeddings to keep (least recently used are dropped).
    """

    def __init__(self, model, device: str | None = None, cache_size: int = 4) -> None:
        from segment_anything import SamPredictor

        if device is not None:
            model = model.to(device)
        self.model = model.eval()
        self._predictor = SamPredictor(self.model)
        self._cache: OrderedDict[str, tuple] = OrderedDict()
        self._cache_size = max(1, int(cache_size))
        self._key: str | None = None
        # The last prediction per image (points, labels, box, low-res logits): a further click on
        # the same object feeds those logits back to SAM, as its interactive demo does.
        self._last: dict[str, tuple] = {}
        self.last_timings: dict[str, float] = {}

    @property
    def device(self):
        return self._predictor.device

    def to_device(self, device) -> None:
        """Move the model and the cached image embeddings (the memory plan offloads SAM between stages)."""
        self.model.to(device)
        self._cache = OrderedDict((k, (f.to(device), o, i)) for k, (f, o, i) in self._cache.items())
        p = self._predictor
        if getattr(p, "features", None) is not None:
            p.features = p.features.to(device)

    @property
    def image_size(self) -> tuple[int, int] | None:
        """``(H, W)`` of the current image, or None."""
        return tuple(self._predictor.original_size) if self._key is not None else None

    def set_image(self, image: np.ndarray, key: str | None = None) -> bool:
        """Make ``image`` current, computing its embedding only if not cached.

        Returns True when the embedding was computed, False when it came from the cache.
        """
        import torch

        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"SAM needs an H x W x 3 RGB image, got shape {image.shape}")
        key = key or image_key(image)
        if key == self._key and self._predictor.is_image_set:
            return False
        p = self._predictor
        if key in self._cache:
            p.features, p.original_size, p.input_size = self._cache[key]
            p.is_image_set = True
            self._cache.move_to_end(key)
            self._key = key
            return False
        t0 = time.perf_counter()
        with torch.inference_mode():
            p.set_image(np.ascontiguousarray(image.astype(np.uint8, copy=False)), image_format="RGB")
        self.last_timings = {"embed_s": time.perf_counter() - t0}
        self._cache[key] = (p.features, p.original_size, p.input_size)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        self._key = key
        return True

    def _require_image(self) -> None:
        if self._key is None or not self._predictor.is_image_set:
            raise RuntimeError("call set_image() before predicting")

    def predict(self, points: Sequence[Sequence[float]] = (), labels: Sequence[int] = (),
                box: Sequence[float] | None = None, multimask: bool = True) -> SegmentResult:
        """Masks for positive (label 1) / negative (label 0) clicks and an optional box.

        Parameters
        ----------
        points : sequence of (x, y)
            Click positions in image pixels.
        labels : sequence of int
            1 = part of the object, 0 = not part of it; one per point.
        box : (x0, y0, x1, y1), optional
            A box around the object, in image pixels.
        multimask : bool
            Ask SAM for its three guesses (useful for a single ambiguous click); the best-scored
            one is ``mask``, the others ``alternatives``.

        Returns
        -------
        engine.api.SegmentResult
            ``mask`` H x W uint8 (255 = object), ``score`` SAM's predicted IoU.
        """
        import torch

        self._require_image()
        pts = np.asarray(points, dtype=np.float32).reshape(-1, 2)
        lab = np.asarray(labels, dtype=np.int64).reshape(-1)
        if len(pts) != len(lab):
            raise ValueError(f"{len(pts)} points but {len(lab)} labels")
        if not len(pts) and box is None:
            raise ValueError("click on the object or draw a box around it")
        bx = None if box is None else self._clean_box(box)
        mask_input = self._previous_logits(pts, lab, bx)
        t0 = time.perf_counter()
        with torch.inference_mode():
            masks, scores, logits = self._predictor.predict(
                point_coords=pts if len(pts) else None, point_labels=lab if len(pts) else None,
                box=bx, mask_input=mask_input, multimask_output=bool(multimask))
        self.last_timings["decode_s"] = time.perf_counter() - t0
        order = np.argsort(-scores)
        self._last[self._key] = (pts.copy(), lab.copy(), None if bx is None else bx.copy(),
                                 logits[order[0]][None].copy())
        out = [np.where(masks[i], 255, 0).astype(np.uint8) for i in order]
        return SegmentResult(mask=out[0], score=float(scores[order[0]]), alternatives=tuple(out[1:]))

    def _previous_logits(self, pts: np.ndarray, lab: np.ndarray, box) -> np.ndarray | None:
        """The last low-res logits when these clicks extend the last ones on this image."""
        last = self._last.get(self._key)
        if last is None or not len(pts):
            return None
        lp, ll, lb, logits = last
        same_box = (lb is None and box is None) or (lb is not None and box is not None and np.allclose(lb, box))
        if same_box and 0 < len(lp) < len(pts) and np.allclose(pts[:len(lp)], lp) and np.array_equal(lab[:len(ll)], ll):
            return logits
        return None

    def _clean_box(self, box: Sequence[float]) -> np.ndarray:
        h, w = self._predictor.original_size
        x0, y0, x1, y1 = (float(v) for v in box)
        x0, x1 = sorted((x0, x1))
        y0, y1 = sorted((y0, y1))
        return np.array([min(max(x0, 0), w), min(max(y0, 0), h), min(max(x1, 0), w),
                         min(max(y1, 0), h)], np.float32)

    def masks_from_boxes(self, boxes: Sequence[Sequence[float]]) -> list[np.ndarray]:
        """One mask (H x W uint8, 255 = object) per ``(x0, y0, x1, y1)`` box on the current image."""
        import torch

        self._require_image()
        boxes = [self._clean_box(b) for b in boxes]
        if not boxes:
            return []
        p = self._predictor
        # One decoder run for all boxes (the prompt encoder batches them).
        tb = p.transform.apply_boxes_torch(torch.as_tensor(np.stack(boxes), device=p.device), p.original_size)
        t0 = time.perf_counter()
        with torch.inference_mode():
            masks, _, _ = p.predict_torch(None, None, boxes=tb, multimask_output=False)
        self.last_timings["decode_s"] = time.perf_counter() - t0
        return [np.where(m[0].cpu().numpy(), 255, 0).astype(np.uint8) for m in masks]

    def segment(self, request: SegmentRequest) -> SegmentResult:
        """Answer a :class:`engine.api.SegmentRequest` (embedding reused when ``image_key`` matches)."""
        self.set_image(request.image, key=request.image_key or None)
        return self.predict(request.points, request.labels, request.box,
                            multimask=len(request.points) <= 1 and request.box is None)

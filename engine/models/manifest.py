"""The weights manifest: every model the app can use, where it comes from, and what it needs.

Each :class:`ModelSpec` names a Hugging Face repository, a revision, the subfolder that holds the
model and the files that must be present there. ``revision`` is a pinned commit where we could
confirm one; the entries marked ``pinned=False`` track ``main`` (their commit could not be confirmed
from the sources available when this was written) and ``verify`` cannot check them against
published checksums, only for completeness and integrity of each file's format.

Checksums (``sha256``) are given only where the source publishes them (Meta's SAM checkpoints).
``size_bytes`` is exact where ``file_sizes`` is given, else a rounded figure for the download size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

KINDS = ("brushnet", "sd15-base", "instructor", "grounding", "sam", "lama", "klein")

# Features of the app and what they mean; ``ModelSpec.features`` uses these keys.
FEATURES: Mapping[str, str] = MappingProxyType({
    "inpaint": "paint a masked region with BrushNet (BrushEdit engine)",
    "instruct": "turn an instruction into a plan with a local VLM",
    "auto-mask": "find the object an instruction names (GroundingDINO + SAM)",
    "click-select": "select an object by clicking it (SAM)",
    "remove": "remove objects with LaMa (any machine, no GPU needed)",
    "klein": "paint and edit with FLUX.2 [klein] 4B (a second painter beside BrushNet)",
})


@dataclass(frozen=True)
class ModelSpec:
    """One model of the manifest.

    Parameters
    ----------
    name : str
        The manifest name used everywhere ("brushnet-x", "sam-vit-h", ...).
    title : str
        A human title.
    kind : {"brushnet", "sd15-base", "instructor", "grounding", "sam"}
        What the model is.
    repo_id, revision, subfolder : str
        Where it is on the Hugging Face Hub; ``subfolder`` is ``""`` for the repository root.
    files : tuple of str
        Paths, relative to the model folder (the subfolder), that must be present.
    size_bytes : int
        Download size (exact when ``file_sizes`` is given).
    license : str
        The weights' licence.
    features : tuple of str
        Keys of :data:`FEATURES` that need this model.
    vram_gb : float
        GPU memory the model needs at the app's default settings (approximate).
    sha256 : dict
        ``file -> hex digest`` where the source publishes one; empty otherwise.
    default : bool
        Whether this is the default model of its kind.
    pinned : bool
        Whether ``revision`` is a confirmed commit (False: tracks ``main``).
    file_sizes : dict
        ``file -> exact size in bytes`` where known.
    sam_type : str
        For SAM checkpoints, the ``segment_anything`` registry key (vit_h, vit_l, vit_b).
    notes : str
        Anything the user should know (gated, conversions, ...).
    repo_type : {"model", "space", "dataset"}
        The kind of Hub repository ``repo_id`` is (``huggingface_hub``'s ``repo_type``).
    manual_steps : str
        Non-empty for a model the app cannot download (no Hub copy we could confirm): the exact
        steps to fetch and place it by hand. ``download_url`` is then where to get it.
    download_url : str
        The page to download a manual model from.
    """

    name: str
    title: str
    kind: str
    repo_id: str
    revision: str
    subfolder: str
    files: tuple[str, ...]
    size_bytes: int
    license: str
    features: tuple[str, ...]
    vram_gb: float
    sha256: Mapping[str, str] = field(default_factory=dict, hash=False)
    default: bool = False
    pinned: bool = False
    file_sizes: Mapping[str, int] = field(default_factory=dict, hash=False)
    sam_type: str = ""
    notes: str = ""
    repo_type: str = "model"
    manual_steps: str = ""
    download_url: str = ""
    import_from: tuple[str, ...] = ()  # the source publishes these; `models import NAME FILE` converts them

    @property
    def url(self) -> str:
        """The model's page on the Hub (a manual model's download page)."""
        if self.manual_steps and self.download_url:
            return self.download_url
        tree = f"/tree/{self.revision}/{self.subfolder}" if self.subfolder else ""
        kind = {"space": "spaces/", "dataset": "datasets/"}.get(self.repo_type, "")
        return f"https://huggingface.co/{kind}{self.repo_id}{tree}"

    @property
    def cache_folder(self) -> str:
        """The repository's folder name in the Hugging Face cache (``spaces--owner--name``, ...)."""
        return f"{self.repo_type}s--" + self.repo_id.replace("/", "--")

    def repo_paths(self) -> tuple[str, ...]:
        """The files as paths inside the repository (subfolder prefixed)."""
        prefix = self.subfolder.strip("/") + "/" if self.subfolder else ""
        return tuple(prefix + f for f in self.files)


_SD15_FILES = (
    "model_index.json",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "text_encoder/model.safetensors",
    "tokenizer/merges.txt",
    "tokenizer/special_tokens_map.json",
    "tokenizer/tokenizer_config.json",
    "tokenizer/vocab.json",
    "unet/config.json",
    "unet/diffusion_pytorch_model.safetensors",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
)
_BRUSHNET_FILES = ("config.json", "diffusion_pytorch_model.safetensors")
# Every file the loaders read, as the Hub repositories publish them (their "Files and versions" pages:
# Qwen/Qwen2-VL-7B-Instruct at a7a06a1, Qwen/Qwen2-VL-2B-Instruct at 711cc0a; the sharded weights
# follow). transformers' AutoProcessor reads the chat template from chat_template.json (without it
# `apply_chat_template` raises), the image processor from preprocessor_config.json, the tokenizer from
# tokenizer.json + tokenizer_config.json (vocab.json + merges.txt are the slow tokenizer's files).
_QWEN_FILES = (
    "chat_template.json",
    "config.json",
    "generation_config.json",
    "merges.txt",
    "model.safetensors.index.json",
    "preprocessor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
)
# IDEA-Research/grounding-dino-*: the processor upload (commit 3748bf6 of grounding-dino-tiny) adds
# tokenizer.json beside the BERT vocab.txt; the fast tokenizer AutoProcessor builds is read from it.
_GDINO_FILES = (
    "config.json",
    "model.safetensors",
    "preprocessor_config.json",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
)
# The BrushNet checkpoints are 618,830,080 fp32 parameters: 2.48 GB (the Hub shows 2.48 GB for
# brushnetX and for the Space's segmentation checkpoint).
_BRUSHNET_BYTES = 2_480_000_000


def _shards(n: int) -> tuple[str, ...]:
    return tuple(f"model-{i:05d}-of-{n:05d}.safetensors" for i in range(1, n + 1))


_SPECS = (
    ModelSpec(
        name="brushnet-x", title="BrushNetX (all-in-one masks, BrushEdit)", kind="brushnet",
        repo_id="TencentARC/BrushEdit", revision="main", subfolder="brushnetX",
        files=_BRUSHNET_FILES, size_bytes=_BRUSHNET_BYTES, license="Apache-2.0",
        features=("inpaint",), vram_gb=1.5, default=True,
        # The Hub's Git LFS details of brushnetX/diffusion_pytorch_model.safetensors (its one commit,
        # 0d6ac4a): https://huggingface.co/TencentARC/BrushEdit/blob/ab545bd/brushnetX/...
        sha256={"diffusion_pytorch_model.safetensors":
                "089f02196144dc2713d6d833355c1f11a73460155c9b33f86c9e2e73b4a77583"},
        notes="BrushEdit's improved BrushNet, trained on random and segmentation masks",
    ),
    ModelSpec(
        # The BrushNet README hands its checkpoints out by Google Drive; the authors' demo Space
        # holds a public copy of this one under data/ckpt/ (not the model repo of that name).
        name="brushnet-segmentation", title="BrushNet (segmentation masks)", kind="brushnet",
        repo_id="TencentARC/BrushNet", repo_type="space", revision="main",
        subfolder="data/ckpt/segmentation_mask_brushnet_ckpt",
        files=_BRUSHNET_FILES, size_bytes=_BRUSHNET_BYTES, license="Apache-2.0",
        features=("inpaint",), vram_gb=1.5,
        notes="best when the mask follows the object's outline (SAM masks); from the BrushNet demo Space",
    ),
    ModelSpec(
        # Only on the authors' Google Drive (BrushNet README, "Checkpoints of BrushNet"): no Hub copy
        # we could confirm, so the app does not guess one.
        name="brushnet-random", title="BrushNet (random masks)", kind="brushnet",
        repo_id="TencentARC/BrushNet", revision="main", subfolder="random_mask_brushnet_ckpt",
        files=_BRUSHNET_FILES, size_bytes=_BRUSHNET_BYTES, license="Apache-2.0",
        features=("inpaint",), vram_gb=1.5,
        notes="best for free-hand brush masks and boxes; manual download",
        download_url="https://drive.google.com/drive/folders/1fqmS1CEOvXCxNWFrsSYd_jHYXxrydh1n",
        manual_steps=("open https://drive.google.com/drive/folders/1fqmS1CEOvXCxNWFrsSYd_jHYXxrydh1n "
                      "(the BrushNet README's checkpoint folder), download its folder "
                      "random_mask_brushnet_ckpt (config.json and diffusion_pytorch_model.safetensors)"),
    ),
    ModelSpec(
        name="sd15-realistic-vision", title="Realistic Vision V6.0 B1 (SD1.5, diffusers)",
        kind="sd15-base", repo_id="TencentARC/BrushEdit", revision="main",
        subfolder="base_model/realisticVisionV60B1_v51VAE", files=_SD15_FILES,
        size_bytes=4_270_000_000, license="CreativeML OpenRAIL-M", features=("inpaint",),
        vram_gb=4.5, default=True,
        notes="any SD1.5 fine-tune in diffusers format works: pass its folder with --base-model",
    ),
    ModelSpec(
        name="qwen2-vl-7b", title="Qwen2-VL-7B-Instruct (instructor)", kind="instructor",
        repo_id="Qwen/Qwen2-VL-7B-Instruct", revision="main", subfolder="",
        files=_QWEN_FILES + _shards(5), size_bytes=16_600_000_000, license="Apache-2.0",
        features=("instruct",), vram_gb=17.0, default=True,
    ),
    ModelSpec(
        name="qwen2-vl-2b", title="Qwen2-VL-2B-Instruct (small instructor)", kind="instructor",
        repo_id="Qwen/Qwen2-VL-2B-Instruct", revision="main", subfolder="",
        files=_QWEN_FILES + _shards(2), size_bytes=4_420_000_000, license="Apache-2.0",
        features=("instruct",), vram_gb=5.5,
    ),
    ModelSpec(
        name="grounding-dino-tiny", title="Grounding DINO tiny (transformers)", kind="grounding",
        repo_id="IDEA-Research/grounding-dino-tiny", revision="main", subfolder="",
        files=_GDINO_FILES, size_bytes=690_000_000, license="Apache-2.0",
        features=("auto-mask",), vram_gb=1.5, default=True,
    ),
    ModelSpec(
        name="grounding-dino-base", title="Grounding DINO base (transformers)", kind="grounding",
        repo_id="IDEA-Research/grounding-dino-base", revision="main", subfolder="",
        files=_GDINO_FILES, size_bytes=940_000_000, license="Apache-2.0",
        features=("auto-mask",), vram_gb=2.0,
    ),
    ModelSpec(
        name="sam-vit-h", title="Segment Anything ViT-H", kind="sam",
        repo_id="ybelkada/segment-anything", revision="main", subfolder="checkpoints",
        files=("sam_vit_h_4b8939.pth",), size_bytes=2_564_550_879, license="Apache-2.0",
        features=("auto-mask", "click-select"), vram_gb=4.0, default=True, sam_type="vit_h",
        sha256={"sam_vit_h_4b8939.pth": "a7bf3b02f3ebf1267aba913ff637d9a2d5c33d3173bb679e46d9f338c26f262e"},
        file_sizes={"sam_vit_h_4b8939.pth": 2_564_550_879},
        notes="Meta's checkpoint (also at dl.fbaipublicfiles.com/segment_anything/)",
    ),
    ModelSpec(
        name="sam-vit-l", title="Segment Anything ViT-L", kind="sam",
        repo_id="ybelkada/segment-anything", revision="main", subfolder="checkpoints",
        files=("sam_vit_l_0b3195.pth",), size_bytes=1_249_524_607, license="Apache-2.0",
        features=("auto-mask", "click-select"), vram_gb=3.0, sam_type="vit_l",
        sha256={"sam_vit_l_0b3195.pth": "3adcc4315b642a4d2101128f611684e8734c41232a17c648ed1693702a49a622"},
        file_sizes={"sam_vit_l_0b3195.pth": 1_249_524_607},
    ),
    ModelSpec(
        name="sam-vit-b", title="Segment Anything ViT-B (small)", kind="sam",
        repo_id="ybelkada/segment-anything", revision="main", subfolder="checkpoints",
        files=("sam_vit_b_01ec64.pth",), size_bytes=375_042_383, license="Apache-2.0",
        features=("auto-mask", "click-select"), vram_gb=1.5, sam_type="vit_b",
        sha256={"sam_vit_b_01ec64.pth": "ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912"},
        file_sizes={"sam_vit_b_01ec64.pth": 375_042_383},
    ),
)

# LaMa is published only as a pickle (the release's Lightning best.ckpt, in big-lama.zip on the Hub
# repo the advimman/lama README names) and as TorchScript (IOPaint's big-lama.pt, from
# https://github.com/Sanster/models/releases/download/add_big_lama/big-lama.pt, md5
# e3aa4aaa15225a33ec84f9f4bc47e500 in IOPaint's iopaint/model/lama.py). Neither is loaded as such:
# `brushedit models import lama FILE` converts one once into the safetensors file listed here.
# Not confirmed: the Hub repo's commit and the zip's size and checksum.
_LAMA = ModelSpec(
    name="lama", title="Big LaMa (object removal)", kind="lama",
    repo_id="smartywu/big-lama", revision="main", subfolder="",
    files=("big-lama.safetensors",), size_bytes=204_000_000, license="Apache-2.0",
    features=("remove",), vram_gb=1.0, default=True, import_from=("big-lama.zip",),
    file_sizes={}, notes="download big-lama.zip (Hub) or IOPaint's big-lama.pt, then: "
                         "brushedit models import lama FILE",
)
_SPECS = _SPECS + (_LAMA,)

# FLUX.2 [klein] 4B in the diffusers layout, as black-forest-labs/FLUX.2-klein-4B publishes it
# (model_index.json and five component folders). Confirmed from the Hub pages: model_index.json, the
# text encoder's five files (two shards and their index). Not confirmed: whether transformer/ is
# one file (3.9 B bf16 parameters = 7.8 GB, under diffusers' 10 GB shard size) and the tokenizer's
# file names (listed as a transformers Qwen2 tokenizer saves them); see docs/design/painters.md.
_KLEIN_FILES = (
    "model_index.json",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "text_encoder/generation_config.json",
    "text_encoder/model-00001-of-00002.safetensors",
    "text_encoder/model-00002-of-00002.safetensors",
    "text_encoder/model.safetensors.index.json",
    "tokenizer/merges.txt",
    "tokenizer/tokenizer.json",
    "tokenizer/tokenizer_config.json",
    "tokenizer/vocab.json",
    "transformer/config.json",
    "transformer/diffusion_pytorch_model.safetensors",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
)
_KLEIN = ModelSpec(
    name="flux2-klein-4b", title="FLUX.2 [klein] 4B (painter, diffusers)", kind="klein",
    repo_id="black-forest-labs/FLUX.2-klein-4B", revision="main", subfolder="",
    files=_KLEIN_FILES, size_bytes=16_000_000_000, license="Apache-2.0", features=("klein",),
    vram_gb=10.0, default=True,
    notes="step-distilled (4 steps); Qwen3-4B text encoder staged off the card before denoising; "
          "pass a folder with --klein",
)
_SPECS = _SPECS + (_KLEIN,)

MANIFEST: dict[str, ModelSpec] = {s.name: s for s in _SPECS}


def get_spec(name: str) -> ModelSpec:
    """The spec of ``name``.

    Raises
    ------
    ValueError
        ``name`` is not in the manifest (the message lists the known names).
    """
    try:
        return MANIFEST[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MANIFEST)}") from None


def defaults() -> dict[str, ModelSpec]:
    """The default model of each kind: ``kind -> spec``."""
    return {s.kind: s for s in _SPECS if s.default}


def models_for(feature: str) -> tuple[ModelSpec, ...]:
    """The default models a feature needs (one per kind)."""
    kinds = {s.kind for s in _SPECS if feature in s.features}
    return tuple(s for s in _SPECS if s.default and s.kind in kinds)

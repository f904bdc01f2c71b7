"""The memory plan: which models are on the card in each stage of an agent edit, and whether it fits.

An agent edit runs four stages in order: ``plan`` (the Qwen2-VL instructor reads the instruction),
``detect`` (GroundingDINO finds the object), ``segment`` (SAM turns the box into a mask) and
``paint`` (SD1.5 + BrushNet). A model is on the card while its stage runs; after the stage it is
*kept* there when everything kept still leaves room for every later stage's peak, else *offloaded*
to the CPU (or *dropped*, for a 4-bit model that cannot move). What is kept is chosen by use: the
painters first (every candidate, "More" and re-run use them), then SAM (click-select), then
GroundingDINO, then the instructor (once per instruction, and the largest).

The instructor is the choice that decides the card: Qwen2-VL-7B in 16 bits, the 7B in 4 bits
(bitsandbytes nf4), or Qwen2-VL-2B. ``auto`` takes the first of those whose plan fits; a user's
choice is planned as asked, and refused with the fix when it does not fit.

Per stage: ``weights_gb`` is the stage's own models; ``peak_gb`` is every weight on the card during
the stage (its own and those kept from other stages) plus the stage's estimated activations
(:mod:`engine.memory.activations`) plus the memory CUDA itself holds (``RESERVED_GB``). Weights are
parameter counts of the published configs (:mod:`engine.memory.counts`) times bytes per parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from engine.memory import activations as act
from engine.memory.counts import load_config, param_count

STAGES = ("plan", "detect", "segment", "paint")
PAINTERS = ("brushnet", "klein")  # what the paint stage holds: SD1.5 + BrushNet, or FLUX.2 [klein] 4B
INSTRUCTORS = ("qwen2-vl-7b", "qwen2-vl-2b")
INSTRUCTOR_PRECISIONS = ("auto", "16bit", "4bit")

# Tried in this order by "auto": the best instructor first.
_INSTRUCTOR_OPTIONS = (("qwen2-vl-7b", "16bit"), ("qwen2-vl-7b", "4bit"),
                       ("qwen2-vl-2b", "16bit"), ("qwen2-vl-2b", "4bit"))

BYTES = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0}
# bitsandbytes nf4 with double quantization: 4 bits, an 8-bit absmax per 64 weights, and an fp32
# scale per 256 of those.
NF4_BYTES = 0.5 + 1 / 64 + 4 / (64 * 256)

# Which Engine cache entry holds each model (engine.dispatch keys its cache by these kinds).
ENGINE_KIND = {"plan": "instructor", "detect": "grounding", "segment": "sam", "paint": "brushnet"}
_KEEP_ORDER = ("paint", "segment", "detect", "plan")  # kept first .. offloaded first


@dataclass(frozen=True)
class ModelMemory:
    """One model on the card: its name, precision and weight size in GiB."""

    name: str
    precision: str
    gb: float

    def to_dict(self) -> dict:
        return {"name": self.name, "precision": self.precision, "gb": round(self.gb, 2)}


@dataclass(frozen=True)
class StageMemory:
    """One stage: its models, their weights, and the card's estimated peak while it runs."""

    stage: str
    models: tuple[ModelMemory, ...]
    activations_gb: float
    peak_gb: float
    after: str  # "keep", "offload" or "drop": what happens to this stage's models after it

    @property
    def weights_gb(self) -> float:
        return sum(m.gb for m in self.models)

    def to_dict(self) -> dict:
        return {"stage": self.stage, "models": [m.to_dict() for m in self.models],
                "weights_gb": round(self.weights_gb, 2), "peak_gb": round(self.peak_gb, 2)}


@dataclass(frozen=True)
class MemoryPlan:
    """The plan for one card (see the module docstring).

    ``summary`` says in a sentence what runs and why; ``fix`` (when it does not fit) what to change;
    ``notes`` anything else the user should know (bitsandbytes missing, painting with offload).
    """

    vram_gb: float
    instructor: str
    instructor_precision: str  # "16bit" or "4bit"
    stages: tuple[StageMemory, ...]
    fits: bool
    summary: str
    fix: str = ""
    paint_offload: bool = False
    notes: tuple[str, ...] = field(default=())
    painter: str = "brushnet"

    @property
    def peak_gb(self) -> float:
        return max(s.peak_gb for s in self.stages)

    def stage(self, name: str) -> StageMemory:
        return next(s for s in self.stages if s.stage == name)

    def after_stage(self) -> dict[str, str]:
        """Engine cache kind -> ``"keep"``, ``"offload"`` or ``"drop"`` after that kind's stage."""
        kinds = dict(ENGINE_KIND, paint="klein") if self.painter == "klein" else ENGINE_KIND
        return {kinds[s.stage]: s.after for s in self.stages}

    def to_dict(self) -> dict:
        """The ``memory`` object of ``brushedit doctor --json`` (exactly these keys)."""
        return {"vram_gb": round(self.vram_gb, 2), "instructor": self.instructor,
                "instructor_precision": self.instructor_precision,
                "stages": [s.to_dict() for s in self.stages],
                "peak_gb": round(self.peak_gb, 2), "fits": self.fits}


def model_gb(component: str, precision: str) -> float:
    """Weights of ``component`` in GiB at ``precision`` (fp32, fp16, bf16, or nf4 = 4-bit)."""
    count = param_count(component)
    if precision == "nf4":
        rest = count.total - count.quantizable
        return (count.quantizable * NF4_BYTES + rest * BYTES["bf16"]) / act.GIB
    return count.total * BYTES[precision] / act.GIB


# klein's paint stage in the order it runs: the text encoder encodes the prompt and leaves the card,
# then the transformer denoises and the VAE decodes (engine.painters.klein stages them so).
KLEIN_MODELS = ("klein-text-encoder", "klein-transformer", "klein-vae")


def _stage_models(instructor: str, precision: str, grounding: str, sam: str,
                  paint_dtype: str, painter: str = "brushnet") -> dict[str, tuple[ModelMemory, ...]]:
    iprec = "nf4" if precision == "4bit" else "bf16"
    painters = ("sd15-unet", "brushnet", "sd15-text-encoder", "sd15-vae") if painter == "brushnet" else KLEIN_MODELS
    return {
        "plan": (ModelMemory(instructor, iprec, model_gb(instructor, iprec)),),
        # Our loaders keep GroundingDINO and SAM in the checkpoints' fp32.
        "detect": (ModelMemory(grounding, "fp32", model_gb(grounding, "fp32")),),
        "segment": (ModelMemory(sam, "fp32", model_gb(sam, "fp32")),),
        "paint": tuple(ModelMemory(name, paint_dtype, model_gb(name, paint_dtype)) for name in painters),
    }


def _activations(instructor: str, precision: str, grounding: str, sam: str, paint_dtype: str,
                 working_size: int, candidates: int, painter: str = "brushnet") -> dict[str, float]:
    paint = act.klein_gb if painter == "klein" else act.paint_gb
    return {
        "plan": act.instructor_gb(load_config(instructor), precision == "4bit"),
        "detect": act.grounding_gb(load_config(grounding)),
        "segment": act.sam_gb(load_config(sam)),
        "paint": paint(working_size, candidates, int(BYTES[paint_dtype])),
    }


def _offloaded_paint_weights(models: tuple[ModelMemory, ...]) -> float:
    """With model CPU offload the denoiser pair (UNet + BrushNet) is on the card, the rest visits;
    klein's denoiser is its transformer alone."""
    by = {m.name: m.gb for m in models}
    if "klein-transformer" in by:
        return max(by.values())
    return max(by["sd15-unet"] + by["brushnet"], by["sd15-text-encoder"], by["sd15-vae"])


def _staged_paint_weights(models: tuple[ModelMemory, ...]) -> tuple[float, float]:
    """``(peak during the stage, resident after it)``: klein's text encoder leaves the card once the
    prompt is encoded, so the stage peaks at the larger of the encoder and transformer + VAE, and
    only transformer + VAE stay. BrushNet's four models are on the card together."""
    by = {m.name: m.gb for m in models}
    if "klein-text-encoder" not in by:
        total = sum(by.values())
        return total, total
    resident = by["klein-transformer"] + by["klein-vae"]
    return max(by["klein-text-encoder"], resident), resident


def _try(vram_gb: float, instructor: str, precision: str, grounding: str, sam: str, paint_dtype: str,
         working_size: int, candidates: int, painter: str = "brushnet"):
    """``(stages, fits, paint_offload)`` for one instructor choice with the best residency that fits."""
    models = _stage_models(instructor, precision, grounding, sam, paint_dtype, painter)
    acts = _activations(instructor, precision, grounding, sam, paint_dtype, working_size, candidates, painter)
    weights = {s: sum(m.gb for m in models[s]) for s in STAGES}
    paint_peak, weights["paint"] = _staged_paint_weights(models["paint"])

    def peaks(kept: set[str], paint_offload: bool) -> dict[str, float]:
        out = {}
        for s in STAGES:
            own = weights[s] if s != "paint" else paint_peak
            if s == "paint" and paint_offload:
                own = _offloaded_paint_weights(models["paint"])
            others = sum(weights[k] for k in kept if k != s and not (k == "paint" and paint_offload))
            out[s] = own + others + acts[s] + act.RESERVED_GB
        return out

    choice = None
    for paint_offload in (False, True):
        kept = set(STAGES)
        for evict in (None,) + tuple(reversed(_KEEP_ORDER)):
            if evict is not None:
                kept.discard(evict)
            if paint_offload and "paint" in kept:
                continue  # offloading the painter means it is not kept whole
            p = peaks(kept, paint_offload)
            if max(p.values()) <= vram_gb:
                choice = (kept, paint_offload, p, True)
                break
        if choice is not None:
            break
    if choice is None:  # nothing fits: report the leanest arrangement, so the shortfall is honest
        choice = (set(), True, peaks(set(), True), False)
    kept, paint_offload, p, fits = choice
    stages = []
    for s in STAGES:
        if s in kept:
            after = "keep"
        elif s == "plan" and precision == "4bit":
            after = "drop"  # a bitsandbytes model cannot be moved to the CPU
        else:
            after = "offload"
        stages.append(StageMemory(s, models[s], acts[s], p[s], after))
    return tuple(stages), fits, paint_offload


def _label(instructor: str, precision: str) -> str:
    return f"{instructor} in {'4-bit (nf4)' if precision == '4bit' else '16-bit'}"


def plan_memory(vram_gb: float, *, instructor: str = "auto", instructor_precision: str = "auto",
                grounding: str = "grounding-dino-tiny", sam: str = "sam-vit-h", paint_dtype: str = "fp16",
                working_size: int = 640, candidates: int = 1,
                four_bit_available: bool = True, painter: str = "brushnet") -> MemoryPlan:
    """Plan an agent edit on a card of ``vram_gb`` GiB.

    Parameters
    ----------
    vram_gb : float
        The card's memory in GiB.
    instructor : {"auto", "qwen2-vl-7b", "qwen2-vl-2b"}
    instructor_precision : {"auto", "16bit", "4bit"}
        ``auto`` picks the best instructor choice that fits (7B 16-bit, 7B 4-bit, 2B 16-bit, 2B
        4-bit); a named model or precision is planned as asked.
    grounding, sam : str
        Manifest names of the detector and SAM.
    paint_dtype : {"fp16", "bf16", "fp32"}
        Precision of SD1.5 + BrushNet.
    working_size, candidates : int
        The painter's working size (long side, px) and candidates per run, for its activations.
    four_bit_available : bool
        Whether bitsandbytes can load 4-bit here; without it ``auto`` never picks 4 bits.
    painter : {"brushnet", "klein"}
        What paints: SD1.5 + BrushNet (all four models on the card together), or FLUX.2 [klein] 4B
        staged (its text encoder encodes the prompt and leaves, then transformer + VAE denoise).

    Returns
    -------
    MemoryPlan
    """
    if instructor not in ("auto",) + INSTRUCTORS:
        raise ValueError(f"instructor must be auto or one of {', '.join(INSTRUCTORS)}, not {instructor!r}")
    if instructor_precision not in INSTRUCTOR_PRECISIONS:
        raise ValueError(f"instructor precision must be auto, 16bit or 4bit, not {instructor_precision!r}")
    if painter not in PAINTERS:
        raise ValueError(f"painter must be brushnet or klein, not {painter!r}")
    if paint_dtype not in BYTES:
        raise ValueError(f"paint dtype must be fp16, bf16 or fp32, not {paint_dtype!r}")
    options = [(i, p) for i, p in _INSTRUCTOR_OPTIONS
               if instructor in ("auto", i) and instructor_precision in ("auto", p)]
    asked_4bit = instructor_precision == "4bit"
    if not four_bit_available and not asked_4bit:
        options = [o for o in options if o[1] != "4bit"] or options
    notes: list[str] = []
    if asked_4bit and not four_bit_available:
        notes.append("4-bit needs bitsandbytes and a CUDA GPU: pip install bitsandbytes")
    args = (grounding, sam, paint_dtype, working_size, candidates)
    tried = []
    for name, precision in options:
        stages, fits, paint_offload = _try(vram_gb, name, precision, *args, painter)
        tried.append((name, precision, stages, fits, paint_offload))
        if fits:
            break
    name, precision, stages, fits, paint_offload = tried[-1]
    peak = max(s.peak_gb for s in stages)
    label = _label(name, precision)
    if fits:
        skipped = [f"{_label(n, p)} needs {max(s.peak_gb for s in st):.1f} GB" for n, p, st, _, _ in tried[:-1]]
        summary = f"{label} fits {vram_gb:g} GB (peak {peak:.1f} GB, estimated)"
        if skipped:
            summary += "; " + ", ".join(skipped)
        fix = ""
    else:
        worst = max(stages, key=lambda s: s.peak_gb)
        summary = (f"does not fit {vram_gb:g} GB: with {label}, the {worst.stage} stage "
                   f"({', '.join(m.name for m in worst.models)}) needs {peak:.1f} GB (estimated)")
        fix = _fix(vram_gb, instructor, instructor_precision, peak, stages, four_bit_available, args, painter)
    if painter == "klein":
        notes.append("klein paints staged: its text encoder encodes the prompt and leaves the card, "
                     "then transformer + VAE denoise")
    if paint_offload:
        what = "the transformer" if painter == "klein" else "UNet + BrushNet"
        notes.append(f"painting with model CPU offload ({what} on the card, the rest visits): slower")
    return MemoryPlan(vram_gb=float(vram_gb), instructor=name, instructor_precision=precision,
                      stages=stages, fits=fits, summary=summary, fix=fix, paint_offload=paint_offload,
                      notes=tuple(notes), painter=painter)


def _fix(vram_gb, instructor, instructor_precision, peak, stages, four_bit_available, args,
         painter: str = "brushnet") -> str:
    """What the user can change so the edit fits (tried in the order a user would want them)."""
    grounding, sam, paint_dtype, working_size, candidates = args
    ways = []
    if (instructor, instructor_precision) != ("auto", "auto"):
        auto = plan_memory(vram_gb, grounding=grounding, sam=sam, paint_dtype=paint_dtype,
                           working_size=working_size, candidates=candidates,
                           four_bit_available=four_bit_available, painter=painter)
        if auto.fits:
            ways.append(f"let the plan choose (--instructor-precision auto: {_label(auto.instructor, auto.instructor_precision)})")
    if not four_bit_available and instructor_precision != "16bit":
        ways.append("install bitsandbytes for the 4-bit instructor (pip install bitsandbytes)")
    rest = [s for s in stages if s.stage != "plan"]
    if max(s.peak_gb for s in rest) <= vram_gb:
        ways.append("or plan with the offline parser or an OpenAI-compatible server (--instructor offline|openai)")
    if candidates > 1 or working_size > 512:
        ways.append("paint fewer candidates or at a smaller working size")
    if sam != "sam-vit-b":
        ways.append("use the small SAM (sam-vit-b)")
    ways.append("or run on the CPU (--device cpu: slow)")
    ways.append(f"or a card with at least {math.ceil(peak)} GB")
    return "; ".join(ways)

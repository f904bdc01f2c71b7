"""Benchmark: the memory plan's per-stage estimate beside the memory each stage really takes.

Loads the agent's stages in the planned order (plan -> detect -> segment -> paint) with **random
weights at the real sizes** (the shipped published configs, ``engine/memory/configs``), runs each
stage's work at the plan's sizes (the instructor on a 768 px photo with a prompt and an answer,
GroundingDINO at 800 x 1333, SAM's encoder at 1024 px and one box, BrushNet + UNet denoising steps
and the VAE decode at the working size), and applies the plan's policy between stages (a model the
plan does not keep leaves the device after its stage).

Measured per stage:

- on CUDA: ``torch.cuda.max_memory_allocated`` during the stage (weights resident on the card plus
  activations), in the last of ``--rounds`` agent edits in a row (the steady state: what the plan keeps
  is already there). It is compared with the plan's figure for what is resident then
  (``estimate_allocated_gb``: the stage's weights, the kept weights of the stages loaded, its
  activations), without ``RESERVED_GB`` (the CUDA context, which the allocator does not see);
- on a CPU: the process's peak resident memory during the stage (``VmHWM``, reset per stage through
  ``/proc/self/clear_refs``) above what the process held before the first model: RAM, in fp32, with
  every earlier stage's models freed first. It shows the shape of the figures, not a GPU's.

The instructor in 4 bits is not measured (random nf4 weights need bitsandbytes' quantizer on
CUDA): when the plan picks it, the plan stage loads it in 16 bits and says so.

Usage::

    python benchmarks/agent_memory.py --dry-run                 # the plan only, loads nothing
    python benchmarks/agent_memory.py --device cuda             # every stage, on the card
    python benchmarks/agent_memory.py --device cpu --only paint --size 256 --steps 1

The last line is a JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine_info import host  # noqa: E402  (benchmarks/ is the script's own folder)
from machine_info import torch_device as machine  # noqa: E402

GIB = 2**30


# --- building stage models with random weights at the real size ---------------------------------------

def build(component: str, device, dtype):
    """The real class of ``component`` from its published config, random weights, on ``device``."""
    import torch

    from engine.memory.counts import build_on_meta

    model = build_on_meta(component).to(dtype)  # parameters on meta, buffers real (on the CPU)
    buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
    model = model.to_empty(device=device)  # allocates, in dtype, without a CPU copy first
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.02)
        for name, b in model.named_buffers():
            if name in buffers:
                b.copy_(buffers[name])
    return model.eval().requires_grad_(False)


# --- each stage's work ------------------------------------------------------------------------------

def run_plan(models, device, dtype, new_tokens: int):
    import torch

    from engine.memory import activations as act

    model = models["instructor"]
    cfg = model.config
    vision = cfg.vision_config
    unit = vision.patch_size * vision.spatial_merge_size
    grid_h, grid_w = round(act.INSTRUCTOR_MAX_SIDE * 3 / 4 / unit) * 2, round(act.INSTRUCTOR_MAX_SIDE / unit) * 2
    patches = grid_h * grid_w
    merged = patches // vision.spatial_merge_size**2
    specials = min(cfg.image_token_id, cfg.video_token_id, cfg.vision_start_token_id, cfg.vision_end_token_id)
    text = torch.randint(0, specials, (act.PROMPT_TOKENS,), device=device)  # ordinary tokens only
    image = torch.full((merged,), cfg.image_token_id, device=device)
    ids = torch.cat([text[:10], torch.tensor([cfg.vision_start_token_id], device=device), image,
                     torch.tensor([cfg.vision_end_token_id], device=device), text[10:]])[None]
    pixel_values = torch.randn(patches, 3 * vision.temporal_patch_size * vision.patch_size**2,
                               device=device, dtype=dtype)
    grid = torch.tensor([[1, grid_h, grid_w]], device=device)
    with torch.inference_mode():
        model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), pixel_values=pixel_values,
                       image_grid_thw=grid, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                       do_sample=False)


def run_detect(models, device, dtype):
    import torch

    from engine.memory import activations as act

    model = models["grounding"]
    ids = torch.tensor([[101, 4937, 1012, 102]], device=device)  # [CLS] cat . [SEP]
    pixels = torch.randn(1, 3, act.DETECT_SHORT, act.DETECT_LONG, device=device, dtype=dtype)
    with torch.inference_mode():
        model(pixel_values=pixels, input_ids=ids, attention_mask=torch.ones_like(ids),
              token_type_ids=torch.zeros_like(ids))


def run_segment(models, device, dtype):
    import torch

    sam = models["sam"]
    size = sam.image_encoder.img_size
    with torch.inference_mode():
        embedding = sam.image_encoder(torch.randn(1, 3, size, size, device=device, dtype=dtype))
        box = torch.tensor([[100.0, 100.0, 600.0, 700.0]], device=device, dtype=dtype)
        sparse, dense = sam.prompt_encoder(points=None, boxes=box, masks=None)
        sam.mask_decoder(image_embeddings=embedding, image_pe=sam.prompt_encoder.get_dense_pe(),
                         sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense, multimask_output=True)


def run_paint(models, device, dtype, size: int, candidates: int, steps: int):
    import torch

    from engine.brushnet.unet_forward import unet_forward_with_brushnet

    unet, brushnet, text_encoder, vae = (models[k] for k in ("sd15-unet", "brushnet", "sd15-text-encoder",
                                                              "sd15-vae"))
    batch, latent = 2 * candidates, size // 8
    with torch.inference_mode():
        cfg = text_encoder.config
        tokens = torch.randint(0, cfg.vocab_size - 1, (batch, cfg.max_position_embeddings), device=device)
        embeddings = text_encoder(tokens)[0]
        masked = vae.encode(torch.randn(1, 3, size, size, device=device, dtype=dtype)).latent_dist.mode()
        mask = torch.ones(1, 1, latent, latent, device=device, dtype=dtype)
        cond = torch.cat([masked, mask], 1).expand(batch, -1, -1, -1)
        latents = torch.randn(batch, 4, latent, latent, device=device, dtype=dtype)
        for step in range(steps):
            t = torch.tensor(999 - step * 20, device=device)
            down, mid, up = brushnet(latents, t, embeddings, cond, return_dict=False)
            unet_forward_with_brushnet(unet, latents, t, embeddings, down, mid, up)
        vae.decode(latents[:candidates] / vae.config.scaling_factor)


# --- measuring -----------------------------------------------------------------------------------------

class Meter:
    """Peak memory of one stage: CUDA allocator peak, or RSS high-water mark above a baseline (CPU)."""

    def __init__(self, device) -> None:
        self.device = device
        self.baseline = self._rss_gb() if device.type == "cpu" else 0.0
        self.what = ("torch.cuda.max_memory_allocated (weights on the card + activations)"
                     if device.type == "cuda" else "peak RSS above the process baseline (VmHWM), fp32, RAM")

    @staticmethod
    def _rss_gb(field: str = "VmRSS") -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024 / GIB
        return 0.0

    def start(self) -> None:
        import torch

        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        else:
            try:
                Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
            except OSError:
                pass

    def peak_gb(self) -> float:
        import torch

        if self.device.type == "cuda":
            torch.cuda.synchronize()
            return torch.cuda.max_memory_allocated() / GIB
        return self._rss_gb("VmHWM") - self.baseline


def _import_model_code() -> None:
    import diffusers  # noqa: F401
    import transformers
    from diffusers import AutoencoderKL, UNet2DConditionModel  # noqa: F401

    for name in ("Qwen2VLForConditionalGeneration", "GroundingDinoForObjectDetection", "CLIPTextModel"):
        getattr(transformers, name)
    import engine.brushnet.model  # noqa: F401
    import segment_anything.modeling  # noqa: F401


# --- the run -------------------------------------------------------------------------------------------

STAGE_MODELS = {"plan": ("instructor",), "detect": ("grounding",), "segment": ("sam",),
                "paint": ("sd15-unet", "brushnet", "sd15-text-encoder", "sd15-vae")}


def main(argv=None) -> int:
    from engine.memory import STAGES, plan_memory
    from engine.memory.activations import RESERVED_GB

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", choices=("cuda", "cpu"), default=None, help="default: cuda when available")
    ap.add_argument("--vram", type=float, default=None, help="plan for this card (default: the device's, or 24)")
    ap.add_argument("--only", default="", help="comma-separated stages to load (default: all on CUDA, "
                                               "paint on a CPU)")
    ap.add_argument("--dry-run", action="store_true", help="print the plan's figures only; load nothing")
    ap.add_argument("--size", type=int, default=640, help="working size of the paint stage (default 640)")
    ap.add_argument("--candidates", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3, help="denoising steps measured (the peak needs few)")
    ap.add_argument("--new-tokens", type=int, default=200, help="tokens the instructor writes")
    ap.add_argument("--instructor-model", default="auto")
    ap.add_argument("--instructor-precision", default="auto")
    ap.add_argument("--sam", default="sam-vit-h")
    ap.add_argument("--rounds", type=int, default=2, help="agent edits in a row on CUDA; the last is reported")
    args = ap.parse_args(argv)

    import torch
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.set_verbosity_error()  # random weights cast with .to(): no advice needed
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device: run with --device cpu (reduced) or --dry-run")
        return 2
    vram = args.vram or (torch.cuda.get_device_properties(device).total_memory / GIB
                         if device.type == "cuda" else 24.0)
    cpu = device.type == "cpu"
    plan = plan_memory(vram, instructor=args.instructor_model, instructor_precision=args.instructor_precision,
                       sam=args.sam, paint_dtype="fp32" if cpu and not args.dry_run else "fp16", working_size=args.size,
                       candidates=args.candidates)
    only = [s for s in args.only.split(",") if s] or (["paint"] if cpu else list(STAGES))
    unknown = set(only) - set(STAGES)
    if unknown:
        ap.error(f"unknown stage(s) {', '.join(sorted(unknown))}; stages: {', '.join(STAGES)}")
    where = "dry run (nothing loaded)" if args.dry_run else machine(device)
    print(f"machine: {host()}\nmeasured on: {where}")
    print(f"plan for {vram:g} GB: {plan.summary}")
    notes = []
    if plan.instructor_precision == "4bit" and "plan" in only and not args.dry_run:
        notes.append("the plan picks the 4-bit instructor; this benchmark loads it in 16 bits (bf16)")
    if cpu and not args.dry_run:
        notes.append("CPU: RAM in fp32 with each earlier stage freed first, not GPU memory")
    for note in notes:
        print("note:", note)

    rows, loaded = [], {}
    if not args.dry_run:
        _import_model_code()  # so the CPU baseline already holds the libraries, not only the models
    meter = None if args.dry_run else Meter(device)
    # Round 1 is a first edit; the last round is the steady state the plan describes (what the plan
    # keeps is already on the card when the next instruction comes). Only the last round is reported.
    rounds = 1 if (cpu or args.dry_run) else max(1, args.rounds)
    for round_ in range(rounds):
        last = round_ == rounds - 1
        for stage in plan.stages:
            row = {"stage": stage.stage, "models": [m.name for m in stage.models],
                   "estimate_peak_gb": round(stage.peak_gb, 2),
                   "estimate_allocated_gb": round(stage.peak_gb - RESERVED_GB, 2),
                   "weights_gb": round(stage.weights_gb, 2),
                   "activations_estimate_gb": round(stage.activations_gb, 2),
                   "measured_gb": None, "ratio": None, "seconds": None}
            if args.dry_run or stage.stage not in only:
                if last:
                    row["skipped"] = "dry run" if args.dry_run else "not in --only"
                    rows.append(row)
                continue
            # The plan's policy: what it does not keep leaves the device before this stage (CPU: freed;
            # on CUDA an offloaded model is rebuilt when its stage returns, as moving it back would).
            for prev in list(loaded):
                if prev != stage.stage and (cpu or plan.stage(prev).after != "keep"):
                    del loaded[prev]
            meter.start()
            t0 = time.perf_counter()
            dtype = torch.float32 if cpu else (torch.bfloat16 if stage.stage == "plan" else
                                               torch.float16 if stage.stage == "paint" else torch.float32)
            components = {"plan": [plan.instructor], "detect": [stage.models[0].name],
                          "segment": [stage.models[0].name], "paint": list(STAGE_MODELS["paint"])}[stage.stage]
            models = loaded.get(stage.stage) or {
                key: build(component, device, dtype) for key, component in zip(STAGE_MODELS[stage.stage], components)}
            if stage.stage == "plan":
                run_plan(models, device, dtype, args.new_tokens)
            elif stage.stage == "detect":
                run_detect(models, device, dtype)
            elif stage.stage == "segment":
                run_segment(models, device, dtype)
            else:
                run_paint(models, device, dtype, args.size, args.candidates, args.steps)
            measured = meter.peak_gb()
            # The plan's figure for what is really resident: the stage's own weights, those of the
            # loaded stages it keeps (stages left out by --only are not counted), its activations.
            basis = (stage.weights_gb + stage.activations_gb
                     + sum(plan.stage(k).weights_gb for k in loaded if k != stage.stage))
            loaded[stage.stage] = models
            del models
            if not last:
                continue
            row.update(estimate_allocated_gb=round(basis, 2), measured_gb=round(measured, 2),
                       ratio=round(measured / basis, 2) if basis else None,
                       seconds=round(time.perf_counter() - t0, 1))
            rows.append(row)

    print(f"{'stage':<8} {'estimate':>9} {'measured':>9} {'ratio':>6}  models")
    for r in rows:
        measured = "-" if r["measured_gb"] is None else f"{r['measured_gb']:.2f}"
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
        print(f"{r['stage']:<8} {r['estimate_allocated_gb']:>9.2f} {measured:>9} {ratio:>6}  "
              f"{', '.join(r['models'])}{'  (' + r['skipped'] + ')' if 'skipped' in r else ''}")
    print(json.dumps({
        "benchmark": "agent_memory", "machine": host(), "device": where, "vram_gb": round(vram, 2),
        "instructor": plan.instructor, "instructor_precision": plan.instructor_precision, "fits": plan.fits,
        "measured": None if args.dry_run else meter.what, "estimates": "engine.memory plan (estimates)",
        "working_size": args.size, "candidates": args.candidates, "steps": args.steps, "notes": notes,
        "stages": rows,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())

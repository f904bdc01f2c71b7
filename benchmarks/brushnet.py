"""Benchmark: SD1.5-size BrushNet + UNet denoising step vs a plain SD1.5 inpainting UNet step.

Random weights, SD1.5 shapes (UNet 860 M, BrushNet 620 M parameters, SD VAE and CLIP ViT-L text
encoder), 512 x 512 by default. Prints:

- seconds per denoising step (BrushNet + UNet, guidance batched: batch 2 per candidate) and the same
  for a plain 9-channel SD1.5 inpainting UNet (the baseline, same run) and their ratio;
- seconds per full edit (text encoding, VAE encode, steps, VAE decode) for 1 and 4 candidates;
- the product path (``run_inpaint``: crop, resize, paint, blend) with 1 candidate, 4 candidates in
  ONE batched call (what the editor and ``edit --samples auto`` run) and 4 one-candidate calls in a
  row (what not batching would cost), each with ``--candidate-steps`` real steps (never extrapolated),
  and their ratios to one candidate (``batched_4_over_1``: the reference's 4 candidates should cost
  less than 2.5 x one);
- peak GPU memory on CUDA.

On CUDA it runs the whole 50-step edits (fp16/bf16, SDPA attention; ``--compile`` adds
torch.compile). On a CPU a 50-step edit takes many minutes, so it times a few steps and reports the
50-step figures *extrapolated* (``"extrapolated": true`` in the JSON). The last line is a JSON object.

Usage: ``python benchmarks/brushnet.py [--device cuda|cpu] [--steps 50] [--size 512] [--compile]
[--candidate-steps 4] [--candidates-only [--model sd15|tiny]]``. On a CPU at small size, only the
candidates comparison: ``--device cpu --candidates-only --size 64`` (SD1.5 shapes) or ``--model tiny``
(the tests' tiny random components, seconds; per-call overhead weighs more there than at SD1.5 size).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine_info import torch_device as machine  # noqa: E402  (benchmarks/ is the script's own folder)


def sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device, repeat: int) -> float:
    """Median seconds of ``repeat`` runs of ``fn`` after one warm-up run."""
    fn()
    sync(device)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2]


def sd15_components(device, dtype):
    """SD1.5-shaped VAE, CLIP text encoder and UNet with random weights, built on ``device``."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel, UniPCMultistepScheduler
    from transformers import CLIPTextConfig, CLIPTextModel

    from tests.builders.brushnet import tiny_tokenizer

    with torch.device(device):
        unet = UNet2DConditionModel(sample_size=64, cross_attention_dim=768, attention_head_dim=8)  # SD1.5 defaults
        vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4,
                            down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                            sample_size=512)
        text = CLIPTextModel(CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                                            num_hidden_layers=12, vocab_size=49408, max_position_embeddings=77,
                                            hidden_act="quick_gelu", projection_dim=768))
    sched = UniPCMultistepScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear")
    return {"unet": cast(unet, dtype), "vae": cast(vae, dtype), "text_encoder": cast(text, dtype),
            "tokenizer": tiny_tokenizer(), "scheduler": sched}


def cast(model, dtype):
    """``model`` in ``dtype`` and eval mode (no cast, hence no diffusers warning, when it already is)."""
    return (model if model.dtype == dtype else model.to(dtype)).eval()


def main(argv=None) -> dict:
    import torch

    from engine.brushnet.loading import compile_pipeline, default_device_dtype

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default=None, help="cuda or cpu (default: cuda if available)")
    ap.add_argument("--steps", type=int, default=None, help="steps per edit (default 50 on CUDA, 2 timed on CPU)")
    ap.add_argument("--size", type=int, default=512, help="square image size in pixels (multiple of 8)")
    ap.add_argument("--repeat", type=int, default=None, help="timed repeats per figure (default 5 CUDA, 1 CPU)")
    ap.add_argument("--compile", action="store_true", help="torch.compile the per-step blocks (CUDA)")
    ap.add_argument("--candidate-steps", type=int, default=None,
                    help="real steps per edit in the candidates comparison (default: --steps on CUDA, 4 on CPU)")
    ap.add_argument("--candidates-only", action="store_true",
                    help="only the product-path comparison of 1, 4 batched and 4 one-by-one candidates")
    ap.add_argument("--model", choices=("sd15", "tiny"), default="sd15",
                    help="with --candidates-only: SD1.5-shaped random weights, or the tests' tiny components")
    args = ap.parse_args(argv)
    if args.candidates_only:
        return candidates_only(args)

    device, dtype = default_device_dtype(args.device, None)
    cuda = device.type == "cuda"
    repeat = args.repeat or (5 if cuda else 1)
    steps = args.steps or (50 if cuda else 2)
    size = args.size // 8 * 8
    lat = size // 8
    torch.manual_seed(0)
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    print(f"machine: {machine(device)}; dtype {dtype}; size {size}x{size}", flush=True)
    g = torch.Generator("cpu").manual_seed(0)
    text = torch.randn(2, 77, 768, generator=g).to(device, dtype)
    t = torch.tensor(500, device=device)

    # 1. Baseline: a plain 9-channel SD1.5 inpainting UNet step (guidance batch 2).
    from diffusers import UNet2DConditionModel

    with torch.device(device):
        inpaint_unet = cast(UNet2DConditionModel(in_channels=9, sample_size=64, cross_attention_dim=768), dtype)
    if cuda:
        inpaint_unet.to(memory_format=torch.channels_last)
    x9 = torch.randn(2, 9, lat, lat, generator=g).to(device, dtype)
    with torch.no_grad():
        base_step = timed(lambda: inpaint_unet(x9, t, text).sample, device, repeat)
    print(f"plain SD1.5 inpainting UNet step (batch 2): {base_step:.4f} s", flush=True)
    del inpaint_unet, x9
    gc.collect()

    # 2. BrushNet + UNet, as the product runs it.
    from engine.brushnet import BrushNetModel, BrushNetPipeline, unet_forward_with_brushnet

    comps = sd15_components(device, dtype)
    brushnet = BrushNetModel.from_unet(comps["unet"]).eval()  # same device and dtype as the UNet
    pipe = BrushNetPipeline(brushnet=brushnet, **comps)
    pipe.set_progress_bar_config(disable=True)
    if cuda:
        pipe.unet.to(memory_format=torch.channels_last)
        pipe.brushnet.to(memory_format=torch.channels_last)
    if args.compile:
        compile_pipeline(pipe)
    n_params = {k: sum(p.numel() for p in m.parameters()) for k, m in
                (("unet", pipe.unet), ("brushnet", pipe.brushnet), ("vae", pipe.vae),
                 ("text_encoder", pipe.text_encoder))}
    # The weights alone in half precision: the floor under peak GPU memory (counted, not timed, so
    # it holds on any machine; the 6 GB target leaves the rest for activations).
    weights_half_gib = sum(n_params.values()) * 2 / 2**30
    print(f"parameters: {', '.join(f'{k} {v / 1e6:.1f} M' for k, v in n_params.items())}; "
          f"weights in fp16/bf16: {weights_half_gib:.2f} GiB", flush=True)

    def step_fn(n):
        x = torch.randn(2 * n, 4, lat, lat, generator=g).to(device, dtype)
        cond = torch.randn(2 * n, 5, lat, lat, generator=g).to(device, dtype)
        e = text.repeat(n, 1, 1)

        def run():
            down, mid, up = pipe.brushnet(x, t, e, cond)
            out = unet_forward_with_brushnet(pipe.unet, x, t, e, down, mid, up)
            u, c = out.chunk(2)
            return u + 7.5 * (c - u)
        return run

    with torch.no_grad():
        step1 = timed(step_fn(1), device, repeat)
        print(f"BrushNet + UNet step, 1 candidate (batch 2): {step1:.4f} s", flush=True)
        step4 = timed(step_fn(4), device, repeat)
        print(f"BrushNet + UNet step, 4 candidates (batch 8): {step4:.4f} s", flush=True)

    import numpy as np

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    mask = np.zeros((size, size), np.uint8)
    mask[size // 4: 3 * size // 4, size // 4: 3 * size // 4] = 255

    def edit(n, k):
        gens = [torch.Generator("cpu").manual_seed(i) for i in range(n)]
        return lambda: pipe("a photo", image, mask, num_inference_steps=k, num_images_per_prompt=n, generator=gens)

    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
        edit1 = timed(edit(1, steps), device, repeat)
        peak1 = torch.cuda.max_memory_allocated(device) / 2**30
        edit4 = timed(edit(4, steps), device, repeat)
        peak4 = torch.cuda.max_memory_allocated(device) / 2**30
        extrapolated = False
        edit_steps = steps
    else:
        # Overhead (text, VAE encode/decode, blending) from a 1-step edit; steps extrapolated to 50.
        one1 = timed(edit(1, 1), device, 1)
        edit1 = one1 + 49 * step1
        one4 = timed(edit(4, 1), device, 1)
        edit4 = one4 + 49 * step4
        peak1 = peak4 = None
        extrapolated = True
        edit_steps = 50
    print(f"{edit_steps}-step edit, 1 candidate: {edit1:.3f} s{' (extrapolated)' if extrapolated else ''}")
    print(f"{edit_steps}-step edit, 4 candidates: {edit4:.3f} s ({edit4 / edit1:.2f}x one)")
    if cuda:
        print(f"peak GPU memory: {peak1:.2f} GiB (1 candidate), {peak4:.2f} GiB (4 candidates)")
    cand = candidates_comparison(pipe, image, mask, size, args.candidate_steps or (steps if cuda else 4),
                                 device, repeat)
    result = {
        "machine": machine(device), "device": device.type, "dtype": str(dtype).replace("torch.", ""),
        "size": size, "compile": bool(args.compile),
        "params_unet": n_params["unet"], "params_brushnet": n_params["brushnet"],
        "params_vae": n_params["vae"], "params_text_encoder": n_params["text_encoder"],
        "weights_half_gib": round(weights_half_gib, 3),
        "plain_inpaint_unet_step_s": round(base_step, 5),
        "brushnet_step_s_1": round(step1, 5), "brushnet_step_s_4": round(step4, 5),
        "brushnet_to_plain_step_ratio": round(step1 / base_step, 3),
        "edit_steps": edit_steps, "edit_s_1": round(edit1, 4), "edit_s_4": round(edit4, 4),
        "edit_4_over_1": round(edit4 / edit1, 3), "extrapolated": extrapolated,
        "peak_gpu_gib_1": None if peak1 is None else round(peak1, 3),
        "peak_gpu_gib_4": None if peak4 is None else round(peak4, 3),
        **cand,
    }
    print(json.dumps(result))
    return result


def candidates_only(args) -> dict:
    """The candidates comparison alone (``--candidates-only``), on SD1.5-shaped or tiny weights."""
    import numpy as np
    import torch

    from engine.brushnet import BrushNetModel, BrushNetPipeline
    from engine.brushnet.loading import default_device_dtype

    device, dtype = default_device_dtype(args.device, None)
    cuda = device.type == "cuda"
    repeat = args.repeat or (5 if cuda else 1)
    size = args.size // 8 * 8
    torch.manual_seed(0)
    if args.model == "tiny":
        from tests.builders.brushnet import tiny_pipeline

        pipe = tiny_pipeline(seed=0).to(device)
    else:
        comps = sd15_components(device, dtype)
        pipe = BrushNetPipeline(brushnet=BrushNetModel.from_unet(comps["unet"]).eval(), **comps)
    pipe.set_progress_bar_config(disable=True)
    print(f"machine: {machine(device)}; dtype {dtype}; model {args.model}; size {size}x{size}", flush=True)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    mask = np.zeros((size, size), np.uint8)
    mask[size // 4: 3 * size // 4, size // 4: 3 * size // 4] = 255
    steps = args.candidate_steps or (args.steps or 50 if cuda else 4)
    result = {"machine": machine(device), "device": device.type, "dtype": str(dtype).replace("torch.", ""),
              "model": args.model, "size": size, "repeat": repeat,
              **candidates_comparison(pipe, image, mask, size, steps, device, repeat)}
    print(json.dumps(result))
    return result


def candidates_comparison(pipe, image, mask, size: int, steps: int, device, repeat: int) -> dict:
    """The product path with 1 candidate, 4 in one batched call and 4 calls of one (same seeds)."""
    from engine.api import EditParams, InpaintRequest
    from engine.brushnet import run_inpaint

    calls: list[int] = []
    hook = pipe.unet.conv_out.register_forward_hook(lambda _m, _i, out: calls.append(int(out.shape[0])))

    def paint(n, seed):
        params = EditParams(steps=steps, seed=seed, num_candidates=n, working_size=size, resolution_mode="whole")
        return run_inpaint(pipe, InpaintRequest(image, mask, "a photo", params))

    try:
        one = timed(lambda: paint(1, 0), device, repeat)
        calls.clear()
        batched = timed(lambda: paint(4, 0), device, repeat)
        passes_batched = len(calls) // (repeat + 1)  # UNet passes per batched edit (one per step)
        sequential = timed(lambda: [paint(1, s) for s in range(4)], device, repeat)
    finally:
        hook.remove()
    print(f"product path, {steps} real steps at {size}px: 1 candidate {one:.3f} s; 4 batched (one call, "
          f"{passes_batched} UNet passes) {batched:.3f} s = {batched / one:.2f}x one; 4 calls of one "
          f"{sequential:.3f} s = {sequential / one:.2f}x one", flush=True)
    return {"candidate_steps": steps, "product_edit_s_1": round(one, 4),
            "product_edit_s_4_batched": round(batched, 4), "product_edit_s_4_sequential": round(sequential, 4),
            "batched_4_over_1": round(batched / one, 3), "sequential_4_over_1": round(sequential / one, 3),
            "batched_unet_passes_per_edit": passes_batched}


if __name__ == "__main__":
    main()

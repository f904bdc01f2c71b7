"""The side-by-side of ``benchmarks/lama.py``: our LaMa removal against IOPaint 1.6's, same weights.

- IOPaint 1.6.0 is installed into a venv of its own (default ``build/iopaint-venv``: ``python -m venv``, then
  ``pip install iopaint==1.6.0``; pip takes torch from the wheels on this disk). When that cannot be done the
  side-by-side is skipped with a line saying why, and the figures say ``"iopaint": "skipped: ..."``.
- The same weights on both sides: a full-size big-lama with random weights (``torch.manual_seed(0)``), saved as
  our ``.safetensors`` and traced to TorchScript in the layout of IOPaint's ``big-lama.pt`` (``bin/to_jit.py``'s
  wrapper: ``model.generator``, ``forward(image, mask)`` -> the composite), placed where IOPaint looks for its
  download (``<model-dir>/torch/hub/checkpoints/big-lama.pt``), so it runs offline. The two are checked to give
  the same output before anything is timed.
- Cases: a 512 x 512 photo with a 256 px hole (IOPaint runs the whole image; we run the whole image as our crop),
  and a 2048 x 1536 photo with a 300 px hole (IOPaint crops with a 128 px margin: 556 px, padded to 560; we crop
  with half the hole's side: 600 px, one pass).
- Whole process: each tool's command line, start to finish (``brushedit edit --engine lama`` /
  ``iopaint run --model lama``), pinned with ``taskset`` to as many cores as threads, ``OMP_NUM_THREADS`` set.
- Model only: a worker per side (``benchmarks/lama_worker.py``), loaded once, times one in-process removal
  (each tool's own removal path, no start-up) and one forward of the network at the same size.
- A/B interleaved (the order alternates every repeat), min and median of the repeats, ratios ours / IOPaint.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
IOPAINT_VERSION = "1.6.0"
DEFAULT_VENV = ROOT / "build" / "iopaint-venv"
WORK = ROOT / "build" / "lama-bench"
CASES = {  # name: (width, height, hole side)
    "512x512": (512, 512, 256),
    "2048x1536": (2048, 1536, 300),
}
FORWARD_SIDES = (512,)  # the network alone, the same size on both sides (parity of the model)
TARGET_RATIO = 0.8  # issue 26: whole process, one core, <= 0.8x IOPaint's time at both sizes


def say(text: str) -> None:
    print(text, flush=True)


# -- IOPaint's venv -------------------------------------------------------------------------------------


def _iopaint_version(python: Path) -> str | None:
    if not python.exists():
        return None
    got = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('iopaint'))"],
                         capture_output=True, text=True)
    return got.stdout.strip() if got.returncode == 0 else None


def ensure_iopaint(venv: Path, install: bool = True) -> tuple[Path | None, str]:
    """IOPaint 1.6's python in ``venv`` (installed there when missing), or ``None`` and why not."""
    python = venv / "bin" / "python"
    version = _iopaint_version(python)
    if version == IOPAINT_VERSION:
        return python, f"IOPaint {version} in {venv}"
    if not install:
        return None, f"IOPaint {IOPAINT_VERSION} is not installed in {venv} (and --no-install was given)"
    say(f"installing IOPaint {IOPAINT_VERSION} into {venv} (python -m venv; pip install; a few minutes) ...")
    base = getattr(sys, "_base_executable", sys.executable)
    steps = ([base, "-m", "venv", str(venv)],
             [str(python), "-m", "pip", "install", "--quiet", f"iopaint=={IOPAINT_VERSION}"])
    for cmd in steps:
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"could not install IOPaint {IOPAINT_VERSION}: {' '.join(cmd[:3])}: {exc}"
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["(no output)"]
            return None, f"could not install IOPaint {IOPAINT_VERSION} ({' '.join(cmd[:4])}): {tail[0]}"
    version = _iopaint_version(python)
    if version != IOPAINT_VERSION:
        return None, f"pip finished but IOPaint {IOPAINT_VERSION} does not import in {venv} (found {version})"
    return python, f"IOPaint {version} in {venv} (installed now)"


# -- the same weights on both sides -----------------------------------------------------------------------


def prepare_weights(work: Path) -> tuple[Path, Path, float]:
    """Our ``.safetensors``, IOPaint's model dir (with ``big-lama.pt``) and the largest output difference."""
    import torch
    from torch import nn

    from engine.fill.lama import LaMa, load_lama, save_lama

    ours = work / "big-lama-random.safetensors"
    model_dir = work / "iopaint-models"
    traced_path = model_dir / "torch" / "hub" / "checkpoints" / "big-lama.pt"
    if not ours.exists() or not traced_path.exists():
        torch.manual_seed(0)
        model = LaMa().eval().requires_grad_(False)  # full size, random weights
        save_lama(model, ours)

        class JitWrapper(nn.Module):  # bin/to_jit.py: .model (the training module) -> .generator
            def __init__(self, lama: LaMa) -> None:
                super().__init__()
                self.model = nn.Module()
                self.model.generator = lama.generator

            def forward(self, image, mask):
                predicted = self.model.generator(torch.cat([image * (1 - mask), mask], 1))
                return mask * predicted + (1 - mask) * image

        example = (torch.rand(1, 3, 64, 64), (torch.rand(1, 1, 64, 64) > 0.5).float())
        with torch.no_grad():
            traced = torch.jit.trace(JitWrapper(model), example, check_trace=False)
        traced_path.parent.mkdir(parents=True, exist_ok=True)
        traced.save(str(traced_path))
    # Same weights: the traced file (as IOPaint loads it) and ours give the same pixels, at a size not traced.
    jit = torch.jit.load(str(traced_path), map_location="cpu").eval()
    model = load_lama(ours)
    g = torch.Generator().manual_seed(1)
    image, mask = torch.rand(1, 3, 96, 136, generator=g), torch.zeros(1, 1, 96, 136)
    mask[..., 24:72, 30:100] = 1
    with torch.no_grad():
        a = jit(image, mask)
        b = mask * model(image, mask) + (1 - mask) * image
    return ours, model_dir, float((a - b).abs().max())


def prepare_images(work: Path) -> dict[str, tuple[Path, Path]]:
    """The two cases as PNG files: a real photo (scikit-image's), a centred square hole."""
    import cv2
    from skimage import data

    out = {}
    for name, (w, h, side) in CASES.items():
        photo = data.astronaut() if w == h else data.coffee()
        image = cv2.resize(np.ascontiguousarray(photo), (w, h), interpolation=cv2.INTER_CUBIC)
        mask = np.zeros((h, w), np.uint8)
        y, x = (h - side) // 2, (w - side) // 2
        mask[y:y + side, x:x + side] = 255
        ip, mp = work / f"{name}.png", work / f"{name}-mask.png"
        cv2.imwrite(str(ip), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(mp), mask)
        out[name] = (ip, mp)
    return out


# -- timing -------------------------------------------------------------------------------------------------


def _env(threads: int, ours: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BRUSHEDIT_THREADS")}
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1")
    if ours:
        env["PYTHONPATH"] = str(ROOT)
    return env


def _pin(threads: int) -> list[str]:
    cores = os.cpu_count() or 1
    if threads > cores or not shutil.which("taskset"):
        return []
    return ["taskset", "-c", ",".join(str(i) for i in range(threads))]


def whole_process(side: str, python: Path, files: tuple[Path, Path], threads: int, weights: Path,
                  model_dir: Path, work: Path) -> float:
    """Seconds of one removal by the tool's command line, start to finish."""
    image, mask = files
    if side == "ours":
        out = work / f"ours-{image.stem}.png"
        cmd = [sys.executable, str(ROOT / "main.py"), "edit", str(image), "--mask", str(mask), "--engine", "lama",
               "--lama", str(weights), "--device", "cpu", "--seed", "0", "-o", str(out)]
    else:
        out_dir = work / "iopaint-out"
        cmd = [str(python.parent / "iopaint"), "run", "--model", "lama", "--device", "cpu", "--image", str(image),
               "--mask", str(mask), "--output", str(out_dir), "--model-dir", str(model_dir)]
    t = time.perf_counter()
    done = subprocess.run(_pin(threads) + cmd, env=_env(threads, side == "ours"), capture_output=True, text=True,
                          cwd=str(work))
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        raise RuntimeError(f"{side} failed ({done.returncode}): {(done.stderr or done.stdout)[-800:]}")
    return seconds


class Worker:
    """A ``lama_worker.py`` process of one side, kept for the model-only timings."""

    def __init__(self, side: str, python: Path, weights: Path, threads: int) -> None:
        cmd = _pin(threads) + [str(python), str(ROOT / "benchmarks" / "lama_worker.py"), side, str(weights),
                               str(threads)]
        self.side = side
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env=_env(threads, side == "ours"), cwd=str(ROOT))

    def ask(self, command: str) -> float:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.side} worker stopped on {command!r} (exit {self.proc.poll()})")
        return float(json.loads(line)["seconds"])

    def close(self) -> None:
        try:
            self.ask("quit")
        except (RuntimeError, BrokenPipeError, ValueError):
            pass
        self.proc.wait(timeout=60)


def _stats(ours: list[float], theirs: list[float]) -> dict:
    mo, mt = statistics.median(ours), statistics.median(theirs)
    return {"ours_min": round(min(ours), 3), "ours_median": round(mo, 3),
            "iopaint_min": round(min(theirs), 3), "iopaint_median": round(mt, 3),
            "ratio_median": round(mo / mt, 3), "ratio_min": round(min(ours) / min(theirs), 3),
            "ours_runs": [round(t, 3) for t in ours], "iopaint_runs": [round(t, 3) for t in theirs]}


def side_by_side(repeats: int, threads_list: tuple[int, ...], venv: Path, install: bool = True,
                 model_only: bool = True, whole: bool = True) -> dict:
    """All the figures of the side-by-side (or ``{"iopaint": "skipped: ..."}``)."""
    python, why = ensure_iopaint(venv, install)
    if python is None:
        say(f"SKIPPED the side-by-side with IOPaint: {why}")
        return {"iopaint": f"skipped: {why}"}
    say(why)
    WORK.mkdir(parents=True, exist_ok=True)
    weights, model_dir, diff = prepare_weights(WORK)
    say(f"same weights: the traced big-lama.pt and our .safetensors differ by at most {diff:.2e} (96x136)")
    if diff > 1e-4:
        raise RuntimeError(f"the traced model and ours disagree ({diff}); the comparison would be unfair")
    files = prepare_images(WORK)
    figures: dict = {"iopaint": why, "same_weights_max_abs_diff": diff, "whole_process": {}, "in_process": {},
                     "forward_same_size": {}}
    for side in ("ours", "iopaint") if whole else ():  # once, untimed: the page cache holds both venvs after it
        whole_process(side, python, files["512x512"], max(threads_list), weights, model_dir, WORK)
    for threads in threads_list:
        for name, pair in files.items() if whole else ():
            runs: dict[str, list[float]] = {"ours": [], "iopaint": []}
            for r in range(repeats):
                for side in (("ours", "iopaint") if r % 2 == 0 else ("iopaint", "ours")):
                    runs[side].append(whole_process(side, python, pair, threads, weights, model_dir, WORK))
            row = _stats(runs["ours"], runs["iopaint"])
            figures["whole_process"][f"{name} {threads}t"] = row
            say(f"whole process {name} {threads} thread(s): ours {row['ours_median']:.2f} s, IOPaint "
                f"{row['iopaint_median']:.2f} s (median; min {row['ours_min']:.2f} / {row['iopaint_min']:.2f}): "
                f"ratio {row['ratio_median']:.2f} (min {row['ratio_min']:.2f})")
        if not model_only:
            continue
        workers = {"ours": Worker("ours", Path(sys.executable), weights, threads),
                   "iopaint": Worker("iopaint", python, model_dir, threads)}
        try:
            for w in workers.values():
                w.ask("load")
            tasks = {f"{name} {threads}t": f"remove {ip} {mp}" for name, (ip, mp) in files.items()}
            forwards = {f"forward {s}x{s} {threads}t": f"forward {s} {s}" for s in FORWARD_SIDES}
            for w in workers.values():
                w.ask("forward 64 64")  # warm-up (oneDNN's first calls, allocations)
            for key, command in list(tasks.items()) + list(forwards.items()):
                runs = {"ours": [], "iopaint": []}
                for r in range(repeats):
                    for side in (("ours", "iopaint") if r % 2 == 0 else ("iopaint", "ours")):
                        runs[side].append(workers[side].ask(command))
                row = _stats(runs["ours"], runs["iopaint"])
                group = "in_process" if key in tasks else "forward_same_size"
                figures[group][key] = row
                say(f"{group.replace('_', ' ')} {key}: ours {row['ours_median']:.2f} s, IOPaint "
                    f"{row['iopaint_median']:.2f} s: ratio {row['ratio_median']:.2f} (min {row['ratio_min']:.2f})")
        finally:
            for w in workers.values():
                w.close()
    if 1 not in threads_list or not whole:
        figures["acceptance"] = "not measured in this run (needs the whole process at 1 thread)"
        return figures
    one = {name: figures["whole_process"].get(f"{name} 1t", {}).get("ratio_median") for name in CASES}
    figures["acceptance"] = {
        "what": f"whole process, one core, same weights: ours / IOPaint {IOPAINT_VERSION} <= {TARGET_RATIO}",
        "ratios_median": one,
        "met": all(v is not None and v <= TARGET_RATIO for v in one.values()),
    }
    say(f"acceptance (one core, whole process, median ratio <= {TARGET_RATIO}): "
        + ", ".join(f"{k} {v}" for k, v in one.items()) + f" -> {'met' if figures['acceptance']['met'] else 'NOT met'}")
    return figures

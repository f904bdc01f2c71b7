"""``brushedit doctor``: Python, torch, CUDA, weights, free disk, and what can run (and why not)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
from pathlib import Path

from cli.doctor_memory import add_memory_options, memory_report, print_memory
from cli.errors import OK, RUNTIME


def add_parser(sub, common) -> None:
    p = sub.add_parser("doctor", parents=[common], help="check the installation",
                       description="Python, torch and CUDA, the weights found, free disk, and for "
                                   "each feature whether it can run and why not.")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--smoke", action="store_true",
                   help="also load each installed model and ask it one tiny question (slow: loads every model)")
    p.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto",
                   help="where --smoke runs the models (default: auto = CUDA when available)")
    add_memory_options(p)
    p.set_defaults(run=run)


def torch_info() -> dict:
    """torch and CUDA facts (imports torch)."""
    info: dict = {"torch": None, "cuda_available": False, "cuda": None, "devices": []}
    try:
        import torch
    except Exception as exc:  # a broken torch install is what doctor is for
        info["error"] = f"torch cannot be imported: {type(exc).__name__}: {exc}"
        return info
    info["torch"] = torch.__version__
    info["cuda"] = torch.version.cuda
    try:
        info["cuda_available"] = bool(torch.cuda.is_available())
        for i in range(torch.cuda.device_count() if info["cuda_available"] else 0):
            props = torch.cuda.get_device_properties(i)
            info["devices"].append({
                "index": i, "name": props.name,
                "vram_gb": round(props.total_memory / 2**30, 1),
                "capability": f"{props.major}.{props.minor}",
            })
    except Exception as exc:  # driver trouble: report, do not crash
        info["error"] = f"CUDA query failed: {type(exc).__name__}: {exc}"
    return info


def _free(path: Path) -> dict:
    p = Path(path)
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        usage = shutil.disk_usage(p)
    except OSError:
        return {"path": str(path), "free_gb": None}
    return {"path": str(path), "free_gb": round(usage.free / 1e9, 1)}


def _installed_of(kind: str, statuses: dict) -> list[str]:
    from engine.models import MANIFEST

    names = [n for n, s in MANIFEST.items() if s.kind == kind and statuses[n].installed]
    return sorted(names, key=lambda n: not MANIFEST[n].default)


def features(statuses: dict, gpu: dict | None) -> list[dict]:
    """For each feature: ``{"feature", "can_run" (yes|slow|no), "why", "needs"}``."""
    from engine.models import MANIFEST

    vram = gpu["vram_gb"] if gpu else 0.0

    def gpu_note(names: list[str], cpu_by_default: bool) -> tuple[str, str]:
        need = sum(MANIFEST[n].vram_gb for n in names)
        if gpu is None:
            # As the engine does with --device auto: BrushEdit's painter refuses the CPU unless asked;
            # the instructor, GroundingDINO and SAM run on it (what plan does).
            if cpu_by_default:
                return "slow", "no CUDA GPU: runs on the CPU, slower"
            return "slow", "no CUDA GPU: runs on the CPU only when asked (--device cpu), slowly"
        if vram and need > vram:
            return "slow", f"needs about {need:.0f} GB of GPU memory, {gpu['name']} has {vram:.0f} GB: use --cpu-offload"
        return "yes", f"on {gpu['name']}"

    def needing(feature: str, kinds: list[tuple[str, str]], missing_hint: str = "") -> dict:
        """A feature that needs one installed model of each kind (``(kind, default name)``)."""
        found = [_installed_of(kind, statuses) for kind, _ in kinds]
        missing = [default for (_, default), names in zip(kinds, found) if not names]
        if missing:
            # The same words as models list and the errors: missing, or incomplete/corrupt and which file.
            from engine.models.states import describe_state, download_command

            absent = [statuses[n] for n in missing]
            what = ("missing weights" if all(s.state == "missing" for s in absent)
                    else "; ".join(describe_state(s) for s in absent))
            return {"feature": feature, "can_run": "no", "why": f"{what}: {download_command(absent)}{missing_hint}"}
        chosen = [names[0] for names in found]
        state, why = gpu_note(chosen, cpu_by_default=feature != "inpaint with BrushEdit")
        return {"feature": feature, "can_run": state, "why": f"{why} ({' + '.join(chosen)})"}

    key_var = next((v for v in ("BRUSHEDIT_API_KEY", "OPENAI_API_KEY") if os.environ.get(v)), None)
    return [
        needing("inpaint with BrushEdit", [("brushnet", "brushnet-x"), ("sd15-base", "sd15-realistic-vision")]),
        {"feature": "remove with the fill engine", "can_run": "yes", "why": "OpenCV fill: no weights, no GPU"},
        lama_feature(statuses, gpu),
        {"feature": "plan instructions (offline parser)", "can_run": "yes", "why": "rule-based: no weights"},
        needing("plan instructions (local VLM)", [("instructor", "qwen2-vl-7b")], " (or qwen2-vl-2b)"),
        {"feature": "plan instructions (OpenAI)", "can_run": "yes" if key_var else "no",
         # The same variables the OpenAI-compatible backend reads (its key is never printed).
         "why": f"{key_var} is set" if key_var else "set BRUSHEDIT_API_KEY or OPENAI_API_KEY to use it"},
        needing("masks from instructions (GroundingDINO + SAM)",
                [("grounding", "grounding-dino-tiny"), ("sam", "sam-vit-h")]),
        needing("select by clicking (SAM)", [("sam", "sam-vit-h")], " (or sam-vit-b)"),
    ]


def lama_feature(statuses: dict, gpu: dict | None) -> dict:
    """The LaMa remover: installed or how to get it; CPU is fine (seconds per removal)."""
    from engine.models import MANIFEST

    names = _installed_of("lama", statuses)
    if not names:
        spec = MANIFEST["lama"]
        return {"feature": "remove with LaMa", "can_run": "no",
                "why": f"not installed: download {spec.import_from[0]} ({spec.url}) or IOPaint's "
                       "big-lama.pt, then run: brushedit models import lama FILE"}
    where = f"on {gpu['name']}" if gpu else "on the CPU (seconds per removal)"
    return {"feature": "remove with LaMa", "can_run": "yes", "why": f"{where} ({names[0]})"}


def collect(args: argparse.Namespace | None = None) -> dict:
    """Everything doctor reports, as a JSON-safe dict (``args``: the memory plan's options)."""
    from engine.models import MANIFEST, all_status, hf_cache_dir, models_dir
    from engine.version import __version__

    statuses = {s.name: s for s in all_status()}
    tinfo = torch_info()
    gpu = tinfo["devices"][0] if tinfo["devices"] else None
    memory, memory_advice = memory_report(args or argparse.Namespace(), gpu)
    return {
        "brushedit": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "torch": tinfo,
        "weights": [{
            "name": n, "state": s.state,
            "path": str(s.location.path) if s.location else (str(s.where) if s.state != "missing" else None),
            "problem": f"{s.file}: {s.problem}" if s.file else "",
            "default": MANIFEST[n].default,
        } for n, s in statuses.items()],
        "disk": {"models_dir": _free(models_dir()), "hf_cache": _free(hf_cache_dir())},
        "features": features(statuses, gpu),
        "memory": memory,
        "memory_advice": memory_advice,
    }


def run(args: argparse.Namespace) -> int:
    report = collect(args)
    if getattr(args, "smoke", False):
        from engine.dispatch import EngineConfig
        from engine.smoke import smoke_test

        report["smoke"] = smoke_test(EngineConfig(device=args.device))
    if args.json:
        print(json.dumps(report, indent=2))
        return OK
    t = report["torch"]
    print(f"BrushEdit Studio {report['brushedit']}")
    print(f"Python    {report['python']} on {report['platform']}")
    if t["torch"]:
        print(f"torch     {t['torch']} (built for CUDA {t['cuda'] or 'none'})")
    if t.get("error"):
        print(f"          {t['error']}")
    if t["devices"]:
        for d in t["devices"]:
            print(f"GPU {d['index']}     {d['name']}, {d['vram_gb']} GB, compute capability {d['capability']}")
    else:
        print("GPU       none found (CUDA not available): BrushEdit runs only on the CPU, slowly")
    print("weights:")
    for w in report["weights"]:
        mark = "*" if w["default"] else " "
        detail = f" {w['path']}" if w["path"] else ""
        if w["problem"]:
            detail += f" ({w['problem']})"
        print(f"  {mark}{w['name']:<24} {w['state']}{detail}")
    for label, d in report["disk"].items():
        free = "unknown" if d["free_gb"] is None else f"{d['free_gb']} GB free"
        print(f"disk      {label}: {d['path']} ({free})")
    print("features:")
    for f in report["features"]:
        print(f"  [{f['can_run']:^4}] {f['feature']}: {f['why']}")
    print_memory(report["memory"], report["memory_advice"])
    if "smoke" in report:
        print("smoke test (one tiny question per installed model):")
        for check in report["smoke"] or [{"model": "-", "ok": True, "answer": "no model installed", "seconds": 0}]:
            said = check["answer"] if check["ok"] else f"FAILED: {check['error']}"
            print(f"  [{'ok' if check['ok'] else 'fail':^4}] {check['model']}: {said} ({check['seconds']} s)")
    return RUNTIME if any(not c["ok"] for c in report.get("smoke") or ()) else OK
